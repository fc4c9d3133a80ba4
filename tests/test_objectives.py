"""The objectives added to the core: sigmoid-BCE (multilabel), per-sample weights, dropout,
He init, and full-batch L-BFGS. Each against finite differences or an independent reference."""

import numpy as np
import pytest
from conftest import make_problem

from fastmlp import MLP, FastMLPError, fit
from fastmlp.gradcheck import TOLERANCE, check_gradients
from fastmlp.kernels.dropout import dropout_forward, dropout_key


@pytest.mark.parametrize("task", ["classification", "multilabel", "regression", "poisson"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "leaky_relu"])
def test_weighted_gradients_match_finite_differences(task, activation, rng):
    """J = sum_i w_i l_i / sum_i w_i + lambda/2 sum ||W||^2, for every loss."""
    model = MLP([4, 6, 5, 3], activation=activation, task=task, dtype="float64", seed=3)
    for b in model.biases:
        b[...] = rng.normal(scale=0.3, size=b.shape)
    X, y = make_problem(rng, 9, 4, 3, task)
    w = rng.uniform(0.1, 3.0, size=9)
    for row in check_gradients(model, X, y, l2=0.05, sample_weight=w):
        assert max(row["dW"], row["db"]) < TOLERANCE, row


def test_multilabel_loss_is_the_documented_objective(rng):
    """l_i = sum_j -[y log s(z) + (1 - y) log(1 - s(z))], written here in plain NumPy, weighted."""
    model = MLP([4, 5, 3], activation="tanh", task="multilabel", dtype="float64", seed=0)
    X, y = make_problem(rng, 8, 4, 3, "multilabel")
    w = rng.uniform(0.5, 2.0, size=8)
    W1, W2 = model.weights
    b1, b2 = model.biases
    s = 1 / (1 + np.exp(-(np.tanh(X @ W1 + b1) @ W2 + b2)))
    per_row = -(y * np.log(s) + (1 - y) * np.log(1 - s)).sum(axis=1)
    loss, _ = model.loss_and_gradients(X, y, sample_weight=w)
    assert loss == pytest.approx((w * per_row).sum() / w.sum(), rel=1e-12)


def test_poisson_loss_is_the_half_deviance(rng):
    """l_i = sum_j [mu - y log mu + y log y - y], mu = e^z (y log y = 0 at y = 0), in plain NumPy;
    the model predicts mu, and a negative count is refused."""
    model = MLP([4, 5, 2], activation="tanh", task="poisson", dtype="float64", seed=0)
    X, y = make_problem(rng, 9, 4, 2, "poisson")
    y[0, 0] = 0.0
    W1, W2 = model.weights
    b1, b2 = model.biases
    mu = np.exp(np.tanh(X @ W1 + b1) @ W2 + b2)
    y_log_y = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
    per_row = (mu - y * np.log(mu) + y_log_y - y).sum(axis=1)
    loss, _ = model.loss_and_gradients(X, y)
    assert loss == pytest.approx(per_row.mean(), rel=1e-12)
    np.testing.assert_allclose(model.predict(X), mu, rtol=1e-12)
    assert model.metrics(X, *model.check_y(y, 9))["loss"] == pytest.approx(per_row.mean(), rel=1e-12)
    with pytest.raises(FastMLPError, match="counts >= 0"):
        model.loss_and_gradients(X, -y)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_dropout_gradients_with_a_fixed_mask(activation, rng):
    """With the mask held fixed (same seed and step), dJ/dtheta against finite differences."""
    model = MLP([5, 8, 7, 3], activation=activation, dtype="float64", seed=1)
    for b in model.biases:
        b[...] = rng.normal(scale=0.3, size=b.shape)
    X, y = make_problem(rng, 6, 5, 3, "classification")
    rows = check_gradients(model, X, y, l2=0.01, dropout=0.4, dropout_seed=7, step=3)
    for row in rows:
        assert max(row["dW"], row["db"]) < TOLERANCE, row
    # ... and the mask did something: the objective differs from the one without dropout.
    with_mask, _ = model.loss_and_gradients(X, y, dropout=0.4, dropout_seed=7, step=3)
    without, _ = model.loss_and_gradients(X, y)
    assert with_mask != pytest.approx(without, rel=1e-6)


