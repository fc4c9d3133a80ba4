"""A sparse input's first layer: work in proportion to the minibatch's non-zeros (docs/MATH.md §17).

With x a CSR row (values x_p at columns c_p), the first layer's products touch only the rows of
W¹ those columns name:

    z¹_i  = Σ_p x_p W¹[c_p, :] + b¹                              (csr_forward)
    dW¹   = xᵀ δ¹, non-zero only in the rows U = ∪_i {c_p}:
    dW¹[u] = Σ_i Σ_{p: c_p = u} x_p δ¹_i                         (csr_weight_grad, into dWU)

The rows outside U get no gradient, but the update still changes them: L2 decay, a velocity or
Adam's moments move every weight at every step. Those rows are brought up to date lazily, when a
minibatch next touches them (before it reads them) and for every row at the epoch's end:

    SGD, momentum, Nesterov: a step with g = 0 on a row is linear in (θ, v), [θ; v] <- A [θ; v],
        with A fixed by (α λ, μ); k such steps are A^k (sgd_catch_up). Exact, to rounding.
    Adam: m <- β₁^k m, v <- β₂^k v exactly, and θ moves by the steps the decaying m still drives,
        Σ_j α_j m_j / (√v_j c_j), summed in closed form over the skipped steps (adam_catch_up).
        It leaves out two terms of those steps: ε in the denominator (a row's θ moves at most
        ε/√v̂ relatively more than dense Adam's), and λθ in g (with L2, the decay of a row
        enters Adam only at the steps that touch it).

`lazy` = (last, slot, cols, dWU, drift, clock, run): per input column the epoch's step its row is
up to date at, its place in the minibatch's union U (-1: not in it); U's columns and gradient
rows; Adam's drift sums per step (adam_drift); clock = [1 when every row is up to date, the last
step taken]; run = [SGD's alpha lambda of the pending steps, -1: none] (minibatches.LazyRows).
Rows stay pending across calls within an epoch; `settle` brings them all up to date at its end,
and before a checkpoint reads the parameters mid-epoch (Minibatches.settle).
"""

import numpy as np

from .activations import IDENTITY, add_bias_activate
from .dense import column_sums
from .dropout import dropout_forward, dropout_key
from .jit import kernel
from .layout import B_OFF, COL_OFF, FAN_OUT, W_OFF, layer_params, layer_rows
from .losses import output_loss
from .network import backward, forward
from .optim import ADAM, BETA_1, BETA_2, LR, MOMENTUM, NESTEROV, TINY, begin_step, update
from .rows import gather_labels

# Adam's drift sums stop adding terms once (β₁/√β₂)^j falls below this: later terms change no
# float64 digit.
DRIFT_CUTOFF = 1e-18


@kernel(inline="always")
def source_row(order, start, r):
    """Row r of the block starting at `start`: order[start + r], or start + r for an empty order."""
    if order.shape[0] == 0:
        return start + r
    return order[start + r]


@kernel
def csr_forward(csr, order, start, W, b, code, h):
    """h_r = g(Σ_p x_p W[c_p, :] + b) for the h.shape[0] rows source_row(order, start, r)."""
    values, indices, indptr = csr
    m, fan_out = h.shape
    for r in range(m):
        src = source_row(order, start, r)
        for j in range(fan_out):
            h[r, j] = 0
        for p in range(indptr[src], indptr[src + 1]):
            a = values[p]
            c = indices[p]
            for j in range(fan_out):
                h[r, j] += a * W[c, j]
    add_bias_activate(h, b, code)


@kernel
def column_union(csr, order, start, m, slot, cols):
    """U, the columns the block's m rows touch, into cols[:|U|] with slot[c] = c's place in U
    (slot is -1 outside U, and is left so: clear_union resets it). Returns |U|."""
    values, indices, indptr = csr
    n = 0
    for r in range(m):
        src = source_row(order, start, r)
        for p in range(indptr[src], indptr[src + 1]):
            c = indices[p]
            if slot[c] < 0:
                slot[c] = n
                cols[n] = c
                n += 1
    return n


