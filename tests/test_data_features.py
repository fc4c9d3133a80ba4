"""Feature rows for prediction: read_features / align_features by column name, and their one-line errors."""

import gzip

import numpy as np
import pytest

from fastmlp.data import align_features, frame_to_array, load_dataset, read_features
from fastmlp.errors import DataError

NAMES = ["a", "b", "c"]
X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.5, 8.0, 9.0]])


def one_line_error(fn, *fragments):
    with pytest.raises(DataError) as info:
        fn()
    message = str(info.value)
    assert "\n" not in message, message
    assert "allow_pickle" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def write(path, header, rows):
    text = ([",".join(header)] if header else []) + [",".join(map(str, r)) for r in rows]
    path.write_text("\n".join(text) + "\n")
    return path


def test_csv_header_gives_feature_names_to_the_dataset(tmp_path):
    path = write(tmp_path / "t.csv", NAMES + ["label"], [[*row, i % 2] for i, row in enumerate(X)])
    ds = load_dataset({"path": str(path), "validation_split": 0.0, "test_split": 0.0})
    assert ds.feature_names == NAMES
    unnamed = write(tmp_path / "u.csv", None, [[*row, i % 2] for i, row in enumerate(X)])
    assert (
        load_dataset({"path": str(unnamed), "validation_split": 0.0, "test_split": 0.0}).feature_names is None
    )
    assert load_dataset({"name": "digits", "limit": 50}).feature_names is None
    np.savez(tmp_path / "n.npz", X=X, y=np.array([0, 1, 0]), feature_names=np.array(NAMES))
    assert (
        load_dataset(
            {"path": str(tmp_path / "n.npz"), "validation_split": 0.0, "test_split": 0.0}
        ).feature_names
        == NAMES
    )


def test_a_test_file_with_its_columns_in_another_order_is_matched_by_name(tmp_path):
    train = write(tmp_path / "train.csv", NAMES + ["label"], [[*row, i % 2] for i, row in enumerate(X)])
    test = write(tmp_path / "test.csv", ["label", "c", "a", "b"], [[1, r[2], r[0], r[1]] for r in X])
    ds = load_dataset(
        {
            "path": str(train),
            "test_path": str(test),
            "target": "label",
            "validation_split": 0.0,
            "preprocessing": "none",
        }
    )
    np.testing.assert_array_equal(ds.X_test, X.astype(np.float32))


def test_reversed_columns_are_put_back_in_the_models_order(tmp_path):
    path = write(tmp_path / "rev.csv", NAMES[::-1], X[:, ::-1])
    got, names = read_features(path, expected_names=NAMES)
    assert names == NAMES and got.dtype == np.float64
    np.testing.assert_array_equal(got, X)
    raw, raw_names = read_features(path)  # no expected names: as in the file
    assert raw_names == NAMES[::-1]
    np.testing.assert_array_equal(raw, X[:, ::-1])
    np.testing.assert_array_equal(align_features(raw, raw_names, NAMES, str(path)), X)


def test_a_csv_that_still_holds_its_string_target_column_predicts(tmp_path):
    rows = [[r[0], "setosa", r[1], r[2]] for r in X]
    path = write(tmp_path / "with_target.csv", ["a", "species", "b", "c"], rows)
    got, _ = read_features(path, expected_names=NAMES)
    np.testing.assert_array_equal(got, X)
    # without the model's names the string column is a non-number, named by line and 0-based column
    one_line_error(
        lambda: read_features(path), str(path), "line 2, column 1 ('species')", "not a number: 'setosa'"
    )


def test_missing_column_is_one_line_naming_it_and_the_models_columns(tmp_path):
    path = write(tmp_path / "two.csv", ["a", "b"], X[:, :2])
    one_line_error(
        lambda: read_features(path, expected_names=NAMES),
        f"{path}: missing feature column 'c' (the model was trained on: a, b, c)",
    )
    one_line_error(
        lambda: align_features(X[:, :2], ["a", "b"], NAMES, "input"),
        "input: missing feature column 'c' (the model was trained on: a, b, c)",
    )
    many = [f"x{i}" for i in range(30)]
    message = one_line_error(
        lambda: align_features(np.zeros((1, 2)), ["x0", "x1"], many, "in"), "missing feature column 'x2'"
    )
    assert "x9..." in message and "x10" not in message


