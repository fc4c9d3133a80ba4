"""Evaluation scores in NumPy: per-class precision, recall and F1 with their averages, one-vs-rest
ROC-AUC, and a regression residual summary. `fastmlp evaluate` reports them; the tests check
each against scikit-learn.metrics.

For class k with confusion counts (rows: true class, columns: predicted):
    precision_k = C[k, k] / sum_i C[i, k]      (of the rows predicted k, how many are k)
    recall_k    = C[k, k] / sum_j C[k, j]      (of the rows that are k, how many were found)
    F1_k        = 2 precision_k recall_k / (precision_k + recall_k)
A ratio with a zero denominator is 0 (scikit-learn's zero_division=0). The macro average is the
plain mean over classes, the weighted average weighs each class by its support (its row count).

ROC-AUC of scores s for a binary truth b is the probability that a random positive scores above a
random negative (ties count one half): with r the ranks of s (ties averaged),
    AUC = (sum of r over positives - P (P + 1) / 2) / (P N).
One-vs-rest: class k's probability against "is k", for each class that has both positives and
negatives; the macro average over those classes.
"""

from __future__ import annotations

import numpy as np


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros(len(num)), where=den > 0)


def precision_recall_f1(confusion) -> dict:
    """Per-class precision, recall, F1 and support from a K x K confusion matrix, with their macro
    and support-weighted averages."""
    c = np.asarray(confusion, dtype=np.float64)
    true_positive = np.diag(c)
    support = c.sum(axis=1)
    precision = _ratio(true_positive, c.sum(axis=0))
    recall = _ratio(true_positive, support)
    f1 = _ratio(2 * precision * recall, precision + recall)
    weights = support / support.sum() if support.sum() > 0 else np.zeros_like(support)
    per_class = {"precision": precision, "recall": recall, "f1": f1}
    return {
        **{k: v.tolist() for k, v in per_class.items()},
        "support": support.astype(int).tolist(),
        "macro": {k: float(v.mean()) for k, v in per_class.items()},
        "weighted": {k: float((v * weights).sum()) for k, v in per_class.items()},
    }


def average_ranks(values) -> np.ndarray:
    """1-based ranks of values, tied values sharing the mean of their positions."""
    _, inverse, counts = np.unique(
        np.asarray(values, dtype=np.float64), return_inverse=True, return_counts=True
    )
    ends = np.cumsum(counts)  # a run of tied values holds positions ends - counts + 1 .. ends
    return ((2 * ends - counts + 1) / 2)[inverse.ravel()]


def binary_auc(truth, scores) -> float | None:
    """ROC-AUC of scores for the 0/1 truth; None when truth has a single value (it is undefined)."""
    truth = np.asarray(truth).astype(bool)
    positives, negatives = int(truth.sum()), int((~truth).sum())
    if positives == 0 or negatives == 0:
        return None
    ranks = average_ranks(scores)
    return float((ranks[truth].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def roc_auc_ovr(indicators, proba) -> dict:
    """One-vs-rest ROC-AUC per column of a 0/1 indicator matrix (None where undefined) and the macro
    average over the defined ones (None if there are none)."""
    indicators, proba = np.asarray(indicators), np.asarray(proba)
    per_class = [binary_auc(indicators[:, k], proba[:, k]) for k in range(proba.shape[1])]
    defined = [a for a in per_class if a is not None]
    return {"per_class": per_class, "macro": float(np.mean(defined)) if defined else None}


def residual_summary(y, y_hat) -> dict:
    """The residuals y - y_hat (all outputs together): mean, standard deviation, min, quartiles, max."""
    r = (np.asarray(y, dtype=np.float64) - np.asarray(y_hat, dtype=np.float64)).ravel()
    q = np.percentile(r, [0, 25, 50, 75, 100])
    return {
        "mean": float(r.mean()),
        "std": float(r.std()),
        "min": float(q[0]),
        "q1": float(q[1]),
        "median": float(q[2]),
        "q3": float(q[3]),
        "max": float(q[4]),
    }


def value_scores(y, y_hat) -> dict:
    """Predictions y_hat of targets y (n, k), all outputs together, in float64:
    rmse = sqrt(mean (y_hat - y)^2), mae = mean |y_hat - y|, r2 = 1 - SS_res / SS_tot with SS_tot
    about each output's mean (NaN when the targets are constant)."""
    sq = np.square(np.asarray(y_hat, dtype=np.float64) - np.asarray(y, dtype=np.float64))
    ss_res = float(sq.sum())
    y64 = np.asarray(y, dtype=np.float64)
    ss_tot = float(np.square(y64 - y64.mean(axis=0)).sum())
    return {
        "rmse": float(np.sqrt(sq.mean())),
        "mae": float(np.sqrt(sq).mean()),
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
    }
