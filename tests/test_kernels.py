"""Each kernel against a plain-NumPy reference of the formula in its docstring."""

import numpy as np
import pytest

from fastmlp.kernels import ACTIVATION_CODES, LEAKY_SLOPE
from fastmlp.kernels.activations import add_bias_activate, mul_derivative
from fastmlp.kernels.dense import delta_backward, dense_backward, dense_backward_step, dense_forward
from fastmlp.kernels.layout import make_layout
from fastmlp.kernels.losses import (
    sigmoid_cross_entropy,
    sigmoid_inplace,
    softmax_cross_entropy,
    softmax_inplace,
    squared_error,
)
from fastmlp.kernels.optim import ADAM, SGD, make_hyper, state_size, update_all

NO_WEIGHTS = np.zeros(0)

G = {
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(z.dtype)),
    "leaky_relu": (lambda z: np.where(z > 0, z, LEAKY_SLOPE * z), lambda z: np.where(z > 0, 1, LEAKY_SLOPE)),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ACTIVATION_CODES))
def test_activation_and_derivative(name, dtype, rng):
    g, g_prime = G[name]
    z = rng.normal(scale=3, size=(6, 5)).astype(dtype)
    b = rng.normal(size=5).astype(dtype)
    h = z.copy()
    add_bias_activate(h, b, ACTIVATION_CODES[name])
    tol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(h, g(z.astype(np.float64) + b), rtol=tol, atol=tol)
    delta = rng.normal(size=(6, 5)).astype(dtype)
    out = delta.copy()
    mul_derivative(out, h, ACTIVATION_CODES[name])
    np.testing.assert_allclose(out, delta * g_prime(z.astype(np.float64) + b), rtol=1e-5, atol=tol)
    assert h.dtype == dtype and out.dtype == dtype


def test_sigmoid_does_not_overflow():
    z = np.array([[-1000.0, 1000.0, 0.0]], dtype=np.float32)
    add_bias_activate(z, np.zeros(3, np.float32), ACTIVATION_CODES["sigmoid"])
    np.testing.assert_array_equal(z, [[0.0, 1.0, 0.5]])


def test_softmax_cross_entropy_delta(rng):
    z = rng.normal(scale=5, size=(8, 4))
    y = rng.integers(0, 4, size=8)
    delta = np.empty_like(z)
    loss, correct = softmax_cross_entropy(z, y, NO_WEIGHTS, delta)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    onehot = np.eye(4)[y]
    assert loss == pytest.approx(-np.log(p[np.arange(8), y]).mean(), rel=1e-12)
    np.testing.assert_allclose(delta, (p - onehot) / 8, atol=1e-15)
    assert correct == int((z.argmax(1) == y).sum())


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1e4, 0.0, -1e4]], dtype=np.float32)
    delta = np.empty_like(z)
    loss, _ = softmax_cross_entropy(z, np.array([1]), np.zeros(0, np.float32), delta)
    assert loss == pytest.approx(1e4, rel=1e-6)
    assert np.isfinite(delta).all()
    p = z.copy()
    softmax_inplace(p)
    np.testing.assert_allclose(p, [[1, 0, 0]])


def test_squared_error_delta(rng):
    yhat, y = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    delta = np.empty_like(yhat)
    loss, _ = squared_error(yhat, y, NO_WEIGHTS, delta)
    assert loss == pytest.approx(0.5 * ((yhat - y) ** 2).sum(1).mean(), rel=1e-12)
    np.testing.assert_allclose(delta, (yhat - y) / 5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_forward_backward(dtype, rng):
    h_prev = rng.normal(size=(7, 4)).astype(dtype)
    W = rng.normal(size=(4, 3)).astype(dtype)
    b = rng.normal(size=3).astype(dtype)
    h = np.empty((7, 3), dtype)
    dense_forward(h_prev, W, b, ACTIVATION_CODES["tanh"], h)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12)
    np.testing.assert_allclose(h, np.tanh(h_prev @ W + b), **tol)

    delta = rng.normal(size=(7, 3)).astype(dtype)
    dW, db = np.empty_like(W), np.empty_like(b)
    dense_backward(h_prev, delta, dW, db)
    outer_sum = sum(np.outer(h_prev[i], delta[i]) for i in range(7))  # sum of outer products h delta^T
    np.testing.assert_allclose(dW, outer_sum, **tol)
    np.testing.assert_allclose(db, delta.sum(0), **tol)

    h_act = np.tanh(h_prev)  # pretend h_prev came out of a tanh layer
    delta_prev = np.empty_like(h_prev)
    delta_backward(delta, W, h_act, np.zeros((7, 0), dtype), ACTIVATION_CODES["tanh"], delta_prev)
    np.testing.assert_allclose(delta_prev, (delta @ W.T) * (1 - h_act**2), **tol)
    assert dW.dtype == db.dtype == delta_prev.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, fan_in, fan_out", [(1, 5, 3), (7, 6, 9), (33, 784, 10), (8, 784, 300)])
