"""fastmlp.MLPClassifier / MLPRegressor against scikit-learn itself.

scikit-learn's own estimators are the independent reference: with the same parameters and
random_state, fastmlp draws the same initial weights and visits the minibatches in the same order,
so in float64 both must end with the same weights (up to rounding) for every solver. Then
scikit-learn's check_estimator suite, and the behaviours scikit-learn's tests pin down.
"""

import pickle
import threading
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

import scipy.sparse as sp  # noqa: E402
from sklearn import neural_network as sk  # noqa: E402
from sklearn.datasets import load_diabetes, load_digits, load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import fastmlp  # noqa: E402
from fastmlp import MLP, minibatches  # noqa: E402
from fastmlp.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

X_DIGITS, Y_DIGITS = load_digits(return_X_y=True)
X_DIGITS = X_DIGITS / 16.0
X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_DIAB, Y_DIAB = load_diabetes(return_X_y=True)
Y_DIAB = (Y_DIAB - Y_DIAB.mean()) / Y_DIAB.std()


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


def assert_same_network(ours, theirs, rtol=1e-7, atol=1e-9):
    assert len(ours.coefs_) == len(theirs.coefs_)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# -- scikit-learn's estimator checks ------------------------------------------------------


@parametrize_with_checks(
    [
        MLPClassifier(max_iter=100),
        MLPRegressor(max_iter=100),
        MLPClassifier(solver="lbfgs", max_iter=100),
        MLPRegressor(solver="sgd", max_iter=100),
    ]
)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


# -- the same run as scikit-learn's, weight for weight ------------------------------------

PROBLEMS = {
    "multiclass": (MLPClassifier, sk.MLPClassifier, X_DIGITS[:300], Y_DIGITS[:300]),
    "binary": (MLPClassifier, sk.MLPClassifier, X_DIGITS[:300], Y_DIGITS[:300] % 2),
    "multilabel": (
        MLPClassifier,
        sk.MLPClassifier,
        X_DIGITS[:300],
        np.stack([Y_DIGITS[:300] % 2, Y_DIGITS[:300] > 4, Y_DIGITS[:300] == 3], axis=1).astype(int),
    ),
    "regression": (MLPRegressor, sk.MLPRegressor, X_DIAB[:300], Y_DIAB[:300]),
    "multi-output": (
        MLPRegressor,
        sk.MLPRegressor,
        X_DIAB[:300],
        np.stack([Y_DIAB[:300], 0.5 * Y_DIAB[:300] ** 2], axis=1),
    ),
    "poisson": (MLPRegressor, sk.MLPRegressor, X_DIAB[:300], np.round(np.exp(Y_DIAB[:300]))),
}


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_same_weights_as_sklearn_float64(problem, solver):
    ours_cls, theirs_cls, X, y = PROBLEMS[problem]
    params = dict(hidden_layer_sizes=(16, 8), solver=solver, random_state=3, max_iter=6, batch_size=32)
    params["learning_rate_init"] = 0.01 if solver != "lbfgs" else 0.001
    if problem == "poisson":
        params["loss"] = "poisson"
    ours, theirs = quiet(ours_cls(**params).fit, X, y), quiet(theirs_cls(**params).fit, X, y)
    assert_same_network(ours, theirs)
    assert ours.n_iter_ == theirs.n_iter_ and ours.n_layers_ == theirs.n_layers_
    assert ours.n_outputs_ == theirs.n_outputs_ and ours.out_activation_ == theirs.out_activation_
    if solver != "lbfgs":
        assert ours.t_ == theirs.t_
        # sklearn sums each minibatch's L2 term; fastmlp averages ||W||^2 over the epoch's ends.
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-3)
    elif problem != "multi-output":  # sklearn's L-BFGS value averages over outputs (see the docs)
        np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-9)
    if ours_cls is MLPClassifier:
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-7, atol=1e-12)
    else:
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize(
    "extra",
    [
        dict(solver="sgd", learning_rate="invscaling", power_t=0.25, learning_rate_init=0.2),
        dict(solver="sgd", learning_rate="adaptive", tol=0.05, n_iter_no_change=1, learning_rate_init=0.2),
        dict(solver="sgd", momentum=0.5, nesterovs_momentum=False),
        dict(solver="sgd", momentum=0.0),
        dict(solver="adam", early_stopping=True, validation_fraction=0.2, n_iter_no_change=2),
        dict(solver="adam", batch_size=7, alpha=0.1, beta_1=0.8, epsilon=1e-4),
        dict(solver="sgd", activation="logistic", shuffle=False),
        dict(solver="adam", activation="tanh", batch_size=300),
    ],
    ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items()),
)
def test_same_weights_as_sklearn_for_each_option(extra):
    params = dict(hidden_layer_sizes=(12,), random_state=0, max_iter=12, learning_rate_init=0.01) | extra
    X, y = X_DIGITS[:400], Y_DIGITS[:400]
    ours, theirs = quiet(MLPClassifier(**params).fit, X, y), quiet(sk.MLPClassifier(**params).fit, X, y)
    assert_same_network(ours, theirs)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours._no_improvement_count == theirs._no_improvement_count
    if extra.get("early_stopping"):
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_)
        assert ours.best_validation_score_ == theirs.best_validation_score_


