"""Large numeric tables read in blocks (data/stream.py): the same Dataset as the general table
path, byte for byte, whichever way the file is read; a fall-back to the general path for
whatever it does not cover, with the general path's messages; and the memory bound, measured in
a subprocess on a generated CSV of a few hundred MB."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from fastmlp.data import load_dataset, stream
from fastmlp.errors import DataError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pacsv = pytest.importorskip("pyarrow.csv")

SPLITS = {"validation_split": 0.1, "test_split": 0.2}


def numeric_table(n=3000, d=7, seed=0, labels="text"):
    rng = np.random.default_rng(seed)
    columns = {f"x{j}": np.round(rng.normal(size=n) * 10.0 ** rng.integers(-3, 4), 6) for j in range(d)}
    columns["count"] = rng.integers(0, 1000, n)  # an integer column: float64 first, as the general path
    if labels == "text":
        columns["label"] = np.array(["ant", "bee", "cat"])[rng.integers(0, 3, n)]
    else:
        columns["label"] = rng.normal(size=n)
    return pa.table(columns)


def both_ways(monkeypatch, spec, dtype="float32"):
    """The Dataset read in blocks, and read by the general path (the block reader turned off)."""
    streamed = load_dataset(spec, dtype=dtype, seed=3)
    with monkeypatch.context() as m:
        m.setattr(stream, "read_numeric", lambda *args: None)
        general = load_dataset(spec, dtype=dtype, seed=3)
    return streamed, general


def assert_same(a, b):
    for split in ("train", "val", "test"):
        (Xa, ya), (Xb, yb) = a.split(split), b.split(split)
        assert Xa.dtype == Xb.dtype and np.array_equal(Xa, Xb) and np.array_equal(ya, yb)
    assert a.feature_names == b.feature_names
    assert (a.classes is None and b.classes is None) or list(a.classes) == list(b.classes)
    assert a.task == b.task and a.encoder is None and b.encoder is None
    assert np.array_equal(a.preprocessing.offset, b.preprocessing.offset)


@pytest.mark.parametrize("kind", ["csv", "parquet", "headerless csv"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_block_reader_gives_the_general_paths_dataset(tmp_path, monkeypatch, kind, dtype):
    table = numeric_table()
    path = tmp_path / ("t.parquet" if kind == "parquet" else "t.csv")
    if kind == "parquet":
        pq.write_table(table, path, row_group_size=500)  # several row groups, several batches
    else:
        pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(include_header=kind == "csv"))
    spec = {"path": str(path), "target": "label" if kind != "headerless csv" else -1, **SPLITS}
    calls = []
    real = stream.read_numeric
    monkeypatch.setattr(stream, "read_numeric", lambda *a: calls.append(1) or real(*a))
    streamed = load_dataset(spec, dtype=dtype, seed=3)
    assert calls and real(path, _spec(spec), [spec["target"]], dtype) is not None  # it took the block path
    monkeypatch.setattr(stream, "read_numeric", lambda *a: None)
    general = load_dataset(spec, dtype=dtype, seed=3)
    assert_same(streamed, general)
    assert streamed.X_train.dtype == np.dtype(dtype)


def _spec(mapping):
    from fastmlp.data.spec import DataSpec

    return DataSpec.from_mapping(mapping)


def test_a_csv_of_many_blocks_and_a_regression_target(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "CSV_BLOCK_BYTES", 1 << 14)  # dozens of blocks of a small file
    path = tmp_path / "r.csv"
    pacsv.write_csv(numeric_table(labels="values"), path)
    streamed, general = both_ways(monkeypatch, {"path": str(path), "target": "label", **SPLITS})
    assert streamed.task == "regression"
    assert_same(streamed, general)


@pytest.mark.parametrize(
    "body, message",
    [
        (
            "a,b,label\n1,2,x\n3,,y\n5,6,x\n",
            r"line 3, column 1 \('b'\): missing value",
        ),  # a gap: the general path's words
        ("a,b,label\n1,red,x\n3,blue,y\n5,red,x\n", None),  # a text column: one-hot categories
        ("a,b,label\n1,2,x\n3,inf,y\n5,6,x\n", r"line 3"),  # not finite
    ],
)
def test_what_the_block_reader_does_not_cover_goes_the_general_way(tmp_path, body, message):
    path = tmp_path / "t.csv"
    path.write_text(body)
    assert stream.read_numeric(path, _spec({"path": str(path)}), [-1], "float32") is None
    spec = {"path": str(path), "validation_split": 0, "test_split": 0}
    if message is None:
        assert load_dataset(spec).encoder is not None  # the text column was encoded
    else:
        with pytest.raises(DataError, match=message):
            load_dataset(spec)


MEASURE = textwrap.dedent(
    """
    import json, resource, sys
    from fastmlp.data import load_dataset
    import pyarrow.csv, numpy  # what the load imports, counted before the baseline
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ds = load_dataset({"path": sys.argv[1], "target": "label"})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    n = len(ds.X_train) + len(ds.X_val) + len(ds.X_test)
    print(json.dumps({"peak_mb": (peak - base) / 1024, "rows": n, "cols": ds.X_train.shape[1]}))
    """
)


@pytest.mark.slow
def test_a_large_csv_loads_within_twice_its_float32_size(tmp_path):
    """About 250 MB of CSV (500,000 rows x 40 numbers + a label): the whole load — reading,
    splitting, standardising — peaks at no more than 2x its 80 MB of float32 plus a fixed
    allowance (Arrow's blocks, the labels, the split indices). The general path needed about 7x."""
    n, d = 500_000, 40
    rng = np.random.default_rng(0)
    path = tmp_path / "big.csv"
    columns = {f"x{j}": rng.normal(size=n).astype(np.float32) for j in range(d)}
    columns["label"] = rng.integers(0, 10, n)
    pacsv.write_csv(pa.table(columns), path)
    assert path.stat().st_size > 200e6
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout)
    data_mb = n * d * 4 / 2**20
    assert result["rows"] == n and result["cols"] == d
    assert result["peak_mb"] <= 2 * data_mb + 120, result


