"""Data files by format: .npz, a pair of .npy, .csv, IDX (one file or an MNIST-style directory).

The format is told by the file name:
  *.npz                 X and y under x_key / y_key (default "X" / "y"); an optional
                        "feature_names" array (strings) names the columns of X
  *.npy                 inputs; labels in y_path, default the same name with a
                        leading "X" turned into "y" (X.npy -> y.npy, X_train.npy -> y_train.npy)
  *.csv, *.tsv, *.txt   (plain or gzip), *.parquet, *.pq, *.feather, *.arrow, *.ipc:
                        tables through Arrow, see table.py and tabular.py
  *idx*, *-ubyte[.gz]   IDX images; labels in y_path, default the name with
                        "images-idx3" turned into "labels-idx1"
  a directory           the four MNIST files (train-/t10k- images/labels), raw or .gz
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..errors import DataError
from . import stream
from .formats import TABLES, describe, format_of
from .idx import read_idx
from .raw import Raw
from .source import existing_file, reason
from .svmlight import read_svmlight_arrays
from .tabular import read_tabular, target_list

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def read_file(path, spec, y_path=None, dtype=None) -> Raw:
    """One file (plus its label file for .npy/IDX) as Raw, by its format; dtype: the float
    type a numeric table may be read straight into (tabular.read_tabular)."""
    path = Path(path).expanduser()
    kind = format_of(path)
    if kind == "npz":
        return read_npz(path, spec.x_key, spec.y_key, y_path)
    if kind == "svmlight":
        rows = read_svmlight_arrays(path, spec.width, spec.zero_based)
        return Raw(rows.X, rows.y, str(path), lines=rows.lines, zero_based=rows.zero_based)
    if kind == "npy":
        return read_pair(path, y_path, _read_npy)
    if kind in TABLES:
        # A numeric table straight into a dense matrix of the training dtype, when it is one.
        raw = stream.read_numeric(path, spec, target_list(spec), dtype) if dtype is not None else None
        return raw if raw is not None else read_tabular(path, spec)
    if kind == "idx":
        return read_pair(path, y_path, read_idx)
    if path.is_dir():
        raise DataError(
            f"{path}: a directory; data.path may name a directory only when it holds the MNIST IDX files"
        )
    raise DataError(f"{path}: unknown data format; expected {describe()}")


def read_pair(path: Path, y_path, reader) -> Raw:
    """Inputs from path and labels from y_path (or the conventional label file beside path)."""
    existing_file(path, "data file")
    y_path = Path(y_path).expanduser() if y_path is not None else label_path(path)
    X = reader(path)
    y = reader(existing_file(y_path, "label file (data.y_path)"))
    return Raw(X, y, str(path), x_source=str(path), y_source=str(y_path))


def label_path(path: Path) -> Path:
    """The conventional label file for an inputs file; DataError when there is none."""
    name = path.name
    if "images-idx3" in name:
        return path.with_name(name.replace("images-idx3", "labels-idx1"))
    if name.startswith("X"):
        return path.with_name("y" + name[1:])
    raise DataError(f"{path}: no label file; set data.y_path (or name the files X*.npy / y*.npy)")


# Arrays every scipy.sparse.save_npz archive holds (CSR, CSC, COO, ...): one sparse matrix.
SPARSE_KEYS = {"format", "shape", "data"}


def holds_sparse_matrix(keys, x_keys=("X",)) -> bool:
    """Whether an .npz archive with these array names is one scipy sparse matrix (and not arrays
    that happen to share its names beside an X)."""
    return SPARSE_KEYS <= set(keys) and not set(keys) & set(x_keys)


def read_npz(path: Path, x_key: str = "X", y_key: str = "y", y_path=None) -> Raw:
    """X and y from an .npz archive; or, for a sparse matrix written by scipy.sparse.save_npz,
    the matrix as X and its labels from y_path (or the conventional label file beside it, a .npy:
    X_train.npz -> y_train.npy)."""
    existing_file(path, "data file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.keys())
            if holds_sparse_matrix(keys, (x_key,)):
                return _sparse_npz(path, y_path)
            missing = [k for k in (x_key, y_key) if k not in keys]
            if missing:
                raise DataError(
                    f"{path}: no array named {missing[0]!r} (keys: "
                    f"{', '.join(keys) or 'none'}); set data.x_key / data.y_key"
                )
            X, y = archive[x_key], archive[y_key]
            names = npz_feature_names(archive, path)
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise DataError(f"{path}: not a readable .npz file ({reason(e)})") from None
    return Raw(X, y, str(path), feature_names=names)


def _sparse_npz(path: Path, y_path) -> Raw:
    """A scipy sparse matrix archive with its labels from a .npy file."""
    X = load_sparse_npz(path)
    y_path = Path(y_path).expanduser() if y_path is not None else label_path(path).with_suffix(".npy")
    y = _read_npy(existing_file(y_path, "label file (data.y_path)"))
    return Raw(X, y, str(path), x_source=str(path), y_source=str(y_path))


def load_sparse_npz(path: Path):
    """The CSR matrix in an archive scipy.sparse.save_npz wrote (one line if it is not one)."""
    import scipy.sparse as sp

    try:
        return sp.csr_matrix(sp.load_npz(path))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: not a readable sparse matrix archive ({reason(e)})") from None


def npz_feature_names(archive, path) -> list[str] | None:
    """The archive's optional "feature_names" array as a list of str (None when absent)."""
    if "feature_names" not in archive:
        return None
    names = archive["feature_names"]
    if names.ndim != 1 or names.dtype.kind not in "U":
        raise DataError(
            f"{path}: feature_names must be a 1-D array of strings, got {names.dtype} of shape {names.shape}"
        )
    return [str(n) for n in names]


def _read_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npy file ({reason(e)})") from None


def find_mnist_files(directory: Path) -> dict[str, tuple[Path, Path]] | None:
    """{"train": (images, labels), "test": ...} when directory holds all four files, else None."""
    found = {}
    for split, stems in MNIST_FILES.items():
        paths = []
        for stem in stems:
            for candidate in (directory / stem, directory / f"{stem}.gz"):
                if candidate.is_file():
                    paths.append(candidate)
                    break
            else:
                return None
        found[split] = tuple(paths)
    return found


def read_mnist_dir(directory) -> tuple[Raw, Raw]:
    """(train, test) from a directory of MNIST-style IDX files."""
    directory = Path(directory).expanduser()
    files = find_mnist_files(directory)
    if files is None:
        names = ", ".join(f"{s}[.gz]" for stems in MNIST_FILES.values() for s in stems)
        raise DataError(f"{directory}: expected the IDX files {names}")
    return tuple(read_pair(images, labels, read_idx) for images, labels in files.values())
