"""Tabular sources -> Raw: a CSV/Parquet/Feather file or a DataFrame, its target column(s) taken
out by name or index, data.features applied, the rest kept as Columns for the encoder.

The target: one column gives numbers (float64) when every cell is one, else the labels as
spelled (str); several columns give numbers (a 0/1 label matrix or several targets).
data.features: a list keeps those columns in that order; {drop: [...]} drops those.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .csvfile import column_index, column_name, is_number
from .raw import Raw
from .table import Columns, _row_index, float_values, frame_table, read_table


def read_tabular(path, spec) -> Raw:
    """Raw(X: Columns, y) from a CSV, Parquet or Feather file as the spec's data keys say."""
    targets = target_list(spec)
    named_target = any(isinstance(t, str) for t in targets)
    table, named, row = read_table(path, spec.delimiter, spec.header, named_target)
    if not named and spec.header is None:
        _refuse_a_hidden_header(path, table, targets)
    return table_raw(table, str(path), named, row, spec, targets)


def target_list(spec) -> list:
    """data.target as a list of column names or indices."""
    return list(spec.target) if isinstance(spec.target, (list, tuple)) else [spec.target]


def frame_columns(X, source: str, spec) -> Columns:
    """The input Columns of a DataFrame (pandas, polars) or pyarrow Table, as the data keys say."""
    table = frame_table(X, f"{source}: X")
    return _columns(table, source, True, None, spec)


def table_raw(table, source: str, named: bool, row, spec, targets) -> Raw:
    names = list(table.column_names) if named else None
    width = table.num_columns
    t_cols = [column_index(source, t, names, width, "target column") for t in targets]
    if len(set(t_cols)) != len(t_cols):
        raise DataError(f"{source}: data.target names the same column twice ({spec.target!r})")
    if width <= len(t_cols):
        raise DataError(f"{source}: needs at least one input column besides the target column {t_cols[0]}")
    y = _targets(table, t_cols, source, row, names)
    positions = [c for c in range(width) if c not in t_cols]
    inputs = table.select(positions)
    del table
    X = _columns(inputs, source, named, row, spec, positions)
    return Raw(
        X,
        y,
        source,
        lines=row if hasattr(row, "__getitem__") else None,
        feature_names=X.names if named else None,
        target_names=[names[c] for c in t_cols] if names is not None and len(t_cols) > 1 else None,
    )


def _columns(inputs, source: str, named: bool, row, spec, positions=None) -> Columns:
    """The input columns, data.features applied, analysed as data.categorical says."""
    if spec.features is not None:
        if not named:
            raise DataError(f"{source}: data.features names columns, but the file has no header")
        have = list(inputs.column_names)
        keep = spec.features if isinstance(spec.features, list) else None
        drop = spec.features.get("drop", []) if keep is None else []
        for name in keep or drop:
            if name not in have:
                raise DataError(f"{source}: data.features: no input column named {name!r}")
        chosen = keep if keep is not None else [n for n in have if n not in drop]
        inputs = inputs.select(chosen)
        positions = [positions[have.index(n)] for n in chosen] if positions is not None else None
        if inputs.num_columns == 0:
            raise DataError(f"{source}: data.features leaves no input column")
    categorical = spec.categorical
    if isinstance(categorical, list):
        if not named:
            raise DataError(f"{source}: data.categorical names columns, but the file has no header")
        for name in categorical:
            if name not in inputs.column_names:
                raise DataError(f"{source}: data.categorical: no input column named {name!r}")
    return Columns.from_table(
        inputs, source, named, row or _row_index, categorical=categorical, positions=positions
    )


def _targets(table, t_cols: list[int], source: str, row, names) -> np.ndarray:
    """The target column(s) as NumPy: float64 numbers, or stripped str labels for one text column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = []
    for c in t_cols:
        array = table.column(c)
        if pa.types.is_dictionary(array.type):
            array = array.cast(array.type.value_type)
        what = f"column {column_name(c, names)}"
        if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
            array = pc.utf8_trim_whitespace(array)
            blank = pc.or_kleene(pc.is_null(array), pc.equal(array, "")).to_numpy(zero_copy_only=False)
            if blank.any():
                raise DataError(f"{source}: {row(int(np.argmax(blank)))}, {what}: missing target value")
            try:
                columns.append(float_values(array))
            except pa.ArrowInvalid:
                if len(t_cols) > 1:
                    raise DataError(f"{source}: {what}: several target columns must hold numbers") from None
                columns.append(np.array(array.to_pylist(), dtype=str))
            continue
        if not (
            pa.types.is_integer(array.type)
            or pa.types.is_floating(array.type)
            or (pa.types.is_boolean(array.type))
        ):
            raise DataError(f"{source}: {what}: target of type {array.type}, neither numbers nor text")
        if array.null_count:
            i = int(np.argmax(pc.is_null(array).to_numpy(zero_copy_only=False)))
            raise DataError(f"{source}: {row(i)}, {what}: missing target value")
        columns.append(float_values(array))
    return columns[0] if len(columns) == 1 else np.column_stack(columns)


def _refuse_a_hidden_header(path, table, targets) -> None:
    """A header whose names look like numbers ("1,2,3,label") is read as data, and its target
    cell becomes a class of one row. When line 1's target cell is text that no other row has,
    while other rows have text there too, stop and ask rather than guess."""
    import pyarrow as pa

    t = targets[0]
    width = table.num_columns
    if len(targets) != 1 or isinstance(t, str) or table.num_rows < 3 or not -width <= t < width:
        return
    array = table.column(t % width)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return
    first, second = (str(v).strip() if v is not None else "" for v in array.slice(0, 2).to_pylist())
    if first and not is_number(first) and not is_number(second):
        rest = {str(v).strip() for v in array.slice(1).to_pylist() if v is not None}
        if first not in rest:
            raise DataError(
                f"{path}: line 1 may be a header (its target cell {first!r} appears in no other row); "
                "set data.header: true, or data.header: false if it is a data row"
            )
