"""Sparse inputs (kernels/sparse.py): the first layer on the rows' non-zeros, its skipped steps
caught up lazily. Checked against the dense path on the same rows (float64, to rounding) per
optimizer with L2, against an independent NumPy run of Adam's lazy rule, and against finite
differences of J computed on dense rows."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from fastmlp import MLP
from fastmlp.gradcheck import TOLERANCE, numeric_gradient, relative_error
from fastmlp.trainer import fit

N, D, CLASSES = 203, 60, 3  # 203 rows: the last minibatch of 16 is partial


def sparse_problem(rng, n=N, d=D, density=0.08):
    X = rng.random((n, d)) * (rng.random((n, d)) < density)
    X[:, 7] = 0.0  # a column no row touches: its weights only ever take skipped steps
    return X, rng.integers(0, CLASSES, n)


def trained(X, y, optimizer, l2, hidden=(8,), task="classification", **options):
    model = MLP([X.shape[1], *hidden, CLASSES], dtype="float64", seed=1, task=task)
    options = {"epochs": 3, "batch_size": 16, "learning_rate": 0.05, "seed": 2, "keep": "last", **options}
    history = fit(model, X, y, l2=l2, optimizer=optimizer, **options)
    return model, history


SGD_FAMILY = [
    "sgd",
    {"name": "sgd", "momentum": 0.9},
    {"name": "sgd", "momentum": 0.9, "nesterov": True},
]


@pytest.mark.parametrize("hidden", [(8,), (), (6, 5)])
@pytest.mark.parametrize("l2", [0.0, 0.01])
@pytest.mark.parametrize("optimizer", SGD_FAMILY, ids=["sgd", "momentum", "nesterov"])
def test_sgd_family_equals_dense(optimizer, l2, hidden, rng):
    """Plain SGD, momentum and Nesterov with and without L2: the lazily caught-up rows end where
    the dense epoch puts every row (A^k for k skipped steps equals k steps, to rounding)."""
    X, y = sparse_problem(rng)
    dense, h_dense = trained(X, y, optimizer, l2, hidden)
    sparse, h_sparse = trained(sp.csr_matrix(X), y, optimizer, l2, hidden)
    np.testing.assert_allclose(sparse.params, dense.params, rtol=1e-10, atol=1e-12)
    assert h_sparse.rows[-1]["train_loss"] == pytest.approx(h_dense.rows[-1]["train_loss"], rel=1e-10)
    assert not np.allclose(dense.params, MLP([D, *hidden, CLASSES], dtype="float64", seed=1).params)


@pytest.mark.parametrize(
    "options",
    [
        {"sample_weight": "random"},  # lambda/W_B changes every step: pending steps settled at each change
        {"dropout": 0.3},
        {"lr_schedule": lambda epoch: 0.05 * 0.5**epoch},
        {"callback": "watch"},  # a watched run goes in several kernel calls per epoch
    ],
    ids=["weights", "dropout", "schedule", "chunks"],
)
def test_momentum_with_options_equals_dense(options, rng):
    X, y = sparse_problem(rng)
    if options.get("sample_weight") == "random":
        options = {"sample_weight": rng.random(N) + 0.1}
    if options.get("callback") == "watch":
        options = {"callback": lambda event, *args: None}
    opt = {"name": "sgd", "momentum": 0.8}
    dense, _ = trained(X, y, opt, 0.01, **options)
    sparse, _ = trained(sp.csr_matrix(X), y, opt, 0.01, **options)
    np.testing.assert_allclose(sparse.params, dense.params, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("task", ["regression", "multilabel"])
def test_other_tasks_equal_dense(task, rng):
    X, _ = sparse_problem(rng)
    y = (
        rng.normal(size=(N, CLASSES))
        if task == "regression"
        else (rng.random((N, CLASSES)) < 0.4).astype(float)
    )
    dense, _ = trained(X, y, {"name": "sgd", "momentum": 0.9}, 0.01, task=task)
    sparse, _ = trained(sp.csr_matrix(X), y, {"name": "sgd", "momentum": 0.9}, 0.01, task=task)
    np.testing.assert_allclose(sparse.params, dense.params, rtol=1e-10, atol=1e-12)


def test_adam_without_l2_equals_dense_when_epsilon_vanishes(rng):
    """Adam's lazy rule leaves only epsilon out of the skipped steps: with epsilon ~ 0 (and no
    L2) it is dense Adam, to rounding."""
    X, y = sparse_problem(rng)
    adam = {"name": "adam", "epsilon": 1e-30}
    dense, _ = trained(X, y, adam, 0.0)
    sparse, _ = trained(sp.csr_matrix(X), y, adam, 0.0)
    np.testing.assert_allclose(sparse.params, dense.params, rtol=1e-10, atol=1e-12)


def test_adam_with_default_epsilon_stays_close_to_dense(rng):
    """Leaving epsilon = 1e-8 out of a skipped step moves a row by at most eps/sqrt(v) more."""
    X, y = sparse_problem(rng)
    dense, _ = trained(X, y, "adam", 0.0)
    sparse, _ = trained(sp.csr_matrix(X), y, "adam", 0.0)
    scale = np.abs(dense.params).max()
    assert np.abs(sparse.params - dense.params).max() < 1e-4 * scale
    assert not np.array_equal(sparse.params, dense.params)  # the rule is not dense Adam


def lazy_adam_reference(X, y, l2, epochs, batch_size, lr, hidden=(8,), b1=0.9, b2=0.999, eps=1e-8):
    """Adam's lazy rule for the first layer written step by step over every weight in NumPy:
    a row the minibatch touches takes Adam's step with g = dW + l2 W; a row it does not has
    m <- b1 m, v <- b2 v and W <- W - alpha_t m / (sqrt(v) c_t) (no epsilon, no L2 term). The
    other layers and every bias take dense Adam. Gradients from the dense network."""
    model = MLP([X.shape[1], *hidden, CLASSES], dtype="float64", seed=1)
    theta = model.params
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    w0, b0 = model.layout[0, 0], model.layout[0, 1]
    fan_out = model.layout[0, 3]
    weights = np.zeros(theta.shape, bool)
    for wk, bk, *_ in model.layout:
        weights[wk:bk] = True
    t = 0
    for _ in range(epochs):
        for start in range(0, len(X), batch_size):
            xb, yb = X[start : start + batch_size], y[start : start + batch_size]
            _, grads = model.loss_and_gradients(xb, yb)
            g = np.concatenate([np.concatenate([dW.ravel(), db]) for dW, db in grads])
            g = g + l2 * theta * weights
            touched = np.zeros(theta.shape, bool)
            touched[:] = True
            rows = np.zeros(X.shape[1], bool)
            rows[np.flatnonzero((xb != 0).any(axis=0))] = True
            touched[w0:b0] = np.repeat(rows, fan_out)
            t += 1
            alpha = lr / (1 - b1**t)
            c = 1 / np.sqrt(1 - b2**t)
            m = np.where(touched, b1 * m + (1 - b1) * g, b1 * m)
            v = np.where(touched, b2 * v + (1 - b2) * g * g, b2 * v)
            with np.errstate(divide="ignore", invalid="ignore"):
                step_touched = alpha * m / (np.sqrt(v) * c + eps)
                step_skipped = np.where(v > 0, alpha * m / (np.sqrt(v) * c), 0.0)
            theta -= np.where(touched, step_touched, step_skipped)
    return theta


@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_adam_follows_its_lazy_rule(l2, rng):
    X, y = sparse_problem(rng, n=96)
    expected = lazy_adam_reference(X, y, l2, epochs=2, batch_size=16, lr=0.01)
    model, _ = trained(
        sp.csr_matrix(X), y, "adam", l2, epochs=2, batch_size=16, learning_rate=0.01, shuffle=False
    )
    np.testing.assert_allclose(model.params, expected, rtol=1e-9, atol=1e-12)


def test_lbfgs_equals_dense(rng):
    X, y = sparse_problem(rng)
    dense, _ = trained(X, y, "lbfgs", 0.01, epochs=20)
    sparse, _ = trained(sp.csr_matrix(X), y, "lbfgs", 0.01, epochs=20)
    np.testing.assert_allclose(sparse.params, dense.params, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("hidden", [(5,), (), (4, 3)])
@pytest.mark.parametrize("task", ["classification", "regression", "multilabel"])
def test_sparse_gradient_matches_finite_differences_of_dense_rows(task, hidden, rng):
    """dJ/dtheta from the sparse kernels against central differences of J on the dense rows."""
    X, _ = sparse_problem(rng, n=9, d=12, density=0.3)
    y = {
        "classification": rng.integers(0, CLASSES, 9),
        "regression": rng.normal(size=(9, CLASSES)),
        "multilabel": (rng.random((9, CLASSES)) < 0.5).astype(float),
    }[task]
    model = MLP([12, *hidden, CLASSES], activation="tanh", task=task, dtype="float64", seed=3)
    for b in model.biases:
        b[...] = rng.normal(scale=0.3, size=b.shape)
    _, grads = model.loss_and_gradients(sp.csr_matrix(X), y, l2=0.05)
    analytic = np.concatenate([np.concatenate([dW.ravel(), db]) for dW, db in grads])
    numeric = numeric_gradient(model, X, y, 0.05)
    assert relative_error(analytic, numeric) < TOLERANCE


def test_outputs_and_metrics_equal_dense(rng):
    X, y = sparse_problem(rng)
    model = MLP([D, 8, CLASSES], dtype="float64", seed=1)
    np.testing.assert_allclose(model.forward(sp.csr_matrix(X)), model.forward(X), rtol=1e-12, atol=1e-14)
    assert model.metrics(sp.csr_matrix(X), y, np.empty((0, CLASSES))) == pytest.approx(
        model.metrics(X, y, np.empty((0, CLASSES)))
    )


def test_estimators_take_sparse_rows_like_dense(rng):
    from fastmlp import MLPClassifier

    X, y = sparse_problem(rng)
    kwargs = dict(
        hidden_layer_sizes=(8,), solver="sgd", momentum=0.9, max_iter=4, random_state=0, dtype="float64"
    )
    dense = MLPClassifier(**kwargs).fit(X, y)
    sparse = MLPClassifier(**kwargs).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coefs_[0], dense.coefs_[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X), rtol=1e-9)


def test_a_wide_sparse_fit_never_makes_a_dense_minibatch():
    """2^22 input columns: one dense minibatch of 256 rows would be 4 GiB in float32; the fit
    (Adam, hidden 4: 200 MB of weights and moments) stays far below that."""
    code = """
