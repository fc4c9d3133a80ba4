"""The registry of data file formats: each format's name, the suffixes that select it, and
whether a .gz twin is read. Every reader picks its reader by `format_of`, every message that
lists what is read uses `describe`, and config.py's guard against a data file given as the config
uses `DATA_SUFFIXES`: a format added here is known to all of them.

    npz      .npz                        arrays X and y (data.x_key, data.y_key)
    npy      .npy                        inputs, with a y*.npy label file beside them
    csv      .csv .tsv .txt (+ .gz)      a table (delimiter and header sniffed)
    parquet  .parquet .pq                a table
    feather  .feather .arrow .ipc        a table (Arrow IPC)
    svmlight .svm .svmlight .libsvm (+ .gz)  sparse rows "label index:value ..." (svmlight.py)
    idx      *-idx3-ubyte[.gz]           MNIST's IDX files (by name, not suffix)
"""

from __future__ import annotations

from pathlib import Path

# name -> (suffixes, whether name.gz is read too)
FORMATS = {
    "npz": ((".npz",), False),
    "npy": ((".npy",), False),
    "csv": ((".csv", ".tsv", ".txt"), True),
    "parquet": ((".parquet", ".pq"), False),
    "feather": ((".feather", ".arrow", ".ipc"), False),
    "svmlight": ((".svm", ".svmlight", ".libsvm"), True),
}
TABLES = ("csv", "parquet", "feather")
FEATURE_FORMATS = ("npy", "npz", *TABLES, "svmlight")  # what predict reads rows from (no labels needed)
TABLE_SUFFIXES = tuple(s for kind in TABLES for s in FORMATS[kind][0])
# What a config file can never be: any data file's suffix (a .gz is data too).
DATA_SUFFIXES = (*(s for suffixes, _ in FORMATS.values() for s in suffixes), ".gz")


def format_of(path) -> str | None:
    """The format of a data file by its name: a FORMATS name, "idx", or None."""
    name = Path(path).name.lower()
    for kind, (suffixes, gzipped) in FORMATS.items():
        if name.endswith(suffixes) or (gzipped and name.endswith(tuple(s + ".gz" for s in suffixes))):
            return kind
    if "idx" in name or "ubyte" in name:
        return "idx"
    return None


def describe(kinds=(*FORMATS, "idx")) -> str:
    """The formats as a message lists them: ".npz, .npy, .csv[.gz], .parquet, .feather or IDX"."""
    names = [
        "IDX (*-idx3-ubyte[.gz])"
        if kind == "idx"
        else FORMATS[kind][0][0] + ("[.gz]" if FORMATS[kind][1] else "")
        for kind in kinds
    ]
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