@kernel(inline="always")
def clear_union(slot, cols, n):
    for i in range(n):
        slot[cols[i]] = -1


@kernel
def csr_weight_grad(csr, order, start, delta, slot, n, dWU):
    """dWU[slot[u]] = dW[u] = Σ_r Σ_{p: c_p = u} x_p δ_r for the n columns u of the block's union."""
    values, indices, indptr = csr
    m, fan_out = delta.shape
    for i in range(n):
        for j in range(fan_out):
            dWU[i, j] = 0
    for r in range(m):
        src = source_row(order, start, r)
        for p in range(indptr[src], indptr[src + 1]):
            a = values[p]
            i = slot[indices[p]]
            for j in range(fan_out):
                dWU[i, j] += a * delta[r, j]


@kernel(inline="always")
def sgd_matrix(hyper, c):
    """A, the step with g = 0 on (θ, v), for c = α λ: momentum θ' = (1 - c) θ + μ v, v' = μ v - c θ;
    Nesterov θ' = (1 - c (1 + μ)) θ + μ² v, v' = μ v - c θ; plain SGD (μ = 0) θ' = (1 - c) θ."""
    mu = float(hyper[MOMENTUM])
    if hyper[NESTEROV] != 0:
        return 1.0 - c * (1.0 + mu), mu * mu, -c, mu
    return 1.0 - c, mu, -c, mu


@kernel(inline="always")
def matrix_power(a, k):
    """A^k for a 2x2 A = (a11, a12, a21, a22), by repeated squaring."""
    p = (1.0, 0.0, 0.0, 1.0)
    while k > 0:
        if k & 1:
            p = (
                p[0] * a[0] + p[1] * a[2],
                p[0] * a[1] + p[1] * a[3],
                p[2] * a[0] + p[3] * a[2],
                p[2] * a[1] + p[3] * a[3],
            )
        a = (
            a[0] * a[0] + a[1] * a[2],
            a[0] * a[1] + a[1] * a[3],
            a[2] * a[0] + a[3] * a[2],
            a[2] * a[1] + a[3] * a[3],
        )
        k >>= 1
    return p


@kernel(inline="always")
def sgd_catch_up(theta, v, a, k):
    """k steps with g = 0 on one row: [θ; v] <- A^k [θ; v] (v empty for plain SGD)."""
    p = matrix_power(a, k)
    dt = theta.dtype.type
    p11, p12, p21, p22 = dt(p[0]), dt(p[1]), dt(p[2]), dt(p[3])
    if v.shape[0] == 0:
        for j in range(theta.shape[0]):
            theta[j] = p11 * theta[j]
        return
    for j in range(theta.shape[0]):
        t = theta[j]
        theta[j] = p11 * t + p12 * v[j]
        v[j] = p21 * t + p22 * v[j]


@kernel(inline="always")
def adam_catch_up(theta, m, v, hyper, k, drift):
    """k steps with g = 0 on one row: θ <- θ - drift m / √v, m <- β₁^k m, v <- β₂^k v (values below
    TINY set to 0, as update does), drift = Σ_{j=1..k} (α_j / c_j) (β₁ / √β₂)^j (adam_drift)."""
    dt = theta.dtype.type
    b1k = dt(float(hyper[BETA_1]) ** k)
    b2k = dt(float(hyper[BETA_2]) ** k)
    d = dt(drift)
    zero = dt(0.0)
    tiny = hyper[TINY]
    for j in range(theta.shape[0]):
        mj, vj = m[j], v[j]
        if vj > zero:
            theta[j] -= d * (mj / np.sqrt(vj))
        mj *= b1k
        vj *= b2k
        m[j] = mj if abs(mj) >= tiny else zero
        v[j] = vj if vj >= tiny else zero


