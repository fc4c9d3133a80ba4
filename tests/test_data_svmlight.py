"""Sparse files: svmlight/libsvm (against scikit-learn's own reader on generated files, and every
bad line refused with its file and line), scipy sparse .npz with its labels, and both through
`fastmlp train`, `predict` and `evaluate` with the rows kept sparse."""

import gzip
import json

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file, load_svmlight_file
from test_cli import assert_user_error, invoke

from fastmlp import MLP
from fastmlp.data import load_dataset
from fastmlp.data.svmlight import read_svmlight_arrays
from fastmlp.errors import DataError


def random_sparse(rng, n=40, d=30, density=0.15):
    X = rng.normal(size=(n, d)) * (rng.random((n, d)) < density)
    X[:, -1] = np.where(rng.random(n) < 0.5, 1.5, 0.0)  # the last column in use: the width is d
    return X, rng.integers(0, 3, n)


@pytest.mark.parametrize("zero_based", [True, False])
@pytest.mark.parametrize("gzipped", [False, True])
def test_read_like_scikit_learn(zero_based, gzipped, rng, tmp_path):
    X, y = random_sparse(rng)
    X[:, 0] = np.where(rng.random(len(X)) < 0.5, 2.0, 0.0)  # index 0 (or 1) present
    path = tmp_path / "rows.svm"
    dump_svmlight_file(X, y, str(path), zero_based=zero_based, comment="written by a test")
    if gzipped:
        gz = tmp_path / "rows.svm.gz"
        gz.write_bytes(gzip.compress(path.read_bytes()))
        path = gz
    ours, labels, _, _ = read_svmlight_arrays(path)
    theirs, their_labels = load_svmlight_file(str(path), n_features=X.shape[1], zero_based="auto")
    assert ours.shape == theirs.shape == X.shape
    np.testing.assert_array_equal(ours.toarray(), theirs.toarray())
    np.testing.assert_array_equal(labels, their_labels)
    assert labels.dtype == np.int64  # class labels stay integers


def test_comments_blank_lines_float_labels_and_empty_rows(tmp_path):
    path = tmp_path / "rows.libsvm"
    path.write_text("# a header comment\n\n1.5 1:2 3:0.5  # trailing comment\n-2.25\n0.5 2:1e-3\n")
    X, y, lines, zero_based = read_svmlight_arrays(path)
    np.testing.assert_array_equal(X.toarray(), [[2, 0, 0.5], [0, 0, 0], [0, 1e-3, 0]])
    np.testing.assert_array_equal(y, [1.5, -2.25, 0.5])
    np.testing.assert_array_equal(lines, [3, 4, 5])
    assert zero_based is False  # no index 0: one-based
    theirs, their_y = load_svmlight_file(str(path))
    np.testing.assert_array_equal(X.toarray(), theirs.toarray())
    np.testing.assert_array_equal(y, their_y)


def test_base_set_and_width_declared(tmp_path):
    path = tmp_path / "rows.svm"
    path.write_text("1 1:1 4:2\n0 2:3\n")
    assert read_svmlight_arrays(path)[0].shape == (2, 4)  # auto: no index 0, one-based
    zero = read_svmlight_arrays(path, zero_based=True).X
    np.testing.assert_array_equal(zero.toarray(), [[0, 1, 0, 0, 2], [0, 0, 3, 0, 0]])
    assert read_svmlight_arrays(path, width=10)[0].shape == (2, 10)


