"""load_dataset: a DataSpec (the config's `data:` section) -> a Dataset ready for training.

The steps, in order:
1. read the raw rows (built-in or files), in the file's own dtype;
2. check inputs are finite, encode labels (class indices or float targets);
3. split row indices: test (when the source has none; fixed data_seed), then
   `limit`, then validation (run seed), stratified for classification;
4. gather each split into its one float array (float32 unless asked);
5. fit preprocessing on the training rows and apply it in place to every split.
Only index arrays are shuffled, so the pixels are copied exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..preprocessing import Preprocessing
from .builtin import DEFAULT_N_CLASSES, DATASET_NAMES, builtin, read_builtin
from .dataset import Dataset
from .files import read_file, read_mnist_dir
from .labels import TASKS, check_two_classes, encode_classes, encode_targets, infer_task
from .raw import CHUNK_ROWS, Raw, check_finite
from .spec import DataSpec
from .split import split_indices

DTYPES = ("float32", "float64")


def load_dataset(
    spec: DataSpec | Mapping | None = None, *, seed: int = 0, dtype: str = "float32", task: str | None = None
) -> Dataset:
    """Read, check, split and preprocess the data that spec names; DataError (one line) on bad input.

    seed drives the validation split; the test split and synthetic data use
    spec.data_seed so the test set is the same in every run. task
    ("classification" | "regression") defaults to the dataset's own, or is
    inferred from the labels.
    """
    spec = DataSpec.from_mapping(spec)
    dtype = _float_dtype(dtype)
    if task is not None and task not in TASKS:
        raise DataError(f"task must be one of {', '.join(TASKS)}, got {task!r}")

    train, test, name, source, known = _read(spec)
    if test is not None and test.X.shape[1] != train.X.shape[1]:
        raise DataError(f"{test.x_source}: {test.X.shape[1]} input columns but the training data has {train.X.shape[1]}")
    task = task or (known.task if known else infer_task(train.y))
    for raw in (train, test):
        if raw is not None:
            check_finite(raw, dtype)

    if task == "classification":
        n_classes = spec.n_classes
        if known is not None and known.kind == "synthetic":
            n_classes = n_classes or DEFAULT_N_CLASSES
        y_train, y_test, classes = encode_classes(train, test, n_classes, known.classes if known else None)
        n_outputs = len(classes)
    else:
        y_train = encode_targets(train, dtype)
        y_test = encode_targets(test, dtype) if test is not None else None
        if y_test is not None and y_test.shape[1] != y_train.shape[1]:
            raise DataError(f"{test.y_source}: {y_test.shape[1]} target columns but the training data has {y_train.shape[1]}")
        classes, n_outputs = None, y_train.shape[1]
    strata = y_train if task == "classification" else None

    rows = np.arange(len(train.X))
    test_rows = None
    if test is None and spec.test_split > 0:
        rows, test_rows = split_indices(rows, spec.test_split, spec.data_seed, _at(strata, rows), "test_split")
    if spec.limit is not None:
        rows = rows[: spec.limit]
    val_rows = None
    if spec.validation_split > 0:
        rows, val_rows = split_indices(rows, spec.validation_split, seed, _at(strata, rows), "validation_split")
    if task == "classification":
        check_two_classes(y_train[rows], classes, train.y_source)

    X_train, X_val = gather(train.X, rows, dtype), gather(train.X, val_rows, dtype)
    if test is not None:
        X_test, y_test = gather(test.X, np.arange(len(test.X)), dtype), y_test
    else:
        X_test, y_test = gather(train.X, test_rows, dtype), _at(y_train, test_rows)
    y_train, y_val = y_train[rows], _at(y_train, val_rows)
    n_inputs = train.X.shape[1]
    del train, test  # drop the raw file bytes before preprocessing allocates anything

    preprocessing = Preprocessing.fit(spec.preprocessing, X_train, spec.scale)
    for X in (X_train, X_val, X_test):
        if X is not None:
            preprocessing.transform(X, out=X)
    return Dataset(
        X_train, y_train, X_val, y_val, X_test, y_test, task, classes, n_inputs, n_outputs,
        preprocessing, name, source,
    )


def gather(X: np.ndarray, rows: np.ndarray | None, dtype: np.dtype) -> np.ndarray | None:
    """X[rows] as a new C-contiguous dtype array, converted block by block (no full-size temporary)."""
    if rows is None:
        return None
    out = np.empty((len(rows), X.shape[1]), dtype)
    for start in range(0, len(rows), CHUNK_ROWS):
        out[start : start + CHUNK_ROWS] = X[rows[start : start + CHUNK_ROWS]]
    return out


def _read(spec: DataSpec) -> tuple[Raw, Raw | None, str, str, object]:
    """(train, test, name, source, the Builtin or None) for the spec's dataset or files."""
    if spec.name is not None and spec.path is not None:
        raise DataError("data: set either data.name or data.path, not both "
                        "(to load a file with a config that names a dataset, add --set data.name=null)")
    if spec.name is not None:
        if spec.test_path is not None:
            raise DataError("data.test_path: goes with data.path, not with a built-in data.name")
        b = builtin(spec.name)
        train, test = read_builtin(b, spec)
        source = str(Path(train.x_source).parent) if b.kind == "IDX files" else train.source
        return train, test, b.name, source, b
    if spec.path is None:
        raise DataError(f"data: set data.name (one of {', '.join(DATASET_NAMES)}) or data.path (a file)")
    path = Path(spec.path).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such data file (data.path)")
    if path.is_dir():
        train, test = read_mnist_dir(path)
    else:
        train, test = read_file(path, spec, spec.y_path), None
    if spec.test_path is not None:
        test_path = Path(spec.test_path).expanduser()
        if not test_path.exists():
            raise DataError(f"{test_path}: no such data file (data.test_path)")
        test = read_file(test_path, spec, spec.test_y_path)
    return train, test, path.name, str(path), None


def _at(a: np.ndarray | None, rows: np.ndarray | None):
    return None if a is None or rows is None else a[rows]


def _float_dtype(dtype) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in DTYPES:
        raise DataError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return dt
