"""Large numeric tables read in blocks straight into the float matrix the network trains on.

The general table path (tabular.py) holds the whole Arrow table, then a float64 copy of every
column, then the encoded floats: about 4-9x the float32 data at its peak. For the common large
table — every input column numbers, no gaps, the target one or more columns — none of that is
needed: a CSV (cut at line ends into blocks of CSV_BLOCK_BYTES, each parsed by pyarrow's
threaded read_csv, the column types of the first block kept for the rest, as pyarrow's own
streaming reader keeps them) or a Parquet file (its batches) is read a block of rows at a
time, each block's inputs cast into a float block of the training dtype, the target column kept
as Arrow values (small), and the blocks joined once at the end (a Parquet file says its row
count, so its blocks are written in place). Peak: the blocks and the joined matrix, 2x the
float data, plus one block of Arrow values.

Whatever this path does not cover, it hands back (None) before anything is kept, and the
general path reads the file and says what is wrong in its own words: a text or boolean input
column (categories), data.features or a list of data.categorical, a missing or non-finite input
value, a line end inside a quoted cell, gzip (read whole either way), a header that may hide
in the first data row. Both paths
give the same Raw: float32(float64(value)) for every cell, the same labels, the same names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError
from .csvfile import column_index
from .formats import format_of
from .raw import Raw
from .tabular import _refuse_a_hidden_header, _targets

# Bytes of CSV text per block: large enough for read_csv's threads to share, small against the
# data (its Arrow table is about the size of the text).
CSV_BLOCK_BYTES = 1 << 26
# Bytes per parse task inside a block: a few per block, so both of read_csv's threads have work,
# and few column chunks to copy out.
PARSE_BLOCK_BYTES = 1 << 23


def read_numeric(path, spec, targets, dtype) -> Raw | None:
    """Raw(X: a dense `dtype` matrix, y) from a numeric CSV or Parquet file, or None when the
    file or the data keys need the general path (tabular.read_tabular)."""
    from .table import _is_gzip

    if spec.features is not None or isinstance(spec.categorical, (list, tuple)):
        return None
    kind = format_of(path)
    if kind == "parquet":
        found = _parquet_batches(path)
    elif kind == "csv" and not _is_gzip(path):
        found = _csv_batches(path, spec, targets)
    else:
        return None
    if found is None:
        return None
    batches, names, named, row, n = found
    width = len(names)
    try:
        t_cols = [
            column_index(str(path), t, names if named else None, width, "target column") for t in targets
        ]
    except DataError:
        return None  # a target not there: the general path names the fault
    if len(set(t_cols)) != len(t_cols) or width <= len(t_cols):
        return None
    inputs = [c for c in range(width) if c not in t_cols]
    read = _read_blocks(batches, inputs, t_cols, np.dtype(dtype), n)
    if read is None:
        return None
    X, target_table = read
    # The memory pool keeps the freed Arrow blocks for reuse: hand them back before the splits
    # copy X, or they stay resident through the rest of the load.
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
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
    value that is not a finite number (the general path then says which). n: the row count the
    file states (Parquet) or an estimate of it from the first block (CSV): the blocks are written
    straight into X, pages beyond the last row never touched; rows past it are joined at the end."""
    import pyarrow as pa

    whole = np.empty((n or 0, len(inputs)), dtype)
    more, targets, done = [], [[] for _ in t_cols], 0
    try:
        for batch in batches:
            rows = batch.num_rows
            fits = not more and done + rows <= len(whole)  # once past the estimate, rows keep their order
            block = whole[done : done + rows] if fits else np.empty((rows, len(inputs)), dtype)
            for j, c in enumerate(inputs):
                column = batch.column(c)
                if column.null_count or not (
                    pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
                ):
                    return None
                _write_column(block[:, j], column)
            # Column sums are finite when every value is (an overflowing sum: look closer).
            with np.errstate(over="ignore", invalid="ignore"):
                if not np.isfinite(block.sum(axis=0)).all() and not np.isfinite(block).all():
                    return None
            if fits:
                done += rows
            else:
                more.append(block)
            for k, c in enumerate(t_cols):
                targets[k].append(batch.column(c))
    except (pa.ArrowException, OSError):
        return None  # a later block with text in a number column, a damaged Parquet page, say
    X = np.concatenate([whole[:done], *more]) if more else whole[:done]
    if not len(X):
        return None
    table = pa.table({str(k): pa.chunked_array(chunks) for k, chunks in enumerate(targets)})
    return X, table


