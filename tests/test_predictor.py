"""The model a user gets back predicts right on its own: raw features in, labels as the data spelled
them out; columns matched by name; the task inferred or refused; the same answers from the Python
API, after save/load, and from `fastmlp predict`."""

import csv

import numpy as np
import pytest
from typer.testing import CliRunner

import fastmlp
from fastmlp import MLP
from fastmlp.cli import app

FEATURES = ["radius", "texture", "area", "smoothness", "symmetry"]


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def tabular(rng, n=400):
    """Features on very different scales (so a model that skipped its preprocessing would fail)
    and string labels that follow from them."""
    X = rng.normal(size=(n, 5)) * np.array([1.0, 10.0, 1000.0, 0.01, 5.0]) + np.array([5, 50, 3000, 0.1, 0])
    score = (X[:, 0] - 5) + (X[:, 2] - 3000) / 1000 - (X[:, 1] - 50) / 10
    y = np.where(score > 0.5, "malignant", np.where(score < -0.5, "benign", "unclear"))
    return X, y


def train_csv(tmp_path, rng, preprocessing="standardize", epochs=30):
    X, y = tabular(rng)
    path = write_csv(
        tmp_path / "cells.csv",
        [*FEATURES, "diagnosis"],
        [[*map(float, x), t] for x, t in zip(X, y, strict=False)],
    )
    config = {
        "data": {"path": str(path), "target": "diagnosis", "preprocessing": preprocessing, "scale": 100.0},
        "model": {"hidden": [32]},
        "train": {"epochs": epochs, "batch_size": 32, "learning_rate": 0.05},
        "output": {"dir": str(tmp_path / "runs")},
    }
    return fastmlp.train(config), X, y


@pytest.mark.parametrize("preprocessing", ["standardize", "minmax", "scale", "none"])
def test_api_cli_and_reloaded_model_agree_on_raw_rows(preprocessing, tmp_path, rng):
    result, X, y = train_csv(
        tmp_path, rng, preprocessing, epochs=30 if preprocessing in ("standardize", "minmax") else 3
    )
    model = result.model
    labels = model.predict(X)
    assert set(labels) <= {"benign", "malignant", "unclear"}  # class names, not indices
    reloaded = MLP.load(result.run_dir / "model.npz")
    np.testing.assert_array_equal(reloaded.predict(X), labels)
    np.testing.assert_allclose(reloaded.predict_proba(X), model.predict_proba(X))
    # the CLI on a CSV of the same raw rows, with a header
    rows = write_csv(tmp_path / "rows.csv", FEATURES, X.tolist())
    out = invoke("predict", result.run_dir, rows)
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines()[1:] == list(labels)
    if preprocessing in ("standardize", "minmax"):  # the kinds that suit these columns' scales
        assert (labels == y).mean() > (0.9 if preprocessing == "standardize" else 0.6)
        assert model.evaluate(X, y)["accuracy"] == pytest.approx((labels == y).mean())
        assert model.evaluate(X, y)["loss"] < 1.0  # below chance, log 3 (raw rows unscaled gave 510)


