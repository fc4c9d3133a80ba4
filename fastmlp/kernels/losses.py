"""Output losses fused with their output delta, one pass over the batch, chosen by an integer code.

Batch as rows, per-sample weights w_i (all 1 when w is empty), W_B = sum_i w_i:

    J_data = sum_i w_i l_i / W_B          delta_i = w_i dl_i/dz_i / W_B

Softmax cross-entropy (classification), from logits z, label y_i:
    l_i = logsumexp(z_i) - z_{i, y_i}                  dl_i/dz_i = softmax(z_i) - e(y_i)
Sigmoid binary cross-entropy (multilabel), indicators y_ij in {0, 1}, s = sigmoid:
    l_i = sum_j [log(1 + e^z_ij) - y_ij z_ij]         dl_i/dz_i = s(z_i) - y_i
Squared error (regression):
    l_i = 1/2 ||z_i - y_i||^2                          dl_i/dz_i = z_i - y_i
Half Poisson deviance (counts, log link: the prediction is mu = e^z), y_ij >= 0:
    l_i = sum_j [e^z_ij - y_ij z_ij + y_ij log y_ij - y_ij]   dl_i/dz_i = e^z_i - y_i
    (y log y = 0 at y = 0; the last two terms make l = 0 at mu = y and carry no gradient)

Each returns (J_data accumulated in float64, n_correct): a correct row is the argmax class
(classification) or every label right at threshold 1/2 (multilabel); 0 for regression.
"""

import numpy as np

from .jit import kernel

SOFTMAX_CE = 0
MSE = 1
SIGMOID_BCE = 2
POISSON = 3


@kernel(inline="always")
def row_scale(w, i, inv_total):
    """w_i / W_B for a weighted batch, 1 / n (passed as inv_total) for an unweighted one."""
    if w.shape[0] == 0:
        return inv_total
    return w[i] * inv_total


@kernel(inline="always")
def weight_total(w, n):
    """W_B = sum_i w_i over a batch of n rows (n without weights), in float64."""
    if w.shape[0] == 0:
        return float(n)
    total = 0.0
    for i in range(w.shape[0]):
        total += w[i]
    return total


@kernel(inline="always")
def inverse_weight_total(w, n, dtype_one):
    """1 / W_B (1 / n without weights), in the dtype of dtype_one."""
    return dtype_one / weight_total(w, n)


@kernel
def softmax_cross_entropy(z, y, w, delta):
    """J = sum_i w_i [logsumexp(z_i) - z_{i,y_i}] / W_B; delta_i = w_i (softmax(z_i) - e(y_i)) / W_B."""
    n, k = z.shape
    inv = inverse_weight_total(w, n, z.dtype.type(1.0))
    total = 0.0
    correct = 0
    for i in range(n):
        # log-sum-exp around the row max: exp never overflows, and argmax comes free.
        m = z[i, 0]
        arg = 0
        for j in range(1, k):
            if z[i, j] > m:
                m = z[i, j]
                arg = j
        s = z.dtype.type(0.0)
        for j in range(k):
            e = np.exp(z[i, j] - m)
            delta[i, j] = e
            s += e
        lse = m + np.log(s)
        scale_i = row_scale(w, i, inv)
        total += (lse - z[i, y[i]]) * scale_i
        if arg == y[i]:
            correct += 1
        scale = scale_i / s
        for j in range(k):
            delta[i, j] = delta[i, j] * scale
        delta[i, y[i]] -= scale_i
    return total, correct


@kernel
def sigmoid_cross_entropy(z, y, w, delta):
    """J = sum_i w_i sum_j [log(1 + e^z_ij) - y_ij z_ij] / W_B; delta_i = w_i (sigmoid(z_i) - y_i) / W_B."""
    n, k = z.shape
    inv = inverse_weight_total(w, n, z.dtype.type(1.0))
    zero = z.dtype.type(0.0)
    one = z.dtype.type(1.0)
    half = z.dtype.type(0.5)
    total = 0.0
    correct = 0
    for i in range(n):
        scale_i = row_scale(w, i, inv)
        row_loss = 0.0
        all_right = True
        for j in range(k):
            v = z[i, j]
            # log(1 + e^v) = max(v, 0) + log1p(e^-|v|), and sigmoid split by sign: no overflow.
            e = np.exp(-abs(v))
            row_loss += max(v, zero) + np.log1p(e) - y[i, j] * v
            s = one / (one + e) if v >= zero else e / (one + e)
            delta[i, j] = (s - y[i, j]) * scale_i
            if (s >= half) != (y[i, j] >= half):
                all_right = False
        total += row_loss * scale_i
        if all_right:
            correct += 1
    return total, correct


@kernel
def squared_error(yhat, y, w, delta):
    """J = sum_i w_i 1/2 ||yhat_i - y_i||^2 / W_B; delta_i = w_i (yhat_i - y_i) / W_B."""
    n, k = yhat.shape
    inv = inverse_weight_total(w, n, yhat.dtype.type(1.0))
    total = 0.0
    for i in range(n):
        scale_i = row_scale(w, i, inv)
        row = 0.0
        for j in range(k):
            r = yhat[i, j] - y[i, j]
            row += r * r
            delta[i, j] = r * scale_i
        total += 0.5 * row * scale_i
    return total, 0


@kernel
def poisson_deviance(z, y, w, delta):
    """J = sum_i w_i sum_j [e^z_ij - y_ij z_ij + y_ij log y_ij - y_ij] / W_B;
    delta_i = w_i (e^z_i - y_i) / W_B."""
    n, k = z.shape
    inv = inverse_weight_total(w, n, z.dtype.type(1.0))
    total = 0.0
    for i in range(n):
        scale_i = row_scale(w, i, inv)
        row = 0.0
        for j in range(k):
            mu = np.exp(z[i, j])
            t = y[i, j]
            row += mu - t * z[i, j] - t
            if t > 0:
                row += t * np.log(t)
            delta[i, j] = (mu - t) * scale_i
        total += row * scale_i
    return total, 0


@kernel
def output_loss(loss, z, y_class, y_target, w, delta):
    """The table lookup: (J_data, n_correct) and delta^L for the loss code. Softmax cross-entropy
    reads the class indices y_class, the others the float targets y_target; the kind the loss
    does not read is an empty array (MLP.check_y), so every run has the same argument types."""
    if loss == SOFTMAX_CE:
        return softmax_cross_entropy(z, y_class, w, delta)
    if loss == SIGMOID_BCE:
        return sigmoid_cross_entropy(z, y_target, w, delta)
    if loss == POISSON:
        return poisson_deviance(z, y_target, w, delta)
    return squared_error(z, y_target, w, delta)


@kernel
def softmax_inplace(z):
    """f(x) = softmax(z) row by row, stable, written over z."""
    n, k = z.shape
    for i in range(n):
        m = z[i, 0]
        for j in range(1, k):
            if z[i, j] > m:
                m = z[i, j]
        s = z.dtype.type(0.0)
        for j in range(k):
            z[i, j] = np.exp(z[i, j] - m)
            s += z[i, j]
        for j in range(k):
            z[i, j] = z[i, j] / s


@kernel
def sigmoid_inplace(z):
    """f(x) = sigmoid(z) elementwise, split by sign so exp never overflows, written over z."""
    n, k = z.shape
    one = z.dtype.type(1.0)
    for i in range(n):
        for j in range(k):
            e = np.exp(-abs(z[i, j]))
            z[i, j] = one / (one + e) if z[i, j] >= 0 else e / (one + e)
