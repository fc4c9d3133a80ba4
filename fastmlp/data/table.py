"""Tabular data through Apache Arrow: CSV, Parquet, Feather/Arrow IPC files and DataFrames.

read_table     a file -> (pyarrow.Table, named?, row namer). CSV: delimiter detected
               (or data.delimiter), quoting, gzip (told by the magic bytes), missing
               cells (empty, NA, NaN, null, ...); the header is detected as csvfile.py
               does. Parquet (.parquet, .pq) and Feather/Arrow IPC (.feather, .arrow,
               .ipc) carry their own names and types.
frame_table    a pandas or polars DataFrame, or a pyarrow Table, as a pyarrow.Table.
Columns        the input columns of a table, each turned once into NumPy: a number
               column into float64 (NaN where missing), a category column into codes
               into the column's distinct strings (-1 where missing). The encoder
               (fastmlp/encoding.py) turns chosen rows of them into one float array.

Which columns are categories (data.categorical): "auto" takes a text column as
categories unless most of its distinct values are numbers (then the others are
typos: refused, naming the first); "none" refuses any text column; a list names
them (numbers in a listed column become categories too). Errors are one DataError
line naming the file, the line (CSV) or row, and the column.

pyarrow is imported here only, when a table is read: `import fastmlp` stays fast.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .csvfile import check_widths, column_label, csv_text, is_number, looks_like_header, rows
from .formats import TABLES, format_of
from .source import GZIP_MAGIC, existing_file, reason

DELIMITERS = (",", ";", "\t", "|")
SNIFF_BYTES = 1 << 16
SNIFF_RECORDS = 20
# A text column with more distinct values than this (or than half its rows) is more likely
# names, ids or free text than categories: "auto" refuses it rather than one-hot encode it.
MAX_AUTO_CATEGORIES = 1000
NUMBER = "number"
CATEGORY = "category"
MISSING = ("error", "mean", "median", "most_frequent")  # data.missing: how a missing value is met


def pa():
    import pyarrow

    return pyarrow


def table_kind(path) -> str | None:
    """ "csv", "parquet" or "feather" by the file's name (formats.py), else None."""
    kind = format_of(path)
    return kind if kind in TABLES else None


# ---------------------------------------------------------------- reading files


def read_table(path, delimiter: str | None = None, header: bool | None = None, named_target: bool = False):
    """(pyarrow.Table, named, row) for a CSV, Parquet or Feather file; row(i) names row i in messages.

    named: whether the columns have real names (a CSV header; always for Parquet/Feather).
    named_target: the target is given by name, so a CSV must have a header.
    """
    path = existing_file(path, "data file")
    kind = table_kind(path)
    if kind == "parquet":
        return _read_arrow_file(path, "Parquet"), True, _row_index
    if kind == "feather":
        return _read_arrow_file(path, "Feather/Arrow IPC"), True, _row_index
    return read_csv_table(path, delimiter, header, named_target)


def _row_index(i: int) -> str:
    return f"row {int(i)}"


def _read_arrow_file(path: Path, what: str):
    pyarrow = pa()
    try:
        if what == "Parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        else:
            import pyarrow.feather as feather

            table = feather.read_table(path)
    except (pyarrow.ArrowException, OSError, ValueError) as e:
        raise DataError(f"{path}: not a readable {what} file ({reason(e)})") from None
    if table.num_columns == 0:
        raise DataError(f"{path}: the {what} file has no columns")
    if table.num_rows == 0:
        raise DataError(f"{path}: the dataset is empty (no rows)")
    return table


def read_csv_table(path: Path, delimiter: str | None, header: bool | None, named_target: bool = False):
    """(Table, named, row) for a CSV file, plain or gzip; every value as Arrow infers its type."""

    pyarrow = pa()
    gzipped = _is_gzip(path)
    delimiter, header = csv_dialect(path, gzipped, delimiter, header, named_target)
    try:
        table = _arrow_csv(path, gzipped, delimiter, header, newlines_in_values=False)
    except pyarrow.ArrowInvalid:
        try:  # a quoted cell with a newline in it: the slower parse that allows them
            table = _arrow_csv(path, gzipped, delimiter, header, newlines_in_values=True)
        except (pyarrow.ArrowException, OSError, EOFError) as e:
            _explain(path, delimiter, e)
    except (pyarrow.ArrowException, OSError, EOFError) as e:
        _explain(path, delimiter, e)
    if header:
        table = table.rename_columns(header_names(table.column_names, path))
    if table.num_rows == 0:
        raise DataError(f"{path}: the dataset is empty (no data rows)")
    return table, header, CsvLines(path, delimiter, header)


