"""Every kind of bad input gives one DataError line naming the file and the row/column/key at fault."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from fastmlp.data import DataSpec, load_dataset
from fastmlp.data.idx import write_idx
from fastmlp.errors import DataError

RAW = {"validation_split": 0.0, "test_split": 0.0, "preprocessing": "none"}


def error(spec, *fragments, **kwargs) -> str:
    """The DataError message of load_dataset(spec), checked to be one line holding every fragment."""
    with pytest.raises(DataError) as info:
        load_dataset(spec, **kwargs)
    message = str(info.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert str(fragment) in message, message
    return message


def write_csv(tmp_path, text, name="a.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def write_npz(tmp_path, name="a.npz", **arrays) -> str:
    np.savez(tmp_path / name, **arrays)
    return str(tmp_path / name)


def test_missing_file(tmp_path):
    error({"path": str(tmp_path / "nope.csv")}, "nope.csv", "no such")


def test_missing_label_file(tmp_path):
    np.save(tmp_path / "X.npy", np.zeros((3, 2)))
    error({"path": str(tmp_path / "X.npy")}, "y.npy", "y_path")


def test_npy_without_label_convention(tmp_path):
    np.save(tmp_path / "inputs.npy", np.zeros((3, 2)))
    error({"path": str(tmp_path / "inputs.npy")}, "inputs.npy", "y_path")


def test_unknown_dataset_name_suggests_closest():
    error({"name": "fashion-mnst"}, "unknown dataset", "did you mean 'fashion-mnist'")
    error({"name": "digit"}, "did you mean 'digits'")


def test_unknown_spec_key_suggests_closest():
    with pytest.raises(DataError, match="did you mean 'validation_split'"):
        DataSpec.from_mapping({"name": "digits", "validaton_split": 0.2})


def test_missing_builtin_says_where_it_looked_and_how_to_get_it(tmp_path, monkeypatch):
    if Path("/usr/share/datasets/mnist").exists():
        pytest.skip("MNIST is installed on this machine")
    monkeypatch.setenv("FASTMLP_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    error(
        {"name": "mnist"},
        str(tmp_path / "data" / "mnist"),
        str(tmp_path / "cache"),
        "/usr/share/datasets/mnist",
        "fastmlp datasets --download mnist",
    )


def test_truncated_gzip(tmp_path):
    X = np.zeros((50, 28, 28), np.uint8)
    path = write_idx(tmp_path / "train-images-idx3-ubyte.gz", X)
    path.write_bytes(path.read_bytes()[:-30])
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(50, np.uint8))
    error({"path": str(path)}, "train-images-idx3-ubyte.gz", "truncated gzip")


def test_corrupt_gzip(tmp_path):
    data = bytearray(gzip.compress(b"\x00\x00\x08\x01" + bytes(4) + b"hello world" * 20))
    data[30] ^= 0xFF
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(bytes(data))
    error({"path": str(path)}, str(path), "corrupt gzip")


def test_bad_idx_magic(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"\x12\x34\x08\x03" + bytes(100))
    error({"path": str(path)}, str(path), "bad IDX magic number 0x12340803")


def test_idx_sizes_disagree_with_header(tmp_path):
    path = write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((10, 4, 4), np.uint8))
    path.write_bytes(path.read_bytes()[:-5])
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(10, np.uint8))
    error({"path": str(path)}, str(path), "header says 10x4x4", "(176 bytes) but the file has 171 bytes")


def test_x_and_y_lengths_differ(tmp_path):
    error(
        {"path": write_npz(tmp_path, X=np.zeros((5, 2)), y=np.zeros(4))}, "a.npz", "5 input rows but 4 labels"
    )
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((6, 2, 2), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(7, np.uint8))
    error(
        {"path": str(tmp_path / "train-images-idx3-ubyte")},
        "6 input rows but 7 labels",
        "train-labels-idx1-ubyte",
    )


def test_nan_in_inputs_names_row_and_column(tmp_path):
    X = np.ones((6, 3))
    X[4, 2] = np.nan
    error(
        {"path": write_npz(tmp_path, X=X, y=np.arange(6) % 2), **RAW},
        "a.npz",
        "row 4, column 2",
        "not finite",
    )


def test_inf_in_csv_names_line_and_column(tmp_path):
    path = write_csv(tmp_path, "a,b,label\n1,2,0\n3,inf,1\n")
    error({"path": path, **RAW}, path, "line 3, column 1", "not finite")


def test_value_that_overflows_float32(tmp_path):
    X = np.ones((4, 2))
    X[1, 0] = 1e300
    error(
        {"path": write_npz(tmp_path, X=X, y=np.arange(4) % 2), **RAW}, "row 1, column 0", "overflows float32"
    )


def test_non_numeric_csv_cell_names_line_and_column(tmp_path):
    path = write_csv(tmp_path, "a,b,label\n1,2,0\n3,4,1\n5,oops,1\n")
    error({"path": path, **RAW}, path, "line 4, column 1 ('b')", "not a number: 'oops'")
    path = write_csv(tmp_path, "1,2,0\n3,,1\n", "b.csv")
    error({"path": path, **RAW}, "line 2, column 1", "missing value", "set data.missing")


def test_ragged_csv_row(tmp_path):
    path = write_csv(tmp_path, "1,2,0\n3,4,1\n5,1\n")
    error({"path": path, **RAW}, path, "line 3 has 2 columns, expected 3")


def test_csv_target_name_unknown(tmp_path):
    path = write_csv(tmp_path, "a,b,label\n1,2,0\n")
    error({"path": path, "target": "lable"}, "no column named 'lable'", "did you mean 'label'")
    error({"path": path, "target": 5}, "target column 5 is out of range for 3 columns")


def test_labels_out_of_range(tmp_path):
    path = write_npz(tmp_path, X=np.zeros((6, 2)), y=np.array([0, 1, 2, 1, 7, 0]))
    error({"path": path, "n_classes": 3, **RAW}, "a.npz", "label 7 at row 4 is out of range 0..2")
    # with data.n_classes the labels are indices 0..n_classes-1; without it -1 is just a class
    error(
        {
            "path": write_npz(tmp_path, "b.npz", X=np.zeros((3, 2)), y=np.array([0, -1, 1])),
            "n_classes": 2,
            **RAW,
        },
        "label -1 at row 1 is out of range 0..1",
    )


def test_test_labels_out_of_training_classes(tmp_path):
    train = write_csv(tmp_path, "1,cat\n2,dog\n", "train.csv")
    test = write_csv(tmp_path, "1,cat\n2,emu\n", "test.csv")
    error({"path": train, "test_path": test, **RAW}, "test.csv", "label 'emu' at line 2 is not a class in")


def test_non_integer_label_for_classification(tmp_path):
    path = write_npz(tmp_path, X=np.zeros((3, 2)), y=np.array([0.0, 1.5, 1.0]))
    error({"path": path, **RAW}, "label 1.5 at row 1 is not a whole number", task="classification")


def test_only_one_class(tmp_path):
    path = write_csv(tmp_path, "1,2,3\n4,5,3\n6,7,3\n")
    error({"path": path, **RAW}, path, "only one class (3)")


@pytest.mark.parametrize("text", ["", "\n\n", "a,b,label\n"])
def test_empty_csv(tmp_path, text):
    error({"path": write_csv(tmp_path, text)}, "a.csv", "empty")


def test_empty_npz_and_idx(tmp_path):
    error({"path": write_npz(tmp_path, X=np.zeros((0, 3)), y=np.zeros(0))}, "a.npz", "empty")
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((0, 2, 2), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(0, np.uint8))
    error({"path": str(tmp_path / "train-images-idx3-ubyte")}, "empty")


@pytest.mark.parametrize("value", [-0.1, 1.0, 1.5, "half", True])
def test_validation_fraction_outside_range(value):
    error({"name": "digits", "validation_split": value}, "data.validation_split", "[0, 1)")


def test_test_fraction_outside_range():
    error({"name": "digits", "test_split": 1.2}, "data.test_split")


def test_validation_split_leaving_no_training_rows(tmp_path):
    path = write_csv(tmp_path, "1,0\n2,1\n")
    error(
        {"path": path, "validation_split": 0.9, "test_split": 0.0}, "validation_split", "no rows to train on"
    )


def test_npz_missing_key_and_not_an_npz(tmp_path):
    error(
        {"path": write_npz(tmp_path, inputs=np.zeros((2, 2)), y=np.zeros(2))},
        "a.npz",
        "no array named 'X'",
        "keys: inputs, y",
    )
    (tmp_path / "bad.npz").write_bytes(b"not a zip file")
    error({"path": str(tmp_path / "bad.npz")}, "bad.npz", "not a readable .npz")


def test_unknown_format_and_name_with_path(tmp_path):
    (tmp_path / "a.xlsx").write_bytes(b"PK\x03\x04")
    (tmp_path / "a.parquet").write_bytes(b"PAR1")
    error({"path": str(tmp_path / "a.xlsx")}, "a.xlsx", "unknown data format")
    error({"name": "digits", "path": str(tmp_path / "a.parquet")}, "not both")
    error({}, "data.name", "data.path")


def test_bad_preprocessing_dtype_and_task():
    error({"name": "digits", "preprocessing": "standardise"}, "did you mean 'standardize'")
    error({"name": "digits"}, "dtype", dtype="float16")
    error({"name": "digits"}, "task", task="ranking")


def test_huge_label_is_out_of_range_not_a_billion_classes(tmp_path):
    path = write_csv(tmp_path, "1,0\n2,1\n3,1e20\n")
    error({"path": path, **RAW}, path, "at line 3 is out of range", task="classification")
    # a large whole label is a class like any other now: classes are the values present
    path = write_npz(tmp_path, X=np.zeros((3, 1)), y=np.array([0, 1, 2_000_000_000]))
    assert load_dataset({"path": path, **RAW}).classes.tolist() == [0, 1, 2_000_000_000]


def test_regression_target_nan_or_overflow(tmp_path):
    path = write_csv(tmp_path, "0,0.5\n1,nan\n2,0.25\n")
    error({"path": path, **RAW}, path, "line 2, column 1: missing target value", task="regression")
    path = write_csv(tmp_path, "0,0.5\n1,1e40\n", "b.csv")
    error({"path": path, **RAW}, "target at line 2, column 0 overflows float32", task="regression")
