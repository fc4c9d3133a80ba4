"""Labels: infer the task from raw labels, and encode them for the network.

infer_task         strings / bools / a few whole numbers -> classification; a 0/1
                   matrix -> multilabel; other numbers -> regression. Whole numbers
                   with many distinct values are refused (set model.task).
encode_classes     classes = the sorted distinct training labels (np.unique), in the
                   labels' own kind (int64 or str); y -> int64 indices into classes.
                   Built-in datasets keep their class names; with n_classes the
                   classes are 0..n_classes-1 (labels must lie in that range).
encode_indicators  multilabel: an (n, K) 0/1 float matrix; classes = column names or 0..K-1.
encode_targets     regression: an (n, k) float array in the inputs' dtype.
class_indices      raw labels -> indices into a model's classes (at evaluate time).

Every error is one DataError line naming the source and the row (a CSV's line).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DataError
from ..tasks import AUTO, TASKS
from .raw import Raw, check_finite_targets

MAX_CLASSES = 10_000  # more than this many classes is almost surely a mislabelled column
# Whole numbers with more distinct values than this (or than INFER_SHARE of the rows, when
# above INFER_FEW) are more likely quantities (ages, prices, counts) than class labels.
INFER_MAX_CLASSES = 100
INFER_FEW = 10
INFER_SHARE = 0.1
# Whole floats beyond this are not exact integers (float64 has a 53-bit mantissa).
EXACT_INT = 2.0**53


def infer_task(y, source: str = "y") -> str:
    """The task that raw labels y suggest: classification, multilabel or regression; DataError if risky.

    Many distinct whole numbers (more than 100, or more than 10 and more than 10%
    of the rows) could be either a quantity or class ids: refused with one line
    naming the count, since either guess trains a silently wrong model.
    """
    y = label_array(y, source)
    if y.ndim == 2 and y.shape[1] > 1:
        if y.dtype.kind == "b" or (y.dtype.kind in "iuf" and _is_zero_one(y)):
            return "multilabel"
        return "classification" if y.dtype.kind == "U" else "regression"
    y = y.reshape(len(y))
    if y.dtype.kind in "Ub":
        return "classification"
    if y.dtype.kind == "f" and not (np.all(np.isfinite(y)) and np.all(y == np.round(y))):
        return "regression"
    k, n = len(np.unique(y)), len(y)
    if k > INFER_MAX_CLASSES or (k > INFER_FEW and k > INFER_SHARE * n):
        raise DataError(
            f"{source}: the target has {k} distinct whole-number values in {n} rows; set model.task: "
            "regression (numbers to predict) or model.task: classification (class labels)"
        )
    return "classification"


def check_task(task) -> str | None:
    """task as given to the loaders: None for "auto"/None (infer), else a task name; DataError otherwise."""
    if task is None or task == AUTO:
        return None
    if task not in TASKS:
        raise DataError(f"task must be one of {AUTO}, {', '.join(TASKS)}, got {task!r}")
    return task


def label_array(y, source: str = "y") -> np.ndarray:
    """Raw labels as an array of numbers, bools or str; a column vector (n, 1) becomes (n,).

    Object arrays (a pandas column) become numbers when every value is one, else
    str; a missing value (None, NaN, pandas NA) is a DataError naming its row.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.dtype.kind == "S":
        y = np.char.decode(y, "utf-8", "replace")
    if y.dtype.kind == "O":
        y = _from_objects(y, source)
    if y.dtype.kind not in "biufU":
        raise DataError(f"{source}: labels must be numbers or strings, got dtype {y.dtype}")
    return y


def _from_objects(y: np.ndarray, source: str) -> np.ndarray:
    flat = y.reshape(-1).tolist()
    per_row = y.shape[1] if y.ndim == 2 else 1
    for i, v in enumerate(flat):
        if v is None or (isinstance(v, float) and math.isnan(v)) or type(v).__name__ in ("NAType", "NaTType"):
            raise DataError(f"{source}: missing label at row {i // per_row}")
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in flat):
        return np.array(flat).reshape(y.shape)
    if all(isinstance(v, (bool, np.bool_)) for v in flat):
        return np.array(flat, dtype=bool).reshape(y.shape)
    return np.array([str(v) for v in flat]).reshape(y.shape)


