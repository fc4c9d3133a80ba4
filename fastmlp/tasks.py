"""The task table: one entry per kind of output, looked up everywhere instead of comparing strings.

A task says which loss kernel trains it, how its labels are encoded for the network, how the
network's output z^L becomes a prediction, which metrics describe it and which way each is
better. Adding a loss is one entry here plus its kernel in fastmlp/kernels/losses.py.

    classification  softmax + cross-entropy      labels: class indices 0..K-1 (int64)
    multilabel      sigmoid + binary cross-entropy labels: an (n, K) 0/1 indicator matrix
    regression      identity + squared error     targets: an (n, k) float matrix
    poisson         exp + half Poisson deviance  targets: an (n, k) matrix of counts >= 0, in
                                                 their own units (predictions are e^z)

`auto` (the config default) is not a task: it asks the data layer to infer one from the labels
(fastmlp.data.labels.infer_task).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import FastMLPError
from .kernels.losses import MSE, POISSON, SIGMOID_BCE, SOFTMAX_CE

DTYPES = ("float32", "float64")
AUTO = "auto"


@dataclass(frozen=True)
class Task:
    name: str
    loss: int  # the loss kernel's code (kernels/losses.py)
    labels: str  # "indices" (int64 class indices) | "indicators" (0/1 floats) | "values" (floats)
    output: str  # what predict_proba applies to z^L: "softmax" | "sigmoid" | "" (none)
    metrics: tuple  # metric names besides "loss", in report order
    has_classes: bool  # outputs are named by classes
    link: str = "identity"  # what predictions of values apply to z^L: "identity" | "exp"

    @property
    def indices(self) -> bool:
        """Labels are class indices (one int per row) rather than a float matrix."""
        return self.labels == "indices"

    @property
    def counts(self) -> bool:
        """Targets are counts >= 0 predicted as e^z in their own units: no target scaling applies
        (a shifted, rescaled count is no count)."""
        return self.link == "exp"

    def inverse_link(self, z):
        """Predictions from z^L before any target scaling is undone: e^z (written over z) for
        counts, z itself otherwise."""
        return np.exp(z, out=z) if self.counts else z

    def check_targets(self, y_target, name):
        """FastMLPError when the targets are outside what the task predicts (counts < 0)."""
        if self.counts and (y_target < 0).any():
            raise FastMLPError(f"{name} must be counts >= 0 for a {self.name} model (it predicts e^z)")


# Lower is better for every metric except these.
HIGHER_IS_BETTER = frozenset({"accuracy", "r2"})
SPLITS = ("train", "val", "test")

CLASSIFICATION = Task("classification", SOFTMAX_CE, "indices", "softmax", ("accuracy",), True)
MULTILABEL = Task("multilabel", SIGMOID_BCE, "indicators", "sigmoid", ("accuracy",), True)
REGRESSION = Task("regression", MSE, "values", "", ("rmse", "mae", "r2"), False)
POISSON_COUNTS = Task("poisson", POISSON, "values", "", ("rmse", "mae", "r2"), False, link="exp")

TASKS = {t.name: t for t in (CLASSIFICATION, MULTILABEL, REGRESSION, POISSON_COUNTS)}
TASK_NAMES = tuple(TASKS)
# Every metric any task reports, "loss" first: the columns a summary or a sweep can rank by.
METRICS = ("loss", *dict.fromkeys(m for t in TASKS.values() for m in t.metrics))


def get_task(name) -> Task:
    """The Task called name (a Task is returned as is); FastMLPError naming the choices."""
    if isinstance(name, Task):
        return name
    task = TASKS.get(name)
    if task is None:
        raise FastMLPError(f"task must be one of {', '.join(TASK_NAMES)}, got {name!r}")
    return task


def lower_is_better(metric: str) -> bool:
    """For a metric name, possibly prefixed by a split (val_accuracy): which way is better."""
    return metric.split("_", 1)[-1] not in HIGHER_IS_BETTER and metric not in HIGHER_IS_BETTER
