"""Built-in datasets by name: where each comes from, and where the IDX ones are looked for.

digits           shipped in fastmlp/datasets/ (UCI 8x8 digits, 1,797 rows)
fashion-mnist    IDX files, looked for in order in $FASTMLP_DATA/<name>/,
mnist            ~/.cache/fastmlp/<name>/ and /usr/share/datasets/<name>/
spirals, blobs   synthetic classification (n_samples, n_classes, noise)
regression       synthetic regression (n_samples, n_features, noise)
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from . import synthetic
from .files import find_mnist_files, read_mnist_dir
from .raw import Raw
from .spec import DataSpec
from .tabular import read_tabular

DATASETS_DIR = Path(__file__).resolve().parent.parent / "datasets"
DIGITS_FILE = DATASETS_DIR / "digits.csv.gz"

FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
DIGIT_CLASSES = [str(d) for d in range(10)]


@dataclass(frozen=True)
class Builtin:
    name: str
    kind: str  # "shipped" | "IDX files" | "synthetic"
    task: str
    classes: list[str] | None  # known class names, or None (synthetic: from n_classes)
    description: str


BUILTINS = {
    b.name: b
    for b in [
        Builtin(
            "digits",
            "shipped",
            "classification",
            DIGIT_CLASSES,
            "UCI 8x8 handwritten digits, 1,797 rows, 64 inputs",
        ),
        Builtin(
            "fashion-mnist",
            "IDX files",
            "classification",
            FASHION_CLASSES,
            "Zalando 28x28 clothing images, 60,000 + 10,000",
        ),
        Builtin(
            "mnist", "IDX files", "classification", DIGIT_CLASSES, "28x28 handwritten digits, 60,000 + 10,000"
        ),
        Builtin("spirals", "synthetic", "classification", None, "K interleaved 2-D spirals"),
        Builtin("blobs", "synthetic", "classification", None, "Gaussian clusters"),
        Builtin("regression", "synthetic", "regression", None, "y = sin(quadratic of x) + noise"),
    ]
}
DATASET_NAMES = tuple(BUILTINS)
DEFAULT_N_CLASSES = 3  # synthetic classification sets


def builtin(name: str) -> Builtin:
    """The built-in dataset called name; DataError suggesting the closest name otherwise."""
    if name not in BUILTINS:
        close = difflib.get_close_matches(str(name), DATASET_NAMES, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise DataError(f"unknown dataset {name!r}{hint} (built-in: {', '.join(DATASET_NAMES)})")
    return BUILTINS[name]


def search_dirs(name: str) -> list[Path]:
    """Where the IDX files of dataset name are looked for, in order."""
    dirs = []
    if os.environ.get("FASTMLP_DATA"):
        dirs.append(Path(os.environ["FASTMLP_DATA"]).expanduser() / name)
    dirs.append(cache_dir(name))
    dirs.append(Path("/usr/share/datasets") / name)
    return dirs


def cache_dir(name: str) -> Path:
    """~/.cache/fastmlp/<name> (or $XDG_CACHE_HOME/fastmlp/<name>), where downloads go."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "fastmlp" / name


def find_idx_dir(name: str) -> Path | None:
    """The first search directory that holds all four IDX files, or None."""
    for d in search_dirs(name):
        if find_mnist_files(d) is not None:
            return d
    return None


def how_to_get(name: str) -> str:
    hint = f"get it with `fastmlp datasets --download {name}`"
    if name == "fashion-mnist":
        hint += " or `apt-get install dataset-fashion-mnist`"
    return hint


def missing_message(name: str) -> str:
    looked = ", ".join(str(d) for d in search_dirs(name))
    return f"missing: looked in {looked}; {how_to_get(name)}"


def read_builtin(b: Builtin, spec) -> tuple[Raw, Raw | None]:
    """(train, test or None) raw rows of a built-in dataset."""
    if b.name == "digits":
        return read_tabular(DIGITS_FILE, DataSpec(target=-1, header=False)), None
    if b.kind == "IDX files":
        directory = find_idx_dir(b.name)
        if directory is None:
            raise DataError(f"dataset {b.name!r} is {missing_message(b.name)}")
        return read_mnist_dir(directory)
    k = spec.n_classes or DEFAULT_N_CLASSES
    if b.name == "spirals":
        X, y = synthetic.spirals(spec.n_samples, k, spec.noise, spec.data_seed)
    elif b.name == "blobs":
        X, y = synthetic.blobs(spec.n_samples, k, spec.n_features, spec.noise, spec.data_seed)
    else:
        X, y = synthetic.regression(spec.n_samples, spec.n_features, spec.noise, spec.data_seed)
    return Raw(X, y, b.name), None


def list_datasets() -> list[tuple[str, str, str]]:
    """(name, kind, status) for each built-in: where it was found, or why it is missing."""
    rows = []
    for b in BUILTINS.values():
        if b.name == "digits":
            shipped = DIGITS_FILE.is_file()
            status = f"shipped: {DIGITS_FILE}" if shipped else f"missing: {DIGITS_FILE} (broken install)"
        elif b.kind == "IDX files":
            d = find_idx_dir(b.name)
            status = f"found: {d}" if d is not None else missing_message(b.name)
        else:
            status = f"generated: {b.description}"
        rows.append((b.name, b.kind, status))
    return rows