def test_columns_are_matched_by_name(tmp_path, rng):
    result, X, y = train_csv(tmp_path, rng)
    assert result.model.feature_names == FEATURES
    expected = result.model.predict(X)
    order = FEATURES[::-1]
    reversed_csv = write_csv(
        tmp_path / "reversed.csv",
        [*order, "diagnosis"],
        [[*x[::-1], t] for x, t in zip(X.tolist(), y, strict=False)],
    )  # target column kept too
    out = invoke("predict", result.run_dir, reversed_csv)
    assert out.exit_code == 0, out.output
    assert out.stdout.splitlines()[1:] == list(expected)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X[:, ::-1], columns=order)
    np.testing.assert_array_equal(result.model.predict(frame), expected)
    with pytest.raises(fastmlp.FastMLPError, match="missing feature column 'area'"):
        result.model.predict(frame.drop(columns=["area"]))
    missing = write_csv(tmp_path / "missing.csv", FEATURES[:2] + FEATURES[3:], X[:, [0, 1, 3, 4]].tolist())
    out = invoke("predict", result.run_dir, missing)
    assert out.exit_code == 2 and "missing feature column 'area'" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_whole_number_regression_target_is_refused_with_one_line(tmp_path, rng):
    """Diabetes-like: 442 rows, whole-number targets 25..346. Inferring classification would train
    a ~200-class classifier; the run stops and says what to set."""
    X = rng.normal(size=(442, 10))
    y = np.clip(np.round(150 + 60 * X[:, 0] + 20 * X[:, 1] + 10 * rng.normal(size=442)), 25, 346).astype(int)
    path = write_csv(
        tmp_path / "diabetes.csv",
        [f"x{i}" for i in range(10)] + ["progression"],
        [[*x, t] for x, t in zip(X.tolist(), y, strict=False)],
    )
    out = invoke(
        "train",
        "--set",
        f"data.path={path}",
        "--set",
        "data.name=null",
        "--set",
        "data.target=progression",
        "--set",
        f"output.dir={tmp_path / 'runs'}",
    )
    assert out.exit_code == 2
    line = out.stderr.strip()
    assert len(line.splitlines()) == 1 and "distinct whole-number values" in line and "model.task" in line
    assert not (tmp_path / "runs").exists()  # refused before any run folder is written
    config = {
        "data": {"path": str(path), "target": "progression"},
        "model": {"task": "regression", "hidden": [32]},
        "train": {"epochs": 40, "batch_size": 32, "learning_rate": 0.01},
        "output": {"dir": str(tmp_path / "r")},
    }
    result = fastmlp.train(config)
    assert result.model.task == "regression"
    spread = float(np.std(y))
    assert result.summary["test_rmse"] < 0.6 * spread  # in the target's own units, not scaled ones
    prediction = result.model.predict(X[:5])
    assert prediction.shape == (5, 1) and 25 < prediction.mean() < 346


def test_labels_one_to_three_are_three_classes(tmp_path, rng):
    X = rng.normal(size=(300, 4))
    y = 1 + (X[:, 0] > -0.4).astype(int) + (X[:, 0] > 0.4).astype(int)
    result = fastmlp.train(
        {
            "data": {
                "path": str(
                    write_csv(
                        tmp_path / "t.csv",
                        ["a", "b", "c", "d", "y"],
                        [[*x, t] for x, t in zip(X.tolist(), y, strict=False)],
                    )
                )
            },
            "model": {"hidden": [16]},
            "train": {"epochs": 20, "batch_size": 16},
            "output": {"dir": str(tmp_path / "runs")},
        }
    )
    assert result.model.n_outputs == 3 and list(result.model.classes) == [1, 2, 3]
    predicted = result.model.predict(X)
    assert set(predicted.tolist()) <= {1, 2, 3} and (predicted == y).mean() > 0.9


def test_multilabel_end_to_end(tmp_path, rng):
    X = rng.normal(size=(400, 3))
    Y = np.stack([X[:, 0] > 0, X[:, 1] > 0.3, X[:, 0] + X[:, 2] > 0], axis=1).astype(int)
    path = write_csv(
        tmp_path / "tags.csv", ["u", "v", "w", "red", "green", "blue"], np.hstack([X, Y]).tolist()
    )
    result = fastmlp.train(
        {
            "data": {"path": str(path), "target": ["red", "green", "blue"]},
            "model": {"hidden": [32]},
            "train": {"epochs": 40, "batch_size": 32},
            "output": {"dir": str(tmp_path / "runs")},
        }
    )
    model = result.model
    assert model.task == "multilabel" and [str(c) for c in model.classes] == ["red", "green", "blue"]
    assert model.predict(X).shape == (400, 3) and (model.predict(X) == Y).all(axis=1).mean() > 0.85
    assert result.summary["test_accuracy"] > 0.8
    np.testing.assert_array_equal(MLP.load(result.run_dir / "model.npz").predict(X), model.predict(X))
    out = invoke("predict", result.run_dir, write_csv(tmp_path / "rows.csv", ["u", "v", "w"], X[:3].tolist()))
    assert out.exit_code == 0 and out.stdout.splitlines()[0] == "red,green,blue"