def csv_dialect(path: Path, gzipped: bool, delimiter, header, named_target: bool):
    """(delimiter, header) of a CSV file: as data.delimiter and data.header set them, else told
    from its first records (a header is assumed when the target is named by a column name);
    DataError when the file holds no record."""
    head = _head_text(path, gzipped)
    delimiter = delimiter or sniff_delimiter(head)
    records = _records(head, delimiter)
    if not records:
        raise DataError(f"{path}: the dataset is empty (no rows)")
    if header is None:
        header = named_target or looks_like_header(records)
    return delimiter, bool(header)


def header_names(names, path) -> list[str]:
    """A CSV header's column names, stripped; DataError naming one given twice."""
    names = [n.strip() for n in names]
    _check_unique(names, f"{path}: the header names column {{!r}} more than once")
    return names


def _arrow_csv(path: Path, gzipped: bool, delimiter: str, header: bool, newlines_in_values: bool):
    import pyarrow.csv as pacsv

    pyarrow = pa()
    stream = pyarrow.input_stream(str(path), compression="gzip" if gzipped else None)
    return pacsv.read_csv(
        stream,
        read_options=pacsv.ReadOptions(autogenerate_column_names=not header),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=newlines_in_values),
        convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
    )


def _is_gzip(path: Path) -> bool:
    """Told by the magic bytes, as source.read_bytes tells it, not by the name."""
    try:
        with path.open("rb") as f:
            return f.read(2) == GZIP_MAGIC
    except OSError as e:
        raise DataError(f"{path}: cannot read ({reason(e)})") from None


def _head_text(path: Path, gzipped: bool) -> str:
    """The first SNIFF_BYTES of the file as text (gunzipped); DataError for what is not CSV text."""
    try:
        with gzip.open(path, "rb") if gzipped else path.open("rb") as f:
            data = f.read(SNIFF_BYTES)
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: cannot read ({reason(e)})") from None
    text = csv_text(path, data, cut=len(data) == SNIFF_BYTES)
    if len(data) == SNIFF_BYTES:
        text = text[: text.rfind("\n") + 1] or text  # drop the last, cut-off line
    return text


def _records(text: str, delimiter: str) -> list[list[str]]:
    """The first SNIFF_RECORDS non-blank records of text."""
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        out = []
        for record in reader:
            if any(cell.strip() for cell in record):
                out.append(record)
                if len(out) == SNIFF_RECORDS:
                    break
        return out
    except csv.Error:
        return []


def sniff_delimiter(text: str) -> str:
    """The delimiter among , ; tab | that splits the first records into the most columns, the same
    number in each; a comma when none does (a one-column file, or a ragged one refused later)."""
    best, best_width = ",", 1
    for d in DELIMITERS:
        widths = {len(r) for r in _records(text, d)}
        if len(widths) == 1 and (w := widths.pop()) > best_width:
            best, best_width = d, w
    return best


def _explain(path: Path, delimiter: str, error: Exception):
    """Arrow refused the file: the line-naming message of the careful Python reader, when it finds
    the fault; else Arrow's own first line."""
    records, lines = rows(path, delimiter)
    if not records:
        raise DataError(f"{path}: the dataset is empty (no rows)") from None
    check_widths(path, records, lines, len(records[0]))
    raise DataError(f"{path}: malformed CSV ({reason(error)})") from None


class CsvLines:
    """row(i) -> "line N": the file line where data row i starts, found only when a message needs it
    (Python's csv reader, once, over the file)."""

    def __init__(self, path: Path, delimiter: str, header: bool):
        self.path, self.delimiter, self.header = path, delimiter, header
        self._lines = None

    def __call__(self, i: int) -> str:
        return f"line {self[i]}"

    def __getitem__(self, i: int) -> int:
        if self._lines is None:
            _, lines = rows(self.path, self.delimiter, keep_blank_records=True)
            self._lines = lines[1:] if self.header else lines
        return int(self._lines[i]) if 0 <= i < len(self._lines) else int(i) + 1 + int(self.header)


