"""CSV files (plain or gzip): numeric input columns plus one target column.

The target column is chosen by name (needs a header) or index (default -1, the
last). Its cells may be numbers or strings; strings become classes later
(labels.py). A header is detected when the first row has a non-number in a
column where the second row has a number; `header: true/false` overrides.
Errors name the file's line and the column.
"""

from __future__ import annotations

import csv
import difflib
import io

import numpy as np

from ..errors import DataError
from .raw import Raw
from .source import read_bytes


def read_csv(path, target: str | int = -1, header: bool | None = None) -> Raw:
    """Raw(X float64, y numbers or strings, lines) from a CSV file."""
    rows, lines = _rows(path)
    if not rows:
        raise DataError(f"{path}: the dataset is empty (no rows)")
    if header is None:
        header = isinstance(target, str) or _looks_like_header(rows)
    names = rows[0] if header else None
    if header:
        rows, lines = rows[1:], lines[1:]
    width = len(names) if names is not None else len(rows[0])
    if not rows:
        raise DataError(f"{path}: the dataset is empty (no data rows)")
    for row, line in zip(rows, lines):
        if len(row) != width:
            raise DataError(f"{path}: line {line} has {len(row)} columns, expected {width}")
    t = _target_index(path, target, names, width)
    if width < 2:
        raise DataError(f"{path}: needs at least one input column besides the target column {t}")
    feature_cols = [c for c in range(width) if c != t]
    cells = np.array(rows, dtype=str)  # (n, width); np.str_ keeps it one block of memory
    X = _numbers(path, cells[:, feature_cols], feature_cols, lines, names)
    y_cells = cells[:, t]
    try:
        y = y_cells.astype(np.float64)
    except ValueError:
        y = np.char.strip(y_cells)
        empty = np.flatnonzero(y == "")
        if len(empty):
            raise DataError(f"{path}: line {lines[empty[0]]}, column {_name(t, names)}: empty target cell") from None
    return Raw(X, y, str(path), lines=np.asarray(lines))


def _rows(path) -> tuple[list[list[str]], list[int]]:
    """The non-blank records of the file and the line each starts on."""
    data = read_bytes(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text (byte {e.start}); is this a CSV file?") from None
    rows, lines = [], []
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                rows.append(record)
                lines.append(line)
            line = reader.line_num + 1
    except csv.Error as e:
        raise DataError(f"{path}: line {reader.line_num}: malformed CSV ({e})") from None
    return rows, lines


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _looks_like_header(rows: list[list[str]]) -> bool:
    """True when row 0 has a non-number where row 1 has a number (or, alone, has no numbers)."""
    if not rows:
        return False
    first = [_is_number(c) for c in rows[0]]
    if len(rows) == 1:
        return not any(first)
    second = [_is_number(c) for c in rows[1]]
    return any(not a and b for a, b in zip(first, second))


def _target_index(path, target, names, width) -> int:
    if isinstance(target, str):
        if names is None:
            raise DataError(f"{path}: target column {target!r} given by name but the file has no header")
        stripped = [n.strip() for n in names]
        if target not in stripped:
            close = difflib.get_close_matches(target, stripped, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; columns: {', '.join(stripped)}"
            raise DataError(f"{path}: no column named {target!r}{hint}")
        return stripped.index(target)
    if not -width <= target < width:
        raise DataError(f"{path}: target column {target} is out of range for {width} columns")
    return target % width


def _name(col: int, names) -> str:
    return f"{col} ({names[col].strip()!r})" if names is not None else str(col)


def _numbers(path, cells: np.ndarray, cols: list[int], lines, names) -> np.ndarray:
    """cells as float64; DataError naming the line and column of the first non-number."""
    try:
        return cells.astype(np.float64)
    except ValueError:
        pass
    for r in range(cells.shape[0]):
        for c in range(cells.shape[1]):
            if not _is_number(cells[r, c]):
                what = "empty cell" if not cells[r, c].strip() else f"not a number: {str(cells[r, c])!r}"
                raise DataError(f"{path}: line {lines[r]}, column {_name(cols[c], names)}: {what}")
    # Python's float() read every cell where NumPy's parser did not: use float().
    return np.array([[float(c) for c in row] for row in cells], dtype=np.float64).reshape(cells.shape)
