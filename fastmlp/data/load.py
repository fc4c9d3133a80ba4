"""load_dataset: a DataSpec (the config's `data:` section) -> a Dataset ready for training.

Step 1 reads the raw rows (a built-in or files), in the file's own dtype
(uint8 pixels stay uint8), with the CSV line of each row and the header's
column names. The rest (check, encode labels, split, gather into floats,
preprocess) is prepare.prepare_raw, the same code that prepare() runs on
in-memory arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..errors import DataError
from .builtin import DATASET_NAMES, DEFAULT_N_CLASSES, builtin, read_builtin
from .dataset import Dataset
from .files import read_file, read_mnist_dir
from .labels import check_task
from .prepare import float_dtype, prepare_raw
from .spec import DataSpec
from .table import Columns


def load_dataset(
    spec: DataSpec | Mapping | None = None,
    *,
    seed: int = 0,
    dtype: str = "float32",
    task: str | None = None,
    encoder=None,
) -> Dataset:
    """Read, check, split and preprocess the data that spec names; DataError (one line) on bad input.

    seed drives the validation split; the test split and synthetic data use
    spec.data_seed so the test set is the same in every run. task: None or
    "auto" infers it from the labels (a built-in dataset keeps its own), or
    "classification" | "multilabel" | "regression". encoder: a model's TableEncoder, to
    encode table columns as that model does (evaluate) instead of fitting one.
    """
    spec = DataSpec.from_mapping(spec)
    float_dtype(dtype)
    task = check_task(task)
    # A model's encoder reads table columns: only a fresh fit may take a numeric table as a
    # dense matrix read in blocks (stream.py).
    raws, name, source, known = _read(spec, dtype if encoder is None else None)
    n_classes = spec.n_classes
    if known is not None:
        task = task or known.task
        if known.kind == "synthetic" and task == "classification":
            n_classes = n_classes or DEFAULT_N_CLASSES
    # raws is handed over, not kept here: prepare_raw empties it to free the raw rows early.
    return prepare_raw(
        raws,
        spec,
        seed=seed,
        dtype=dtype,
        task=task,
        name=name,
        source=source,
        n_classes=n_classes,
        class_names=known.classes if known is not None else None,
        encoder=encoder,
    )


def _read(spec: DataSpec, dtype=None) -> tuple[list, str, str, object]:
    """([train, test or None], name, source, the Builtin or None) for the spec's dataset or files;
    dtype: what a numeric table may be read straight into (None: the general table path)."""
    if spec.name is not None and spec.path is not None:
        raise DataError(
            "data: set either data.name or data.path, not both "
            "(to load a file with a config that names a dataset, add --set data.name=null)"
        )
    if spec.name is not None:
        if spec.test_path is not None:
            raise DataError("data.test_path: goes with data.path, not with a built-in data.name")
        b = builtin(spec.name)
        train, test = read_builtin(b, spec)
        source = str(Path(train.x_source).parent) if b.kind == "IDX files" else train.source
        return [train, test], b.name, source, b
    if spec.path is None:
        raise DataError(f"data: set data.name (one of {', '.join(DATASET_NAMES)}) or data.path (a file)")
    path = Path(spec.path).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such data file (data.path)")
    if path.is_dir():
        train, test = read_mnist_dir(path)
    else:
        train, test = read_file(path, spec, spec.y_path, dtype), None
    if spec.test_path is not None:
        test_path = Path(spec.test_path).expanduser()
        if not test_path.exists():
            raise DataError(f"{test_path}: no such data file (data.test_path)")
        # An svmlight test file is read as the training file was: its width (unless data.width
        # says otherwise) and its indexing (what "auto" decided for the training file).
        test_spec = spec
        if train.zero_based is not None:
            test_spec = spec.replace(width=spec.width or train.X.shape[1], zero_based=train.zero_based)
        test = read_file(test_path, test_spec, spec.test_y_path, dtype)
        if isinstance(train.X, Columns) != isinstance(test.X, Columns):
            # One table read as columns (text, gaps) and the other as a dense matrix: both as
            # columns, so one encoder serves them.
            train = read_file(path, spec, spec.y_path) if not isinstance(train.X, Columns) else train
            test = read_file(test_path, spec, spec.test_y_path) if not isinstance(test.X, Columns) else test
    return [train, test], path.name, str(path), None