def test_same_weights_with_sample_weight_and_partial_fit():
    rng = np.random.default_rng(0)
    X, y = X_DIGITS[:200], Y_DIGITS[:200]
    w = rng.uniform(0.2, 3.0, size=len(y))
    params = dict(hidden_layer_sizes=(10,), random_state=1, max_iter=5, batch_size=16)
    for solver in ("adam", "lbfgs"):
        ours = quiet(MLPClassifier(solver=solver, **params).fit, X, y, sample_weight=w)
        theirs = quiet(sk.MLPClassifier(solver=solver, **params).fit, X, y, sample_weight=w)
        assert_same_network(ours, theirs)
    ours, theirs = MLPClassifier(solver="sgd", **params), sk.MLPClassifier(solver="sgd", **params)
    for part in np.array_split(np.arange(200), 4):
        ours.partial_fit(X[part], y[part], classes=np.arange(10), sample_weight=w[part])
        theirs.partial_fit(X[part], y[part], classes=np.arange(10), sample_weight=w[part])
    assert_same_network(ours, theirs)
    assert ours.t_ == theirs.t_ == 200


def test_warm_start_continues_like_sklearn():
    params = dict(hidden_layer_sizes=(8,), random_state=0, max_iter=3, warm_start=True, solver="sgd")
    ours, theirs = MLPRegressor(**params), sk.MLPRegressor(**params)
    for _ in range(3):
        quiet(ours.fit, X_DIAB, Y_DIAB)
        quiet(theirs.fit, X_DIAB, Y_DIAB)
    assert_same_network(ours, theirs)
    assert ours.n_iter_ == 3 and ours.t_ == theirs.t_ == 3 * 3 * len(Y_DIAB)


def test_warm_start_refuses_a_changed_architecture():
    clf = quiet(MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, warm_start=True).fit, X_IRIS, Y_IRIS)
    clf.set_params(hidden_layer_sizes=(7,))
    with pytest.raises(ValueError, match="do not match the fitted network's layers"):
        clf.fit(X_IRIS, Y_IRIS)


