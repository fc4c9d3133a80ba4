"""The epoch kernel on several cores: workers that each own a block of rows of every layer.

Small minibatches leave OpenBLAS little to share between its threads, and its threads and
Numba's would fight over the cores (docs/PERFORMANCE.md). Here every worker runs the same epoch
loop (`train_batches_split`, one call per worker, each from its own thread, BLAS on one thread)
and owns the rows R = [r0, r1) of every W^k (sync.share: equal parts, whole cache lines of the
layer below's rows): a contiguous block of memory that only it writes. The workers meet at a spin
barrier (sync.barrier) between phases. Per minibatch:

    gather     x = X[B_t], each worker a share of its rows; worker 0 gathers the labels and
               begins the optimizer's step (alpha_t, c_t and lambda into `scratch`)
    forward    for k = 1..L: Z_p = h^(k-1)[:, R] W^k[R, :]                           barrier
               h^k[:, S] = g(sum_p Z_p[:, S] + b^k[S]), S the worker's own rows of W^(k+1)
               (for k = L, worker 0 sums every column: the loss reads them all)
    loss       worker 0: J_data and delta^L                                         barrier
    backward   for k = L..1: delta^(k-1)[:, R] = (delta^k W^k[R, :]^T) * g'(z^(k-1)[:, R])
               (k > 1, from W^k before its step), then W^k[R, :] stepped with
               dW^k[R, :] = h^(k-1)[:, R]^T delta^k, and b^k[S] with db^k[S]     barrier (k > 1)

The sums over workers run in worker order, so a run is the same bit for bit for a given seed and
worker count (another worker count sums z^k in another order). A worker's rows of W stay in its
own core's cache from one minibatch to the next, and no two workers write one cache line: blocks
of columns, interleaved row by row, measured several times slower for the optimizer's pass
(docs/PERFORMANCE.md). Arguments as epoch.train_batches, without dropout (the one-worker kernel
takes it), plus:

    me        this worker's index, 0..workers-1 (worker 0 returns the sums; the others zeros)
    sync      the barrier's counters (sync.new_sync(workers))
    scratch   a float array in the parameters' dtype, [alpha_t, c_t, lambda, 1, 0]: the step's
              scalars from worker 0, and the GEMM coefficients [1, 0] (plain products)
    partials  (workers, acts.size): worker p's Z_p, laid out like acts
    stream_above  as in network.forward: empty, every forward product through BLAS; [w], those of
              more than w multiply-adds through dense.rows_product (minibatches.workers_stream_above)
    small_gemm  the most multiply-adds BLAS multiplies unpacked (blas.SMALL_GEMM where it has
              small-matrix kernels, else 0): the forward and dW products of a worker go to BLAS in
              blocks of columns that size (blas.block_width)
"""

from .activations import IDENTITY, add_bias_activate
from .blas import BLOCK_ALIGN, block_width, gemm, gemm_blocks
from .dense import activation_backward, column_sums, rows_product
from .jit import kernel
from .layout import B_OFF, FAN_IN, W_OFF, layer_params, layer_rows
from .losses import output_loss
from .optim import begin_step, update
from .rows import gather_labels, gather_rows
from .sync import barrier, n_workers, share

ALPHA, C_T, LAMBDA, ONE_ZERO = 0, 1, 2, 3


@kernel(inline="always")
def own_rows(layout, k, me, workers):
    """Worker me's rows [r0, r1) of W^(k+1): its share of layer k's units (sync.share)."""
    return share(layout[k, FAN_IN], me, workers, BLOCK_ALIGN)


@kernel(inline="always")
def sum_partials(partials, layout, m, k, out, c0, c1):
    """out[:, c0:c1] = sum_p Z_p[:, c0:c1] for layer k+1, in worker order."""
    for p in range(partials.shape[0]):
        Z = layer_rows(partials[p], layout, m, k)
        for i in range(m):
            for j in range(c0, c1):
                out[i, j] = Z[i, j] if p == 0 else out[i, j] + Z[i, j]


@kernel
def forward_layer(params, layout, k, h, partials, me, workers, m, stream_above, small_gemm, one_zero):
    """Worker me's part of layer k+1's forward up to the barrier: Z_me = h[:, R] W[R, :], through
    BLAS (in column blocks of at most small_gemm multiply-adds) or, for a product of more than
    stream_above[0] multiply-adds, dense.rows_product."""
    W, _ = layer_params(params, layout, k)
    r0, r1 = own_rows(layout, k, me, workers)
    Z = layer_rows(partials[me], layout, m, k)
    if stream_above.shape[0] > 0 and m * (r1 - r0) * W.shape[1] > stream_above[0]:
        rows_product(h[:, r0:r1], W[r0:r1], Z)
    else:
        width = block_width(m, r1 - r0, W.shape[1], small_gemm)
        gemm_blocks(h[:, r0:r1], W[r0:r1], Z, one_zero, False, width)


@kernel
def forward_combine(params, layout, act, k, acts, partials, me, workers, m):
    """After the barrier: h^(k+1)[:, S] = g(sum_p Z_p[:, S] + b[S]) on the worker's share S of
    the layer's units; the output layer's all on worker 0. Returns the layer's outputs."""
    W, b = layer_params(params, layout, k)
    out = layer_rows(acts, layout, m, k)
    L = layout.shape[0]
    if k < L - 1:
        c0, c1 = own_rows(layout, k + 1, me, workers)
    else:
        c0, c1 = 0, (W.shape[1] if me == 0 else 0)
    if c1 > c0:
        sum_partials(partials, layout, m, k, out, c0, c1)
        add_bias_activate(out[:, c0:c1], b[c0:c1], act if k < L - 1 else IDENTITY)
    return out


