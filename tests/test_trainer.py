import numpy as np
import pytest
from conftest import make_problem

from fastmlp import MLP, FastMLPError, fit, minibatches, trainer


def blobs(rng, n=600, n_in=10, k=3, dtype=np.float32):
    centres = rng.normal(scale=4, size=(k, n_in))
    y = rng.integers(0, k, size=n)
    X = (centres[y] + rng.normal(size=(n, n_in))).astype(dtype)
    return X, y


def reference_step(name, params, g, state, lr, hp):
    """The published update rules, in plain NumPy (float64): SGD with momentum and Nesterov's
    momentum in the v-form PyTorch and Keras use, and Adam with its bias-corrected moments
    m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)."""
    if name == "sgd":
        mu = hp.get("momentum", 0.0)
        if not mu:
            return params - lr * g
        state["v"] = mu * state.get("v", 0.0) - lr * g
        return params + (mu * state["v"] - lr * g if hp.get("nesterov") else state["v"])
    b1, b2, eps = hp.get("beta_1", 0.9), hp.get("beta_2", 0.999), hp.get("epsilon", 1e-8)
    state["t"] = state.get("t", 0) + 1
    state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
    state["s"] = b2 * state.get("s", 0.0) + (1 - b2) * g * g
    m_hat = state["m"] / (1 - b1 ** state["t"])
    v_hat = state["s"] / (1 - b2 ** state["t"])
    return params - lr * m_hat / (np.sqrt(v_hat) + eps)