@pytest.mark.parametrize("label", ["plain", "a, comma", "a\nline end"])
def test_quoted_cells_and_block_cuts_give_the_general_paths_dataset(tmp_path, monkeypatch, label):
    """Blocks of 200 bytes cut a quoted file everywhere: a cut is never made inside a quoted cell
    (one holding a line end included), and the Dataset is the general path's."""
    monkeypatch.setattr(stream, "CSV_BLOCK_BYTES", 200)
    rng = np.random.default_rng(1)
    lines = ['"x","y","label"']
    for i in range(300):
        text = label if i % 7 == 0 else ("one" if i % 2 else "two")
        lines.append(f'{rng.normal():.5f},{rng.integers(0, 9)},"{text}"')
    path = tmp_path / "q.csv"
    path.write_text("\n".join(lines) + "\n")
    streamed, general = both_ways(monkeypatch, {"path": str(path), "target": "label", **SPLITS})
    assert_same(streamed, general)
    if "\n" not in label:  # with a line end in a cell either way may read it: they agree above
        assert stream.read_numeric(path, _spec({"path": str(path)}), ["label"], "float32") is not None


def test_rows_beyond_the_first_blocks_estimate_keep_their_order(tmp_path, monkeypatch):
    """The first block's long rows make the row estimate far too small for the short rows after
    them: the rows past it are joined on in order, and the Dataset is the general path's."""
    monkeypatch.setattr(stream, "CSV_BLOCK_BYTES", 4096)
    rng = np.random.default_rng(2)
    lines = ["a,b,label"]
    lines += [f"{rng.normal() * 1e6:.9f},{rng.normal() * 1e6:.9f},{i % 3}" for i in range(60)]
    lines += [f"{rng.integers(0, 9)},{rng.integers(0, 9)},{i % 3}" for i in range(20000)]
    path = tmp_path / "uneven.csv"
    path.write_text("\n".join(lines) + "\n")
    streamed, general = both_ways(monkeypatch, {"path": str(path), "target": "label", **SPLITS})
    assert_same(streamed, general)


def test_an_unreadable_or_damaged_parquet_file_gets_the_general_paths_line(tmp_path):
    """Not a Parquet file at all, or one with a damaged data page: the one DataError line the
    general path gives, not a message about the target column or a bare OSError."""
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1garbagePAR1")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        load_dataset({"path": str(bad), "target": "label"}, dtype="float32")
    rng = np.random.default_rng(0)
    damaged = tmp_path / "damaged.parquet"
    n = 20000
    table = pa.table({"x": rng.normal(size=n), "y": rng.normal(size=n), "label": rng.integers(0, 3, n)})
    pq.write_table(table, damaged, row_group_size=5000)
    data = bytearray(damaged.read_bytes())
    at = int(len(data) * 0.36)  # inside a data page of a later row group
    data[at : at + 64] = bytes(b ^ 0xFF for b in data[at : at + 64])
    damaged.write_bytes(bytes(data))
    with pytest.raises(DataError, match="not a readable Parquet file"):
        load_dataset({"path": str(damaged), "target": "label"}, dtype="float32")