@pytest.mark.parametrize(
    "text, options, fragments",
    [
        ("1 1:1 3:2\n0 3:1 2:5\n", {}, ["line 2", "index 2 after 3", "increase"]),
        ("1 1:1 1:2\n", {}, ["line 1", "index 1 after 1"]),
        ("1 1:1\n0 2=1\n", {}, ["line 2", "'2=1' is not index:value"]),
        ("1 1:1\n0 2:\n", {}, ["line 2", "'2:' is not index:value"]),
        ("1 1:1\n\n0 a:1\n", {}, ["line 3", "index 'a' is not a number"]),
        ("1 1:1\n0 2:x\n", {}, ["line 2", "value 'x' is not a number"]),
        ("1 1:1\nyes 2:1\n", {}, ["line 2", "label 'yes' is not a number"]),
        ("1,2 1:1\n", {}, ["line 1", "several labels"]),
        ("1 qid:3 1:1\n", {}, ["line 1", "qid"]),
        ("1 1:1\n0 -1:2\n", {}, ["line 2", "index -1"]),
        ("1 0:1\n0 2:2\n", {"zero_based": False}, ["line 1", "index 0", "one-based"]),
        ("1 1:1\n0 9:2\n", {"width": 5}, ["line 2", "index 9 is past the 5 input columns"]),
        ("# only a comment\n\n", {}, ["no rows"]),
    ],
)
def test_bad_lines_name_the_file_and_line(text, options, fragments, tmp_path):
    path = tmp_path / "bad.svm"
    path.write_text(text)
    with pytest.raises(DataError) as caught:
        read_svmlight_arrays(path, **options)
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    if (
        "qid" not in text
        and "no rows" not in fragments
        and "zero_based" not in options
        and "width" not in options
    ):
        with pytest.raises(ValueError):  # scikit-learn refuses the same lines
            load_svmlight_file(str(path))


def test_load_dataset_keeps_rows_sparse_and_refuses_standardize(rng, tmp_path):
    X, y = random_sparse(rng, n=200)
    path = tmp_path / "train.svm"
    dump_svmlight_file(X, y, str(path), zero_based=False)
    ds = load_dataset({"path": str(path), "preprocessing": "none", "test_split": 0.25}, dtype="float32")
    assert sp.issparse(ds.X_train) and ds.X_train.dtype == np.float32
    assert ds.X_train.shape[0] + ds.X_val.shape[0] + ds.X_test.shape[0] == 200
    assert ds.n_inputs == X.shape[1]
    scaled = load_dataset({"path": str(path), "preprocessing": "scale", "scale": 2.0}, dtype="float64")
    unscaled = load_dataset({"path": str(path), "preprocessing": "none"}, dtype="float64")
    np.testing.assert_allclose(scaled.X_train.toarray() * 2.0, unscaled.X_train.toarray())
    with pytest.raises(DataError, match="data.preprocessing: none"):
        load_dataset({"path": str(path)})


def write_problem(rng, tmp_path, n=300, d=50):
    """A learnable sparse problem: the class is which of three column groups carries weight."""
    y = rng.integers(0, 3, n)
    X = (rng.random((n, d)) < 0.1) * rng.random((n, d))
    X[np.arange(n), y * 10 + rng.integers(0, 10, n)] += 2.0
    dump_svmlight_file(X[:240], y[:240], str(tmp_path / "train.svm"), zero_based=False)
    dump_svmlight_file(X[240:], y[240:], str(tmp_path / "test.svm"), zero_based=False)
    return X, y


def on_file(path, *settings):
    """`fastmlp train` arguments for a data file in place of the default built-in set."""
    args = ["--set", "data.name=null", "--set", f"data.path={path}"]
    for setting in settings:
        args += ["--set", setting]
    return args