OPTIMIZERS = [
    {"name": "sgd"},
    {"name": "sgd", "momentum": 0.9},
    {"name": "sgd", "momentum": 0.9, "nesterov": True},
    {"name": "adam"},
    {"name": "adam", "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-6},
]


def assert_epochs_follow_the_published_rules(
    rng,
    monkeypatch,
    task,
    optimizer,
    l2,
    path,
    activation,
    batch,
    n_rows,
    dropout=0.0,
    sizes=(6, 9, 7, 3),
    workers=1,
):
    """The fused epoch kernel on the kernel path `path` against a plain-NumPy loop: per
    minibatch, loss_and_gradients (with the run's dropout mask of that step), then the
    optimizer's published rule (float64, 3 epochs). workers: the epoch on that many workers
    (kernels/split.py; 1, the one-worker kernel whose paths `path` picks)."""
    monkeypatch.setattr(minibatches, "split_workers", lambda *args: workers)
    monkeypatch.setattr(minibatches, "ROW_STREAMING", (0, 0) if path == "blas" else (1, 1 << 30))
    # "rows": every layer row-streamed, however small; "mixed": the small last layer through BLAS
    monkeypatch.setattr(minibatches, "ROW_STREAMING_WORK", 0 if path == "rows" else 7 * 3 * batch)
    X, y = make_problem(rng, n_rows, sizes[0], sizes[-1], task)
    X[:, :4] *= rng.random((n_rows, 4)) < 0.5  # zero inputs, as blank pixels are: the kernels skip them
    lr = 0.01 if optimizer["name"] == "adam" else 0.05
    fused = MLP(list(sizes), activation=activation, task=task, dtype="float64", seed=1)
    stepped = fused.copy()
    fit(
        fused,
        X,
        y,
        epochs=3,
        batch_size=batch,
        learning_rate=lr,
        l2=l2,
        optimizer=optimizer,
        seed=4,
        dropout=dropout,
    )

    rng_order = np.random.default_rng(4)
    state = {}
    hp = {k: v for k, v in optimizer.items() if k != "name"}
    step = 0
    for _ in range(3):
        order = rng_order.permutation(len(X))
        for start in range(0, len(X), batch):
            idx = order[start : start + batch]
            _, grads = stepped.loss_and_gradients(
                X[idx], y[idx], l2, dropout=dropout, dropout_seed=4, step=step
            )
            step += 1
            g = np.concatenate([np.concatenate([dW.ravel(), db.ravel()]) for dW, db in grads])
            stepped.params[...] = reference_step(optimizer["name"], stepped.params, g, state, lr, hp)
    np.testing.assert_allclose(fused.params, stepped.params, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("activation", ["leaky_relu", "relu"])
@pytest.mark.parametrize("path", ["blas", "rows"])
@pytest.mark.parametrize("task", ["classification", "multilabel", "regression"])
@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: "-".join(map(str, o.values())))
@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_epoch_kernel_equals_the_published_update_rules(
    task, optimizer, l2, path, activation, rng, monkeypatch
):
    """Both kernel paths (BLAS, and the small-batch row-streaming forward), every optimizer and
    loss; 53 rows in minibatches of 8: a short last minibatch."""
    assert_epochs_follow_the_published_rules(rng, monkeypatch, task, optimizer, l2, path, activation, 8, 53)


@pytest.mark.parametrize("batch", [1, 7, 33, 128])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("path", ["blas", "rows", "mixed"])
@pytest.mark.parametrize(
    "optimizer", [OPTIMIZERS[0], OPTIMIZERS[2], OPTIMIZERS[3]], ids=["sgd", "nesterov", "adam"]
)
def test_epoch_kernel_at_every_batch_size(batch, activation, path, optimizer, rng, monkeypatch):
    """The same check at more batch sizes, on 70 rows: 1, 7, 33 (a last minibatch of 4 rows) and
    128 (one minibatch larger than the data). Layer widths 6, 9, 7 leave remainders after the
    row-streaming kernel's blocks of 4 rows of W; "mixed" row-streams the first two layers and
    sends the last (7 x 3) to BLAS, as the trainer does with layers below ROW_STREAMING_WORK."""
    assert_epochs_follow_the_published_rules(
        rng, monkeypatch, "classification", optimizer, 0.01, path, activation, batch, 70
    )


@pytest.mark.parametrize("path", ["blas", "rows"])
@pytest.mark.parametrize(
    "optimizer", [OPTIMIZERS[0], OPTIMIZERS[1], OPTIMIZERS[3]], ids=["sgd", "momentum", "adam"]
)
def test_epoch_kernel_with_dropout(path, optimizer, rng, monkeypatch):
    """With dropout: plain SGD takes its step inside the backward's GEMMs, which read each
    layer's input with its mask applied while g' needs it undone; the other optimizers step
    after the whole gradient. Both against the reference loop with the same masks."""
    assert_epochs_follow_the_published_rules(
        rng, monkeypatch, "classification", optimizer, 0.01, path, "relu", 8, 53, dropout=0.3
    )


@pytest.mark.parametrize("path", ["blas", "rows"])
def test_sample_weights_equal_repeated_rows(path, rng, monkeypatch):
    """J = sum w_i l_i / sum w_i: integer weights train exactly as repeating each row w_i times
    in one full batch (same gradient at every step, so the same weights)."""
    monkeypatch.setattr(minibatches, "ROW_STREAMING", (0, 0) if path == "blas" else (1, 1 << 30))
    monkeypatch.setattr(minibatches, "ROW_STREAMING_WORK", 0)
    X, y = make_problem(rng, 12, 5, 3, "classification")
    w = rng.integers(1, 4, size=12)
    weighted = MLP([5, 6, 3], dtype="float64", seed=2)
    repeated = weighted.copy()
    fit(weighted, X, y, epochs=4, batch_size=12, learning_rate=0.3, l2=0.01, shuffle=False, sample_weight=w)
    Xr, yr = np.repeat(X, w, axis=0), np.repeat(y, w)
    fit(repeated, Xr, yr, epochs=4, batch_size=len(Xr), learning_rate=0.3, l2=0.01, shuffle=False)
    np.testing.assert_allclose(weighted.params, repeated.params, rtol=1e-10, atol=1e-12)


def test_class_weight_balanced_is_n_over_k_counts(rng):
    model = MLP([3, 4, 3], dtype="float64")
    y = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2])
    w = trainer.sample_weights(model, y, class_weight="balanced")
    np.testing.assert_allclose(w, 12 / (3 * np.array([4, 2, 6]))[y])
    model.classes = np.array(["a", "b", "c"])
    w = trainer.sample_weights(model, y, sample_weight=np.full(12, 2.0), class_weight={"b": 5})
    np.testing.assert_allclose(w, 2 * np.where(y == 1, 5.0, 1.0))
    with pytest.raises(FastMLPError, match="'z' is not a class"):
        trainer.sample_weights(model, y, class_weight={"z": 1})


