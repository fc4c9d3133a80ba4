"""Each file loader on small files the test writes: IDX (gz and raw), npz, npy pair, csv, directories."""

import gzip

import numpy as np
import pytest

from fastmlp.data import load_dataset
from fastmlp.data.idx import read_idx, write_idx

RAW = {"validation_split": 0.0, "test_split": 0.0, "preprocessing": "none"}


def images(n, seed=0, k=3):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 4, 5), dtype=np.uint8), (np.arange(n) % k).astype(np.uint8)


@pytest.mark.parametrize("compress", [True, False])
def test_idx_roundtrip_raw_and_gzip(tmp_path, compress):
    X, _ = images(7)
    path = write_idx(tmp_path / ("x.idx.gz" if compress else "x.idx"), X)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress
    back = read_idx(path)
    assert back.dtype == np.uint8 and back.shape == (7, 4, 5)
    np.testing.assert_array_equal(back, X)


@pytest.mark.parametrize("dtype", ["i1", "i2", "i4", "f4", "f8"])
def test_idx_multibyte_types_are_big_endian(tmp_path, dtype):
    a = np.arange(-6, 6).astype(dtype).reshape(3, 4)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "a.idx", a)), a)


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_idx_file_with_conventional_label_file(tmp_path, suffix):
    X, y = images(30)
    write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", X)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", y)
    ds = load_dataset({"path": str(tmp_path / f"train-images-idx3-ubyte{suffix}"), **RAW})
    assert ds.X_train.dtype == np.float32 and ds.X_train.shape == (30, 20) and ds.X_train.flags.c_contiguous
    np.testing.assert_array_equal(ds.X_train, X.reshape(30, 20).astype(np.float32))
    np.testing.assert_array_equal(ds.y_train, y)
    assert ds.y_train.dtype == np.int64 and ds.classes.tolist() == [0, 1, 2] and ds.n_outputs == 3


def test_mnist_style_directory_gives_train_and_test(tmp_path):
    X, y = images(40)
    Xt, yt = images(10, seed=1)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", X)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", y)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", Xt)  # raw and gz mixed is fine
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", yt)
    ds = load_dataset({"path": str(tmp_path), **RAW})
    assert len(ds.X_train) == 40 and len(ds.X_test) == 10 and ds.X_val is None
    np.testing.assert_array_equal(ds.X_test, Xt.reshape(10, -1))


def test_npz_with_default_and_custom_keys(tmp_path):
    X = np.random.default_rng(0).normal(size=(20, 3))
    y = np.arange(20) % 2
    np.savez(tmp_path / "a.npz", X=X, y=y)
    np.savez(tmp_path / "b.npz", inputs=X, labels=y)
    a = load_dataset({"path": str(tmp_path / "a.npz"), **RAW})
    b = load_dataset({"path": str(tmp_path / "b.npz"), "x_key": "inputs", "y_key": "labels", **RAW})
    np.testing.assert_allclose(a.X_train, X.astype(np.float32))
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_train, y)


def test_npz_string_labels_become_sorted_classes(tmp_path):
    X = np.arange(12.0).reshape(6, 2)
    y = np.array(["dog", "cat", "dog", "emu", "cat", "emu"])
    np.savez(tmp_path / "a.npz", X=X, y=y)
    ds = load_dataset({"path": str(tmp_path / "a.npz"), **RAW})
    assert ds.classes.tolist() == ["cat", "dog", "emu"] and ds.classes.dtype.kind == "U"
    np.testing.assert_array_equal(ds.y_train, [1, 0, 1, 2, 0, 2])


def test_npy_pair_by_convention_and_by_y_path(tmp_path):
    X = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    y = np.arange(10) % 2
    np.save(tmp_path / "X_train.npy", X)
    np.save(tmp_path / "y_train.npy", y)
    np.save(tmp_path / "targets.npy", y)
    a = load_dataset({"path": str(tmp_path / "X_train.npy"), **RAW})
    b = load_dataset({"path": str(tmp_path / "X_train.npy"), "y_path": str(tmp_path / "targets.npy"), **RAW})
    np.testing.assert_array_equal(a.X_train, X)
    np.testing.assert_array_equal(a.y_train, b.y_train)


