"""CSV text read with Python's csv module: the careful, line-counting reader.

Training files are read through Arrow (table.py); this reader serves feature-only CSV
files for prediction (features.py) and explains what Arrow refused (a ragged row, text
that is not UTF-8) with the file's line. A header is detected when the first row has a
name in a column where a later row has a number (looks_like_header). Errors name the
file's line and the column (0-based, with its header name).
"""

from __future__ import annotations

import csv
import difflib
import io

import numpy as np

from ..errors import DataError
from .source import read_bytes


def rows(path, delimiter: str = ",", keep_blank_records: bool = False) -> tuple[list[list[str]], list[int]]:
    """The non-blank records of the file and the line each starts on. keep_blank_records: skip only
    empty lines, as Arrow's reader does (a record of empty cells is then a row of missing values)."""
    text = csv_text(path, read_bytes(path))
    records, lines = [], []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    try:
        for record in reader:
            if record if keep_blank_records else any(cell.strip() for cell in record):
                records.append(record)
                lines.append(line)
            line = reader.line_num + 1
    except csv.Error as e:
        raise DataError(f"{path}: line {reader.line_num}: malformed CSV ({e})") from None
    return records, lines


def csv_text(path, data: bytes, cut: bool = False) -> str:
    """data decoded as UTF-8 CSV text; DataError for what is plainly another format or not UTF-8.
    cut: data is the file's first bytes only, so a character split at its end is dropped."""
    if data[:4] == b"PK\x03\x04":  # a zip archive: the usual mix-up is an .npz (or a model.npz)
        raise DataError(f"{path}: is a zip archive (an .npz file?), not CSV text")
    if data[:6] == b"\x93NUMPY":
        raise DataError(f"{path}: is a NumPy .npy file, not CSV text")
    if data[:4] == b"PAR1":
        raise DataError(f"{path}: is a Parquet file; name it *.parquet")
    try:
        return data.decode("utf-8-sig", errors="ignore" if cut else "strict")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text (byte {e.start}); is this a CSV file?") from None


def check_widths(path, records: list[list[str]], lines: list[int], width: int) -> None:
    """DataError naming the first line whose number of cells is not width."""
    for row, line in zip(records, lines, strict=True):
        if len(row) != width:
            raise DataError(f"{path}: line {line} has {len(row)} columns, expected {width}")


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


# Cells that stand for a missing value: a header name is none of these.
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "#n/a", "-", "?"})


def looks_like_header(records: list[list[str]]) -> bool:
    """True when row 0 has a name (a non-number, not a missing-value token) in a column where a later
    row (of those given) has a number; a lone row, when it has no numbers."""
    if not records:
        return False
    first = [is_number(c) for c in records[0]]
    if len(records) == 1:
        return not any(first)
    named = [
        not n and c.strip().lower() not in MISSING_TOKENS for c, n in zip(records[0], first, strict=True)
    ]
    for record in records[1:]:
        later = [is_number(c) for c in record]
        if any(a and b for a, b in zip(named, later, strict=False)):  # ragged rows fail later
            return True
    return False


def column_index(path, column, names, width, what: str = "column") -> int:
    """The 0-based index of a column given by name (needs a header) or index (negative from the end)."""
    if isinstance(column, str):
        if names is None:
            raise DataError(f"{path}: {what} {column!r} given by name but the file has no header")
        if column not in names:
            close = difflib.get_close_matches(column, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; columns: {', '.join(names)}"
            raise DataError(f"{path}: no column named {column!r}{hint}")
        return names.index(column)
    if isinstance(column, bool) or not isinstance(column, (int, np.integer)):
        raise DataError(f"{path}: {what} must be a name or an index, got {column!r}")
    if not -width <= column < width:
        raise DataError(f"{path}: {what} {column} is out of range for {width} columns")
    return int(column) % width


def column_name(col: int, names) -> str:
    """How messages name column col: its 0-based index, and its header name when there is one."""
    return column_label(col, names[col] if names is not None else None)


def column_label(col: int, name: str | None) -> str:
    """column_name for one column: "3 ('age')", or "3" without a name."""
    return f"{col} ({name!r})" if name is not None else str(col)


def numbers(path, cells: np.ndarray, cols: list[int], lines, names, what: str = "") -> np.ndarray:
    """cells as float64; DataError naming the line and column of the first non-number."""
    try:
        return cells.astype(np.float64)
    except ValueError:
        pass
    label = f"{what} " if what else ""
    for r in range(cells.shape[0]):
        for c in range(cells.shape[1]):
            if not is_number(cells[r, c]):
                cell = "empty cell" if not cells[r, c].strip() else f"not a number: {str(cells[r, c])!r}"
                raise DataError(
                    f"{path}: line {lines[r]}, {label}column {column_name(cols[c], names)}: {cell}"
                )
    # Python's float() read every cell where NumPy's parser did not: use float().
    return np.array([[float(c) for c in row] for row in cells], dtype=np.float64).reshape(cells.shape)
