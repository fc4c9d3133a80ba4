"""prepare: in-memory arrays -> a Dataset, by the same steps load_dataset runs after reading a file.

The steps (prepare_raw does them; load_dataset and prepare both call it):
1. check the inputs are finite (and fit the dtype); line up a test set's named columns;
2. settle the task (given, the built-in's own, or inferred) and encode the labels:
   class indices, a 0/1 label matrix, or float targets;
3. split row indices: test (when there is no test set; data_seed), then `limit`,
   then validation (run seed), stratified by class for classification;
4. gather each split into its one float array (float32 unless asked), block by block;
5. fit the preprocessing on the training rows and apply it in place to every split;
   regression targets likewise get their own scaler (target_scaling).
Only index arrays are shuffled, so the inputs are copied exactly once.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from ..kernels.rows import is_csr
from ..preprocessing import Preprocessing
from ..tasks import DTYPES, TASKS
from .dataset import Dataset
from .features import align_features, frame_to_array, is_frame
from .labels import (
    check_task,
    check_two_classes,
    encode_classes,
    encode_indicators,
    encode_targets,
    infer_task,
    label_array,
)
from .raw import CHUNK_ROWS, Raw, check_finite
from .spec import DataSpec
from .split import fold_indices, split_indices
from .table import Columns, is_table_like
from .tabular import frame_columns


def prepare(
    X,
    y,
    *,
    task="auto",
    preprocessing="standardize",
    scale=255.0,
    target_scaling="standardize",
    validation_split=0.1,
    test_split=0.0,
    seed=0,
    data_seed=0,
    dtype="float32",
    feature_names=None,
    X_test=None,
    y_test=None,
    n_classes=None,
    class_names=None,
    name="arrays",
    missing="error",
    categorical="auto",
    features=None,
) -> Dataset:
    """A Dataset from arrays: labels encoded, rows split, preprocessing fitted on the training rows.

    X: (n, d) numbers, or a DataFrame (pandas, polars) or pyarrow Table: its columns become
    feature_names; text columns become one-hot categories and missing values are filled as
    `categorical`, `missing` and `features` say (the data keys of those names).
    y: labels (numbers or strings), an (n, K) 0/1 matrix (multilabel), or
    regression targets; a pandas Series/DataFrame works too. task "auto" infers
    it (infer_task). X_test/y_test: a test set of its own (test_split is then
    not used). class_names: names for integer labels 0..K-1 (or for the columns
    of a label matrix). The keyword arguments mean what the `data:` keys of the
    same names mean (docs/DATA.md), and are checked the same way.
    """
    spec = DataSpec(
        validation_split=validation_split,
        test_split=test_split,
        data_seed=data_seed,
        preprocessing=preprocessing,
        scale=scale,
        target_scaling=target_scaling,
        n_classes=n_classes,
        missing=missing,
        categorical=categorical,
        features=features,
    ).checked()
    if (X_test is None) != (y_test is None):
        raise DataError(f"{name}: give both X_test and y_test, or neither")
    train = _raw(X, y, name, feature_names, class_names, spec)
    test = None
    if X_test is not None:
        table = isinstance(train.X, Columns)
        test = _raw(X_test, y_test, f"{name} (test)", None, class_names, spec, table)
    return prepare_raw(
        [train, test],
        spec,
        seed=seed,
        dtype=dtype,
        task=check_task(task),
        name=name,
        source=name,
        class_names=class_names,
    )


def _raw(X, y, source: str, feature_names, class_names, spec: DataSpec, table: bool = False) -> Raw:
    """Raw rows from arrays or pandas objects, with the feature and label-column names they carry.
    A table that needs encoding (text columns, fills, a column choice) stays a table (Columns)."""
    if is_table_like(X) and (table or _needs_encoding(X, spec)):
        y, target_names = _labels(y)
        return Raw(frame_columns(X, source, spec), y, source, target_names=target_names)
    X, names = frame_to_array(X, f"{source}: X")
    if feature_names is not None:
        names = [str(n) for n in feature_names]
    y, target_names = _labels(y)
    if class_names is not None and y.ndim == 2 and y.shape[1] > 1:
        target_names = [str(c) for c in class_names]  # a label matrix: class_names name its columns
    return Raw(X, y, source, feature_names=names, target_names=target_names)


def _needs_encoding(X, spec: DataSpec) -> bool:
    """True unless X is a pandas DataFrame of number columns and no data key asks for encoding."""
    if spec.missing != "error" or isinstance(spec.categorical, list) or spec.features is not None:
        return True
    if not is_frame(X):
        return True  # polars and pyarrow tables are read through Arrow
    return any(getattr(d, "kind", "O") not in "biuf" for d in X.dtypes)


def _labels(y) -> tuple[np.ndarray, list[str] | None]:
    """(labels as an array, column names of a pandas DataFrame with several columns, else None)."""
    if type(y).__module__.split(".")[0] == "pandas" and hasattr(y, "to_numpy"):
        names = [str(c) for c in y.columns] if hasattr(y, "columns") and len(y.columns) > 1 else None
        return y.to_numpy(), names  # nullable values come back as objects; label_array refuses them
    return np.asarray(y), None


def prepare_raw(
    raws: list,
    spec: DataSpec,
    *,
    seed: int,
    dtype,
    task: str | None,
    name: str,
    source: str,
    n_classes: int | None = None,
    class_names=None,
    encoder=None,
) -> Dataset:
    """Steps 1-5 on raws = [train Raw, test Raw or None]; task None = infer.

    raws is emptied once the splits are gathered, so the raw rows (a file's
    bytes) are freed before preprocessing allocates anything. Tabular inputs
    (Raw.X a Columns) are encoded by `encoder` (a model's, for evaluate) or by a
    TableEncoder fitted here on the training rows; either writes each split
    straight into its one float array.
    """
    train, test = raws
    dtype = float_dtype(dtype)
    n_classes = n_classes if n_classes is not None else spec.n_classes
    test = _matched(test, train)
    for raw in (train, test):
        if raw is not None:
            check_finite(raw, dtype)

    task = task or _infer(train, n_classes)
    labels = TASKS[task].labels  # how this task's labels are encoded for the network
    y_all, y_test, classes, n_outputs = _encoded_labels(train, test, labels, n_classes, class_names, dtype)
    strata = y_all if labels == "indices" else None

    rows, val_rows, test_rows = _split_rows(train.X.shape[0], spec, seed, strata, split_test=test is None)
    if labels == "indices":
        check_two_classes(y_all[rows], classes, train.y_source)

    n_inputs, feature_names, zero_based, take = (
        train.X.shape[1],
        train.feature_names,
        train.zero_based,
        gather,
    )
    if isinstance(train.X, Columns):
        encoder, take = _tabular(train, test, rows, spec, encoder)
        n_inputs = encoder.n_outputs
        feature_names = encoder.output_names if encoder.named else None
        encoder = None if encoder.trivial else encoder
    X_train, X_val = take(train.X, rows, dtype), take(train.X, val_rows, dtype)
    if test is not None:
        X_test = take(test.X, np.arange(test.X.shape[0]), dtype)
    else:
        X_test, y_test = take(train.X, test_rows, dtype), _at(y_all, test_rows)
    y_train, y_val = y_all[rows], _at(y_all, val_rows)
    raws.clear()
    del train, test, y_all  # drop the raw rows before preprocessing allocates anything

    target_scaler = _target_scaler(spec, task, y_train, y_val, y_test)
    preprocessing = _fitted_preprocessing(spec, X_train, source)
    _transform(preprocessing, X_train, X_val, X_test)
    return Dataset(
        X_train,
        y_train,
        X_val,
        y_val,
        X_test,
        y_test,
        task,
        classes,
        n_inputs,
        n_outputs,
        preprocessing,
        name,
        source,
        feature_names=feature_names,
        target_scaler=target_scaler,
        encoder=encoder,
        svmlight_zero_based=zero_based,
    )


def _tabular(train: Raw, test: Raw | None, rows: np.ndarray, spec: DataSpec, encoder):
    """(the encoder, a gather that encodes): the given encoder, or one fitted on the training rows.
    Validation and test rows encode a category the training rows lack as all zeros."""
    from ..encoding import TableEncoder

    if encoder is None:
        encoder = TableEncoder.fit(train.X, rows, spec.missing)
    else:
        train.X = encoder.conform(train.X)
    if test is not None:
        test.X = encoder.conform(test.X)

    def take(X, rows_, dtype):
        if rows_ is None:
            return None
        return encoder.encode(X, rows_, dtype, unseen="zeros")

    return encoder, take


def _matched(test: Raw | None, train: Raw) -> Raw | None:
    """The test rows with their input columns in the training order (by name when both have names)."""
    if test is None:
        return None
    if isinstance(train.X, Columns) != isinstance(test.X, Columns):
        raise DataError(f"{test.x_source}: the test file must be a table like the training file")
    if isinstance(train.X, Columns):
        return test  # the encoder lines up its columns by name
    named = train.feature_names is not None and test.feature_names is not None
    if named and test.feature_names != train.feature_names:
        X = align_features(test.X, test.feature_names, train.feature_names, test.x_source)
        test = Raw(
            X,
            test.y,
            test.source,
            test.lines,
            test.x_source,
            test.y_source,
            list(train.feature_names),
            test.target_names,
        )
    if test.X.shape[1] != train.X.shape[1]:
        raise DataError(
            f"{test.x_source}: {test.X.shape[1]} input columns but the training data has {train.X.shape[1]}"
        )
    return test


def _infer(train: Raw, n_classes: int | None) -> str:
    """The task for labels given no task: data.n_classes with one label column means classification."""
    if n_classes is not None and label_array(train.y, train.y_source).ndim == 1:
        return "classification"
    return infer_task(train.y, train.y_source)


# What sparse inputs can take: scaling each column by a constant keeps every zero a zero.
SPARSE_PREPROCESSING = ("none", "scale")


def _fitted_preprocessing(spec: DataSpec, X_train, source: str) -> Preprocessing:
    """data.preprocessing fitted on the training rows; for sparse rows only what keeps them sparse."""
    if is_csr(X_train) and spec.preprocessing not in SPARSE_PREPROCESSING:
        raise DataError(
            f"{source}: the inputs are sparse, and data.preprocessing {spec.preprocessing} would fill "
            f"every zero; set data.preprocessing: none (or scale)"
        )
    return Preprocessing.fit(spec.preprocessing, X_train, spec.scale)


def _transform(scaler: Preprocessing, *arrays) -> None:
    for a in arrays:
        if a is None:
            continue
        if is_csr(a):  # none or scale (SPARSE_PREPROCESSING): offset 0, the stored values divided
            if scaler.kind != "none":
                a.data /= scaler.scale[a.indices]
        else:
            scaler.transform(a, out=a)


def gather(X: np.ndarray, rows: np.ndarray | None, dtype: np.dtype) -> np.ndarray | None:
    """X[rows] as a new C-contiguous dtype array, converted block by block (no full-size temporary);
    a sparse X's rows as a CSR matrix of dtype."""
    if rows is None:
        return None
    if is_csr(X):
        return X[rows].astype(dtype)
    out = np.empty((len(rows), X.shape[1]), dtype)
    for start in range(0, len(rows), CHUNK_ROWS):
        out[start : start + CHUNK_ROWS] = X[rows[start : start + CHUNK_ROWS]]
    return out


def _at(a: np.ndarray | None, rows: np.ndarray | None):
    return None if a is None or rows is None else a[rows]


def float_dtype(dtype) -> np.dtype:
    """dtype as a NumPy float dtype (float32 or float64); DataError otherwise."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in DTYPES:
        raise DataError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    return dt


def _encoded_labels(train, test, labels, n_classes, class_names, dtype):
    """(y_all, y_test, classes, n_outputs): the labels as the task's network reads them."""
    if labels == "indices":
        y_all, y_test, classes = encode_classes(train, test, n_classes, class_names)
        return y_all, y_test, classes, len(classes)
    if labels == "indicators":
        y_all, y_test, classes = encode_indicators(train, test, dtype)
        return y_all, y_test, classes, len(classes)
    y_all = encode_targets(train, dtype)
    y_test = encode_targets(test, dtype) if test is not None else None
    if y_test is not None and y_test.shape[1] != y_all.shape[1]:
        raise DataError(
            f"{test.y_source}: {y_test.shape[1]} target columns but the training data has {y_all.shape[1]}"
        )
    return y_all, y_test, None, y_all.shape[1]


def _split_rows(n, spec, seed, strata, split_test):
    """(training rows, validation rows or None, test rows or None) of n rows: the test split
    (by data_seed) when there is no test file, the limit, then a cross-validation fold or the
    validation split (by seed)."""
    rows, test_rows, val_rows = np.arange(n), None, None
    if split_test and spec.test_split > 0:
        rows, test_rows = split_indices(
            rows, spec.test_split, spec.data_seed, _at(strata, rows), "test_split"
        )
    if spec.limit is not None:
        rows = rows[: spec.limit]
    if spec.fold is not None:  # cross-validation (sweep cv:): fold i of k is the validation set
        rows, val_rows = fold_indices(rows, spec.fold, seed, _at(strata, rows))
    elif spec.validation_split > 0:
        rows, val_rows = split_indices(
            rows, spec.validation_split, seed, _at(strata, rows), "validation_split"
        )
    return rows, val_rows, test_rows


def _target_scaler(spec, task, y_train, y_val, y_test):
    """The target scaling fitted on the training targets and applied to every split (none for
    labels, and refused for counts, which the task predicts in their own units)."""
    if TASKS[task].labels != "values":
        return Preprocessing("none")
    if TASKS[task].counts:
        if spec.target_scaling != "none":
            raise DataError(
                f"model.task {task} predicts counts in their own units: set data.target_scaling: none"
            )
        return Preprocessing("none")
    target_scaler = Preprocessing.fit(spec.target_scaling, y_train)
    _transform(target_scaler, y_train, y_val, y_test)
    return target_scaler