def _check_unique(names: list[str], message: str) -> None:
    """DataError (message with the first doubled name) when a name appears more than once."""
    doubled = sorted(n for n, k in Counter(names).items() if k > 1)
    if doubled:
        raise DataError(message.format(doubled[0]))


# ---------------------------------------------------------------- DataFrames


def is_table_like(X) -> bool:
    """True for a pyarrow Table, a pandas DataFrame or a polars DataFrame (told without importing them)."""
    module = type(X).__module__.split(".")[0]
    return (module == "pyarrow" and hasattr(X, "schema")) or (
        module in ("pandas", "polars") and hasattr(X, "columns")
    )


def frame_table(X, source: str = "X"):
    """A DataFrame (pandas, polars) or pyarrow Table as a pyarrow.Table with str column names."""
    pyarrow = pa()
    module = type(X).__module__.split(".")[0]
    try:
        if module == "pyarrow":
            table = X
        elif module == "polars":
            table = X.to_arrow()
        else:
            table = pyarrow.Table.from_pandas(X, preserve_index=False)
    except (pyarrow.ArrowException, TypeError, ValueError) as e:
        raise DataError(f"{source}: cannot read the DataFrame's columns ({reason(e)})") from None
    names = [str(n) for n in table.column_names]
    _check_unique(names, f"{source}: column {{!r}} appears more than once")
    return table.rename_columns(names)


# ---------------------------------------------------------------- columns


@dataclass
class Column:
    """One input column as NumPy: numbers (float64, NaN = missing) or codes into strings (-1 = missing)."""

    name: str
    kind: str  # NUMBER or CATEGORY
    values: np.ndarray | None = None  # NUMBER
    codes: np.ndarray | None = None  # CATEGORY: index into strings
    strings: np.ndarray | None = None  # CATEGORY: the column's distinct values
    label: str = ""  # how messages name it: the file's 0-based column, and its name when it has one

    def missing(self) -> np.ndarray:
        return np.isnan(self.values) if self.kind == NUMBER else self.codes < 0