@kernel(inline="always")
def adam_drift(drift, hyper, s, alpha, c):
    """After step s (drift sums over steps 1..s-1 already in drift): add step s's term, so that
    drift[τ] = Σ_{j=τ+1..s} (α_j / c_j) r^(j-τ), r = β₁ / √β₂: what a row last stepped at τ
    has still to move per unit of m / √v. Terms below DRIFT_CUTOFF are left out."""
    r = float(hyper[BETA_1]) / np.sqrt(float(hyper[BETA_2]))
    a = float(alpha) / float(c)
    rj = r
    tau = s - 1
    while tau >= 0 and rj >= DRIFT_CUTOFF:
        drift[tau] += a * rj
        rj *= r
        tau -= 1


@kernel
def catch_up_row(opt, W, off, u, k, tau, sgd_a, drift):
    """Row u of the first layer's W (at flat offset off), last stepped at the call's step tau,
    brought k skipped steps on."""
    code, hyper, state = opt
    fan_out = W.shape[1]
    w0 = off + u * fan_out
    if code == ADAM:
        half = (state.shape[0] - 1) // 2
        adam_catch_up(
            W[u], state[w0 : w0 + fan_out], state[half + w0 : half + w0 + fan_out], hyper, k, drift[tau]
        )
    else:
        v = state[w0 : w0 + fan_out] if hyper[MOMENTUM] != 0 else state[:0]
        sgd_catch_up(W[u], v, sgd_a, k)


@kernel
def catch_up_all(opt, W, off, last, s, sgd_a, drift, moves, now):
    """Every row of W up to date at step s (moves False: skipped steps change nothing, see
    lazy_needed); then last[:] = now."""
    for u in range(W.shape[0]):
        k = s - last[u]
        if moves and k > 0:
            catch_up_row(opt, W, off, u, k, last[u], sgd_a, drift)
        last[u] = now


@kernel(inline="always")
def lazy_needed(opt, l2):
    """Whether skipped steps change a row at all (plain SGD without L2 leaves it alone)."""
    code, hyper, _ = opt
    return code == ADAM or hyper[MOMENTUM] != 0 or l2 != 0


@kernel(inline="always")
def csr_network_forward(params, layout, act, csr, order, start, m, acts, dropout, key, masks):
    """z^L for m CSR rows source_row(order, start, r): network.forward with the first layer on
    the rows' non-zeros (h^1 into acts), inverted dropout on h^1 when masks are given."""
    L = layout.shape[0]
    W0, b0 = layer_params(params, layout, 0)
    h1 = layer_rows(acts, layout, m, 0)
    csr_forward(csr, order, start, W0, b0, act if L > 1 else IDENTITY, h1)
    if masks.shape[0] > 0 and L > 1:
        dropout_forward(h1, layer_rows(masks, layout, m, 0), dropout, key, m * layout[0, COL_OFF])
    return forward(params, layout, act, 1, h1, acts, np.empty(0, np.int64), dropout, key, masks)


@kernel
def csr_forward_backward(
    params,
    layout,
    act,
    loss,
    csr,
    order,
    start,
    yb_class,
    yb_target,
    wb,
    acts,
    deltas,
    masks,
    grad,
    dropout,
    key,
    union,
    n_u,
):
    """Rows order[start..] (as many as acts holds for yb's rows, m = yb's or wb's): forward with
    the sparse first layer, output loss and delta, backward down to delta^1, then the first
    layer's dW on the union's n_u columns into dWU and db^1 into grad. union = (slot, cols,
    dWU) with the union already formed (column_union). Returns (J_data, n_correct)."""
    slot, cols, dWU = union
    m = max(yb_class.shape[0], yb_target.shape[0])
    L = layout.shape[0]
    none = np.empty(0, params.dtype)  # no plain-SGD step: the gradient itself
    out = csr_network_forward(params, layout, act, csr, order, start, m, acts, dropout, key, masks)
    value, correct = output_loss(loss, out, yb_class, yb_target, wb, layer_rows(deltas, layout, m, L - 1))
    backward(params, layout, act, 1, deltas[:0].reshape(m, 0), acts, deltas, masks, grad, none)
    delta1 = layer_rows(deltas, layout, m, 0)
    csr_weight_grad(csr, order, start, delta1, slot, n_u, dWU)
    column_sums(delta1, layer_params(grad, layout, 0)[1])
    return value, correct


