"""Feature rows for prediction: read from a file or a DataFrame, lined up with a model's columns.

read_features   .npy, .npz (array X/x or the only array; optional "feature_names"; or a
                scipy sparse matrix), .csv/.txt (plain or gzip; a header is detected as
                in csvfile.py), Parquet, Feather, svmlight (sparse rows, labels ignored).
                Given the model's feature names and a CSV with a header, only
                those columns are read, by name: a CSV that still holds its
                (string) target column, or has its columns in another order, works.
align_features  named columns -> the model's order (extra columns dropped, a missing
                one refused); unnamed columns must be exactly as many as the model's.
frame_to_array  a pandas DataFrame -> (array, column names), without importing pandas.

Errors are one DataError line naming the file and line/column (0-based columns).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..errors import DataError
from .csvfile import check_widths, column_name, looks_like_header, numbers, rows
from .files import holds_sparse_matrix, load_sparse_npz, npz_feature_names
from .formats import FEATURE_FORMATS, TABLES, describe, format_of
from .source import existing_file, reason
from .svmlight import read_svmlight_arrays
from .table import Columns, read_table

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
SHOWN_NAMES = 10  # how many of the model's feature names a message lists


def read_features(
    path, expected_names=None, width=None, zero_based="auto"
) -> tuple[np.ndarray, list[str] | None]:
    """(X as 2-D float64, its column names or None) from a feature file; DataError (one line) otherwise.

    With expected_names and a CSV header, X holds the expected columns in the
    expected order (selected by name before any cell is read as a number). An svmlight file or
    a scipy sparse .npz gives a CSR matrix; width and zero_based: the svmlight file's width and
    indexing (the model's; its labels, if any, are not read).
    """
    path = existing_file(path, "input file")
    kind = _kind(path)
    if kind == "svmlight":
        return read_svmlight_arrays(path, width, zero_based, "input file", labels=False).X, None
    if kind == "npz" and _is_sparse_npz(path):
        return load_sparse_npz(path), None
    if kind == "csv":
        return _read_csv(path, expected_names)
    if kind == "table":
        return _read_table(path, expected_names)
    X, names = _read_npy(path) if kind == "npy" else _read_npz(path)
    X = _as_rows(X, path, names)
    bad = ~np.isfinite(X)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(f"{path}: row {int(r)}, column {column_name(int(c), names)}: not finite ({X[r, c]})")
    return X, names


def _kind(path: Path) -> str:
    """The format (npy, npz or csv) by the file's name; refused when its first bytes say otherwise."""
    name, kind = path.name.lower(), format_of(path)
    with path.open("rb") as f:
        head = f.read(8)
    if kind == "npy":
        if head.startswith(ZIP_MAGIC):
            raise DataError(f"{path}: is a zip archive (an .npz file?), not a .npy file")
        return "npy"
    if kind == "npz":
        if head.startswith(NPY_MAGIC):
            raise DataError(f"{path}: is a .npy file, not an .npz archive")
        return "npz"
    if kind == "csv" and not name.endswith((".tsv", ".tsv.gz")):
        return "csv"  # csvfile.rows refuses zip and .npy contents
    if kind in TABLES:
        return "table"
    if kind == "svmlight":
        return kind
    raise DataError(f"{path}: unknown input format; expected {describe(FEATURE_FORMATS)}")


def _is_sparse_npz(path: Path) -> bool:
    """Whether an .npz archive holds one scipy sparse matrix (its member names say so)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return holds_sparse_matrix([n.removesuffix(".npy") for n in archive.namelist()], ("X", "x"))
    except (OSError, zipfile.BadZipFile):
        return False  # the .npz reader words the error


def _read_table(path: Path, expected) -> tuple[np.ndarray, list[str]]:
    """A Parquet/Feather file's number columns (the expected ones, by name, when given) as float64."""
    table, named, row = read_table(path)
    if expected is not None:
        table = table.select(_positions(list(table.column_names), [str(e) for e in expected], path))
    columns = Columns.from_table(table, str(path), named, row, categorical="none")
    X = np.empty((len(columns), len(columns.columns)), np.float64)
    for j, c in enumerate(columns.columns):
        gaps = np.isnan(c.values)
        if gaps.any():
            raise DataError(f"{path}: {row(int(np.argmax(gaps)))}, column {c.label}: missing value")
        X[:, j] = c.values
    return X, columns.names


def _read_npy(path: Path) -> tuple[np.ndarray, None]:
    try:
        X = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npy file ({reason(e)})") from None
    return X, None


def _read_npz(path: Path) -> tuple[np.ndarray, list[str] | None]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.keys())
            if "layer_sizes" in keys and "params" in keys:  # what MLP.save writes
                raise DataError(f"{path}: is a saved model, not input features (give it as the model)")
            arrays = [k for k in keys if k != "feature_names"]
            key = "X" if "X" in keys else "x" if "x" in keys else arrays[0] if len(arrays) == 1 else None
            if key is None:
                raise DataError(f"{path}: has arrays {', '.join(keys) or 'none'}; expected one named X")
            return archive[key], npz_feature_names(archive, path)
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise DataError(f"{path}: not a readable .npz file ({reason(e)})") from None