def test_dropout_preserves_the_expected_activation():
    """Inverted dropout: E[h mask] = h, mask in {0, 1/(1-p)}, a fraction p of units dropped."""
    p = 0.3
    h = np.full((400, 500), 2.0, np.float32)
    mask = np.empty_like(h)
    dropout_forward(h, mask, p, np.uint64(dropout_key(5, 0)), 0)
    assert set(np.unique(mask)) == {np.float32(0), np.float32(1 / (1 - p))}
    assert abs((mask == 0).mean() - p) < 0.005  # 200,000 draws: sd of the fraction ~ 0.001
    assert abs(h.mean() - 2.0) < 0.01
    other = np.full_like(h, 2.0)
    dropout_forward(other, np.empty_like(h), p, np.uint64(dropout_key(5, 1)), 0)
    assert not np.array_equal(h, other)  # each minibatch step draws a new mask


def test_dropout_trains_and_is_off_at_predict(rng):
    X, y = make_problem(rng, 300, 6, 3, "classification", np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    model = MLP([6, 64, 3], seed=0)
    fit(model, X, y, epochs=30, batch_size=32, learning_rate=0.1, dropout=0.3)
    assert model.evaluate(X, y)["accuracy"] > 0.9
    # No mask at predict: the probabilities are the plain forward pass of the trained weights.
    h = X.astype(np.float64)
    for W, b in zip(model.weights[:-1], model.biases[:-1], strict=True):
        h = np.maximum(h @ W + b, 0)
    z = h @ model.weights[-1] + model.biases[-1]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(model.predict_proba(X), p / p.sum(axis=1, keepdims=True), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "init,var",
    [
        ("glorot_uniform", lambda i, o: 2 / (i + o)),
        ("he_uniform", lambda i, o: 2 / i),
        ("he_normal", lambda i, o: 2 / i),
    ],
)
def test_init_variances(init, var):
    """Glorot: Var W = 2 / (fan_in + fan_out); He: Var W = 2 / fan_in; biases 0."""
    model = MLP([400, 300, 10], init=init, dtype="float64", seed=0)
    for W, b in zip(model.weights, model.biases, strict=False):
        assert W.var() == pytest.approx(var(*W.shape), rel=0.05)
        assert not b.any()
    if init == "he_uniform":
        assert np.abs(model.weights[0]).max() <= np.sqrt(6 / 400)


def test_lbfgs_reaches_scikit_learns_loss(rng):
    """Full-batch L-BFGS on J = mean l + (l2/2)||W||^2 against scikit-learn's solver="lbfgs", whose
    loss_ is mean l + alpha/(2 n) ||W||^2: l2 = alpha / n, the same width and iteration budget."""
    sklearn = pytest.importorskip("sklearn.neural_network")
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0)[:600]
    y = y[:600]
    alpha, iters = 1e-3, 150
    reference = sklearn.MLPClassifier(
        hidden_layer_sizes=(32,), solver="lbfgs", alpha=alpha, max_iter=iters, random_state=0
    ).fit(X, y)
    model = MLP([64, 32, 10], activation="relu", dtype="float64", seed=0)
    history = fit(model, X, y, epochs=iters, l2=alpha / len(X), optimizer={"name": "lbfgs"})
    loss, _ = model.loss_and_gradients(X, y, l2=alpha / len(X))
    assert loss <= reference.loss_ * 1.001, (loss, reference.loss_)
    assert len(history.rows) <= iters and history.rows[-1]["train_accuracy"] > 0.99


def test_poisson_task_through_the_data_layer(rng):
    """model.task poisson: counts stay in their own units (scaling them is refused with the key to
    set), and a trained model predicts counts near the true rate."""
    from fastmlp.data import prepare
    from fastmlp.errors import DataError

    X = rng.normal(size=(2000, 3))
    y = rng.poisson(np.exp(0.8 * X[:, 0] + 0.5))
    with pytest.raises(DataError, match="set data.target_scaling: none"):
        prepare(X, y, task="poisson")
    ds = prepare(X, y, task="poisson", target_scaling="none", validation_split=0.1)
    model = MLP.for_dataset(ds, hidden=[16], dtype="float64", seed=0)
    fit(model, ds.X_train, ds.y_train, epochs=30, batch_size=64, learning_rate=0.01, optimizer="adam")
    rate = np.exp(0.8 * X[:, 0] + 0.5)
    prediction = model.predict(X)
    assert prediction.min() > 0
    assert np.corrcoef(prediction.ravel(), rate)[0, 1] > 0.95