def test_float32_in_float32_out_and_close_to_sklearn():
    X, y = X_DIGITS.astype(np.float32), Y_DIGITS
    params = dict(hidden_layer_sizes=(32,), random_state=0, max_iter=10, solver="adam")
    ours, theirs = quiet(MLPClassifier(**params).fit, X, y), quiet(sk.MLPClassifier(**params).fit, X, y)
    assert all(c.dtype == np.float32 for c in ours.coefs_ + ours.intercepts_)
    assert ours.predict_proba(X).dtype == np.float32
    # float32 rounding differs (another BLAS, another order of sums); Adam amplifies it for weights
    # whose gradient hovers around 0, so the runs agree closely but not to the last bit.
    assert_same_network(ours, theirs, rtol=0, atol=5e-3)
    assert (ours.predict(X) == theirs.predict(X)).mean() > 0.99
    forced = quiet(MLPClassifier(dtype="float32", **params).fit, X_DIGITS, y)
    assert forced.coefs_[0].dtype == np.float32
    regressor = quiet(MLPRegressor(max_iter=2).fit, X_DIAB.astype(np.float32), Y_DIAB)
    assert regressor.predict(X_DIAB.astype(np.float32)).dtype == np.float32


def test_sparse_rows_train_exactly_as_dense():
    rng = np.random.default_rng(0)
    X = rng.random((150, 40)) * (rng.random((150, 40)) < 0.2)
    y = rng.integers(0, 3, 150)
    # SGD (scikit-learn's default Nesterov momentum, with alpha) and L-BFGS train sparse rows to the
    # same weights; Adam's sparse first layer follows its own lazy rule (docs/MATH.md §17,
    # tests/test_sparse.py).
    for solver in ("sgd", "lbfgs"):
        params = dict(hidden_layer_sizes=(8,), random_state=0, max_iter=4, solver=solver, batch_size=20)
        dense = quiet(MLPClassifier(**params).fit, X, y)
        sparse = quiet(MLPClassifier(**params).fit, sp.csr_matrix(X), y)
        assert_same_network(sparse, dense, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(sparse.predict_proba(sp.csc_matrix(X)), dense.predict_proba(X), rtol=1e-12)


# -- behaviours scikit-learn's tests pin down ---------------------------------------------


def test_partial_fit_needs_classes_first_and_rejects_unseen_ones():
    clf = MLPClassifier(solver="sgd")
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X_IRIS, Y_IRIS)
    clf.partial_fit(X_IRIS[:50], Y_IRIS[:50], classes=[0, 1, 2])
    assert list(clf.classes_) == [0, 1, 2] and clf.n_iter_ == 1
    with pytest.raises(ValueError, match="not in `self.classes_`"):
        clf.partial_fit(X_IRIS, Y_IRIS + 1)
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        MLPRegressor(early_stopping=True).partial_fit(X_DIAB, Y_DIAB)


def test_n_iter_no_change_stops_and_inf_runs_to_max_iter():
    X, y = X_DIGITS[:100], Y_DIGITS[:100] % 2
    clf = MLPClassifier(tol=0.01, max_iter=3000, solver="sgd", n_iter_no_change=5, random_state=0).fit(X, y)
    assert clf._no_improvement_count == 6 and clf.n_iter_ < 3000
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        clf = MLPClassifier(tol=1e9, max_iter=50, solver="sgd", n_iter_no_change=np.inf).fit(X, y)
    assert clf.n_iter_ == 50 and clf._no_improvement_count == 49


def test_early_stopping_split_is_stratified_and_string_labels_work():
    with pytest.raises(ValueError, match=r"Classes with too few members are: \['True'\]"):
        MLPClassifier(early_stopping=True).fit([[1, 2], [2, 3], [3, 4], [4, 5]], [0, 0, 0, 1])
    y = np.array(["setosa", "versicolor", "virginica"])[Y_IRIS]
    clf = quiet(MLPClassifier(early_stopping=True, max_iter=20, random_state=0).fit, X_IRIS, y)
    assert len(clf.validation_scores_) == clf.n_iter_ and set(clf.predict(X_IRIS)) <= set(y)
    with pytest.raises(ValueError, match="The validation set is too small"):
        MLPRegressor(early_stopping=True).fit(X_DIAB[:2], Y_DIAB[:2])


