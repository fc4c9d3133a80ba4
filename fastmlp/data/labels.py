"""Labels: raw label columns -> int64 class indices 0..K-1 (classification) or 2-D float targets.

Classification: string labels become classes in sorted order (the training
file decides the classes); numeric labels are class indices themselves and must
be whole numbers in 0..K-1, K = n_classes when known, else the largest label + 1.
Regression: targets become an (n, k) float array in the inputs' dtype.
The task, when not given, is inferred: strings or whole numbers -> classification.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .raw import Raw, check_finite_targets

TASKS = ("classification", "regression")
MAX_CLASSES = 10_000  # more than this many classes is almost surely a mislabelled column


def infer_task(y: np.ndarray) -> str:
    """classification for strings, integers or whole-number floats in one column; else regression."""
    if y.dtype.kind in "USO" or y.dtype.kind in "biu":
        return "classification"
    if y.ndim == 2 and y.shape[1] > 1:
        return "regression"
    if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        return "classification"
    return "regression"


def encode_classes(
    train: Raw, test: Raw | None, n_classes: int | None = None, names: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """(y_train, y_test, classes): int64 class indices and the class names."""
    ys = [_column(r) for r in (train, test) if r is not None]
    if ys[0].dtype.kind in "USO":
        classes = sorted(set(ys[0].tolist()))
        if n_classes is not None and len(classes) > n_classes:
            raise DataError(f"{train.y_source}: {len(classes)} distinct labels but n_classes is {n_classes}")
        encoded = [_encode_strings(train, ys[0], classes)]
        if test is not None:
            encoded.append(_encode_strings(test, ys[1].astype(str), classes, train.y_source))
    else:
        k = n_classes or (len(names) if names else None)
        encoded = [_class_indices(r, y) for r, y in zip((train, test), ys) if r is not None]
        if k is None:
            k = max(int(e.max()) for e in encoded) + 1
        for r, e in zip((train, test), encoded):
            if e.max() >= k:
                i = int(np.argmax(e >= k))
                raise DataError(f"{r.y_source}: label {int(e[i])} at {r.row(i)} is out of range 0..{k - 1}")
        classes = list(names) if names else [str(c) for c in range(k)]
    return encoded[0], (encoded[1] if test is not None else None), classes


def encode_targets(raw: Raw, dtype) -> np.ndarray:
    """Regression targets as a C-contiguous (n, k) array of dtype; DataError for non-numbers or NaN/inf."""
    y = raw.y
    if y.dtype.kind not in "biuf":
        i = _first_non_number(y)
        raise DataError(f"{raw.y_source}: regression target at {raw.row(i)} is not a number: {str(y.reshape(len(y), -1)[i, 0])!r}")
    original = y.reshape(len(y), -1)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported just below
        y = np.ascontiguousarray(original, dtype=dtype)
    check_finite_targets(raw, original, y)
    return y


def check_two_classes(y: np.ndarray, classes: list[str], source: str) -> None:
    """DataError when the training labels hold fewer than two classes."""
    present = np.unique(y)
    if len(present) < 2:
        raise DataError(
            f"{source}: the training labels hold only one class ({classes[int(present[0])]!r}); need at least two"
        )


def _column(raw: Raw) -> np.ndarray:
    y = raw.y
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"{raw.y_source}: classification labels must be one column, got shape {raw.y.shape}")
    return y


def _encode_strings(raw: Raw, y: np.ndarray, classes: list[str], train_source: str | None = None) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(classes)}
    out = np.empty(len(y), np.int64)
    for i, label in enumerate(y.tolist()):
        code = lookup.get(label)
        if code is None:
            raise DataError(f"{raw.y_source}: label {label!r} at {raw.row(i)} is not a class in {train_source}")
        out[i] = code
    return out


def _class_indices(raw: Raw, y: np.ndarray) -> np.ndarray:
    """y as int64, DataError at the first label that is not a whole number >= 0."""
    if y.dtype.kind in "USO":
        raise DataError(f"{raw.y_source}: label {str(y[0])!r} at {raw.row(0)} is a string but the training labels are numbers")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(
                f"{raw.y_source}: label {float(y[i])} at {raw.row(i)} is not a class index "
                "(a whole number); for real-valued targets use task: regression"
            )
    if (y < 0).any():
        i = int(np.argmax(y < 0))
        raise DataError(f"{raw.y_source}: label {y[i]} at {raw.row(i)} is out of range (negative)")
    if (y >= MAX_CLASSES).any():  # a column of ids or measurements, not class indices
        i = int(np.argmax(y >= MAX_CLASSES))
        raise DataError(
            f"{raw.y_source}: label {y[i]} at {raw.row(i)} is out of range: class indices above "
            f"{MAX_CLASSES - 1} are not supported (real-valued targets? use task: regression)"
        )
    return y.astype(np.int64)


def _first_non_number(y: np.ndarray) -> int:
    flat = y.reshape(len(y), -1)[:, 0]
    for i, v in enumerate(flat.tolist()):
        try:
            float(v)
        except (TypeError, ValueError):
            return i
    return 0
