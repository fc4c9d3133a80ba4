"""The whole network over one flat parameter buffer (see layout.py for where everything lives).

Arguments every kernel here shares:
    params, layout     the parameters and their layout
    act                the hidden activation's code (activations.py)
    loss               the output loss's code (losses.py)
    opt                the optimizer unit (code, hyper, state) (optim.py)
    y_class, y_target  class indices, float targets: the kind the loss does not read is empty
                       (MLP.check_y)
    acts, deltas       per-row buffers for h^1..h^L and delta^1..delta^L (layout's COL_OFF)
    masks              dropout masks, laid out like acts; empty when there is no dropout
    stream_above       empty: every product through BLAS; [w]: the forward products of more than
                       w multiply-adds (n fan_in fan_out) through the row-streaming kernel
                       (dense.py), the others through BLAS
    sgd_step           empty: the gradient goes into grad; [-alpha, 1 - alpha l2]: plain SGD is
                       taken in each layer's backward instead (dense.dense_backward_step), W^k in
                       its dW GEMM; grad then receives only the db^k

An option is an empty array rather than None so that every path a user can take reaches the
kernels with the same types: one compiled specialisation per dtype serves them all (jit.py).
"""

import numpy as np

from .activations import IDENTITY
from .dense import delta_backward, dense_backward, dense_backward_step, dense_forward, dense_forward_rows
from .dropout import dropout_forward
from .jit import kernel
from .layout import COL_OFF, layer_params, layer_rows
from .losses import output_loss

# The `stream_above` argument that sends every forward product through BLAS (for callers in Python). It
# stays writeable, though empty: Numba types a read-only array apart, and that would be a second
# compiled specialisation of the kernels it reaches.
BLAS_ONLY = np.empty(0, np.int64)


@kernel(inline="always")
def mask_rows(masks, deltas, layout, n, k):
    """Layer k+1's dropout mask block, or an (n, 0) view (of deltas) when there is no dropout."""
    if masks.shape[0] == 0:
        return deltas[:0].reshape(n, 0)
    return layer_rows(masks, layout, n, k)


@kernel
def forward(params, layout, act, first, x, acts, stream_above, dropout, key, masks):
    """h^k = g(h^(k-1) W^k + b^k) [* mask^k] for k < L, z^L = h^(L-1) W^L + b^L, from layer
    first + 1 on: x is h^first (first = 0: the inputs; first = 1: h^1, already in acts, which a
    sparse first layer computes itself, sparse.py). Returns z^L. Non-empty masks (training with
    dropout) apply inverted dropout at rate `dropout` to the hidden layers."""
    h = x
    n = x.shape[0]
    L = layout.shape[0]
    for k in range(first, L):
        W, b = layer_params(params, layout, k)
        out = layer_rows(acts, layout, n, k)
        code_k = act if k < L - 1 else IDENTITY  # softmax/sigmoid/MSE belong to the loss
        if stream_above.shape[0] == 0 or n * W.shape[0] * W.shape[1] <= stream_above[0]:
            dense_forward(h, W, b, code_k, out)
        else:
            dense_forward_rows(h, W, b, code_k, out)
        if masks.shape[0] > 0 and k < L - 1:
            dropout_forward(out, layer_rows(masks, layout, n, k), dropout, key, n * layout[k, COL_OFF])
        h = out
    return h


@kernel(inline="always")
def backward_views(x, acts, deltas, masks, layout, n, k):
    """For layer k+1 going down: its input h^k (x for the first layer), its delta^(k+1), the
    block for delta^k and h^k's dropout mask (0 columns for the first layer: nothing upstream
    needs delta^0)."""
    if k == 0:
        empty = deltas[:0].reshape(n, 0)
        return x, layer_rows(deltas, layout, n, 0), empty, empty
    return (
        layer_rows(acts, layout, n, k - 1),
        layer_rows(deltas, layout, n, k),
        layer_rows(deltas, layout, n, k - 1),
        mask_rows(masks, deltas, layout, n, k - 1),
    )


@kernel
def backward(params, layout, act, stop, x, acts, deltas, masks, grad, sgd_step):
    """From delta^L (already in deltas), for k = L..stop+1: dW^k = h^(k-1)^T delta^k,
    db^k = colsum(delta^k), and delta^(k-1) = (delta^k W^kT) * g'(z^(k-1)) [* mask] for k > 1.
    sgd_step = [-alpha, 1 - alpha l2]: W^k <- (1 - alpha l2) W^k - alpha dW^k and b^k <- b^k - alpha db^k
    as they are formed, delta^(k-1) from W^k before its step. stop = 1 leaves the first layer
    to a sparse input's kernels (sparse.py): delta^1 is then the last delta formed, and x only
    gives the row count."""
    n = x.shape[0]
    for k in range(layout.shape[0] - 1, stop - 1, -1):
        W, b = layer_params(params, layout, k)
        dW, db = layer_params(grad, layout, k)
        h_prev, delta, delta_prev, mask_prev = backward_views(x, acts, deltas, masks, layout, n, k)
        if sgd_step.shape[0] == 0:
            dense_backward(h_prev, delta, dW, db)
            if k > 0:
                delta_backward(delta, W, h_prev, mask_prev, act, delta_prev)
        else:
            dense_backward_step(h_prev, delta, W, b, db, mask_prev, act, delta_prev, sgd_step)


@kernel
def loss_and_grad(
    params,
    layout,
    act,
    loss,
    x,
    y_class,
    y_target,
    w,
    acts,
    deltas,
    grad,
    dropout,
    key,
    masks,
    stream_above,
    sgd_step,
):
    """Data part of J on the batch x and its gradient into grad (no L2 term); with sgd_step = [-alpha,
    1 - alpha l2], the plain SGD step on J_data + l2/2 ||W||^2 taken instead (see backward).
    Returns (J_data, n_correct)."""
    n = x.shape[0]
    out = forward(params, layout, act, 0, x, acts, stream_above, dropout, key, masks)
    value, correct = output_loss(
        loss, out, y_class, y_target, w, layer_rows(deltas, layout, n, layout.shape[0] - 1)
    )
    backward(params, layout, act, 0, x, acts, deltas, masks, grad, sgd_step)
    return value, correct
