"""Task inference and label encoding from the values present (issue 8); references: the raw labels."""

import numpy as np
import pytest

from fastmlp.data import class_indices, infer_task, load_dataset, prepare
from fastmlp.errors import DataError

RAW = {"validation_split": 0.0, "test_split": 0.0, "preprocessing": "none"}


def one_line_error(fn, *fragments):
    with pytest.raises(DataError) as info:
        fn()
    message = str(info.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def diabetes_like(n=442, seed=0):
    """A stand-in for scikit-learn's diabetes set: 10 inputs, a whole-number target in 25..346."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 10))
    y = rng.integers(25, 347, n).astype(np.float64)
    return X, y


def test_labels_one_to_three_give_three_classes_named_one_two_three(tmp_path):
    X = np.arange(12.0).reshape(6, 2)
    y = np.array([1, 2, 3, 1, 2, 3])
    ds = prepare(X, y, **RAW)
    assert ds.task == "classification" and ds.n_outputs == 3
    assert ds.classes.dtype == np.int64 and ds.classes.tolist() == [1, 2, 3]
    np.testing.assert_array_equal(ds.classes[ds.y_train], y)  # indices decode back to the labels
    # the same through a CSV (whole-number floats become int64 classes)
    path = tmp_path / "a.csv"
    path.write_text("".join(f"{a},{b},{c}\n" for (a, b), c in zip(X, y, strict=True)))
    from_file = load_dataset({"path": str(path), **RAW})
    assert from_file.classes.dtype == np.int64 and from_file.classes.tolist() == [1, 2, 3]
    np.testing.assert_array_equal(from_file.y_train, ds.y_train)


def test_diabetes_like_target_is_refused_with_auto_and_names_the_count(tmp_path):
    X, y = diabetes_like()
    k = len(set(y.tolist()))
    assert k > 100
    expected = f"the target has {k} distinct whole-number values in 442 rows; set model.task: regression"
    message = one_line_error(lambda: prepare(X, y), expected)
    assert "model.task: classification" in message
    path = tmp_path / "diabetes.csv"
    path.write_text("\n".join(",".join(map(str, [*row, int(t)])) for row, t in zip(X, y, strict=True)) + "\n")
    one_line_error(lambda: load_dataset({"path": str(path)}, task="auto"), str(path), expected)
    one_line_error(lambda: load_dataset({"path": str(path)}), expected)  # None means auto too


def test_diabetes_like_target_with_task_regression_is_ready_to_train():
    X, y = diabetes_like()
    ds = prepare(X, y, task="regression", validation_split=0.1, test_split=0.2)
    assert ds.task == "regression" and ds.classes is None and ds.n_outputs == 1
    assert ds.y_train.shape == (len(ds.X_train), 1) and ds.y_train.dtype == np.float32
    assert ds.y_train.flags.c_contiguous and ds.target_scaler.kind == "standardize"
    assert abs(float(ds.y_train.mean())) < 1e-5 and abs(float(ds.y_train.std()) - 1) < 1e-4
    back = ds.target_scaler.inverse_transform(ds.y_train.astype(np.float64))
    assert np.all((back > 24.99) & (back < 346.01))


@pytest.mark.parametrize(
    "k, n, refused",
    [(10, 20, False), (11, 100, True), (11, 200, False), (100, 10_000, False), (101, 100_000, True)],
)
def test_refusal_rule_counts(k, n, refused):
    y = np.arange(n) % k
    if refused:
        one_line_error(
            lambda: infer_task(y, "src"),
            (f"src: the target has {k} distinct whole-number values in {n} rows"),
        )
    else:
        assert infer_task(y, "src") == "classification"


def test_infer_task_kinds():
    assert infer_task(np.array(["a", "b", "a"])) == "classification"
    assert infer_task(np.array([True, False, True])) == "classification"
    assert infer_task(np.array([0.5, 1.0, 2.0])) == "regression"
    assert infer_task(np.array([[1.0], [2.0], [1.0]])) == "classification"  # one column
    assert infer_task(np.array([[0, 1, 1], [1, 0, 0]])) == "multilabel"
    assert infer_task(np.array([[True, False], [False, False]])) == "multilabel"
    assert infer_task(np.array([[0.0, 2.0], [1.0, 0.5]])) == "regression"
    assert infer_task(np.array(["x", "y"], dtype=object)) == "classification"


def test_string_labels_keep_their_names_as_str_array():
    X = np.arange(10.0).reshape(5, 2)
    ds = prepare(X, ["dog", "cat", "dog", "emu", "cat"], **RAW)
    assert ds.classes.dtype.kind == "U" and ds.classes.tolist() == ["cat", "dog", "emu"]
    np.testing.assert_array_equal(ds.y_train, [1, 0, 1, 2, 0])


def test_multilabel_matrix_is_detected_and_encoded(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    Y = (rng.random((40, 4)) < 0.4).astype(np.int64)
    ds = prepare(X, Y, validation_split=0.25)
    assert ds.task == "multilabel" and ds.n_outputs == 4 and ds.classes.tolist() == [0, 1, 2, 3]
    assert ds.y_train.dtype == np.float32 and ds.y_train.flags.c_contiguous and ds.y_train.shape == (30, 4)
    assert set(np.unique(np.concatenate([ds.y_train, ds.y_val]))) <= {0.0, 1.0}
    assert ds.y_train.sum() + ds.y_val.sum() == Y.sum()
    # a CSV with named label columns: the names become the classes
    path = tmp_path / "m.csv"
    header = "x0,x1,x2,red,green,blue,grey\n"
    path.write_text(header + "".join(",".join(map(str, [*x, *t])) + "\n" for x, t in zip(X, Y, strict=True)))
    from_file = load_dataset({"path": str(path), "target": ["red", "green", "blue", "grey"], **RAW})
    assert from_file.task == "multilabel" and from_file.classes.tolist() == ["red", "green", "blue", "grey"]
    assert from_file.feature_names == ["x0", "x1", "x2"]
    np.testing.assert_array_equal(from_file.y_train, Y.astype(np.float32))
    # not 0/1: one line naming the cell
    bad = Y.copy()
    bad[3, 2] = 2
    one_line_error(lambda: prepare(X, bad, task="multilabel"), "multilabel target at row 3, column 2 is 2")


def test_test_labels_outside_training_classes_name_label_and_line(tmp_path):
    (tmp_path / "train.csv").write_text("1,1\n2,2\n3,3\n4,1\n")
    (tmp_path / "test.csv").write_text("1,1\n2,4\n")
    one_line_error(
        lambda: load_dataset(
            {"path": str(tmp_path / "train.csv"), "test_path": str(tmp_path / "test.csv"), **RAW}
        ),
        "test.csv: label 4 at line 2 is not a class in",
    )
    one_line_error(
        lambda: prepare(np.zeros((3, 1)), [1, 2, 3], X_test=np.zeros((2, 1)), y_test=[3, 5], **RAW),
        "arrays (test): label 5 at row 1 is not a class in arrays",
    )


def test_n_classes_keeps_indices_meaning_for_files(tmp_path):
    np.savez(tmp_path / "a.npz", X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1]))
    ds = load_dataset({"path": str(tmp_path / "a.npz"), "n_classes": 3, **RAW})
    assert ds.classes.tolist() == [0, 1, 2] and ds.n_outputs == 3


def test_builtins_keep_their_task_and_class_names():
    ds = load_dataset({"name": "digits", "limit": 200}, task="auto")
    assert ds.task == "classification" and ds.classes.tolist() == [str(d) for d in range(10)]
    spirals = load_dataset({"name": "spirals", "n_samples": 60, "n_classes": 2})
    assert spirals.classes.tolist() == [0, 1]
    reg = load_dataset({"name": "regression", "n_samples": 50}, task="auto")
    assert reg.task == "regression"
    one_line_error(lambda: load_dataset({"name": "digits"}, task="ranking"), "task must be one of auto")


def test_class_indices_encodes_raw_labels_for_a_model():
    np.testing.assert_array_equal(class_indices([3, 1, 2], np.array([1, 2, 3])), [2, 0, 1])
    np.testing.assert_array_equal(class_indices([3.0, 1.0], np.array([1, 2, 3])), [2, 0])
    np.testing.assert_array_equal(class_indices(np.array(["b", "a"]), np.array(["a", "b"])), [1, 0])
    np.testing.assert_array_equal(class_indices(["2", "1"], np.array([1, 2])), [1, 0])
    digits = np.array([str(d) for d in range(10)])
    np.testing.assert_array_equal(class_indices([7, 0], digits), [7, 0])  # by name
    shirts = np.array(["T-shirt/top", "Trouser", "Pullover"])
    np.testing.assert_array_equal(class_indices(np.array([2, 0], np.uint8), shirts), [2, 0])  # as indices
    one_line_error(
        lambda: class_indices([1, 9], np.array([1, 2]), "eval.csv"),
        "eval.csv: label 9 at row 1 is not a class",
    )
    one_line_error(lambda: class_indices(["a", "zebra"], np.array(["a", "b"]), "y"), "label 'zebra' at row 1")
    assert class_indices([], np.array([1, 2])).dtype == np.int64