def _write_column(out, column):
    """out[:] = the Arrow number column, chunk by chunk from its value buffers (float64 first for
    integers, as the general path converts them); a float32 overflow becomes inf (refused)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_float64(column.type) or pa.types.is_float32(column.type)):
        column = pc.cast(column, pa.float64())
    start = 0
    for chunk in getattr(column, "chunks", [column]):
        n = len(chunk)
        if n:
            dtype = np.float64 if pa.types.is_float64(chunk.type) else np.float32
            values = np.frombuffer(chunk.buffers()[1], dtype, count=chunk.offset + n)[chunk.offset :]
            with np.errstate(over="ignore"):
                out[start : start + n] = values
        start += n


def _parquet_batches(path):
    """(record batches, column names, named, row, row count) of a Parquet file, read in batches;
    None when it cannot be opened (the general path says why)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .table import _row_index

    try:
        reader = pq.ParquetFile(path, pre_buffer=False)  # buffering ahead held ~0.7 GB more at peak
    except (pa.ArrowException, OSError, ValueError):
        return None
    names = list(reader.schema_arrow.names)
    return reader.iter_batches(batch_size=1 << 16), names, True, _row_index, reader.metadata.num_rows


def _csv_batches(path, spec, targets):
    """(tables of consecutive rows, column names, named, row, an estimate of the row count) of a
    plain CSV, with the delimiter and header decided as the general path decides them; None
    when the file's start already says it is not for this path."""
    import pyarrow as pa

    from .table import CsvLines, csv_dialect, header_names

    try:
        named_target = any(isinstance(t, str) for t in targets)
        delimiter, header = csv_dialect(path, False, spec.delimiter, spec.header, named_target)
        first = _csv_block(path, delimiter, header, None, 0)
        if first is None:
            return None
        table, end = first
        names = header_names(table.column_names, path) if header else list(table.column_names)
    except (DataError, pa.ArrowException, OSError):
        return None  # an empty file, a doubled column name, rows that do not parse: the general path
    blocks = _csv_blocks(path, delimiter, table, end)
    # Rows the file may hold, from the first block's bytes per row, with a margin: X is
    # allocated for them and only the rows written are ever touched.
    estimate = int(Path(path).stat().st_size / max(end / max(table.num_rows, 1), 1) * 1.05) + 1024
    return blocks, names, header, CsvLines(path, delimiter, header), estimate


def _csv_blocks(path, delimiter, first, end):
    """The first block's table, then the rest of the file's, each parsed with the first's names
    and types."""
    yield first
    schema = (first.column_names, {f.name: f.type for f in first.schema})
    while (block := _csv_block(path, delimiter, False, schema, end)) is not None:
        table, end = block
        yield table


def _csv_block(path, delimiter, header, schema, start):
    """(table, end): the rows of the CSV from byte `start` to the line end at or after start +
    CSV_BLOCK_BYTES; None at the end of the file. schema: (names, types) to parse with (the
    first block infers them). A block that does not parse raises pyarrow.ArrowInvalid: the
    file then goes the general way."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(CSV_BLOCK_BYTES)
        if not data:
            return None
        # Cut after the block's last line end (no copy); at the end of the file, keep it all.
        cut = data.rfind(b"\n") + 1 if len(data) == CSV_BLOCK_BYTES else len(data)
        if cut == 0 or (b'"' in data and data.count(b'"', 0, cut) % 2):
            # No line end in the block, or the cut falls inside a quoted cell (a line end in a
            # value): read on to the line end that closes it.
            data, cut = data + f.readline(), None
            odd = data.count(b'"') % 2
            while odd and (line := f.readline()):
                data += line
                odd ^= line.count(b'"') % 2
    data = memoryview(data)[:cut]
    if schema is None:
        read = pacsv.ReadOptions(autogenerate_column_names=not header, block_size=PARSE_BLOCK_BYTES)
        convert = pacsv.ConvertOptions(strings_can_be_null=True)
    else:
        read = pacsv.ReadOptions(column_names=schema[0], block_size=PARSE_BLOCK_BYTES)
        convert = pacsv.ConvertOptions(strings_can_be_null=True, column_types=schema[1])
    parse = pacsv.ParseOptions(delimiter=delimiter)
    table = pacsv.read_csv(
        pa.py_buffer(data), read_options=read, parse_options=parse, convert_options=convert
    )
    return table, start + len(data)