def test_csv_without_header_target_last(tmp_path):
    (tmp_path / "a.csv").write_text("1,2,0\n3,4,1\n5,6,0\n\n7,8,1\n")
    ds = load_dataset({"path": str(tmp_path / "a.csv"), **RAW})
    np.testing.assert_array_equal(ds.X_train, [[1, 2], [3, 4], [5, 6], [7, 8]])
    np.testing.assert_array_equal(ds.y_train, [0, 1, 0, 1])


def test_csv_header_detected_target_by_name_string_labels(tmp_path):
    text = "species,length,width\nsetosa,5.1,3.5\nvirginica,6.3,3.3\nsetosa,4.9,3.0\nversicolor,5.5,2.5\n"
    (tmp_path / "iris.csv").write_text(text)
    ds = load_dataset({"path": str(tmp_path / "iris.csv"), "target": "species", **RAW})
    assert ds.classes.tolist() == ["setosa", "versicolor", "virginica"]
    assert ds.feature_names == ["length", "width"]
    np.testing.assert_array_equal(ds.y_train, [0, 2, 0, 1])
    np.testing.assert_allclose(ds.X_train[0], [5.1, 3.5], rtol=1e-6)


def test_csv_target_by_index_and_explicit_header(tmp_path):
    (tmp_path / "a.csv").write_text("0,1.5,2\n1,2.5,3\n")
    ds = load_dataset({"path": str(tmp_path / "a.csv"), "target": 0, **RAW})
    np.testing.assert_array_equal(ds.y_train, [0, 1])
    np.testing.assert_allclose(ds.X_train, [[1.5, 2], [2.5, 3]])
    # header: true takes the first row as names even though it is numeric
    (tmp_path / "b.csv").write_text("10,20,30\n1,2,0\n3,4,1\n")
    assert len(load_dataset({"path": str(tmp_path / "b.csv"), "header": True, **RAW}).X_train) == 2


def test_csv_gzip_and_regression_targets(tmp_path):
    rows = "\n".join(f"{i},{i * 0.5},{i * 0.25 + 0.1}" for i in range(10))
    (tmp_path / "r.csv.gz").write_bytes(gzip.compress(rows.encode()))
    ds = load_dataset({"path": str(tmp_path / "r.csv.gz"), **RAW})
    assert ds.task == "regression" and ds.classes is None and ds.n_outputs == 1
    assert ds.y_train.shape == (10, 1) and ds.y_train.dtype == np.float32


def test_separate_test_file_shares_string_classes(tmp_path):
    (tmp_path / "train.csv").write_text("x,label\n1,b\n2,a\n3,b\n4,a\n")
    (tmp_path / "test.csv").write_text("x,label\n5,a\n6,b\n")
    ds = load_dataset({"path": str(tmp_path / "train.csv"), "test_path": str(tmp_path / "test.csv"), **RAW})
    assert ds.classes.tolist() == ["a", "b"]
    np.testing.assert_array_equal(ds.y_test, [0, 1])
    assert ds.source == str(tmp_path / "train.csv") and ds.name == "train.csv"


def test_float64_on_request_and_regression_task_forced(tmp_path):
    (tmp_path / "a.csv").write_text("1,2,0\n3,4,1\n5,6,2\n")
    ds = load_dataset(
        {"path": str(tmp_path / "a.csv"), **RAW, "target_scaling": "none"}, dtype="float64", task="regression"
    )
    np.testing.assert_array_equal(ds.y_train[:, 0], [0, 1, 2])
    assert ds.X_train.dtype == np.float64 and ds.y_train.dtype == np.float64 and ds.y_train.shape == (3, 1)


def test_multi_output_regression_from_npz(tmp_path):
    X = np.random.default_rng(0).normal(size=(8, 3))
    np.savez(tmp_path / "r.npz", X=X, y=X[:, :2] * 0.5)
    ds = load_dataset({"path": str(tmp_path / "r.npz"), **RAW})
    assert ds.task == "regression" and ds.n_outputs == 2 and ds.y_train.shape == (8, 2)
