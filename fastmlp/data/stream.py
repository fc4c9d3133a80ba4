"""Large numeric tables read in blocks straight into the float matrix the network trains on.

The general table path (tabular.py) holds the whole Arrow table, then a float64 copy of every
column, then the encoded floats: about 4-9x the float32 data at its peak. For the common large
table — every input column numbers, no gaps, the target one or more columns — none of that is
needed: a CSV (pyarrow's streaming reader) or a Parquet file (its row groups) is read a block
of rows at a time, each block's inputs cast into a float block of the training dtype, the
target column kept as Arrow values (small), and the blocks joined once at the end. Peak: the
blocks and the joined matrix, 2x the float data, plus one block of Arrow values.

Whatever this path does not cover, it hands back (None) before anything is kept, and the
general path reads the file and says what is wrong in its own words: a text or boolean input
column (categories), data.features or a list of data.categorical, a missing or non-finite input
value, gzip (read whole either way), a header that may hide in the first data row. Both paths
give the same Raw: float32(float64(value)) for every cell, the same labels, the same names.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .csvfile import column_index
from .formats import format_of
from .raw import Raw
from .tabular import _refuse_a_hidden_header, _targets

# Bytes of CSV text per block of the streaming reader (pyarrow's ReadOptions.block_size).
CSV_BLOCK_BYTES = 1 << 24


def read_numeric(path, spec, targets, dtype) -> Raw | None:
    """Raw(X: a dense `dtype` matrix, y) from a numeric CSV or Parquet file, or None when the
    file or the data keys need the general path (tabular.read_tabular)."""
    from .table import _is_gzip

    if spec.features is not None or isinstance(spec.categorical, (list, tuple)):
        return None
    kind = format_of(path)
    n = None
    if kind == "parquet":
        batches, names, named, row, n = _parquet_batches(path)
    elif kind == "csv" and not _is_gzip(path):
        found = _csv_batches(path, spec, targets)
        if found is None:
            return None
        batches, names, named, row = found
    else:
        return None
    width = len(names)
    t_cols = [column_index(str(path), t, names if named else None, width, "target column") for t in targets]
    if len(set(t_cols)) != len(t_cols) or width <= len(t_cols):
        return None  # the general path names the fault
    inputs = [c for c in range(width) if c not in t_cols]
    read = _read_blocks(batches, inputs, t_cols, np.dtype(dtype), n)
    if read is None:
        return None
    X, target_table = read
    try:
        if not named and spec.header is None:
            _refuse_a_hidden_header(path, target_table, [0])
        y = _targets(target_table, list(range(len(t_cols))), str(path), row, None)
    except DataError:
        return None  # a missing target value, say: the general path names its column
    return Raw(
        X,
        y,
        str(path),
        lines=row if hasattr(row, "__getitem__") else None,
        feature_names=[names[c] for c in inputs] if named else None,
        target_names=[names[c] for c in t_cols] if named and len(t_cols) > 1 else None,
    )


def _read_blocks(batches, inputs, t_cols, dtype, n=None):
    """(X, a table of the target columns) from the record batches, or None at the first input
    value that is not a finite number (the general path then says which). n: the row count when
    the file says it (Parquet): the blocks are then written straight into X."""
    import pyarrow as pa

    blocks, targets, done = [], [[] for _ in t_cols], 0
    whole = np.empty((n, len(inputs)), dtype) if n else None
    try:
        for batch in batches:
            if whole is not None:
                if done + batch.num_rows > n:
                    return None
                block = whole[done : done + batch.num_rows]
            else:
                block = np.empty((batch.num_rows, len(inputs)), dtype)
            for j, c in enumerate(inputs):
                column = batch.column(c)
                if column.null_count or not (
                    pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
                ):
                    return None
                values = column.to_numpy(zero_copy_only=False)
                if values.dtype.kind != "f":
                    values = values.astype(np.float64)  # as the general path: float64 first
                with np.errstate(over="ignore"):  # a float32 overflow becomes inf: refused below
                    block[:, j] = values
            if not np.isfinite(block).all():
                return None
            done += batch.num_rows
            if whole is None:
                blocks.append(block)
            for k, c in enumerate(t_cols):
                targets[k].append(batch.column(c))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None  # a later block with text in a number column, say
    if whole is not None:
        X = whole if done == n else None
    else:
        X = np.concatenate(blocks) if len(blocks) > 1 else (blocks[0] if blocks else None)
        blocks.clear()
    if X is None or not len(X):
        return None
    table = pa.table({str(k): pa.chunked_array(chunks) for k, chunks in enumerate(targets)})
    return X, table


def _parquet_batches(path):
    """(record batches, column names, named, row, row count) of a Parquet file, read in batches."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .table import _row_index

    try:
        reader = pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError):
        return iter(()), [], True, _row_index, None  # unreadable: the general path says so
    names = list(reader.schema_arrow.names)
    return reader.iter_batches(batch_size=1 << 16), names, True, _row_index, reader.metadata.num_rows


def _csv_batches(path, spec, targets):
    """(record batches, column names, named, row) of a plain CSV through pyarrow's streaming
    reader, with the delimiter and header decided as the general path decides them; None when
    the file's first block already says it is not for this path."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from .csvfile import looks_like_header
    from .table import CsvLines, _check_unique, _head_text, _records, sniff_delimiter

    head = _head_text(path, False)
    delimiter = spec.delimiter or sniff_delimiter(head)
    records = _records(head, delimiter)
    if not records:
        return None
    header = spec.header
    if header is None:
        header = any(isinstance(t, str) for t in targets) or looks_like_header(records)
    try:
        reader = pacsv.open_csv(
            str(path),
            read_options=pacsv.ReadOptions(autogenerate_column_names=not header, block_size=CSV_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
        )
    except (pa.ArrowException, OSError, EOFError):
        return None
    names = list(reader.schema.names)
    if header:
        names = [n.strip() for n in names]
        try:
            _check_unique(names, "{}")
        except DataError:
            return None
    return reader, names, bool(header), CsvLines(path, delimiter, bool(header))
