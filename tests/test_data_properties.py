"""Property tests: any bytes given to the CSV and IDX loaders either load or raise DataError, nothing else."""

import gzip
import struct
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastmlp.data import load_dataset
from fastmlp.data.idx import TYPES, parse_idx, read_idx
from fastmlp.errors import DataError

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CSV_TEXT = st.text(alphabet='0123456789.,-+e \n\r\t"abcinfNA\x00é', max_size=300)
CSV_ROWS = st.lists(
    st.lists(
        st.one_of(
            st.integers(-5, 5).map(str),
            st.floats(allow_nan=True).map(repr),
            st.sampled_from(["", "x", "cat", "inf", "nan", " 1 "]),
        ),
        min_size=1,
        max_size=4,
    ),
    max_size=8,
).map(lambda rows: "\n".join(",".join(r) for r in rows))


def load_bytes(data: bytes, name: str, **spec):
    """load_dataset on a file holding data; returns the Dataset or the DataError."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(data)
        try:
            return load_dataset({"path": str(path), **spec})
        except DataError as e:
            assert "\n" not in str(e)
            return e


def check_loaded(result):
    if isinstance(result, DataError):
        return
    for X in (result.X_train, result.X_val, result.X_test):
        assert X is None or (X.dtype == np.float32 and np.all(np.isfinite(X)))
    if result.task == "classification":
        assert result.y_train.min() >= 0 and result.y_train.max() < result.n_outputs


@SETTINGS
@given(st.binary(max_size=400))
def test_csv_any_bytes(data):
    check_loaded(load_bytes(data, "a.csv"))


@SETTINGS
@given(
    st.one_of(CSV_TEXT, CSV_ROWS),
    st.sampled_from([0.0, 0.3]),
    st.sampled_from([-1, 0, "a", 7]),
    st.booleans(),
)
def test_csv_any_text(text, split, target, compress):
    data = text.encode("utf-8")
    data = gzip.compress(data) if compress else data
    check_loaded(load_bytes(data, "a.csv.gz" if compress else "a.csv", validation_split=split, target=target))


def idx_bytes(code: int, shape: list[int], body: bytes) -> bytes:
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + body


@SETTINGS
@given(
    st.one_of(
        st.binary(max_size=200),
        st.builds(
            idx_bytes,
            st.sampled_from(sorted(TYPES) + [0x0A]),
            st.lists(st.integers(0, 6), max_size=4),
            st.binary(max_size=200),
        ),
    )
)
def test_idx_any_bytes(data):
    for blob in (data, gzip.compress(data), gzip.compress(data)[:-3]):
        try:
            array = parse_idx(blob, "x.idx") if blob is data else _read_via_file(blob)
        except DataError as e:
            assert "\n" not in str(e)
        else:
            assert isinstance(array, np.ndarray)


def _read_via_file(blob: bytes):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x-idx3-ubyte.gz"
        path.write_bytes(blob)
        return read_idx(path)


@SETTINGS
@given(st.binary(max_size=120), st.binary(max_size=60))
def test_idx_pair_any_bytes_through_the_loader(images, labels):
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "train-images-idx3-ubyte").write_bytes(
            idx_bytes(8, [len(images) // 4, 2, 2], images[: len(images) // 4 * 4])
        )
        (Path(d) / "train-labels-idx1-ubyte").write_bytes(labels)
        try:
            check_loaded(
                load_dataset({"path": str(Path(d) / "train-images-idx3-ubyte"), "validation_split": 0.0})
            )
        except DataError as e:
            assert "\n" not in str(e)
