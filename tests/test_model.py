import numpy as np
import pytest
from conftest import make_problem

from fastmlp import MLP, FastMLPError, ModelFileError
from fastmlp.preprocessing import Preprocessing


def test_glorot_uniform_bounds_and_zero_biases():
    model = MLP([300, 200, 10], seed=3)
    for W, b in zip(model.weights, model.biases, strict=False):
        r = np.sqrt(6.0 / (W.shape[0] + W.shape[1]))
        assert np.abs(W).max() <= r
        # Uniform on (-r, r): the sample fills the interval and its variance is r^2/3.
        assert np.abs(W).max() > 0.99 * r
        assert W.var() == pytest.approx(r * r / 3, rel=0.05)
        assert not b.any()


def test_weights_are_views_of_one_flat_buffer():
    model = MLP([4, 5, 3])
    model.params[:] = 0
    assert not any(W.any() for W in model.weights)
    model.weights[1][0, 0] = 7
    assert 7 in model.params
    assert [W.shape for W in model.weights] == [(4, 5), (5, 3)]


def test_same_seed_same_weights_and_dtypes_agree():
    a, b = MLP([8, 6, 2], seed=5), MLP([8, 6, 2], seed=5, dtype="float64")
    np.testing.assert_array_equal(a.params, b.params.astype(np.float32))
    assert not np.array_equal(a.params, MLP([8, 6, 2], seed=6).params)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_float32_stays_float32(task, rng):
    model = MLP([5, 7, 3], task=task)
    X, y = make_problem(rng, 10, 5, 3, task, dtype=np.float32)
    _, grads = model.loss_and_gradients(X, y, l2=0.1)
    assert all(dW.dtype == db.dtype == np.float32 for dW, db in grads)
    assert model.decision_function(X).dtype == np.float32
    if task == "classification":
        assert model.predict_proba(X).dtype == np.float32


def test_predict_proba_rows_sum_to_one_and_predict_is_argmax(rng):
    model = MLP([5, 7, 4])
    X, _ = make_problem(rng, 20, 5, 4, "classification", np.float32)
    p = model.predict_proba(X)
    np.testing.assert_allclose(p.sum(1), 1, rtol=1e-6)
    np.testing.assert_array_equal(model.predict(X), p.argmax(1))


def test_predict_in_chunks_matches_one_pass(rng, monkeypatch):
    import fastmlp.network as network_module

    model = MLP([5, 7, 4])
    X, _ = make_problem(rng, 50, 5, 4, "classification", np.float32)
    whole = model.decision_function(X)
    monkeypatch.setattr(network_module, "CHUNK", 7)
    # BLAS may block a 7-row GEMM differently from a 50-row one: equal up to float32 rounding.
    np.testing.assert_allclose(model.decision_function(X), whole, rtol=1e-6, atol=1e-7)


def test_save_load_round_trip(tmp_path, rng):
    model = MLP([5, 7, 3], activation="tanh", task="regression", dtype="float64", seed=2)
    X, _ = make_problem(rng, 10, 5, 3, "regression")
    model.preprocessing = Preprocessing.fit("standardize", X)
    path = model.save(tmp_path / "m.npz")
    loaded = MLP.load(path)
    assert loaded.layer_sizes == model.layer_sizes and loaded.activation == "tanh"
    assert loaded.task == "regression" and loaded.dtype == np.float64
    np.testing.assert_array_equal(loaded.params, model.params)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temp file left behind


def test_load_rejects_bad_files(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        MLP.load(tmp_path / "nope.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="junk.npz: not a fastmlp model file"):
        MLP.load(junk)
    model = MLP([4, 3, 2])
    np.savez(
        tmp_path / "short.npz",
        layer_sizes=model.sizes,
        activation="relu",
        task="classification",
        dtype="float32",
        params=model.params[:-1],
    )
    with pytest.raises(ModelFileError, match="params has 22 values"):
        MLP.load(tmp_path / "short.npz")
    np.savez(
        tmp_path / "dtype.npz",
        layer_sizes=model.sizes,
        activation="relu",
        task="classification",
        dtype="float32",
        params=model.params.astype(np.float64),
    )
    with pytest.raises(ModelFileError, match="params are float64"):
        MLP.load(tmp_path / "dtype.npz")
    np.savez(
        tmp_path / "act.npz",
        layer_sizes=model.sizes,
        activation="swish",
        task="classification",
        dtype="float32",
        params=model.params,
    )
    with pytest.raises(ModelFileError, match="activation must be one of"):
        MLP.load(tmp_path / "act.npz")


def test_bad_arguments_are_user_errors(rng):
    with pytest.raises(FastMLPError, match="activation"):
        MLP([3, 2], activation="swish")
    with pytest.raises(FastMLPError, match="dtype"):
        MLP([3, 2], dtype="float16")
    model = MLP([3, 2])
    with pytest.raises(FastMLPError, match=r"shape \(n, 3\)"):
        model.predict(np.zeros((4, 5)))
    with pytest.raises(FastMLPError, match="labels outside 0..1"):
        model.loss_and_gradients(np.zeros((2, 3)), np.array([0, 2]))


def test_non_finite_inputs_are_named(rng):
    model = MLP([3, 4, 2])
    X = np.zeros((5, 3), np.float32)
    X[3, 2] = np.inf
    with pytest.raises(FastMLPError, match="X row 3, column 2 is not finite"):
        model.predict(X)
    X[3, 2] = 3e38  # finite, but the column's sum overflows float32: still accepted
    X[4, 2] = 3e38
    assert model.predict(X).shape == (5,)
    X[4, 1] = np.nan  # NaN in a block whose column sums overflow elsewhere: still named
    with pytest.raises(FastMLPError, match="X row 4, column 1 is not finite"):
        model.predict(X)


def test_class_names_round_trip(tmp_path):
    model = MLP([3, 4, 2])
    model.classes = np.array(["no", "yes"])
    assert list(MLP.load(model.save(tmp_path / "m.npz")).classes) == ["no", "yes"]
    with np.load(tmp_path / "m.npz", allow_pickle=False) as f:  # stored without pickle
        assert list(f["classes"]) == ["no", "yes"]