def test_learns_a_separable_problem(rng):
    X, y = blobs(rng)
    model = MLP([10, 32, 3], seed=0)
    history = fit(model, X[:500], y[:500], X[500:], y[500:], epochs=10, batch_size=32, learning_rate=0.1)
    assert history.rows[-1]["val_accuracy"] > 0.95
    assert history.rows[-1]["train_loss"] < history.rows[0]["train_loss"]
    assert model.params.dtype == np.float32


def test_regression_learns(rng):
    X = rng.uniform(-2, 2, size=(800, 1)).astype(np.float32)
    y = np.sin(2 * X)
    model = MLP([1, 32, 32, 1], activation="tanh", task="regression", seed=0)
    fit(
        model,
        X,
        y,
        epochs=100,
        batch_size=32,
        learning_rate=0.05,
        optimizer={"name": "sgd", "momentum": 0.9},
        l2=0,
    )
    assert model.evaluate(X, y)["rmse"] < 0.1  # sin's own spread is ~0.7


def test_same_seed_same_weights(rng):
    X, y = blobs(rng, n=200)
    runs = []
    for _ in range(2):
        model = MLP([10, 16, 3], seed=7)
        fit(model, X, y, epochs=3, batch_size=16, seed=11)
        runs.append(model.params.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    other = MLP([10, 16, 3], seed=7)
    fit(other, X, y, epochs=3, batch_size=16, seed=12)
    assert not np.array_equal(runs[0], other.params)


def test_history_rows_and_callback(rng):
    X, y = blobs(rng, n=300)
    events = []

    class Recorder:
        def on_epoch_start(self, epoch, n_batches):
            events.append(("start", epoch, n_batches))

        def on_batches(self, epoch, done, n_batches, loss):
            events.append(("batches", epoch, done))

        def on_epoch_end(self, row):
            events.append(("end", row["epoch"]))

    history = fit(MLP([10, 8, 3]), X, y, X[:50], y[:50], epochs=2, batch_size=10, callback=Recorder())
    assert [r["epoch"] for r in history.rows] == [1, 2]
    assert set(history.rows[0]) == {
        "epoch",
        "lr",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "seconds",
    }
    assert events[0] == ("start", 1, 30)
    assert [e for e in events if e[0] == "batches" and e[1] == 1][-1] == ("batches", 1, 30)
    assert events[-1] == ("end", 2)


def test_lr_schedule_is_used(rng):
    X, y = blobs(rng, n=100)
    history = fit(MLP([10, 4, 3]), X, y, epochs=3, lr_schedule=lambda e: 0.1 / (e + 1))
    assert history.column("lr") == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_early_stopping_restores_best_weights(rng):
    X, y = blobs(rng, n=200)
    # Labels of the validation set shuffled: val loss rises once the model fits the train set.
    y_val = rng.permutation(y[:100])
    model = MLP([10, 32, 3], seed=0)
    history = fit(
        model,
        X[100:],
        y[100:],
        X[:100],
        y_val,
        epochs=200,
        batch_size=10,
        learning_rate=0.2,
        early_stopping=3,
    )
    assert history.stopped_early
    best = history.rows[history.best_epoch - 1]["val_loss"]
    assert min(history.column("val_loss")) == best
    assert model.evaluate(X[:100], y_val)["loss"] == pytest.approx(best, rel=1e-6)


def test_divergence_is_reported(rng):
    X, y = blobs(rng, n=100)
    with pytest.raises(FastMLPError, match="diverged at epoch"):
        fit(MLP([10, 64, 3]), X * 1e3, y, epochs=5, learning_rate=1e6)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": -1}, "learning_rate"),
        ({"l2": -1}, "l2"),
        ({"optimizer": {"name": "sgd", "momentum": 1.0}}, "momentum"),
        ({"optimizer": "rmsprop"}, "optimizer.name"),
        ({"dropout": 1.0}, "dropout"),
        ({"early_stopping": 2}, "validation"),
    ],
)
def test_bad_hyperparameters(kwargs, match, rng):
    X, y = blobs(rng, n=20)
    with pytest.raises(FastMLPError, match=match):
        fit(MLP([10, 4, 3]), X, y, **kwargs)
