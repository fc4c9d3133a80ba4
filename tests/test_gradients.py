"""dW^k = h^(k-1)^T delta^k + lambda W^k and db^k = colsum(delta^k), checked against central
finite differences of J in float64, for every activation x task x depth x l2."""

import numpy as np
import pytest
from conftest import make_problem

from fastmlp import MLP
from fastmlp.gradcheck import TOLERANCE, check_gradients, numeric_gradient, relative_error
from fastmlp.model import ACTIVATIONS
from fastmlp.tasks import TASK_NAMES as TASKS


@pytest.mark.parametrize("l2", [0.0, 0.05])
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradients_match_finite_differences(activation, task, depth, l2, rng):
    hidden = [6, 5, 4, 3][:depth]
    model = MLP([4, *hidden, 3], activation=activation, task=task, dtype="float64", seed=depth)
    # Random nonzero biases so relu units sit away from their kink and db is exercised.
    for b in model.biases:
        b[...] = rng.normal(scale=0.3, size=b.shape)
    X, y = make_problem(rng, 7, 4, 3, task)
    for row in check_gradients(model, X, y, l2=l2):
        assert row["dW"] < TOLERANCE, row
        assert row["db"] < TOLERANCE, row


def test_check_fails_on_a_wrong_gradient(rng, monkeypatch):
    """The check can fail: drop the L2 term from dW and the error must exceed the tolerance."""
    model = MLP([4, 5, 3], activation="tanh", dtype="float64")
    X, y = make_problem(rng, 7, 4, 3, "classification")
    right = MLP.loss_and_gradients

    def wrong(self, X, y, l2=0.0, **objective):
        loss, grads = right(self, X, y, l2, **objective)
        return loss, [(dW - l2 * W, db) for (dW, db), W in zip(grads, self.weights, strict=False)]

    monkeypatch.setattr(MLP, "loss_and_gradients", wrong)
    rows = check_gradients(model, X, y, l2=0.5)
    assert max(r["dW"] for r in rows) > 1e-3


def test_loss_is_the_documented_objective(rng):
    """J = mean_i(-log softmax(z_i)_{y_i}) + lambda/2 sum ||W||^2, computed here in plain NumPy."""
    model = MLP([4, 6, 3], activation="sigmoid", dtype="float64")
    X, y = make_problem(rng, 9, 4, 3, "classification")
    W1, W2 = model.weights
    b1, b2 = model.biases
    h = 1 / (1 + np.exp(-(X @ W1 + b1)))
    z = h @ W2 + b2
    log_softmax = z - np.log(np.exp(z).sum(1, keepdims=True))
    expected = -log_softmax[np.arange(9), y].mean() + 0.5 * 0.1 * ((W1**2).sum() + (W2**2).sum())
    loss, _ = model.loss_and_gradients(X, y, l2=0.1)
    assert loss == pytest.approx(expected, rel=1e-12)


def test_numeric_gradient_sampling_probes_a_subset(rng):
    model = MLP([30, 20, 3], dtype="float64")
    X, y = make_problem(rng, 5, 30, 3, "classification")
    numeric = numeric_gradient(model, X, y, 0.0, max_entries=10)
    assert np.count_nonzero(~np.isnan(numeric)) == 10 + 10 + 10 + 3
    _, grads = model.loss_and_gradients(X, y)
    analytic = np.concatenate([np.concatenate([dW.ravel(), db.ravel()]) for dW, db in grads])
    assert relative_error(analytic, numeric) < TOLERANCE
