"""One dense layer, forward next to backward (batch as rows).

forward:   h = g(h_prev W + b)                      (GEMM, then one fused pass)
backward:  dW = h_prev^T delta                      (GEMM: the sum over the batch of outer products h delta^T)
           db = sum_i delta_i                       (column sums)
           delta_prev = (delta W^T) * g'(z_prev)    (GEMM, then one pass; g' from h_prev)
                        [* mask_prev with dropout on the layer below, see dropout.py]

The L2 term lambda W is not added here: the optimizer fuses it into the update,
and MLP.loss_and_gradients adds it for callers who want dW itself. The exception is plain SGD
(no momentum), whose step needs no state: `dense_backward_step` takes it inside the dW GEMM,
W <- (1 - alpha lambda) W - alpha h_prev^T delta (blas.py, coef = [-alpha, 1 - alpha lambda]),
so dW is never written out.

Small minibatches get a second form of the forward product (`dense_forward_rows`): with a
handful of rows, BLAS spends its time packing W, not multiplying, so that kernel streams W once,
row by row, and skips the rows of W that meet a zero input (blank pixels, relu zeros). The
backward products stay with BLAS at every batch size: a kernel that folded dW row by row into
the update was slower than BLAS's dW plus one update pass, that pass being cheap next to BLAS's
dW (docs/PERFORMANCE.md has both measurements).
"""

import numpy as np

from .activations import add_bias_activate, mul_derivative
from .blas import sgd_gemm_step
from .dropout import mul_mask, undo_dropout
from .jit import kernel

# Let LLVM reorder float sums so dot products vectorise; NaN/inf semantics stay intact.
REASSOC = {"reassoc", "contract"}


@kernel
def dense_forward(h_prev, W, b, code, h):
    """h = g(h_prev W + b), written into h."""
    np.dot(h_prev, W, h)
    add_bias_activate(h, b, code)


@kernel(inline="always")
def column_sums(delta, db):
    """db = sum_i delta_i."""
    n, m = delta.shape
    for j in range(m):
        db[j] = 0
    for i in range(n):
        for j in range(m):
            db[j] += delta[i, j]


@kernel
def dense_backward(h_prev, delta, dW, db):
    """dW = h_prev^T delta; db = column sums of delta."""
    np.dot(h_prev.T, delta, dW)
    column_sums(delta, db)


@kernel
def activation_backward(delta_prev, h_prev, mask_prev, code):
    """delta_prev *= g'(z_prev) [* mask_prev]: g' read off h_prev, after undoing its dropout
    (h_prev is no longer needed as an input once dW has been taken from it). mask_prev has
    0 columns when the layer has no dropout."""
    if mask_prev.shape[1] == 0:
        mul_derivative(delta_prev, h_prev, code)
    else:
        undo_dropout(h_prev, mask_prev)
        mul_derivative(delta_prev, h_prev, code)
        mul_mask(delta_prev, mask_prev)


@kernel
def delta_backward(delta, W, h_prev, mask_prev, code, delta_prev):
    """delta_prev = (delta W^T) * g'(z_prev) [* mask_prev], g' taken from h_prev = g(z_prev)."""
    np.dot(delta, W.T, delta_prev)
    activation_backward(delta_prev, h_prev, mask_prev, code)


@kernel
def dense_backward_step(h_prev, delta, W, b, db, mask_prev, code, delta_prev, coef):
    """The layer's backward with plain SGD taken in it, coef = [-alpha, 1 - alpha l2]:
    delta_prev = delta W^T from W before the step; then W <- (1 - alpha l2) W - alpha h_prev^T delta
    in the GEMM (blas.py), db = column sums of delta and b <- b - alpha db (no L2 on biases); then
    delta_prev *= g'(z_prev) [* mask_prev] (g' after the step: with dropout it undoes the mask on
    h_prev, which the step still reads). delta_prev with 0 columns (the first layer): none."""
    if delta_prev.shape[1] > 0:
        np.dot(delta, W.T, delta_prev)
    sgd_gemm_step(h_prev, delta, W, coef)
    column_sums(delta, db)
    for j in range(b.shape[0]):
        b[j] += coef[0] * db[j]
    if delta_prev.shape[1] > 0:
        activation_backward(delta_prev, h_prev, mask_prev, code)


@kernel
def dense_forward_rows(h_prev, W, b, code, h):
    """h = g(h_prev W + b), the product by rows_product (small batches, where BLAS would spend
    its time packing W)."""
    rows_product(h_prev, W, h)
    add_bias_activate(h, b, code)


@kernel(fastmath=REASSOC)
def rows_product(h_prev, W, h):
    """h = h_prev W, as h_i = sum_k h_prev[i, k] W[k, :] with W streamed once, row by row, and the
    rows of W that meet a zero input skipped."""
    n, fan_in = h_prev.shape
    fan_out = W.shape[1]
    h[:, :] = 0
    k4 = fan_in - fan_in % 4
    # Four rows of W per pass over h_i: four FMAs for each load and store of h.
    for k in range(0, k4, 4):
        for i in range(n):
            a0, a1, a2, a3 = h_prev[i, k], h_prev[i, k + 1], h_prev[i, k + 2], h_prev[i, k + 3]
            if a0 == 0 and a1 == 0 and a2 == 0 and a3 == 0:  # relu zeros, blank pixels: no work
                continue
            for j in range(fan_out):
                h[i, j] += a0 * W[k, j] + a1 * W[k + 1, j] + a2 * W[k + 2, j] + a3 * W[k + 3, j]
    for k in range(k4, fan_in):
        for i in range(n):
            a = h_prev[i, k]
            for j in range(fan_out):
                h[i, j] += a * W[k, j]
