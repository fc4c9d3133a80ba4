"""Output losses fused with their output delta, one pass over the batch.

Softmax cross-entropy, from logits z (batch as rows, |B| = n):
    l_i = -log softmax(z_i)_{y_i} = logsumexp(z_i) - z_{i, y_i}
    delta_i = (softmax(z_i) - e(y_i)) / n
Mean squared error:
    l_i = 1/2 ||yhat_i - y_i||^2
    delta_i = (yhat_i - y_i) / n
Both return the mean loss (1/n) sum_i l_i, accumulated in float64.
"""

import numpy as np
from numba import njit

CLASSIFICATION = 0
REGRESSION = 1

TASK_CODES = {"classification": CLASSIFICATION, "regression": REGRESSION}


@njit(cache=True)
def softmax_cross_entropy(z, y, delta):
    """mean_i [logsumexp(z_i) - z_{i,y_i}]; delta = (softmax(z) - e(y)) / n. Returns (loss, n_correct)."""
    n, k = z.shape
    inv_n = z.dtype.type(1.0 / n)
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
        total += lse - z[i, y[i]]
        if arg == y[i]:
            correct += 1
        scale = inv_n / s
        for j in range(k):
            delta[i, j] = delta[i, j] * scale
        delta[i, y[i]] -= inv_n
    return total / n, correct


@njit(cache=True)
def squared_error(yhat, y, delta):
    """mean_i 1/2 ||yhat_i - y_i||^2; delta = (yhat - y) / n. Returns (loss, 0)."""
    n, k = yhat.shape
    inv_n = yhat.dtype.type(1.0 / n)
    total = 0.0
    for i in range(n):
        for j in range(k):
            r = yhat[i, j] - y[i, j]
            total += r * r
            delta[i, j] = r * inv_n
    return 0.5 * total / n, 0


@njit(cache=True)
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