@kernel
def catch_up_union(opt, W, off, last, cols, n_u, s, sgd_a, drift):
    """The union's rows brought up to date at the call's step s - 1, before step s reads them."""
    for i in range(n_u):
        u = cols[i]
        k = s - 1 - last[u]
        if k > 0:
            catch_up_row(opt, W, off, u, k, last[u], sgd_a, drift)


@kernel
def step_layers(opt, params, grad, layout, l2, union, n_u, last, s, drift):
    """Step s of the optimizer: every layer above the first and every bias densely (update),
    the first layer's weights on the union's rows only (g = dW + l2 W there); those rows are then
    up to date at s. Adam adds the step's drift term (adam_drift)."""
    slot, cols, dWU = union
    alpha, c = begin_step(opt)
    zero = params.dtype.type(0.0)
    for k in range(layout.shape[0]):
        w0, bk, fan_out = layout[k, W_OFF], layout[k, B_OFF], layout[k, FAN_OUT]
        if k > 0:
            update(opt, params[w0:bk], grad[w0:bk], w0, l2, alpha, c)
        update(opt, params[bk : bk + fan_out], grad[bk : bk + fan_out], bk, zero, alpha, c)
    w_off, fan_out0 = layout[0, W_OFF], layout[0, FAN_OUT]
    for i in range(n_u):
        u = cols[i]
        row = w_off + u * fan_out0
        update(opt, params[row : row + fan_out0], dWU[i], row, l2, alpha, c)
        last[u] = s
    clear_union(slot, cols, n_u)
    if opt[0] == ADAM:
        adam_drift(drift, opt[1], s, alpha, c)


@kernel(inline="always")
def pending_matrix(opt, run):
    """SGD's A for the rows' pending steps (run[0] = their alpha lambda; none yet: the identity)."""
    if run[0] < 0:
        return 1.0, 0.0, 0.0, 1.0
    return sgd_matrix(opt[1], run[0])


@kernel(inline="always")
def sgd_run(opt, W, off, last, s, run, drift, l2):
    """SGD's step s with alpha l2 = c: when c differs from run[0], the c of the rows' pending
    steps (a partial or weighted minibatch), every row's pending steps are settled first, with
    the old A; then run[0] = c."""
    c_t = float(opt[1][LR]) * float(l2)
    if c_t != run[0]:
        if run[0] >= 0:
            catch_up_all(
                opt, W, off, last, s - 1, sgd_matrix(opt[1], run[0]), drift, lazy_needed(opt, l2), s - 1
            )
        run[0] = c_t


@kernel
def settle(opt, params, layout, l2, lazy):
    """Every first-layer row brought up to date at the last step taken (clock[1]), so that the
    parameters are the true ones for whoever reads them (an epoch's end, a checkpoint); at the
    epoch's last step the count starts again. Nothing when already settled (clock[0] = 1)."""
    last_step, _, _, _, drift, clock, run = lazy
    if clock[0] == 1:
        return
    s = clock[1]
    W0 = layer_params(params, layout, 0)[0]
    catch_up_all(
        opt, W0, layout[0, W_OFF], last_step, s, pending_matrix(opt, run), drift, lazy_needed(opt, l2), s
    )
    clock[0] = 1


