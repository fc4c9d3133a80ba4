"""Raw: what a loader read from a file, before labels are encoded, splits made or floats made.

Loaders keep the file's own dtype (uint8 pixels stay uint8) so the one float copy
is made at the very end, split by split. The checks here name the file and the
row (the file's line for CSV) at fault.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import DataError
from ..kernels.rows import is_csr
from .table import Columns

CHUNK_ROWS = 8192  # rows per block when scanning or converting, to bound temporaries


@dataclass
class Raw:
    X: np.ndarray | Columns  # (n, d), any numeric dtype; or a table's columns, to encode
    y: np.ndarray  # (n,) or (n, k): numbers or strings
    source: str  # the file (or dataset) for messages
    lines: np.ndarray | None = None  # the file line of each row (CSV), for messages
    x_source: str | None = None  # when X and y come from different files
    y_source: str | None = None
    feature_names: list[str] | None = None  # the input columns' names (a CSV header), in order
    target_names: list[str] | None = None  # the target columns' names, when y has several
    zero_based: bool | None = None  # an svmlight file's indexing, as read (None: not svmlight)

    def __post_init__(self):
        self.x_source = self.x_source or self.source
        self.y_source = self.y_source or self.source
        tabular = isinstance(self.X, Columns)
        if tabular:
            pass
        elif self.X.ndim == 1:
            self.X = self.X.reshape(-1, 1)
        elif self.X.ndim > 2:  # images: (n, 28, 28) -> (n, 784), a view
            self.X = self.X.reshape(self.X.shape[0], int(np.prod(self.X.shape[1:])))
        if self.X.ndim == 0 or self.y.ndim == 0:
            raise DataError(f"{self.source}: expected an array of rows, got a single value")
        if self.X.shape[0] != len(self.y):
            raise DataError(
                f"{self.x_source}: {self.X.shape[0]} input rows but {len(self.y)} labels in {self.y_source}"
            )
        if self.X.shape[0] == 0:
            raise DataError(f"{self.source}: the dataset is empty (no rows)")
        if self.X.shape[1] == 0:
            raise DataError(f"{self.x_source}: the inputs have no columns")
        if not tabular and self.X.dtype.kind not in "biuf":
            raise DataError(f"{self.x_source}: inputs must be numbers, got dtype {self.X.dtype}")
        if self.feature_names is not None and len(self.feature_names) != self.X.shape[1]:
            raise DataError(
                f"{self.x_source}: {len(self.feature_names)} "
                f"feature names for {self.X.shape[1]} input columns"
            )

    def row(self, i: int) -> str:
        """How to name row i to the user: the file line for CSV, else the 0-based row index."""
        return f"line {int(self.lines[i])}" if self.lines is not None else f"row {int(i)}"


def check_finite(raw: Raw, dtype: np.dtype) -> None:
    """DataError naming the first row/column whose input is NaN or inf, or overflows dtype."""
    if isinstance(raw.X, Columns) or raw.X.dtype.kind != "f":
        return  # integers are always finite and fit in float32; Columns checked their own
    if is_csr(raw.X):
        _check_finite_sparse(raw, dtype)
        return
    for start in range(0, len(raw.X), CHUNK_ROWS):
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is what we look for
            block = raw.X[start : start + CHUNK_ROWS].astype(dtype, copy=False)
        bad = ~np.isfinite(block)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            value = raw.X[start + r, c]
            what = "overflows " + np.dtype(dtype).name if np.isfinite(value) else "is not finite"
            raise DataError(
                f"{raw.x_source}: input {raw.row(start + r)}, column {int(c)} {what} ({float(value)})"
            )


def _check_finite_sparse(raw: Raw, dtype: np.dtype) -> None:
    """check_finite for a CSR matrix: its stored values only."""
    X = raw.X
    with np.errstate(over="ignore", invalid="ignore"):
        bad = np.flatnonzero(~np.isfinite(X.data.astype(dtype, copy=False)))
    if bad.size:
        p = int(bad[0])
        r = int(np.searchsorted(X.indptr, p, side="right")) - 1
        value = float(X.data[p])
        what = "overflows " + np.dtype(dtype).name if np.isfinite(value) else "is not finite"
        raise DataError(f"{raw.x_source}: input {raw.row(r)}, column {int(X.indices[p])} {what} ({value})")


def check_finite_targets(raw: Raw, original: np.ndarray, y: np.ndarray) -> None:
    """DataError naming the first row whose regression target (original, as y) is NaN, inf or overflows."""
    bad = ~np.isfinite(y)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        value = float(original[r, c])
        what = "overflows " + y.dtype.name if np.isfinite(value) else "is not finite"
        raise DataError(f"{raw.y_source}: target at {raw.row(r)}, column {int(c)} {what} ({value})")
