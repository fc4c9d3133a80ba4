"""Dataset: train / validation / test arrays ready for the model, with what is known about them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..preprocessing import Preprocessing


@dataclass
class Dataset:
    """Splits as C-contiguous float arrays (preprocessing already applied) and their encoded labels.

    classification: y are int64 indices into `classes` (an array of the labels'
        own kind: int64 or str; a built-in's class names).
    multilabel: y are (n, K) 0/1 arrays in the X dtype; `classes` names the K columns.
    regression: y are (n, k) arrays in the X dtype, in the units of `target_scaler`
        (undo with target_scaler.inverse_transform); `classes` is None.
    X_val/y_val and X_test/y_test are None when there is no such split.
    feature_names: the input columns' names (CSV header, npz "feature_names",
    DataFrame columns; "column=category" for one-hot inputs), or None when the data has none.
    encoder: how raw table columns became inputs (fills, one-hot categories); None when
    the inputs are the columns themselves.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    task: str
    classes: np.ndarray | None
    n_inputs: int
    n_outputs: int
    preprocessing: Preprocessing
    name: str
    source: str
    feature_names: list[str] | None = None
    target_scaler: Preprocessing = field(default_factory=Preprocessing)
    encoder: object = None  # a TableEncoder (fastmlp/encoding.py) for tables with categories or fills
    svmlight_zero_based: bool | None = None  # the training svmlight file's indexing (None: not one)

    def __repr__(self) -> str:
        return f"Dataset({self.summary()})"

    def split(self, name: str):
        """(X, y) of the split "train", "val" or "test"; (None, None) when there is no such split."""
        X, y = {
            "train": (self.X_train, self.y_train),
            "val": (self.X_val, self.y_val),
            "test": (self.X_test, self.y_test),
        }[name]
        return (X, y) if X is not None and X.shape[0] > 0 else (None, None)

    def summary(self) -> str:
        """One line: name, split sizes, shapes, task."""
        sizes = ", ".join(
            f"{split} {X.shape[0]}"
            for split, X in (("train", self.X_train), ("val", self.X_val), ("test", self.X_test))
            if X is not None
        )
        unit = {"classification": "classes", "multilabel": "labels"}.get(self.task, "targets")
        scaled = f", targets {self.target_scaler.kind}" if self.target_scaler.kind != "none" else ""
        return (
            f"{self.name}: {sizes} rows; {self.n_inputs} inputs, {self.n_outputs} {unit}; "
            f"{self.X_train.dtype}, {self.preprocessing.kind}{scaled}"
        )