def test_unnamed_columns_must_match_the_models_count(tmp_path):
    np.testing.assert_array_equal(align_features(X, None, NAMES, "X"), X)
    one_line_error(
        lambda: align_features(X[:, :2], None, NAMES, "X"),
        "X: 2 feature columns but the model was trained on 3 (a, b, c)",
    )
    assert align_features(X, None, None) is X


def test_extra_columns_are_dropped_and_doubled_ones_refused():
    wide = np.c_[X, np.full(3, 99.0)]
    np.testing.assert_array_equal(align_features(wide, ["c", "b", "a", "z"], NAMES, "X"), X[:, ::-1])
    one_line_error(
        lambda: align_features(X, ["a", "a", "c"], ["a", "c"], "X"),
        "feature column 'a' appears more than once",
    )


def test_npy_npz_and_gzip_csv(tmp_path):
    np.save(tmp_path / "x.npy", X.astype(np.float32))
    got, names = read_features(tmp_path / "x.npy")
    assert names is None and got.dtype == np.float64
    np.testing.assert_array_equal(got, X)
    np.savez(tmp_path / "x.npz", X=X, feature_names=np.array(NAMES))
    got, names = read_features(tmp_path / "x.npz")
    assert names == NAMES
    np.savez(tmp_path / "only.npz", inputs=X)
    np.testing.assert_array_equal(read_features(tmp_path / "only.npz")[0], X)
    text = "a,b,c\n" + "\n".join(",".join(map(str, r)) for r in X) + "\n"
    (tmp_path / "x.csv.gz").write_bytes(gzip.compress(text.encode()))
    np.testing.assert_array_equal(read_features(tmp_path / "x.csv.gz", NAMES)[0], X)
    images = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.save(tmp_path / "img.npy", images)
    assert read_features(tmp_path / "img.npy")[0].shape == (2, 12)


def test_files_that_are_not_feature_files(tmp_path):
    np.savez(
        tmp_path / "model.npz", layer_sizes=np.array([3, 2]), params=np.zeros(8), format_version=np.array(1)
    )
    one_line_error(lambda: read_features(tmp_path / "model.npz"), "is a saved model, not input features")
    (tmp_path / "disguised.csv").write_bytes((tmp_path / "model.npz").read_bytes())
    one_line_error(
        lambda: read_features(tmp_path / "disguised.csv"),
        "disguised.csv: is a zip archive (an .npz file?), not CSV text",
    )
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}, None], dtype=object))
    one_line_error(lambda: read_features(tmp_path / "objects.npy"), "objects.npy", "Python objects")
    np.savez(tmp_path / "two.npz", P=X, Q=X)
    one_line_error(lambda: read_features(tmp_path / "two.npz"), "has arrays P, Q; expected one named X")
    (tmp_path / "x.xlsx").write_bytes(b"PAR1")
    one_line_error(lambda: read_features(tmp_path / "x.xlsx"), "unknown input format")
    (tmp_path / "y.parquet").write_bytes(b"PAR1")
    one_line_error(lambda: read_features(tmp_path / "y.parquet"), "not a readable Parquet file")
    one_line_error(lambda: read_features(tmp_path / "nope.csv"), "nope.csv", "no such")
    np.save(tmp_path / "row.npy", X[0])
    one_line_error(lambda: read_features(tmp_path / "row.npy"), "expected a 2-D array")
    write(tmp_path / "nan.csv", NAMES, [[1, 2, 3], [4, "nan", 6]])
    one_line_error(lambda: read_features(tmp_path / "nan.csv"), "line 3, column 1 ('b'): not finite")


def test_dataframe_columns_are_the_names():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X[:, ::-1], columns=NAMES[::-1])
    array, names = frame_to_array(frame)
    assert names == NAMES[::-1]
    np.testing.assert_array_equal(array, X[:, ::-1])
    np.testing.assert_array_equal(align_features(frame, None, NAMES, "frame"), X)
    assert frame_to_array(X)[1] is None
    nullable = pd.DataFrame({"a": pd.array([1, None, 3], dtype="Int64"), "b": [1.0, 2.0, 3.0]})
    array, _ = frame_to_array(nullable)
    assert array.dtype == np.float64 and np.isnan(array[1, 0])