import resource, numpy as np, scipy.sparse as sp
from fastmlp import MLPClassifier
rng = np.random.default_rng(0)
n, d = 2000, 2**22
rows = np.repeat(np.arange(n), 20)
X = sp.csr_matrix((np.ones(rows.size, np.float32), (rows, rng.integers(0, d, rows.size))), shape=(n, d))
y = rng.integers(0, 2, n)
MLPClassifier((4,), batch_size=256, max_iter=2, random_state=0).fit(X, y).predict(X)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout.split()[-1]) < 1500, out.stdout


class StopInside:
    """Ctrl-C at a chunk boundary inside epoch 2 (a callback makes the epochs go in chunks)."""

    def on_batches(self, epoch, done, n_batches, running_loss):
        if epoch == 2 and done >= 4:
            raise KeyboardInterrupt


@pytest.mark.parametrize("optimizer", [{"name": "sgd", "momentum": 0.9}, "adam"], ids=["momentum", "adam"])
def test_checkpoints_leave_a_sparse_run_unchanged_and_resume_it(optimizer, rng, tmp_path):
    """A mid-epoch checkpoint writes settled copies (the rows' pending steps taken) and leaves
    the run's own pending rows alone: the same run with checkpoints at every chunk ends bit for
    bit where it ends without them; one stopped there and resumed from the checkpoint ends
    equal to it to rounding (its rows were settled at the stop, in another order of products)."""
    from fastmlp import checkpoint

    X, y = sparse_problem(rng)
    X = sp.csr_matrix(X)
    watch = {"callback": lambda *args: None}
    plain, _ = trained(X, y, optimizer, 0.01, **watch)
    path = tmp_path / "checkpoint.npz"
    saved, _ = trained(X, y, optimizer, 0.01, checkpoint=path, checkpoint_seconds=0.0, **watch)
    np.testing.assert_array_equal(saved.params, plain.params)
    with pytest.raises(KeyboardInterrupt):
        trained(X, y, optimizer, 0.01, checkpoint=path, callback=StopInside())
    state = checkpoint.load(path)
    assert state.epoch == 2 and state.next_batch > 0
    resumed, _ = trained(X, y, optimizer, 0.01, resume=state, **watch)
    np.testing.assert_allclose(resumed.params, plain.params, rtol=1e-10, atol=1e-12)


def test_a_run_stopped_inside_an_epoch_leaves_its_weights_whole(rng):
    """Ctrl-C (here a callback's KeyboardInterrupt) between two chunks of an epoch ends the run
    with every pending step of the first layer taken: the weights are the dense run's, stopped
    at the same minibatch."""
    X, y = sparse_problem(rng)
    weights = {}
    for name, rows in (("dense", X), ("sparse", sp.csr_matrix(X))):
        model = MLP([D, 8, CLASSES], dtype="float64", seed=1)
        with pytest.raises(KeyboardInterrupt):
            fit(model, rows, y, epochs=3, batch_size=16, learning_rate=0.05, l2=0.01, seed=2,
                optimizer={"name": "sgd", "momentum": 0.9}, callback=StopInside())  # fmt: skip
        weights[name] = model.params
    np.testing.assert_allclose(weights["sparse"], weights["dense"], rtol=1e-10, atol=1e-12)