def test_diverging_run_keeps_the_best_weights_and_non_finite_weights_raise():
    params = dict(activation="identity", solver="sgd", learning_rate_init=1, max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = MLPRegressor(early_stopping=True, n_iter_no_change=10, **params).fit(X_IRIS, Y_IRIS)
    assert str(reg.validation_scores_[-1]) == "nan" and np.isfinite(reg.predict(X_IRIS)).all()
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            MLPRegressor(**params).fit(X_IRIS, Y_IRIS)


def test_feature_names_are_kept_and_checked():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X_IRIS, columns=["a", "b", "c", "d"])
    clf = quiet(MLPClassifier(max_iter=5).fit, frame, Y_IRIS)
    assert list(clf.feature_names_in_) == ["a", "b", "c", "d"]
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame[["b", "a", "c", "d"]])


def test_poisson_with_one_linear_unit_is_the_poisson_glm():
    from sklearn.linear_model import PoissonRegressor

    rng = np.random.default_rng(0)
    X = np.linspace(0, 1, 100).reshape(-1, 1)
    y = rng.poisson(np.exp(X.ravel() + 1))
    glm = PoissonRegressor(alpha=0, tol=1e-7).fit(X, y)
    params = dict(hidden_layer_sizes=(1,), activation="identity", alpha=0, solver="lbfgs", tol=1e-7)
    mlp = MLPRegressor(loss="poisson", random_state=1, **params).fit(X, y)
    assert mlp.out_activation_ == "exp"
    np.testing.assert_allclose(mlp.predict(X), glm.predict(X), rtol=1e-4)
    squared = MLPRegressor(loss="squared_error", random_state=1, **params).fit(X, y)
    assert not np.allclose(squared.predict(X), glm.predict(X), rtol=1e-4)
    with pytest.raises(ValueError, match="needs y >= 0"):
        MLPRegressor(loss="poisson").fit(X, y - 5)


def test_pickle_mid_partial_fit_continues_identically():
    X, y = X_DIGITS[:200], Y_DIGITS[:200]
    a = MLPClassifier(solver="adam", random_state=0, hidden_layer_sizes=(8,))
    a.partial_fit(X, y, classes=np.arange(10))
    b = pickle.loads(pickle.dumps(a))
    a.partial_fit(X, y)
    b.partial_fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_class_weight_balanced_is_sample_weight_by_class():
    X, y = X_DIGITS[:300], (Y_DIGITS[:300] == 0).astype(int)
    w = np.where(y == 1, len(y) / (2 * y.sum()), len(y) / (2 * (len(y) - y.sum())))
    params = dict(hidden_layer_sizes=(8,), random_state=0, max_iter=5)
    a = quiet(MLPClassifier(class_weight="balanced", **params).fit, X, y)
    b = quiet(MLPClassifier(**params).fit, X, y, sample_weight=w)
    assert_same_network(a, b, rtol=1e-12)


def test_dropout_changes_training_and_is_seeded():
    params = dict(hidden_layer_sizes=(32,), random_state=0, max_iter=5, dropout=0.3)
    a = quiet(MLPClassifier(**params).fit, X_DIGITS, Y_DIGITS)
    b = quiet(MLPClassifier(**params).fit, X_DIGITS, Y_DIGITS)
    plain = quiet(MLPClassifier(**(params | {"dropout": 0.0})).fit, X_DIGITS, Y_DIGITS)
    assert_same_network(a, b, rtol=0, atol=0)
    assert not np.allclose(a.coefs_[0], plain.coefs_[0])


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(alpha=-1), "'alpha' parameter of MLPClassifier must be a float in the range"),
        (dict(solver="newton"), "'solver' parameter"),
        (dict(hidden_layer_sizes=(10, 0)), "hidden_layer_sizes must be > 0"),
        (dict(batch_size=0), "'batch_size' parameter"),
        (dict(dtype="float16"), "'dtype' parameter"),
        (dict(dtype="foo"), "'dtype' parameter"),
    ],
)
def test_bad_parameters_get_one_clear_error(params, message):
    # A ValueError and a TypeError at once, as scikit-learn's own InvalidParameterError.
    for kind in (ValueError, TypeError):
        with pytest.raises(kind, match=message):
            MLPClassifier(**params).fit(X_IRIS, Y_IRIS)