def _read_csv(path: Path, expected) -> tuple[np.ndarray, list[str] | None]:
    records, lines = rows(path)
    if not records:
        raise DataError(f"{path}: no rows")
    first = [c.strip() for c in records[0]]
    # A header is detected as for training files, or is the row that holds every expected name.
    header = looks_like_header(records) or (bool(expected) and set(map(str, expected)) <= set(first))
    names = first if header else None
    if header:
        records, lines = records[1:], lines[1:]
    if not records:
        raise DataError(f"{path}: no data rows")
    width = len(names) if names is not None else len(records[0])
    check_widths(path, records, lines, width)
    cols = list(range(width))
    if names is not None and expected is not None:
        cols = _positions(names, [str(e) for e in expected], path)
    try:
        X = numbers(path, np.array(records, dtype=str)[:, cols], cols, lines, names)
    except DataError as e:
        if names is not None and expected is not None:
            raise  # the model's own feature columns: a wrong cell is just that
        raise DataError(
            f"{e}; prediction reads feature columns only: if that is the target (label) column, "
            "drop it from the file"
        ) from None
    bad = ~np.isfinite(X)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(
            f"{path}: line {lines[r]}, column {column_name(cols[c], names)}: not finite ({X[r, c]})"
        )
    return X, ([names[c] for c in cols] if names is not None else None)


def _as_rows(X: np.ndarray, path, names) -> np.ndarray:
    """X as a 2-D float64 array of rows; images (n, h, w) are flattened like the training loaders do."""
    if X.dtype.kind not in "biuf":
        raise DataError(f"{path}: features must be numbers, got dtype {X.dtype}")
    if X.ndim == 1:
        raise DataError(
            f"{path}: expected a 2-D array (rows x features), got shape {X.shape}; "
            "for one row save X.reshape(1, -1)"
        )
    if X.ndim > 2:
        X = X.reshape(X.shape[0], -1)
    if X.ndim == 0 or X.shape[0] == 0:
        raise DataError(f"{path}: no rows")
    if names is not None and len(names) != X.shape[1]:
        raise DataError(f"{path}: {len(names)} feature names for {X.shape[1]} columns")
    return np.ascontiguousarray(X, dtype=np.float64)


def align_features(X, names, expected_names, source: str = "X") -> np.ndarray:
    """X's columns in the order of expected_names; DataError (one line) for a missing one or a count mismatch.

    X may be a pandas DataFrame (its columns are the names). With names, extra
    columns are dropped; without, X must have exactly len(expected_names) columns.
    expected_names None: X is returned as it is.
    """
    X, frame_names = frame_to_array(X, source)
    names = frame_names if frame_names is not None else names
    if expected_names is None:
        return X
    expected = [str(e) for e in expected_names]
    if X.ndim != 2:
        raise DataError(f"{source}: expected a 2-D array (rows x features), got shape {X.shape}")
    if names is None:
        if X.shape[1] != len(expected):
            raise DataError(
                f"{source}: {X.shape[1]} feature columns but the model was trained on "
                f"{len(expected)} ({_listing(expected)})"
            )
        return X
    names = [str(n) for n in names]
    if len(names) != X.shape[1]:
        raise DataError(f"{source}: {len(names)} feature names for {X.shape[1]} columns")
    cols = _positions(names, expected, source)
    if cols == list(range(X.shape[1])):
        return X
    return X[:, cols]


def _positions(names: list[str], expected: list[str], source) -> list[int]:
    """The index in names of each expected name; DataError for a missing or doubled one."""
    where: dict[str, int] = {}
    doubled = set()
    for i, n in enumerate(names):
        if n in where:
            doubled.add(n)
        where.setdefault(n, i)
    for e in expected:
        if e not in where:
            raise DataError(
                f"{source}: missing feature column {e!r} (the model was trained on: {_listing(expected)})"
            )
        if e in doubled:
            raise DataError(f"{source}: feature column {e!r} appears more than once")
    return [where[e] for e in expected]


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN_NAMES])
    return shown + ("..." if len(names) > SHOWN_NAMES else "")


def is_frame(X) -> bool:
    """True for a pandas DataFrame (told without importing pandas, which is not a dependency)."""
    return type(X).__module__.split(".")[0] == "pandas" and hasattr(X, "columns") and hasattr(X, "to_numpy")


def frame_to_array(
    X, source: str = "X", keep: list[str] | None = None
) -> tuple[np.ndarray, list[str] | None]:
    """(array, column names) for a DataFrame; (np.asarray(X), None) for anything else.

    keep: the feature names a model was trained on; when every one of them is a column, only
    those columns are taken (in that order), so extra columns — a string label column still in
    the frame — are dropped before the check below. Every column taken must be numeric
    (DataError naming the first that is not).
    NumPy dtypes convert as pandas does (all-float32 stays float32); nullable
    ones (Int64 with NA) become float64 with NaN, which the finite checks catch.
    """
    if not is_frame(X):
        return np.asarray(X), None
    names = [str(c) for c in X.columns]
    if keep is not None and set(keep) <= set(names) and len(names) == len(set(names)):
        X = X.iloc[:, [names.index(k) for k in keep]]
        names = list(keep)
    for col, dtype in zip(names, X.dtypes, strict=True):
        if getattr(dtype, "kind", "O") not in "biuf":
            raise DataError(
                f"{source}: column {col!r} is not numeric (dtype {dtype}); encode it as numbers first"
            )
    if all(isinstance(d, np.dtype) for d in X.dtypes):
        return X.to_numpy(), names
    return X.to_numpy(dtype=np.float64, na_value=np.nan), names