def test_prepare_on_plain_arrays_feeds_fit(rng):
    """The data layer's steps on plain arrays (encode, split, fit preprocessing), then fit, give a
    model that predicts string labels from raw rows."""
    from fastmlp.data import prepare

    X, y = tabular(rng)
    ds = prepare(X, y, validation_split=0.2, seed=0)
    model = MLP([ds.n_inputs, 32, ds.n_outputs], seed=0)
    model.preprocessing, model.classes = ds.preprocessing, ds.classes
    fastmlp.fit(
        model,
        ds.X_train,
        ds.y_train,
        ds.X_val,
        ds.y_val,
        epochs=30,
        batch_size=32,
        learning_rate=0.05,
        optimizer="adam",
        class_weight="balanced",
    )
    assert (model.predict(X) == y).mean() > 0.9


def test_a_header_of_numbers_is_not_read_as_a_row(tmp_path, rng):
    """Header "1,2,3,label": read as data it would make a class 'label' of one row. Refused."""
    X, y = tabular(rng, 60)
    path = write_csv(
        tmp_path / "numhdr.csv",
        ["1", "2", "3", "4", "5", "label"],
        [[*x, t] for x, t in zip(X.tolist(), y, strict=True)],
    )
    out = invoke(
        "train", "--set", "data.name=null", "--set", f"data.path={path}", "--set", f"output.dir={tmp_path}/r"
    )
    assert out.exit_code == 2 and "line 1 may be a header" in out.stderr and "data.header" in out.stderr
    ok = invoke(
        "train",
        "--set",
        "data.name=null",
        "--set",
        f"data.path={path}",
        "--set",
        "data.header=true",
        "--set",
        "train.epochs=1",
        "--set",
        f"output.dir={tmp_path}/r",
    )
    assert ok.exit_code == 0, ok.output


def test_settings_the_data_refutes_leave_no_run_folder(tmp_path, rng):
    result, X, y = train_csv(tmp_path, rng, epochs=1)
    out = invoke(
        "train",
        "--set",
        "data.name=null",
        "--set",
        f"data.path={tmp_path / 'cells.csv'}",
        "--set",
        "data.target=diagnosis",
        "--set",
        "train.class_weight={benign: 1, malignent: 2}",
        "--set",
        f"output.dir={tmp_path / 'fresh'}",
    )
    assert out.exit_code == 2 and "'malignent' is not a class" in out.stderr
    assert not (tmp_path / "fresh").exists()


def test_a_frame_with_its_label_column_still_predicts(tmp_path, rng):
    pd = pytest.importorskip("pandas")
    result, X, y = train_csv(tmp_path, rng)
    frame = pd.DataFrame(X, columns=FEATURES).assign(diagnosis=y)  # the string label column is extra
    np.testing.assert_array_equal(result.model.predict(frame), result.model.predict(X))


def test_a_header_meets_a_model_without_names(tmp_path, rng):
    """Columns can only be taken in file order: the CLI says so in one warning line."""
    X, y = tabular(rng, 120)
    model = MLP([5, 8, 3], seed=0)
    model.classes = np.array(["benign", "malignant", "unclear"])
    model.save(tmp_path / "m.npz")
    out = invoke("predict", tmp_path / "m.npz", write_csv(tmp_path / "rows.csv", FEATURES, X.tolist()))
    assert out.exit_code == 0
    assert "warning: " in out.stderr and "taken in file order" in out.stderr
