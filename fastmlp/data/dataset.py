"""Dataset: train / validation / test arrays ready for the model, with what is known about them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..preprocessing import Preprocessing


@dataclass
class Dataset:
    """Splits as C-contiguous float arrays (preprocessing already applied) and their labels.

    Classification: y are int64 class indices 0..n_outputs-1, `classes` their names.
    Regression: y are (n, n_outputs) arrays in the X dtype, `classes` is None.
    X_val/y_val and X_test/y_test are None when there is no such split.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    task: str
    classes: list[str] | None
    n_inputs: int
    n_outputs: int
    preprocessing: Preprocessing
    name: str
    source: str

    def __repr__(self) -> str:
        return f"Dataset({self.summary()})"

    def summary(self) -> str:
        """One line: name, split sizes, shapes, task."""
        sizes = ", ".join(
            f"{split} {len(X)}"
            for split, X in (("train", self.X_train), ("val", self.X_val), ("test", self.X_test))
            if X is not None
        )
        kind = f"{self.n_outputs} classes" if self.task == "classification" else f"{self.n_outputs} targets"
        return (
            f"{self.name}: {sizes} rows; {self.n_inputs} inputs, {kind}; "
            f"{self.X_train.dtype}, {self.preprocessing.kind}"
        )