@kernel
def backward_layer(opt, params, grad, layout, act, k, h_prev, deltas, m, me, workers, step):
    """Worker me's rows R of layer k+1 going down: delta^k[:, R] = (delta W[R, :]^T) * g' (k > 0,
    from W before the step), then W[R, :] stepped with dW[R, :] = h_prev[:, R]^T delta (plain SGD
    inside the GEMM, as blas.sgd_gemm_step takes it; any other optimizer through grad and
    optim.update on the block, contiguous), and b[S] with db[S], S its share of the layer's units.
    step = (scratch, sgd_step, small_gemm), as the epoch kernel takes them."""
    scratch, sgd_step, small_gemm = step
    W, b = layer_params(params, layout, k)
    dW, db = layer_params(grad, layout, k)
    delta = layer_rows(deltas, layout, m, k)
    r0, r1 = own_rows(layout, k, me, workers)
    if k > 0 and r1 > r0:
        delta_prev = layer_rows(deltas, layout, m, k - 1)
        gemm(delta, W[r0:r1, :], delta_prev[:, r0:r1], scratch[ONE_ZERO:], False, True)
    c0, c1 = share(W.shape[1], me, workers, BLOCK_ALIGN)
    column_sums(delta[:, c0:c1], db[c0:c1])
    width = block_width(r1 - r0, m, W.shape[1], small_gemm)
    if sgd_step.shape[0] > 0:
        if r1 > r0:
            gemm_blocks(h_prev[:, r0:r1], delta, W[r0:r1], sgd_step, True, width)
        for j in range(c0, c1):
            b[j] += sgd_step[0] * db[j]
    else:
        alpha, c, l2 = scratch[ALPHA], scratch[C_T], scratch[LAMBDA]
        if r1 > r0:
            gemm_blocks(h_prev[:, r0:r1], delta, dW[r0:r1], scratch[ONE_ZERO:], True, width)
        w0, b0, fan_out = layout[k, W_OFF], layout[k, B_OFF], W.shape[1]
        lo, hi = w0 + r0 * fan_out, w0 + r1 * fan_out
        update(opt, params[lo:hi], grad[lo:hi], lo, l2, alpha, c)
        update(
            opt, params[b0 + c0 : b0 + c1], grad[b0 + c0 : b0 + c1], b0 + c0, scratch.dtype.type(0), alpha, c
        )
    if k > 0 and r1 > r0:
        activation_backward(
            layer_rows(deltas, layout, m, k - 1)[:, r0:r1], h_prev[:, r0:r1], deltas[:0].reshape(m, 0), act
        )


@kernel(inline="always")
def begin_minibatch(opt, l2, l2_per_weight, data, buffers, order, start, m, scratch, sgd_step):
    """Worker 0's part of the gather: labels, weights and the step's scalars. Returns W_B."""
    X, y_class, y_target, w, csr = data
    xb, yb_class, yb_target, wb, acts, deltas, masks, grad = buffers
    batch_weight = gather_labels(y_class, y_target, w, order, start, m, yb_class, yb_target, wb)
    l2_t = scratch.dtype.type(l2 / batch_weight) if l2_per_weight else l2
    alpha, c = begin_step(opt)
    scratch[ALPHA], scratch[C_T], scratch[LAMBDA] = alpha, c, l2_t
    if sgd_step.shape[0] > 0:
        sgd_step[0] = -alpha
        sgd_step[1] = 1 - alpha * l2_t
    return batch_weight


@kernel(nogil=True)
def train_batches_split(
    me,
    sync,
    scratch,
    partials,
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
    stream_above,
    small_gemm,
    sgd_step,
):
    """Worker me's share of minibatches first..last-1 of the epoch `order` (see the module
    docstring). Returns, from worker 0, epoch.train_batches' sums; zeros from the others."""
    X, y_class, y_target, w, csr = data
    xb, yb_class, yb_target, wb, acts, deltas, masks, grad = buffers
    workers, L, n_in = n_workers(sync), layout.shape[0], X.shape[1]
    total, total_weight, correct, seen, count = 0.0, 0.0, 0, 0, 0
    step = (scratch, sgd_step, small_gemm)
    for t in range(first, last):
        start = t * batch_size
        m = min(start + batch_size, order.shape[0]) - start
        x = xb[: m * n_in].reshape(m, n_in)
        batch_weight = 0.0
        count += 1
        barrier(sync, me, count)  # every worker is done with the last minibatch's buffers
        i0, i1 = share(m, me, workers, 1)
        gather_rows(X, order, start + i0, x[i0:i1])
        if me == 0:
            batch_weight = begin_minibatch(
                opt, l2, l2_per_weight, data, buffers, order, start, m, scratch, sgd_step
            )
        count += 1
        barrier(sync, me, count)
        h = x
        for k in range(L):
            forward_layer(
                params, layout, k, h, partials, me, workers, m, stream_above, small_gemm, scratch[ONE_ZERO:]
            )
            count += 1
            barrier(sync, me, count)
            h = forward_combine(params, layout, act, k, acts, partials, me, workers, m)
        if me == 0:
            delta = layer_rows(deltas, layout, m, L - 1)
            value, c = output_loss(loss, h, yb_class[:m], yb_target[:m], wb[: m if w.shape[0] else 0], delta)
            total += value * batch_weight
            total_weight += batch_weight
            correct += c
            seen += m
        count += 1
        barrier(sync, me, count)
        for k in range(L - 1, -1, -1):
            h_prev = x if k == 0 else layer_rows(acts, layout, m, k - 1)
            backward_layer(opt, params, grad, layout, act, k, h_prev, deltas, m, me, workers, step)
            if k > 0:
                count += 1
                barrier(sync, me, count)
    return total, correct, total_weight, seen