def test_backward_with_the_sgd_step_in_the_gemm(n, fan_in, fan_out, dtype, rng):
    """W <- (1 - alpha l2) W - alpha sum_i h_i delta_i^T and b <- b - alpha sum_i delta_i, BLAS
    calls with alpha and beta (blas.py; 8 rows of 784 inputs: column blocks of 144, 144 and 12),
    against the sum of outer products in float64; delta_prev from W before the step."""
    h_prev = np.tanh(rng.normal(size=(n, fan_in))).astype(dtype)
    delta = rng.normal(size=(n, fan_out)).astype(dtype)
    W = rng.normal(size=(fan_in, fan_out)).astype(dtype)
    b = rng.normal(size=fan_out).astype(dtype)
    W0, b0 = W.astype(np.float64), b.astype(np.float64)
    coef = np.array([-0.05, 1 - 0.05 * 0.01], dtype)  # [-alpha, 1 - alpha l2], as the epoch kernel writes it
    db, delta_prev = np.empty_like(b), np.empty((n, fan_in), dtype)
    dense_backward_step(
        h_prev, delta, W, b, db, np.zeros((n, 0), dtype), ACTIVATION_CODES["tanh"], delta_prev, coef
    )
    h64, d64 = h_prev.astype(np.float64), delta.astype(np.float64)
    outer_sum = sum(np.outer(h64[i], d64[i]) for i in range(n))
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(W, (1 - 0.05 * 0.01) * W0 - 0.05 * outer_sum, **tol)
    np.testing.assert_allclose(b, b0 - 0.05 * d64.sum(0), **tol)
    np.testing.assert_allclose(delta_prev, (d64 @ W0.T) * (1 - h64**2), **tol)
    assert W.dtype == b.dtype == delta_prev.dtype == dtype


def test_sigmoid_cross_entropy_delta(rng):
    """l_i = sum_j log(1 + e^z_ij) - y_ij z_ij; delta = w_i (sigmoid(z_i) - y_i) / sum w; stable."""
    z = rng.normal(scale=5, size=(6, 3))
    z[0, 0], z[1, 1] = 800.0, -800.0
    y = (rng.random((6, 3)) < 0.5).astype(np.float64)
    w = rng.uniform(0.5, 2, size=6)
    delta = np.empty_like(z)
    loss, correct = sigmoid_cross_entropy(z, y, w, delta)
    s = 0.5 * (1 + np.tanh(z / 2))  # the logistic function, without exp's overflow
    per_row = (np.logaddexp(0, z) - y * z).sum(1)
    assert loss == pytest.approx((w * per_row).sum() / w.sum(), rel=1e-12)
    np.testing.assert_allclose(delta, w[:, None] * (s - y) / w.sum(), atol=1e-15)
    assert correct == int(((s >= 0.5) == (y == 1)).all(1).sum())
    p = z.copy()
    sigmoid_inplace(p)
    np.testing.assert_allclose(p, s)


@pytest.mark.parametrize(
    "code,hp", [(SGD, {}), (SGD, {"momentum": 0.9}), (SGD, {"momentum": 0.9, "nesterov": True}), (ADAM, {})]
)
def test_optimizer_update_all(code, hp, rng):
    """One step over a flat buffer: weights get the L2 term, biases do not (see optim.py)."""
    layout = make_layout([3, 2])  # W: 6 values, b: 2 values
    theta = rng.normal(size=8).astype(np.float32)
    grad = rng.normal(size=8).astype(np.float32)
    lr, l2 = 0.1, 0.01
    hyper = make_hyper(np.float32, lr, **hp)
    state = np.zeros(state_size(code, 8), np.float32)
    state[:8] = rng.normal(size=8)  # a velocity (SGD) or first moment (Adam) from earlier steps
    start = state.astype(np.float64)
    g = grad.astype(np.float64) + l2 * np.r_[theta[:6], np.zeros(2)]
    if code == SGD:
        mu = hp.get("momentum", 0.0)
        v = mu * start[:8] - lr * g
        expected = theta + (mu * v - lr * g if hp.get("nesterov") else v) if mu else theta - lr * g
    else:
        m = 0.9 * start[:8] + 0.1 * g
        s = 0.001 * g * g
        expected = theta - lr * (m / 0.1) / (np.sqrt(s / 0.001) + 1e-8)
    update_all((code, hyper, state), theta, grad, layout, np.float32(l2))
    np.testing.assert_allclose(theta, expected, rtol=2e-5)
    assert theta.dtype == state.dtype == np.float32


def test_flush_denormals_sets_and_restores_the_mode():
    """Inside the block a float32 product below 1.2e-38 is 0 (FTZ), outside it is subnormal."""
    from fastmlp.kernels.fpmode import SUPPORTED, flush_denormals

    if not SUPPORTED:
        pytest.skip("flush-to-zero is set on x86-64 only")
    tiny = np.array([1e-38], np.float32)
    assert (tiny * np.float32(1e-3))[0] > 0
    with flush_denormals():
        assert (tiny * np.float32(1e-3))[0] == 0
    assert (tiny * np.float32(1e-3))[0] > 0


def test_optimizer_state_never_goes_subnormal():
    """A unit with gradient exactly 0 decays m, v (Adam) and the velocity (momentum) geometrically;
    below sqrt(tiny) they are set to 0 instead of crawling through subnormal numbers."""
    layout = make_layout([3, 2])
    for code, hp in ((ADAM, {}), (SGD, {"momentum": 0.9})):
        theta = np.ones(8, np.float32)
        state = np.zeros(state_size(code, 8), np.float32)
        state[:8] = 1e-3
        opt = (code, make_hyper(np.float32, 0.01, **hp), state)
        for _ in range(2000):
            update_all(opt, theta, np.zeros(8, np.float32), layout, np.float32(0.0))
        assert not ((state != 0) & (np.abs(state) < np.finfo(np.float32).tiny)).any()
        assert (state[:8] == 0).all()