class Columns:
    """The input columns of a table, analysed once; what Raw.X holds for tabular data."""

    ndim = 2

    def __init__(self, columns: list[Column], named: bool, source: str, row=_row_index):
        self.columns, self.named, self.source, self.row = columns, named, source, row

    @property
    def shape(self) -> tuple[int, int]:
        n = len(self.columns[0].values if self.columns[0].kind == NUMBER else self.columns[0].codes)
        return n, len(self.columns)

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @classmethod
    def from_table(
        cls, table, source: str, named: bool, row=_row_index, categorical="auto", kinds=None, positions=None
    ):
        """Columns of table (every column of it), each analysed as categorical says, or as kinds
        ({name: kind}, a fitted encoder's) say. positions: each column's index in the file, for
        messages. The table's columns are released one by one."""
        columns = []
        names = list(table.column_names)
        positions = positions if positions is not None else range(len(names))
        for name, at in zip(names, positions, strict=True):
            label = column_label(at, name if named else None)
            array = table.column(0)
            table = table.remove_column(0)  # free each Arrow column once it is NumPy
            if kinds is not None:
                want = kinds[name]
            elif isinstance(categorical, (list, tuple)):
                want = CATEGORY if name in categorical else NUMBER
            else:
                want = None if categorical == "auto" else NUMBER
            columns.append(_column(array, name, label, want, source, row, explicit=kinds is None))
        return cls(columns, named, source, row)

    def select(self, names: list[str], what: str = "column") -> Columns:
        """These columns in this order; DataError naming a missing one (with the closest name)."""
        have = {c.name: c for c in self.columns}
        for n in names:
            if n not in have:
                close = difflib.get_close_matches(n, list(have), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise DataError(f"{self.source}: no {what} named {n!r}{hint}")
        return Columns([have[n] for n in names], self.named, self.source, self.row)


def _column(array, name: str, label: str, want: str | None, source: str, row, explicit: bool) -> Column:
    """One Arrow column as a Column of kind want (None: decide, the "auto" rule)."""
    pyarrow = pa()
    import pyarrow.compute as pc

    t = array.type
    if pyarrow.types.is_dictionary(t):
        array, t = array.cast(t.value_type), t.value_type
    if (
        pyarrow.types.is_boolean(t)
        or pyarrow.types.is_integer(t)
        or pyarrow.types.is_floating(t)
        or (pyarrow.types.is_decimal(t))
    ):
        if want == CATEGORY:
            return _categories(pc.cast(array, pyarrow.string()), name, label)
        return _numbers(float_values(array), name, label, source, row)
    if not (pyarrow.types.is_string(t) or pyarrow.types.is_large_string(t)):
        raise DataError(
            f"{source}: column {label} has type {t}, neither numbers nor text; "
            "drop it with data.features: {drop: [...]} or convert it first"
        )
    text = pc.utf8_trim_whitespace(array)
    text = pc.if_else(pc.equal(text, ""), None, text)  # a blank cell is a missing value
    if want == CATEGORY:
        return _categories(text, name, label)
    try:
        values = float_values(pc.cast(text, pyarrow.float64()))
    except pyarrow.ArrowInvalid:
        values = None
    if values is not None:
        return _numbers(values, name, label, source, row)
    distinct = pc.unique(pc.drop_null(text)).to_pylist()
    numeric = sum(is_number(v) for v in distinct)
    if want is None and numeric * 2 < len(distinct):
        n = len(array)
        if len(distinct) > MAX_AUTO_CATEGORIES or (n >= 100 and len(distinct) > n / 2):
            raise DataError(
                f"{source}: column {label} has {len(distinct)} distinct text values in {n} rows "
                "(names or ids, not categories?); drop it with data.features: {drop: [...]}, "
                "or list it in data.categorical to one-hot encode it anyway"
            )
        return _categories(text, name, label)
    values = text.to_numpy(zero_copy_only=False)
    i = next(i for i, v in enumerate(values) if v is not None and not is_number(v))
    hint = (
        "the model was trained with numbers in this column"
        if not explicit
        else "list it in data.categorical if it holds categories"
        if want is None
        else "to encode it as categories, set data.categorical: auto or list it there"
    )
    raise DataError(f"{source}: {row(i)}, column {label}: not a number: {values[i]!r} ({hint})")


def _numbers(values: np.ndarray, name: str, label: str, source: str, row) -> Column:
    """A number Column of values; DataError naming the first infinite one (NaN is a missing value)."""
    bad = np.isinf(values)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"{source}: {row(i)}, column {label}: not finite ({values[i]})")
    return Column(name, NUMBER, values=values, label=label)


def float_values(array) -> np.ndarray:
    """An Arrow number column (an Array or a ChunkedArray) as a new float64 NumPy array, NaN
    where a value is missing. Read from the Arrow data buffers: pyarrow's own to_numpy imports
    pandas whenever it is installed, a quarter of a second of every start that reads a table."""
    pyarrow = pa()
    import pyarrow.compute as pc

    if not pyarrow.types.is_float64(array.type):
        array = pc.cast(array, pyarrow.float64())
    if array.null_count:
        array = pc.fill_null(array, float("nan"))
    chunks = [c for c in getattr(array, "chunks", [array]) if len(c)]
    # buffers() is (validity, values); offset counts values into a sliced chunk's buffer.
    parts = [np.frombuffer(c.buffers()[1], np.float64, count=len(c), offset=8 * c.offset) for c in chunks]
    return np.concatenate(parts) if parts else np.empty(0)


def _categories(text, name: str, label: str) -> Column:
    """A text column as codes into its distinct values (-1 where missing)."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(text)
    if hasattr(encoded, "combine_chunks"):
        encoded = encoded.combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    codes = np.where(np.isnan(codes), -1, codes).astype(np.int64) if codes.dtype.kind == "f" else codes
    strings = np.array(encoded.dictionary.to_pylist(), dtype=str)
    return Column(name, CATEGORY, codes=codes.astype(np.int64, copy=False), strings=strings, label=label)