def encode_classes(
    train: Raw, test: Raw | None, n_classes: int | None = None, names=None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """(y_train, y_test, classes): int64 indices into classes, and classes as an array.

    names (a built-in's class names): numeric labels are indices into them.
    n_classes with numeric labels: classes 0..n_classes-1. Otherwise classes are
    the sorted distinct training labels; a test label outside them is an error.
    """
    y_train = class_column(train)
    y_test = class_column(test) if test is not None else None
    numeric = y_train.dtype.kind in "iu"
    if names is not None and numeric:
        classes = np.array([str(n) for n in names])
    elif n_classes is not None and numeric:
        classes = np.arange(n_classes, dtype=np.int64)
    else:
        classes = np.unique(y_train)
        if classes.dtype.kind == "U":  # as narrow as the longest class name, not the widest CSV cell
            classes = np.array(classes.tolist(), dtype=str)
        if n_classes is not None and len(classes) > n_classes:
            raise DataError(f"{train.y_source}: {len(classes)} distinct labels but n_classes is {n_classes}")
        if len(classes) > MAX_CLASSES:
            raise DataError(
                f"{train.y_source}: {len(classes)} distinct labels; at most {MAX_CLASSES} classes are "
                "supported (real-valued targets? use model.task: regression)"
            )
    indexed = numeric and (names is not None or n_classes is not None)
    if indexed:  # the labels are indices themselves (into a built-in's names, or 0..n_classes-1)
        pairs = ((train, y_train), (test, y_test))
        encoded = [_in_range(r, y, len(classes)) for r, y in pairs if r is not None]
    else:
        encoded = [_lookup(train, y_train, classes, train.y_source)]
        if test is not None:
            encoded.append(_lookup(test, _like(test, y_test, classes), classes, train.y_source))
    return encoded[0], (encoded[1] if test is not None else None), classes


def class_indices(y, classes, source: str = "y") -> np.ndarray:
    """int64 indices of raw labels y into classes (a model's); DataError naming the first unknown label.

    Numeric labels for classes that are names (a built-in dataset's, e.g. "0".."9"
    or "T-shirt/top", ...) match by their decimal form when every one does, else
    are read as indices 0..K-1, which is how the built-in files store them.
    """
    classes = np.asarray(classes)
    y = np.asarray(y)
    if len(y) == 0:
        return np.zeros(0, np.int64)
    raw = Raw(np.zeros((len(y), 1), np.uint8), y, source)  # carries the source and row naming
    y = class_column(raw)
    if classes.dtype.kind == "U" and y.dtype.kind in "iu":
        as_names = y.astype(str)
        if np.isin(as_names, classes).all():
            return _lookup(raw, as_names, classes, "the model's classes")
        return _in_range(raw, y, len(classes))
    return _lookup(raw, _like(raw, y, classes), classes, "the model's classes")


def class_column(raw: Raw) -> np.ndarray:
    """The labels as one column: int64 (whole-number floats too), bool, or str; DataError otherwise."""
    y = label_array(raw.y, raw.y_source)
    if y.ndim != 1:
        hint = " (a 0/1 label matrix? use model.task: multilabel)" if y.dtype.kind in "biuf" else ""
        raise DataError(
            f"{raw.y_source}: classification labels must be one column, got shape {np.shape(raw.y)}{hint}"
        )
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(
                f"{raw.y_source}: label {float(y[i])} at {raw.row(i)} is not a whole number; class labels "
                "are whole numbers or strings (for real-valued targets use model.task: regression)"
            )
        big = np.abs(y) >= EXACT_INT
        if big.any():
            i = int(np.argmax(big))
            raise DataError(
                f"{raw.y_source}: label {float(y[i])} at {raw.row(i)} is out of range for a class label"
            )
        return y.astype(np.int64)
    if y.dtype.kind == "u" and y.dtype.itemsize == 8 and len(y) and y.max() > np.iinfo(np.int64).max:
        i = int(np.argmax(y > np.iinfo(np.int64).max))
        raise DataError(
            f"{raw.y_source}: label {int(y[i])} at {raw.row(i)} is out of range for a class label"
        )
    return y.astype(np.int64) if y.dtype.kind in "iu" else y


def _like(raw: Raw, y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Test (or evaluate-time) labels y in the kind of the training classes, so they can match."""
    if classes.dtype.kind == "U" and y.dtype.kind != "U":
        return y.astype(str)  # int64 (whole floats were made ints) -> "1", not "1.0"
    if classes.dtype.kind in "iu" and y.dtype.kind == "U":
        try:
            numbers = np.char.strip(y).astype(np.float64)
        except ValueError:
            i = next(i for i, v in enumerate(y.tolist()) if not _is_number(v))
            raise DataError(
                f"{raw.y_source}: label {str(y[i])!r} at {raw.row(i)} "
                "is a string but the training labels are numbers"
            ) from None
        return class_column(Raw(raw.X, numbers, raw.source, raw.lines, raw.x_source, raw.y_source))
    return y


def _is_number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def _lookup(raw: Raw, y: np.ndarray, classes: np.ndarray, where) -> np.ndarray:
    """Indices of y in classes, one dictionary look-up per distinct label (not per row)."""
    position = {c: i for i, c in enumerate(classes.tolist())}
    distinct, inverse = np.unique(y, return_inverse=True)
    codes = np.array([position.get(v, -1) for v in distinct.tolist()], dtype=np.int64)
    out = codes[inverse.reshape(-1)]
    if (out < 0).any():
        i = int(np.argmax(out < 0))
        raise DataError(f"{raw.y_source}: label {_show(y[i])} at {raw.row(i)} is not a class in {where}")
    return out


def _in_range(raw: Raw, y: np.ndarray, k) -> np.ndarray:
    """y (int64 class indices) checked to lie in 0..k-1 (k: a count, or the classes)."""
    k = k if isinstance(k, int) else len(k)
    if y.dtype.kind not in "iu":
        raise DataError(
            f"{raw.y_source}: label {_show(y[0])} at {raw.row(0)} is not a class index 0..{k - 1}"
        )
    bad = (y < 0) | (y >= k)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"{raw.y_source}: label {int(y[i])} at {raw.row(i)} is out of range 0..{k - 1}")
    return y.astype(np.int64)


def _show(v) -> str:
    v = v.item() if isinstance(v, np.generic) else v
    return repr(v)


def encode_indicators(
    train: Raw, test: Raw | None, dtype
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Multilabel (y_train, y_test, classes): C-contiguous (n, K) 0/1 arrays of dtype, the K label names."""
    ys = [_indicators(r, dtype) for r in (train, test) if r is not None]
    k = ys[0].shape[1]
    if test is not None and ys[1].shape[1] != k:
        raise DataError(f"{test.y_source}: {ys[1].shape[1]} label columns but the training data has {k}")
    names = train.target_names
    classes = np.array([str(n) for n in names]) if names is not None else np.arange(k, dtype=np.int64)
    return ys[0], (ys[1] if test is not None else None), classes


def _indicators(raw: Raw, dtype) -> np.ndarray:
    y = np.asarray(raw.y)
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    if y.ndim != 2 or y.dtype.kind not in "biuf":
        raise DataError(
            f"{raw.y_source}: multilabel targets must be an (n, K) "
            f"matrix of 0/1 numbers, got {y.dtype} of shape {y.shape}"
        )
    if y.dtype.kind != "b":
        bad = (y != 0) & (y != 1)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise DataError(
                f"{raw.y_source}: multilabel target at {raw.row(r)}, column {int(c)} is "
                f"{y[r, c].item()!r}; expected 0 or 1"
            )
    return np.ascontiguousarray(y, dtype=dtype)


def _is_zero_one(y: np.ndarray) -> bool:
    return bool(np.all((y == 0) | (y == 1)))


def encode_targets(raw: Raw, dtype) -> np.ndarray:
    """Regression targets as a C-contiguous (n, k) array of dtype; DataError for non-numbers or NaN/inf."""
    y = label_array(raw.y, raw.y_source) if np.asarray(raw.y).dtype.kind == "O" else np.asarray(raw.y)
    if y.dtype.kind not in "biuf":
        i = _first_non_number(y)
        raise DataError(
            f"{raw.y_source}: regression target at {raw.row(i)} is not a number: "
            f"{str(y.reshape(len(y), -1)[i, 0])!r}"
        )
    original = y.reshape(len(y), -1)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported just below
        y = np.array(original, dtype=dtype, order="C")  # a copy: the targets get scaled in place
    check_finite_targets(raw, original, y)
    return y


def check_two_classes(y: np.ndarray, classes: np.ndarray, source: str) -> None:
    """DataError when the training labels hold fewer than two classes."""
    present = np.unique(y)
    if len(present) < 2:
        raise DataError(
            f"{source}: the training labels hold only one class "
            f"({_show(classes[int(present[0])])}); need at least two"
        )


def _first_non_number(y: np.ndarray) -> int:
    flat = y.reshape(len(y), -1)[:, 0]
    for i, v in enumerate(flat.tolist()):
        try:
            float(v)
        except (TypeError, ValueError):
            return i
    return 0