def test_train_predict_evaluate_an_svmlight_file(rng, tmp_path):
    X, y = write_problem(rng, tmp_path)
    run_dir = tmp_path / "run"
    settings = [f"data.test_path={tmp_path / 'test.svm'}", "data.preprocessing=none", "model.hidden=[16]"]
    result = invoke(
        "train", *on_file(tmp_path / "train.svm", *settings, "train.epochs=30"), "--out", run_dir, "-q"
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["test_accuracy"] >= 0.9
    model = MLP.load(run_dir / "model.npz")
    assert model.n_inputs == 50
    out = tmp_path / "predicted.npy"
    assert invoke("predict", run_dir, tmp_path / "test.svm", "--out", out).exit_code == 0
    np.testing.assert_array_equal(np.load(out), model.predict(X[240:]))
    expected = float((model.predict(X[240:]) == y[240:]).mean())
    of_run = invoke("evaluate", run_dir, "--json")  # the run's test split: test.svm
    assert of_run.exit_code == 0, of_run.output
    assert json.loads(of_run.stdout)["metrics"]["accuracy"] == pytest.approx(expected)
    # A data file given with --data is held-out rows: every one of them is scored.
    of_file = invoke("evaluate", run_dir / "model.npz", "--data", tmp_path / "test.svm", "--json")
    assert of_file.exit_code == 0, of_file.output
    report = json.loads(of_file.stdout)
    assert (report["split"], report["n"]) == ("all", 60)
    assert report["metrics"]["accuracy"] == pytest.approx(expected)
    of_run = json.loads(invoke("evaluate", run_dir, "--split", "all", "--json").stdout)
    assert (of_run["split"], of_run["n"]) == ("all", 240)  # the run's data.path, whole


def test_sparse_npz_with_its_labels(rng, tmp_path):
    X, y = write_problem(rng, tmp_path)
    sp.save_npz(tmp_path / "X_train.npz", sp.csr_matrix(X))
    np.save(tmp_path / "y_train.npy", y)
    run_dir = tmp_path / "run"
    settings = ["data.preprocessing=none", "train.epochs=3"]
    result = invoke("train", *on_file(tmp_path / "X_train.npz", *settings), "--out", run_dir, "--quiet")
    assert result.exit_code == 0, result.output
    out = tmp_path / "predicted.npy"
    assert invoke("predict", run_dir, tmp_path / "X_train.npz", "--out", out).exit_code == 0
    np.testing.assert_array_equal(np.load(out), MLP.load(run_dir / "model.npz").predict(X))
    (tmp_path / "y_train.npy").unlink()
    assert_user_error(
        invoke("train", *on_file(tmp_path / "X_train.npz", "data.preprocessing=none")),
        "y_train.npy",
    )


def test_cli_user_errors_for_sparse_files(rng, tmp_path):
    write_problem(rng, tmp_path)
    bad = tmp_path / "bad.svm"
    bad.write_text("1 1:1 2:1\n0 3:1 2:1\n")
    assert_user_error(invoke("train", *on_file(bad, "data.preprocessing=none")), str(bad), "line 2")
    train = tmp_path / "train.svm"
    assert_user_error(invoke("train", *on_file(train), "--out", tmp_path / "r"), "data.preprocessing: none")
    assert not (tmp_path / "r").exists()
    assert_user_error(invoke("train", *on_file(train, "data.zero_based=maybe")), "data.zero_based")


def test_files_after_the_training_one_take_its_indexing(tmp_path):
    """A zero-based training file makes its test file and the files predicted on zero-based too,
    even when they hold no index 0 ("auto" on its own would read them one-based: every column
    shifted). The model file keeps the indexing."""
    (tmp_path / "train.svm").write_text("".join(f"{i % 2} 0:1 {1 + i % 2}:1 3:0.5\n" for i in range(40)))
    (tmp_path / "test.svm").write_text("0 2:1 3:1\n1 1:1\n")
    spec = {
        "path": str(tmp_path / "train.svm"),
        "test_path": str(tmp_path / "test.svm"),
        "preprocessing": "none",
    }
    ds = load_dataset(spec, dtype="float64")
    np.testing.assert_array_equal(ds.X_test.toarray(), [[0, 0, 1, 1], [0, 1, 0, 0]])
    run_dir = tmp_path / "run"
    result = invoke(
        "train", *on_file(tmp_path / "train.svm", "data.preprocessing=none"), "--out", run_dir, "-q"
    )
    assert result.exit_code == 0, result.output
    model = MLP.load(run_dir / "model.npz")
    assert model.svmlight_zero_based is True
    out = tmp_path / "p.npy"
    assert invoke("predict", run_dir, tmp_path / "test.svm", "--proba", "--out", out).exit_code == 0
    np.testing.assert_allclose(np.load(out), model.predict_proba(ds.X_test.astype(np.float32)), rtol=1e-6)
    # A one-based model refuses an index 0 instead of reading the file zero-based.
    (tmp_path / "one.svm").write_text("".join(f"{i % 2} 1:1 {2 + i % 2}:1\n" for i in range(40)))
    one = tmp_path / "one_run"
    assert (
        invoke(
            "train", *on_file(tmp_path / "one.svm", "data.preprocessing=none"), "--out", one, "-q"
        ).exit_code
        == 0
    )
    (tmp_path / "zero.svm").write_text("1 0:0 2:1\n")
    assert_user_error(invoke("predict", one, tmp_path / "zero.svm"), "line 1", "index 0", "one-based")


def test_rows_to_predict_may_leave_their_label_out(rng, tmp_path):
    X, y = write_problem(rng, tmp_path)
    run_dir = tmp_path / "run"
    assert (
        invoke(
            "train", *on_file(tmp_path / "train.svm", "data.preprocessing=none"), "--out", run_dir, "-q"
        ).exit_code
        == 0
    )
    lines = [" ".join(f"{j + 1}:{v:g}" for j, v in enumerate(row) if v) for row in X[240:]]
    (tmp_path / "rows.svm").write_text("\n".join(lines) + "\n")
    out = tmp_path / "p.npy"
    assert invoke("predict", run_dir, tmp_path / "rows.svm", "--out", out).exit_code == 0
    np.testing.assert_array_equal(np.load(out), MLP.load(run_dir / "model.npz").predict(X[240:]))
    with pytest.raises(DataError, match="line 1: starts with '[0-9]+:.*'; a line starts with its label"):
        read_svmlight_arrays(tmp_path / "rows.svm")  # training rows need their labels


def test_a_coo_npz_reads_like_a_csr_one(rng, tmp_path):
    X, y = write_problem(rng, tmp_path)
    sp.save_npz(tmp_path / "X_coo.npz", sp.coo_matrix(X))
    np.save(tmp_path / "y_coo.npy", y)
    ds = load_dataset({"path": str(tmp_path / "X_coo.npz"), "preprocessing": "none", "test_split": 0,
                       "validation_split": 0}, dtype="float64")  # fmt: skip
    np.testing.assert_array_equal(ds.X_train.toarray(), X)


def test_the_first_line_past_the_width_is_named(tmp_path):
    path = tmp_path / "rows.svm"
    path.write_text("1 1:1\n0 7:1\n1 30:1\n")
    with pytest.raises(DataError, match="line 2: index 7 is past the 5 input columns"):
        read_svmlight_arrays(path, width=5)


def test_a_data_path_given_relative_with_set_is_found_again_from_the_run_folder(rng, tmp_path, monkeypatch):
    """`--set data.path=train.svm` is relative to where the command runs: the run's config.yaml
    keeps it absolute, so `fastmlp evaluate RUN` works from anywhere."""
    import yaml

    write_problem(rng, tmp_path)
    monkeypatch.chdir(tmp_path)
    result = invoke("train", *on_file("train.svm", "data.preprocessing=none"), "--out", "runs/a", "-q")
    assert result.exit_code == 0, result.output
    saved = yaml.safe_load((tmp_path / "runs" / "a" / "config.yaml").read_text())["data"]["path"]
    assert saved == str(tmp_path / "train.svm")
    monkeypatch.chdir(tmp_path / "runs")
    assert invoke("evaluate", "a").exit_code == 0


def test_gradcheck_on_a_wide_svmlight_file(rng, tmp_path):
    """`fastmlp gradcheck` on wide sparse rows probes the first layer's weights of the columns
    the rows use (a random choice of the 5,000 x 6 would hold only l2 W gradients, too small for
    finite differences: the check failed on right gradients)."""
    lines = []
    for i in range(60):
        cols = sorted(set(rng.integers(1, 5000, 10).tolist()) | {1 + (i % 3) * 100})
        lines.append(f"{i % 3} " + " ".join(f"{c}:1" for c in cols))
    (tmp_path / "wide.svm").write_text("\n".join(lines) + "\n")
    result = invoke(
        "gradcheck", *on_file(tmp_path / "wide.svm", "data.preprocessing=none", "model.hidden=[6]")
    )
    assert result.exit_code == 0, result.output
