"""A whole epoch (or a range of its minibatches) in one compiled call.

For each minibatch B_t = order[t*bs : (t+1)*bs]:
    gather x = X[B_t], its labels and weights into preallocated buffers,
    forward (with dropout when asked), output delta and backward into grad (network.forward,
    losses.output_loss, network.backward),
    then the optimizer step on every layer (optim.update_all). Plain SGD (no momentum) instead
    passes sgd_step, a 2-slot array the kernel fills with the step's GEMM coefficients
    [-alpha, 1 - alpha l2]: the step is then taken inside the backward's dW GEMMs
    (network.backward). sgd_step empty: gradient, then update_all. stream_above: which forward
    products take the row-streaming kernel (network.py).
No Python and no allocation between minibatches. (The step is written out here rather than as a
function of its own: every level of calls between kernels is compiled again inside its caller,
so a level that only forwards its arguments costs start-up time and buys nothing. For the same
reason forward, output_loss and backward are called here directly, not through
network.loss_and_grad, which the model's gradient and the full-batch path keep: the level it adds
holds nearly all of the epoch's code, and compiling it twice made the first run's compile longer,
as docs/PERFORMANCE.md records.)

data = (X, y_class, y_target, w, csr): inputs, class indices and float targets (the kind the
loss does not read is empty: MLP.check_y), per-sample weights (empty: all 1), and the CSR
triple (rows.py), empty here: CSR rows train through sparse.train_batches_sparse. Every option
is an array, empty when off, never None: whichever path a run takes (task, optimizer, dropout,
weights), the kernel sees the same types, so one compiled specialisation per dtype serves every
run (jit.py).

l2 is lambda; with l2_per_weight, minibatch B's lambda is l2 / W_B (W_B its weight total, its
row count unweighted): scikit-learn's alpha, J_B = [sum_B w_i l_i + (alpha/2) sum ||W||^2] / W_B.
buffers = (xb, yb_class, yb_target, wb, acts, deltas, masks, grad): one minibatch's worth of each
(empty where the labels or weights are; masks empty without dropout).
"""

from .dropout import dropout_key
from .jit import kernel
from .layout import layer_rows
from .losses import output_loss
from .network import backward, forward
from .optim import begin_step, update_all
from .rows import gather_labels, gather_rows


@kernel
def train_batches(
    params,
    layout,
    act,
    loss,
    opt,
    l2,
    l2_per_weight,
    data,
    buffers,
    order,
    batch_size,
    first,
    last,
    dropout,
    seed,
    step0,
    stream_above,
    sgd_step,
):
    """Run minibatches first..last-1 of the epoch given by `order`; minibatch t is the run's step
    step0 + t - first (it keys the dropout masks). Returns (sum over minibatches of J_data times
    the minibatch's weight total, n_correct, the weight total, n_samples)."""
    X, y_class, y_target, w, csr = data
    xb, yb_class, yb_target, wb, acts, deltas, masks, grad = buffers
    n = order.shape[0]
    n_in = X.shape[1]
    weighted = w.shape[0] > 0
    total = 0.0
    total_weight = 0.0
    correct = 0
    seen = 0
    for t in range(first, last):
        start = t * batch_size
        stop = min(start + batch_size, n)
        m = stop - start
        x = xb[: m * n_in].reshape(m, n_in)
        gather_rows(X, order, start, x)
        batch_weight = gather_labels(y_class, y_target, w, order, start, m, yb_class, yb_target, wb)
        key = dropout_key(seed, step0 + t - first)
        l2_t = params.dtype.type(l2 / batch_weight) if l2_per_weight else l2
        if sgd_step.shape[0] > 0:
            alpha, _ = begin_step(opt)
            sgd_step[0] = -alpha
            sgd_step[1] = 1 - alpha * l2_t
        # network.loss_and_grad's three calls, made here directly (see the module docstring)
        out = forward(params, layout, act, 0, x, acts, stream_above, dropout, key, masks)
        value, c = output_loss(
            loss,
            out,
            yb_class[:m],
            yb_target[:m],
            wb[: m if weighted else 0],
            layer_rows(deltas, layout, m, layout.shape[0] - 1),
        )
        backward(params, layout, act, 0, x, acts, deltas, masks, grad, sgd_step)
        if sgd_step.shape[0] == 0:
            update_all(opt, params, grad, layout, l2_t)
        total += value * batch_weight
        total_weight += batch_weight
        correct += c
        seen += m
    return total, correct, total_weight, seen
