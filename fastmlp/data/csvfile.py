"""CSV files (plain or gzip): numeric input columns plus one (or more) target columns.

The target column is chosen by name (needs a header) or index (default -1, the
last); a list of names/indices picks several (a multilabel 0/1 matrix or
several regression targets). Target cells may be numbers or strings; strings
become classes later (labels.py). A header is detected when the first row has a
non-number in a column where the second row has a number; `header: true/false`
overrides. The header's names become the feature (and target) names.
Errors name the file's line and the column (0-based, with its header name).

The helpers here (rows, looks_like_header, column_index, numbers) are shared
with features.py, which reads feature-only CSV files for prediction.
"""

from __future__ import annotations

import csv
import difflib
import io

import numpy as np

from ..errors import DataError
from .raw import Raw
from .source import read_bytes


def _refuse_a_hidden_header(path, rows_, targets) -> None:
    """A header whose names look like numbers ("1,2,3,label") is read as data, and its target
    cell becomes a class of one row. When line 1's target cell is text that no other row has,
    while other rows have text there too, stop and ask rather than guess."""
    t = targets[0]
    if len(targets) != 1 or isinstance(t, str) or len(rows_) < 3 or not -len(rows_[0]) <= t < len(rows_[0]):
        return
    column = [row[t].strip() if -len(row) <= t < len(row) else "" for row in rows_]
    first = column[0]
    if first and not is_number(first) and not is_number(column[1]) and first not in set(column[1:]):
        raise DataError(
            f"{path}: line 1 may be a header (its target cell {first!r} appears in no other row); "
            "set data.header: true, or data.header: false if it is a data row"
        )


def read_csv(path, target: str | int | list = -1, header: bool | None = None) -> Raw:
    """Raw(X float64, y numbers or strings, lines, feature_names) from a CSV file."""
    targets = list(target) if isinstance(target, (list, tuple)) else [target]
    rows_, lines = rows(path)
    if not rows_:
        raise DataError(f"{path}: the dataset is empty (no rows)")
    detect = header is None
    if header is None:
        header = any(isinstance(t, str) for t in targets) or looks_like_header(rows_)
    if detect and not header:
        _refuse_a_hidden_header(path, rows_, targets)
    names = [n.strip() for n in rows_[0]] if header else None
    if header:
        rows_, lines = rows_[1:], lines[1:]
    width = len(names) if names is not None else len(rows_[0])
    if not rows_:
        raise DataError(f"{path}: the dataset is empty (no data rows)")
    check_widths(path, rows_, lines, width)
    t_cols = [column_index(path, t, names, width, "target column") for t in targets]
    if len(set(t_cols)) != len(t_cols):
        raise DataError(f"{path}: data.target names the same column twice ({target!r})")
    if width <= len(t_cols):
        raise DataError(f"{path}: needs at least one input column besides the target column {t_cols[0]}")
    feature_cols = [c for c in range(width) if c not in t_cols]
    cells = np.array(rows_, dtype=str)  # (n, width); np.str_ keeps it one block of memory
    X = numbers(path, cells[:, feature_cols], feature_cols, lines, names)
    if len(t_cols) > 1:  # a label matrix or several targets: numbers only
        y = numbers(path, cells[:, t_cols], t_cols, lines, names, what="target")
    else:
        y = _target_column(path, cells[:, t_cols[0]], t_cols[0], lines, names)
    return Raw(
        X,
        y,
        str(path),
        lines=np.asarray(lines),
        feature_names=[names[c] for c in feature_cols] if names is not None else None,
        target_names=[names[c] for c in t_cols] if names is not None and len(t_cols) > 1 else None,
    )


def _target_column(path, y_cells: np.ndarray, t: int, lines, names) -> np.ndarray:
    """One target column as float64 when every cell is a number, else as stripped strings."""
    try:
        return y_cells.astype(np.float64)
    except ValueError:
        pass
    y = np.char.strip(y_cells)
    empty = np.flatnonzero(y == "")
    if len(empty):
        raise DataError(f"{path}: line {lines[empty[0]]}, column {column_name(t, names)}: empty target cell")
    return y


def rows(path) -> tuple[list[list[str]], list[int]]:
    """The non-blank records of the file and the line each starts on."""
    data = read_bytes(path)
    if data[:4] == b"PK\x03\x04":  # a zip archive: the usual mix-up is an .npz (or a model.npz)
        raise DataError(f"{path}: is a zip archive (an .npz file?), not CSV text")
    if data[:6] == b"\x93NUMPY":
        raise DataError(f"{path}: is a NumPy .npy file, not CSV text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text (byte {e.start}); is this a CSV file?") from None
    records, lines = [], []
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                records.append(record)
                lines.append(line)
            line = reader.line_num + 1
    except csv.Error as e:
        raise DataError(f"{path}: line {reader.line_num}: malformed CSV ({e})") from None
    return records, lines


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


def looks_like_header(records: list[list[str]]) -> bool:
    """True when row 0 has a non-number where row 1 has a number (or, alone, has no numbers)."""
    if not records:
        return False
    first = [is_number(c) for c in records[0]]
    if len(records) == 1:
        return not any(first)
    second = [is_number(c) for c in records[1]]
    return any(not a and b for a, b in zip(first, second, strict=False))  # ragged rows fail later


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
    return f"{col} ({names[col]!r})" if names is not None else str(col)


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