@kernel
def train_batches_sparse(
    params,
    layout,
    act,
    loss,
    opt,
    l2,
    l2_per_weight,
    data,
    buffers,
    lazy,
    order,
    batch_size,
    first,
    last,
    dropout,
    seed,
    step0,
):
    """train_batches (epoch.py) for CSR rows: minibatches first..last-1 of `order`, the first
    layer on the rows' non-zeros and its rows stepped lazily (module docstring), the layers above
    as in the dense epoch. Steps are counted within the epoch (minibatch t is step t + 1); rows
    stay pending from one call to the next and are settled at the epoch's end (settle).
    Returns (sum J_data W_B, n_correct, sum W_B, n_samples)."""
    X, y_class, y_target, w, csr = data
    _, yb_class, yb_target, wb, acts, deltas, masks, grad = buffers
    last_step, slot, cols, dWU, drift, clock, run = lazy
    union = (slot, cols, dWU)
    n = order.shape[0]
    W0 = layer_params(params, layout, 0)[0]
    w_off = layout[0, W_OFF]
    if clock[0] == 1:  # every row up to date: the count starts at this call's first step
        last_step[:] = first
        drift[:] = 0.0
        run[0] = -1.0
        clock[0] = 0
    total = 0.0
    total_weight = 0.0
    correct = 0
    seen = 0
    for t in range(first, last):
        s = t + 1
        start = t * batch_size
        m = min(start + batch_size, n) - start
        batch_weight = gather_labels(y_class, y_target, w, order, start, m, yb_class, yb_target, wb)
        l2_t = params.dtype.type(l2 / batch_weight) if l2_per_weight else l2
        if opt[0] != ADAM:
            sgd_run(opt, W0, w_off, last_step, s, run, drift, l2_t)
        n_u = column_union(csr, order, start, m, slot, cols)
        if lazy_needed(opt, l2_t):
            catch_up_union(opt, W0, w_off, last_step, cols, n_u, s, pending_matrix(opt, run), drift)
        value, c = csr_forward_backward(
            params,
            layout,
            act,
            loss,
            csr,
            order,
            start,
            yb_class[:m],  # an empty buffer (the label kind the loss does not read) stays empty
            yb_target[:m],
            wb[:m],
            acts,
            deltas,
            masks,
            grad,
            dropout,
            dropout_key(seed, step0 + t - first),
            union,
            n_u,
        )
        step_layers(opt, params, grad, layout, l2_t, union, n_u, last_step, s, drift)
        clock[1] = s
        total += value * batch_weight
        total_weight += batch_weight
        correct += c
        seen += m
    if last * batch_size >= n:  # the epoch's last minibatch
        settle(opt, params, layout, l2, lazy)
    return total, correct, total_weight, seen


@kernel
def csr_loss_and_grad(
    params, layout, act, loss, csr, start, stop, y_class, y_target, w, acts, deltas, grad, union
):
    """network.loss_and_grad for CSR rows start..stop-1 (no dropout; y_class, y_target, w are
    theirs): J_data on them and its gradient into grad, the first layer's dW zero outside the
    rows' columns. union = (slot, cols, dWU), room for the rows' columns (rows.union_room).
    Returns (J_data, n_correct)."""
    slot, cols, dWU = union
    order = np.empty(0, np.int64)  # the rows in their own order
    none = np.empty(0, params.dtype)
    n_u = column_union(csr, order, start, stop - start, slot, cols)
    value, correct = csr_forward_backward(
        params,
        layout,
        act,
        loss,
        csr,
        order,
        start,
        y_class,
        y_target,
        w,
        acts,
        deltas,
        none,
        grad,
        0.0,
        np.uint64(0),
        union,
        n_u,
    )
    dW0 = layer_params(grad, layout, 0)[0]
    dW0[:, :] = 0
    for i in range(n_u):
        for j in range(dW0.shape[1]):
            dW0[cols[i], j] = dWU[i, j]
    clear_union(slot, cols, n_u)
    return value, correct
