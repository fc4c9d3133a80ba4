"""Optimizers: one unit each — a code, one hyperparameter record, one state array, one step.

The unit travels through every kernel as the tuple opt = (code, hyper, state):
    code   SGD | ADAM
    hyper  a record (1-D array in the parameters' dtype) indexed by LR, MOMENTUM, NESTEROV,
           BETA_1, BETA_2, EPSILON; the trainer writes hyper[LR] each epoch (schedules)
    state  SGD: the velocity v (one slot per parameter);
           Adam: m, then v (one slot per parameter each), then the step count t

For weights g = dW + lambda W; for biases g = db (biases are not regularised).
    plain SGD:   theta <- theta - alpha g
    momentum:    v <- mu v - alpha g;  theta <- theta + v
    Nesterov:    v <- mu v - alpha g;  theta <- theta + mu v - alpha g
    Adam:        t <- t + 1;  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
                 theta <- theta - alpha_t m / (sqrt(v) c_t + eps),
                 alpha_t = alpha / (1 - b1^t),  c_t = 1 / sqrt(1 - b2^t)
                 (the bias-corrected m / (1 - b1^t) and v / (1 - b2^t), as published)
    Adam, epsilon_hat: the same with eps_t = eps c_t, i.e. theta <- theta - alpha_t' m / (sqrt(v) + eps),
                 alpha_t' = alpha sqrt(1 - b2^t) / (1 - b1^t): eps added to the uncorrected sqrt(v)
                 (the paper's "efficient" form, as TensorFlow and scikit-learn compute it)

A step is two calls: `begin_step` once per minibatch (advances t, returns the step's scalars
(alpha_t, c_t)), then `update` on each run of parameters (update_all: each layer's weights, then
its biases). Adding an optimizer is a code, its state size, a branch in each of these two
functions, and its config entry.

Adam's t is kept in the state array's dtype: in float32 it counts exactly to 2^24 steps, past
which 1 - b^t is 1 to float32 precision anyway.
"""

import numpy as np

from .jit import kernel
from .layout import B_OFF, FAN_OUT, W_OFF

SGD = 0
ADAM = 1
OPTIMIZER_CODES = {"sgd": SGD, "adam": ADAM}

# Slots of the hyperparameter record. TINY is the flush threshold of update (see there);
# EPS_T is the step's epsilon, written by begin_step (eps, or eps c_t with EPSILON_HAT set).
LR, MOMENTUM, NESTEROV, BETA_1, BETA_2, EPSILON, TINY, EPSILON_HAT, EPS_T = range(9)
HYPER_SIZE = 9


def state_size(code: int, n_params: int) -> int:
    """Length of the optimizer's state array for n_params parameters."""
    return n_params if code == SGD else 2 * n_params + 1


def make_hyper(
    dtype, lr, momentum=0.0, nesterov=False, beta_1=0.9, beta_2=0.999, epsilon=1e-8, epsilon_hat=False
):
    """The hyperparameter record, cast once to the parameters' dtype (no float64 upcast in kernels)."""
    hyper = np.zeros(HYPER_SIZE, dtype)
    hyper[LR], hyper[MOMENTUM], hyper[NESTEROV] = lr, momentum, float(bool(nesterov))
    hyper[BETA_1], hyper[BETA_2], hyper[EPSILON] = beta_1, beta_2, epsilon
    hyper[EPSILON_HAT], hyper[EPS_T] = float(bool(epsilon_hat)), epsilon
    hyper[TINY] = np.sqrt(np.finfo(hyper.dtype).tiny)  # 1.1e-19 in float32, 1.5e-154 in float64
    return hyper


def plain_sgd(opt) -> bool:
    """Whether the unit is SGD without momentum: its step can be taken inside the dW GEMMs
    (network.backward)."""
    code, hyper, _ = opt
    return code == SGD and hyper[MOMENTUM] == 0


@kernel(inline="always")
def begin_step(opt):
    """Start one step: Adam advances t, writes the step's epsilon into hyper[EPS_T] and returns
    (alpha_t, c_t); SGD returns (alpha, 0)."""
    code, hyper, state = opt
    if code == ADAM:
        one = hyper.dtype.type(1.0)
        t = state[state.shape[0] - 1] + one
        state[state.shape[0] - 1] = t
        alpha_t = hyper[LR] / (one - hyper[BETA_1] ** t)
        c_t = one / np.sqrt(one - hyper[BETA_2] ** t)
        hyper[EPS_T] = hyper[EPSILON] * c_t if hyper[EPSILON_HAT] != 0 else hyper[EPSILON]
        return alpha_t, c_t
    return hyper[LR], hyper.dtype.type(0.0)


# error_model="numpy": a float division by zero gives inf as IEEE says instead of raising, so
# Adam's divide and square root compile to vector instructions (docs/PERFORMANCE.md).
@kernel(error_model="numpy")
def update(opt, theta, grad, off, l2, alpha, c):
    """Step the run theta (the parameters at flat offset off) with g = grad + l2 theta.

    Moments and velocities (and Adam's parameters) below TINY = sqrt(smallest normal number)
    are set to 0. A unit whose gradient is exactly 0 (a dead relu) would otherwise decay its m,
    v or velocity geometrically towards subnormal numbers, and Adam with L2 drives the weights
    of always-zero inputs there (its step does not shrink with the weight); the CPU handles
    subnormals tens of times slower (docs/PERFORMANCE.md).
    Such a value changes no parameter of normal size. See also fpmode.flush_denormals."""
    code, hyper, state = opt
    n = theta.shape[0]
    zero = hyper.dtype.type(0.0)
    tiny = hyper[TINY]
    if code == SGD:
        v = state[off : off + n]
        mu = hyper[MOMENTUM]
        if mu == 0:
            for i in range(n):
                theta[i] -= alpha * (grad[i] + l2 * theta[i])
        elif hyper[NESTEROV] != 0:
            for i in range(n):
                g = grad[i] + l2 * theta[i]
                vi = mu * v[i] - alpha * g
                vi = vi if abs(vi) >= tiny else zero
                v[i] = vi
                theta[i] += mu * vi - alpha * g
        else:
            for i in range(n):
                vi = mu * v[i] - alpha * (grad[i] + l2 * theta[i])
                vi = vi if abs(vi) >= tiny else zero
                v[i] = vi
                theta[i] += vi
    else:
        half = (state.shape[0] - 1) // 2
        m = state[off : off + n]
        v = state[half + off : half + off + n]
        one = hyper.dtype.type(1.0)
        b1, b2, eps = hyper[BETA_1], hyper[BETA_2], hyper[EPS_T]
        for i in range(n):
            g = grad[i] + l2 * theta[i]
            mi = b1 * m[i] + (one - b1) * g
            vi = b2 * v[i] + (one - b2) * g * g
            mi = mi if abs(mi) >= tiny else zero
            vi = vi if vi >= tiny else zero
            m[i] = mi
            v[i] = vi
            t = theta[i] - alpha * (mi / (np.sqrt(vi) * c + eps))
            theta[i] = t if abs(t) >= tiny else zero


@kernel
def update_all(opt, params, grad, layout, l2):
    """One step over every layer of the flat buffer: weights with L2, biases without."""
    alpha, c = begin_step(opt)
    zero = params.dtype.type(0.0)
    for k in range(layout.shape[0]):
        w0, b0, fan_out = layout[k, W_OFF], layout[k, B_OFF], layout[k, FAN_OUT]
        update(opt, params[w0:b0], grad[w0:b0], w0, l2, alpha, c)
        update(opt, params[b0 : b0 + fan_out], grad[b0 : b0 + fan_out], b0, zero, alpha, c)
