"""Whole sets of rows through the network in chunks, dense or CSR: outputs, the loss, and (for
full-batch optimizers) the loss with its gradient.

`X, csr` as rows.py describes them: dense rows in X (csr empty), or CSR rows in csr (X only gives
the width), whose first layer then runs on their non-zeros (sparse.csr_forward) and is never
densified.
"""

import numpy as np

from .jit import kernel
from .layout import layer_rows
from .losses import output_loss, weight_total
from .network import forward, loss_and_grad
from .rows import is_sparse, n_rows
from .sparse import csr_loss_and_grad, csr_network_forward


@kernel(inline="always")
def block_forward(params, layout, act, X, csr, start, stop, acts):
    """z^L for rows start..stop-1 of (X, csr) (no dropout, every product through BLAS)."""
    none = np.empty(0, acts.dtype)  # no dropout masks
    if not is_sparse(csr):
        blas_only = np.empty(0, np.int64)
        return forward(params, layout, act, 0, X[start:stop], acts, blas_only, 0.0, np.uint64(0), none)
    order = np.empty(0, np.int64)  # the rows in their own order
    return csr_network_forward(
        params, layout, act, csr, order, start, stop - start, acts, 0.0, np.uint64(0), none
    )


@kernel
def outputs_rows(params, layout, act, X, csr, chunk, acts, outputs):
    """outputs[i] = z^L of row i, for every row, chunk rows at a time."""
    n = n_rows(X, csr)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        out = block_forward(params, layout, act, X, csr, start, stop, acts)
        for i in range(stop - start):
            for j in range(out.shape[1]):
                outputs[start + i, j] = out[i, j]


@kernel
def evaluate_rows(params, layout, act, loss, X, csr, y_class, y_target, chunk, acts, deltas, outputs):
    """Sum over all rows of the per-sample loss, and n_correct, in chunks of `chunk` rows
    (unweighted, no dropout). outputs: (n, n_out) to receive z^L of every row, or empty."""
    n = n_rows(X, csr)
    none = np.empty(0, acts.dtype)  # no weights: every row weighs 1
    total = 0.0
    correct = 0
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        m = stop - start
        out = block_forward(params, layout, act, X, csr, start, stop, acts)
        value, c = output_loss(
            loss,
            out,
            y_class[start:stop],
            y_target[start:stop],
            none,
            layer_rows(deltas, layout, m, layout.shape[0] - 1),
        )
        total += value * m
        correct += c
        if outputs.shape[0]:
            for i in range(m):
                for j in range(out.shape[1]):
                    outputs[start + i, j] = out[i, j]
    return total, correct


@kernel
def full_loss_and_grad(
    params, layout, act, loss, X, csr, y_class, y_target, w, chunk, union, acts, deltas, grad_chunk, grad
):
    """J_data over all rows of X and its gradient into grad, in chunks of `chunk` rows (for
    full-batch optimizers such as L-BFGS: the workspace is one chunk, not the whole set).
    Each chunk's gradient is weighted by its share of the total weight. CSR rows go through the
    sparse first layer (sparse.csr_loss_and_grad), union its room for a chunk's columns.
    Returns (J_data, n_correct)."""
    n = n_rows(X, csr)
    none = np.empty(0, grad.dtype)  # no dropout masks, no plain-SGD step
    blas_only = np.empty(0, np.int64)  # no row-streaming forward
    total_w = weight_total(w, n)
    grad[:] = 0
    value_sum = 0.0
    correct = 0
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        wc = w[start:stop]  # an empty w (unweighted) stays empty
        share = weight_total(wc, stop - start) / total_w
        if is_sparse(csr):
            value, c = csr_loss_and_grad(
                params,
                layout,
                act,
                loss,
                csr,
                start,
                stop,
                y_class[start:stop],
                y_target[start:stop],
                wc,
                acts,
                deltas,
                grad_chunk,
                union,
            )
        else:
            value, c = loss_and_grad(
                params,
                layout,
                act,
                loss,
                X[start:stop],
                y_class[start:stop],
                y_target[start:stop],
                wc,
                acts,
                deltas,
                grad_chunk,
                0.0,
                np.uint64(0),
                none,
                blas_only,
                none,
            )
        s = grad.dtype.type(share)
        for i in range(grad.shape[0]):
            grad[i] += s * grad_chunk[i]
        value_sum += value * share
        correct += c
    return value_sum, correct