def test_lbfgs_multi_output_loss_is_reported_as_sklearn_defines_it():
    """loss_ = 1/2 mean over rows and outputs of the squared residual + alpha/(2n) sum ||W||^2."""
    Y = np.stack([Y_DIAB, -0.5 * Y_DIAB, Y_DIAB**2], axis=1)
    reg = quiet(MLPRegressor(solver="lbfgs", max_iter=20, alpha=0.1, random_state=0).fit, X_DIAB, Y)
    residual = reg.predict(X_DIAB) - Y
    squares = sum(float((W**2).sum()) for W in reg.coefs_)
    expected = 0.5 * (residual**2).mean() + 0.5 * 0.1 * squares / len(Y)
    assert reg.loss_ == pytest.approx(expected, rel=1e-9)


# -- in scikit-learn's machinery ----------------------------------------------------------


def test_in_a_pipeline_and_a_grid_search_with_two_jobs():
    pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=30, random_state=0))
    grid = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-2]}, cv=2, n_jobs=2)
    quiet(grid.fit, X_IRIS, Y_IRIS)
    serial = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-2]}, cv=2, n_jobs=1)
    quiet(serial.fit, X_IRIS, Y_IRIS)
    np.testing.assert_allclose(grid.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
    assert grid.best_score_ > 0.8


def _blas_threads_seen_by_the_epoch_kernel():
    """Fit in this process and return the BLAS thread counts in force while the epoch kernel ran."""
    from threadpoolctl import threadpool_info

    seen, run = [], minibatches.Minibatches.run

    def spying(self, *args):
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        return run(self, *args)

    minibatches.Minibatches.run = spying
    try:
        quiet(MLPClassifier(batch_size=128, max_iter=2, random_state=0).fit, X_IRIS, Y_IRIS)
    finally:
        minibatches.Minibatches.run = run
    return seen


def test_fits_in_joblib_workers_keep_their_share_of_cores():
    import os

    from joblib import Parallel, delayed

    share = max(1, (os.cpu_count() or 1) // 2)
    for seen in Parallel(n_jobs=2)(delayed(_blas_threads_seen_by_the_epoch_kernel)() for _ in range(2)):
        assert seen and max(seen) <= share


def test_fit_off_the_main_thread_uses_one_blas_thread():
    clf = MLPClassifier(batch_size=256)
    seen = {}
    thread = threading.Thread(target=lambda: seen.update(threads=clf._blas_threads(1000)))
    thread.start()
    thread.join()
    assert seen["threads"] == 1 and clf._blas_threads(1000) is None
    small = minibatches.BLAS_THREADED_BATCH - 1  # the largest minibatch kept to one BLAS thread
    assert MLPClassifier(batch_size=small)._blas_threads(1000) == 1
    assert MLPClassifier(batch_size=small + 1)._blas_threads(1000) is None


def test_imports_from_the_package_root():
    assert fastmlp.MLPClassifier is MLPClassifier and fastmlp.MLPRegressor is MLPRegressor


# -- model files ----------------------------------------------------------------------------


@pytest.mark.parametrize("labels", ["multiclass", "binary"])
def test_save_then_fastmlp_load_predicts_the_same(tmp_path, labels):
    y = np.array(["cat", "dog", "emu"])[Y_IRIS] if labels == "multiclass" else np.where(Y_IRIS > 0, "a", "b")
    clf = quiet(MLPClassifier(max_iter=50, random_state=0).fit, X_IRIS, y)
    clf.save(tmp_path / "m.npz")
    model = MLP.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(model.predict(X_IRIS), clf.predict(X_IRIS))
    np.testing.assert_allclose(model.predict_proba(X_IRIS), clf.predict_proba(X_IRIS), rtol=1e-6, atol=1e-12)
    back = MLPClassifier.load(tmp_path / "m.npz")
    assert back.coefs_[-1].shape == clf.coefs_[-1].shape
    np.testing.assert_allclose(back.predict_proba(X_IRIS), clf.predict_proba(X_IRIS), rtol=1e-6, atol=1e-12)


def test_a_model_from_fastmlp_train_wraps_as_an_estimator(tmp_path):
    result = fastmlp.train(
        {
            "data": {"name": "digits", "validation_split": 0.1},
            "model": {"hidden": [16]},
            "train": {"epochs": 3},
            "output": {"dir": str(tmp_path)},
        }
    )
    path = result.run_dir / "model.npz"
    clf = MLPClassifier.load(path)
    X, y = load_digits(return_X_y=True)
    y = y.astype(result.model.classes.dtype)  # the run's class labels, as its data spelled them
    np.testing.assert_array_equal(clf.predict(X), result.model.predict(X))
    assert clf.score(X, y) == pytest.approx(float((result.model.predict(X) == y).mean()))
    # It keeps training as an estimator (its standardisation travels with it).
    clf.set_params(warm_start=True, max_iter=2, solver="sgd", learning_rate_init=0.01)
    quiet(clf.fit, X, y)
    assert clf.n_iter_ == 2 and clf.score(X, y) > 0.8
    with pytest.raises(ValueError, match="load it with MLPClassifier"):
        MLPRegressor.load(path)


# -- accuracy at the same parameters ---------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_cross_validated_scores_within_two_points_of_sklearn_in_float32(solver):
    params = dict(hidden_layer_sizes=(32,), solver=solver, random_state=0, max_iter=60)
    for Ours, Theirs, X, y in (
        (MLPClassifier, sk.MLPClassifier, X_DIGITS, Y_DIGITS),
        (MLPClassifier, sk.MLPClassifier, X_IRIS, Y_IRIS),
        (MLPRegressor, sk.MLPRegressor, X_DIAB, Y_DIAB),
    ):
        ours = quiet(cross_val_score, Ours(**params), X.astype(np.float32), y, cv=3)
        theirs = quiet(cross_val_score, Theirs(**params), X, y, cv=3)
        assert abs(ours.mean() - theirs.mean()) <= 0.02, (Ours.__name__, ours, theirs)


def test_inputs_that_overflow_raise_scikit_learns_non_finite_error():
    """scikit-learn's own test_nonfinite_params: inputs near the float64 maximum."""
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    y = rng.standard_normal(size=10)
    with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            MLPRegressor().fit(X, y)


SIGNALLED_FIT = """
import signal, sys, time, warnings
import numpy as np
from fastmlp import MLPClassifier
rng = np.random.default_rng(0)
X = rng.normal(size=(20000, 50)); y = (X[:, 0] > 0).astype(int)
print("fitting", flush=True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    clf = MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=500, tol=0, n_iter_no_change=10**6).fit(X, y)
print("returned", clf.n_iter_, [str(w.message) for w in caught], flush=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_a_signal_during_a_fit_does_what_it_does_to_scikit_learn(signum):
    """SIGTERM ends the process (the estimators do not catch it: a scheduler's stop stops the
    script); Ctrl-C ends the fit at the epoch's end with scikit-learn's warning, and the script
    goes on."""
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-c", SIGNALLED_FIT], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "fitting"
    time.sleep(3)
    proc.send_signal(getattr(signal, signum))
    out, _ = proc.communicate(timeout=120)
    if signum == "SIGTERM":
        assert proc.returncode == -signal.SIGTERM and "returned" not in out
    else:
        assert proc.returncode == 0 and "Training interrupted by user." in out
