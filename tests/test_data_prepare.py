"""prepare() on plain arrays: the same Dataset as load_dataset on the same rows in a file; target scaling."""

import numpy as np
import pytest

from fastmlp.data import load_dataset, prepare
from fastmlp.errors import DataError
from fastmlp.preprocessing import Preprocessing


def write_csv(path, names, X, y):
    rows = [",".join([*(repr(float(v)) for v in row), str(t)]) for row, t in zip(X, y, strict=True)]
    lines = [",".join(names), *rows]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def assert_same(a, b):
    for field in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        x, y = getattr(a, field), getattr(b, field)
        assert (x is None) == (y is None), field
        if x is not None:
            assert x.dtype == y.dtype, field
            np.testing.assert_array_equal(x, y, err_msg=field)
    assert a.task == b.task and a.n_inputs == b.n_inputs and a.n_outputs == b.n_outputs
    assert a.feature_names == b.feature_names
    if a.classes is None:
        assert b.classes is None
    else:
        assert a.classes.dtype == b.classes.dtype and a.classes.tolist() == b.classes.tolist()
    for p, q in ((a.preprocessing, b.preprocessing), (a.target_scaler, b.target_scaler)):
        assert p.kind == q.kind
        if p.kind != "none":
            np.testing.assert_array_equal(p.offset, q.offset)
            np.testing.assert_array_equal(p.scale, q.scale)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_prepare_equals_load_dataset_on_the_same_csv(tmp_path, task):
    rng = np.random.default_rng(5)
    X = rng.normal(3.0, 2.0, (120, 3))
    y = (
        rng.choice(["ant", "bee", "cow"], 120)
        if task == "classification"
        else np.round(rng.normal(size=120), 3)
    )
    names = ["a", "b", "c", "target"]
    path = write_csv(tmp_path / "d.csv", names, X, y)
    options = {"validation_split": 0.2, "test_split": 0.25, "data_seed": 4}
    from_file = load_dataset({"path": path, "target": "target", **options}, seed=7)
    from_arrays = prepare(X, y, seed=7, feature_names=names[:3], name="d.csv", **options)
    assert from_file.task == task and from_file.feature_names == ["a", "b", "c"]
    assert_same(from_file, from_arrays)


def test_prepare_dataframe_takes_its_column_names():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(2)
    X = rng.normal(size=(50, 3)).astype(np.float32)
    y = np.arange(50) % 2
    frame = pd.DataFrame(X, columns=["height", "weight", "age"])
    ds = prepare(frame, pd.Series(y, name="label"))
    assert ds.feature_names == ["height", "weight", "age"]
    assert_same(ds, prepare(X, y, feature_names=["height", "weight", "age"]))
    with pytest.raises(DataError, match=r"column 3 \('colour'\): not a number: 'red'"):
        prepare(frame.assign(colour="red"), y, categorical="none")
    encoded = prepare(frame.assign(colour="red"), y)  # text columns become one-hot categories
    assert encoded.feature_names == ["height", "weight", "age", "colour=red"]


def test_target_scaling_is_fitted_on_training_rows_only_and_round_trips():
    rng = np.random.default_rng(3)
    n = 200
    X = np.c_[np.arange(n, dtype=np.float64), rng.normal(size=(n, 2))]  # column 0: the row id
    y = np.c_[rng.normal(100.0, 15.0, n), rng.normal(-3.0, 0.5, n)]
    ds = prepare(X, y, preprocessing="none", validation_split=0.2, test_split=0.1, dtype="float64")
    train_ids = ds.X_train[:, 0].astype(int)
    scaler = ds.target_scaler
    assert scaler.kind == "standardize"
    np.testing.assert_allclose(scaler.offset, y[train_ids].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(scaler.scale, y[train_ids].std(axis=0), rtol=1e-12)
    assert not np.allclose(scaler.offset, y.mean(axis=0), rtol=1e-9, atol=0)  # validation/test rows left out
    for X_split, y_split in ((ds.X_train, ds.y_train), (ds.X_val, ds.y_val), (ds.X_test, ds.y_test)):
        ids = X_split[:, 0].astype(int)
        np.testing.assert_allclose(scaler.inverse_transform(y_split), y[ids], rtol=1e-12)
    unscaled = prepare(
        X, y, preprocessing="none", target_scaling="none", validation_split=0.2, test_split=0.1
    )
    assert unscaled.target_scaler.kind == "none"
    np.testing.assert_array_equal(unscaled.y_train, y[unscaled.X_train[:, 0].astype(int)].astype(np.float32))


def test_target_scaling_is_ignored_for_classification():
    ds = prepare(np.zeros((6, 1)), [0, 1, 0, 1, 0, 1], validation_split=0.0)
    assert ds.target_scaler.kind == "none" and ds.y_train.dtype == np.int64


def test_preprocessing_inverse_and_prefixed_arrays_round_trip():
    rng = np.random.default_rng(0)
    Y = rng.normal(50.0, 7.0, (30, 2))
    p = Preprocessing.fit("standardize", Y)
    np.testing.assert_allclose(p.inverse_transform(p.transform(Y)), Y, rtol=1e-12)
    Y32 = Y.astype(np.float32)
    p32 = Preprocessing.fit("standardize", Y32)
    back = p32.inverse_transform(p32.transform(Y32))
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, Y32, rtol=1e-5)
    arrays = p.to_arrays(prefix="target_scaling")
    assert sorted(arrays) == ["target_scaling_kind", "target_scaling_offset", "target_scaling_scale"]
    q = Preprocessing.from_arrays(arrays, prefix="target_scaling")
    assert q.kind == "standardize" and np.array_equal(q.offset, p.offset) and np.array_equal(q.scale, p.scale)
    assert Preprocessing.from_arrays(arrays).kind == "none"  # the default prefix finds nothing
    assert "preprocessing_kind" in Preprocessing("none").to_arrays()


def test_scaling_does_not_write_into_the_callers_arrays():
    y = np.linspace(0, 10, 40, dtype=np.float32).reshape(-1, 1)
    y_test = y[:10].copy()
    before = y_test.copy()
    prepare(
        np.ones((40, 1), np.float32), y, X_test=np.ones((10, 1), np.float32), y_test=y_test, task="regression"
    )
    np.testing.assert_array_equal(y_test, before)


def test_prepare_checks_its_arguments():
    X, y = np.zeros((10, 2)), np.arange(10) % 2
    with pytest.raises(DataError, match="give both X_test and y_test"):
        prepare(X, y, X_test=X)
    with pytest.raises(DataError, match="data.target_scaling"):
        prepare(X, y, target_scaling="minmax")
    with pytest.raises(DataError, match="2 feature names for 3 input columns"):
        prepare(np.zeros((4, 3)), [0, 1, 0, 1], feature_names=["a", "b"])
    with pytest.raises(DataError, match="arrays: input row 1, column 0 is not finite"):
        prepare(np.array([[0.0], [np.nan]]), [0, 1])
