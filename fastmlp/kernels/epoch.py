"""A whole epoch (or a range of its minibatches) in one compiled call.

For each minibatch B_t = order[t*bs : (t+1)*bs]:
    gather x = X[B_t] (and its labels) into preallocated buffers,
    forward, output delta, backward (dW = h^T delta, db, hidden deltas),
    theta <- update(theta, grad + L2)  (see optim.sgd_update).
rows_scratch (None or an array) picks the BLAS path or the small-batch row-streaming path
(see network.train_step): same math.
No Python and no allocation between minibatches.
"""

from numba import njit

from .losses import CLASSIFICATION
from .network import train_step


@njit(cache=True)
def train_batches(params, grad, velocity, sizes, code, task,
                  X, y_class, y_target, order, batch_size, first, last,
                  lr, l2, mu, nesterov, rows_scratch,
                  xb, yb_class, yb_target, acts, deltas):
    """Run minibatches first..last-1 of the epoch given by `order`.
    Returns (sum over samples of the loss, n_correct, n_samples)."""
    n = order.shape[0]
    n_in = X.shape[1]
    total = 0.0
    correct = 0
    seen = 0
    for t in range(first, last):
        start = t * batch_size
        stop = min(start + batch_size, n)
        m = stop - start
        x = xb[:m * n_in].reshape(m, n_in)
        for r in range(m):
            src = order[start + r]
            for j in range(n_in):
                x[r, j] = X[src, j]
        if task == CLASSIFICATION:
            for r in range(m):
                yb_class[r] = y_class[order[start + r]]
        else:
            n_out = y_target.shape[1]
            for r in range(m):
                for j in range(n_out):
                    yb_target[r, j] = y_target[order[start + r], j]
        loss, c = train_step(params, grad, velocity, sizes, code, task, x, yb_class[:m], yb_target[:m],
                             acts, deltas, lr, l2, mu, nesterov, rows_scratch)
        total += loss * m
        correct += c
        seen += m
    return total, correct, seen
