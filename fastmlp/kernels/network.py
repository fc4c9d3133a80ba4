"""The whole network over one flat parameter buffer.

Layout of params (and of grad and velocity, which share it): for k = 1..L,
W^k (fan_in x fan_out, row-major) then b^k. sizes = [n_0, n_1, ..., n_L].
Layer outputs h^1..h^L for n rows live one after another in `acts`, and the
deltas delta^1..delta^L in `deltas` with the same offsets, so no kernel allocates.
"""

import numpy as np
from numba import njit

from .activations import IDENTITY
from .dense import delta_backward, dense_backward, dense_backward_update, dense_forward, dense_forward_rows
from .losses import CLASSIFICATION, softmax_cross_entropy, squared_error
from .optim import sgd_update


@njit(cache=True)
def layer_params(params, sizes, k):
    """Views W^(k+1), b^(k+1) (0-based k) into the flat buffer."""
    off = 0
    for j in range(k):
        off += sizes[j] * sizes[j + 1] + sizes[j + 1]
    fan_in = sizes[k]
    fan_out = sizes[k + 1]
    W = params[off:off + fan_in * fan_out].reshape(fan_in, fan_out)
    b = params[off + fan_in * fan_out:off + fan_in * fan_out + fan_out]
    return W, b


@njit(cache=True)
def layer_rows(buf, sizes, n, k):
    """View of layer k+1's (n x n_(k+1)) block in an acts/deltas buffer."""
    off = 0
    for j in range(1, k + 1):
        off += n * sizes[j]
    return buf[off:off + n * sizes[k + 1]].reshape(n, sizes[k + 1])


@njit(cache=True)
def forward(params, sizes, code, x, acts, rows_scratch):
    """h^k = g(h^(k-1) W^k + b^k) for k < L, z^L = h^(L-1) W^L + b^L; h^0 = x. Returns z^L.
    rows_scratch None: BLAS products (dense_forward); an array: the row-streaming products of
    dense_forward_rows (small batches). Numba prunes the branch a None rules out."""
    h = x
    L = sizes.shape[0] - 1
    for k in range(L):
        W, b = layer_params(params, sizes, k)
        out = layer_rows(acts, sizes, x.shape[0], k)
        code_k = code if k < L - 1 else IDENTITY  # softmax/MSE belong to the loss
        if rows_scratch is None:
            dense_forward(h, W, b, code_k, out)
        else:
            dense_forward_rows(h, W, b, code_k, out)
        h = out
    return h


@njit(cache=True)
def backward_views(x, acts, deltas, sizes, n, k):
    """For layer k+1 going down: its input h^k (x for the first layer), its delta^(k+1), and
    the block for delta^k (0 columns for the first layer: nothing upstream needs delta^0)."""
    if k == 0:
        return x, layer_rows(deltas, sizes, n, 0), deltas[:0].reshape(n, 0)
    return layer_rows(acts, sizes, n, k - 1), layer_rows(deltas, sizes, n, k), layer_rows(deltas, sizes, n, k - 1)


@njit(cache=True)
def backward(params, sizes, code, x, acts, deltas, grad):
    """From delta^L (already in deltas), for k = L..1: dW^k = h^(k-1)^T delta^k,
    db^k = colsum(delta^k), and delta^(k-1) = (delta^k W^kT) * g'(z^(k-1)) for k > 1."""
    n = x.shape[0]
    for k in range(sizes.shape[0] - 2, -1, -1):
        W, _ = layer_params(params, sizes, k)
        dW, db = layer_params(grad, sizes, k)
        h_prev, delta, delta_prev = backward_views(x, acts, deltas, sizes, n, k)
        dense_backward(h_prev, delta, dW, db)
        if k > 0:
            delta_backward(delta, W, h_prev, code, delta_prev)


@njit(cache=True)
def output_loss(task, out, y_class, y_target, delta):
    """Mean loss and output delta for the task; (loss, n_correct)."""
    if task == CLASSIFICATION:
        return softmax_cross_entropy(out, y_class, delta)
    return squared_error(out, y_target, delta)


@njit(cache=True)
def loss_and_grad(params, sizes, code, task, x, y_class, y_target, acts, deltas, grad):
    """Data part of J on the batch x (mean loss) and its gradient into grad (no L2 term).
    Returns (mean loss, n_correct)."""
    n = x.shape[0]
    L = sizes.shape[0] - 1
    out = forward(params, sizes, code, x, acts, None)
    loss, correct = output_loss(task, out, y_class, y_target, layer_rows(deltas, sizes, n, L - 1))
    backward(params, sizes, code, x, acts, deltas, grad)
    return loss, correct


@njit(cache=True)
def evaluate_rows(params, sizes, code, task, X, y_class, y_target, chunk, acts, deltas):
    """Sum over all rows of X of the per-sample loss, and n_correct, in chunks of `chunk` rows."""
    n = X.shape[0]
    L = sizes.shape[0] - 1
    total = 0.0
    correct = 0
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        m = stop - start
        out = forward(params, sizes, code, X[start:stop], acts, None)
        loss, c = output_loss(task, out, y_class[start:stop], y_target[start:stop],
                              layer_rows(deltas, sizes, m, L - 1))
        total += loss * m
        correct += c
    return total, correct


@njit(cache=True)
def backward_update(params, velocity, sizes, code, x, acts, deltas, g, lr, l2, mu, nesterov):
    """From delta^L, layer by layer down: delta^(k-1) from the old W^k, then W^k, b^k stepped
    with dW^k = h^(k-1)^T delta^k + l2 W^k folded in (no gradient buffer; small batches)."""
    n = x.shape[0]
    for k in range(sizes.shape[0] - 2, -1, -1):
        W, b = layer_params(params, sizes, k)
        vW, vb = layer_params(velocity, sizes, k)
        h_prev, delta, delta_prev = backward_views(x, acts, deltas, sizes, n, k)
        dense_backward_update(h_prev, delta, W, b, vW, vb, code, delta_prev, lr, l2, mu, nesterov,
                              g[:sizes[k + 1]])


@njit(cache=True)
def train_step(params, grad, velocity, sizes, code, task, x, y_class, y_target, acts, deltas,
               lr, l2, mu, nesterov, rows_scratch):
    """One SGD step on the minibatch x: forward, output delta, backward, update. Returns
    (mean loss, n_correct). rows_scratch None: BLAS products, gradient into grad, then
    sgd_update. rows_scratch an array (one row of the widest layer): the row-streaming kernels,
    dW folded into the update (grad unused). Numba prunes the branch a None argument rules out,
    so each path compiles only what it runs."""
    if rows_scratch is None:
        loss, correct = loss_and_grad(params, sizes, code, task, x, y_class, y_target, acts, deltas, grad)
        sgd_update(params, grad, velocity, sizes, lr, l2, mu, nesterov)
        return loss, correct
    n = x.shape[0]
    L = sizes.shape[0] - 1
    out = forward(params, sizes, code, x, acts, rows_scratch)
    loss, correct = output_loss(task, out, y_class, y_target, layer_rows(deltas, sizes, n, L - 1))
    backward_update(params, velocity, sizes, code, x, acts, deltas, rows_scratch, lr, l2, mu, nesterov)
    return loss, correct
