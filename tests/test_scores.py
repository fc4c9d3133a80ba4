"""Evaluation scores (fastmlp/scores.py, `fastmlp evaluate`) against scikit-learn.metrics."""

import numpy as np
import pytest

metrics = pytest.importorskip("sklearn.metrics")

from fastmlp.scores import binary_auc, precision_recall_f1, residual_summary, roc_auc_ovr  # noqa: E402


def confusion_of(y, p, k):
    return np.bincount(y * k + p, minlength=k * k).reshape(k, k)


@pytest.mark.parametrize("seed", range(5))
def test_precision_recall_f1_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    k = 5
    y = rng.integers(0, k, 200)
    p = np.where(rng.random(200) < 0.6, y, rng.integers(0, k - 1, 200))  # class 4 rarely predicted
    if seed == 0:
        p[p == 4] = 3  # a class never predicted: precision 0 by zero_division
    ours = precision_recall_f1(confusion_of(y, p, k))
    theirs = metrics.precision_recall_fscore_support(y, p, labels=range(k), zero_division=0)
    for name, values in zip(("precision", "recall", "f1", "support"), theirs, strict=True):
        np.testing.assert_allclose(ours[name], values, rtol=1e-12)
    for average in ("macro", "weighted"):
        theirs = metrics.precision_recall_fscore_support(y, p, average=average, zero_division=0)
        np.testing.assert_allclose([ours[average][n] for n in ("precision", "recall", "f1")], theirs[:3])


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_matches_sklearn_with_ties(seed):
    rng = np.random.default_rng(seed)
    k = 4
    y = rng.integers(0, k, 300)
    scores = np.round(rng.random((300, k)) + 0.5 * np.eye(k)[y], 1)  # rounded: many ties
    proba = scores / scores.sum(axis=1, keepdims=True)
    ours = roc_auc_ovr(np.eye(k)[y], proba)
    assert ours["macro"] == pytest.approx(metrics.roc_auc_score(y, proba, multi_class="ovr"), rel=1e-12)
    for j in range(k):
        assert ours["per_class"][j] == pytest.approx(metrics.roc_auc_score(y == j, proba[:, j]), rel=1e-12)
    assert binary_auc(y == 1, scores[:, 1]) == pytest.approx(metrics.roc_auc_score(y == 1, scores[:, 1]))
    assert binary_auc(np.zeros(5), np.arange(5)) is None  # one class only: undefined


def test_residual_summary():
    y, y_hat = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.5, 2.0, 2.0, 5.0])
    r = y - y_hat
    s = residual_summary(y, y_hat)
    assert s["mean"] == pytest.approx(r.mean()) and s["max"] == 1.0 and s["min"] == -1.0
    assert s["median"] == pytest.approx(np.median(r))


def test_evaluate_reports_what_sklearn_computes_on_the_same_predictions(tmp_path):
    import fastmlp
    from fastmlp.data import load_dataset

    result = fastmlp.train({"model": {"hidden": [16]}, "train": {"epochs": 3}}, out=tmp_path / "run")
    report = fastmlp.evaluate(result.run_dir)
    ds = load_dataset({"name": "digits", "preprocessing": "none"}, seed=0)
    X, y = ds.split("test")
    model = result.model
    proba = model.predict_proba(X).astype(np.float64)
    proba /= proba.sum(axis=1, keepdims=True)  # float32 rows, renormalised in float64 for sklearn
    truth = np.asarray([str(c) for c in ds.classes[y]])
    labels = [str(c) for c in model.classes]
    predicted = np.asarray(labels)[proba.argmax(axis=1)]
    m = report["metrics"]
    assert m["f1_macro"] == pytest.approx(metrics.f1_score(truth, predicted, average="macro"), rel=1e-6)
    auc = metrics.roc_auc_score(truth, proba, multi_class="ovr", labels=labels)
    assert m["roc_auc_macro"] == pytest.approx(auc, rel=1e-4)
    assert m["log_loss"] == pytest.approx(metrics.log_loss(truth, proba, labels=labels), rel=1e-4)


def test_evaluate_multilabel_scores_each_label_as_sklearn_does(tmp_path):
    import fastmlp

    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5))
    Y = np.stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0.5, X[:, 3] < -0.3], axis=1).astype(int)
    np.savez(tmp_path / "ml.npz", X=X, y=Y)
    config = {
        "data": {"name": None, "path": str(tmp_path / "ml.npz")},
        "model": {"hidden": [16], "task": "multilabel"},
        "train": {"epochs": 5},
    }
    result = fastmlp.train(config, out=tmp_path / "run")
    report = fastmlp.evaluate(result.run_dir)
    from fastmlp.data import load_dataset

    ds = load_dataset({**config["data"], "preprocessing": "none"}, seed=0, task="multilabel")
    X_test, Y_test = ds.split("test")
    predicted = result.model.predict(X_test)
    proba = result.model.predict_proba(X_test).astype(np.float64)
    np.testing.assert_allclose(report["per_class"]["f1"], metrics.f1_score(Y_test, predicted, average=None))
    np.testing.assert_allclose(
        report["roc_auc"]["per_class"], metrics.roc_auc_score(Y_test, proba, average=None), rtol=1e-4
    )
