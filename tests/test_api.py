"""The Python API: train(config) does what `fastmlp train` does; run folders are written atomically."""

import csv
import json
import math

import numpy as np
import pytest

from fastmlp import api, atomic, runs
from fastmlp.config import ConfigError, load_config
from fastmlp.errors import FastMLPError
from fastmlp.schedules import from_config


def test_train_returns_model_history_and_run_folder(tmp_path):
    config = load_config(None, ["train.epochs=3", "model.hidden=[32]"])
    result = api.train(config, out=tmp_path / "run")
    assert result.run_dir == tmp_path / "run"
    assert len(result.history.rows) == 3
    assert result.model.layer_sizes == [64, 32, 10] and result.model.dtype == np.float32
    assert json.loads((result.run_dir / "summary.json").read_text())["test_accuracy"] == pytest.approx(
        result.summary["test_accuracy"]
    )
    # the saved model and the returned one agree, preprocessing included
    X = result.dataset.X_test
    assert np.array_equal(api.predict(result.run_dir, X), result.model.predict(X))


def test_api_and_overrides_match_the_cli_run(tmp_path):
    a = api.train(None, ["train.epochs=2"], out=tmp_path / "a")
    raw = load_config().to_dict()
    raw["train"]["epochs"] = 2
    b = api.train(raw, out=tmp_path / "b")
    assert np.array_equal(a.model.params, b.model.params)  # same seed, same config: same weights
    assert (tmp_path / "a" / "config.yaml").read_text() == (tmp_path / "b" / "config.yaml").read_text()


def test_schedule_reaches_the_trainer(tmp_path):
    config = load_config(
        None,
        [
            "train.epochs=4",
            "train.lr_schedule=step",
            "train.lr_schedule.step_size=2",
            "train.lr_schedule.gamma=0.5",
            "train.learning_rate=0.1",
        ],
    )
    result = api.train(config, out=tmp_path / "run")
    with open(result.run_dir / "metrics.csv") as f:
        lrs = [float(row["lr"]) for row in csv.DictReader(f)]
    assert lrs == pytest.approx([0.1, 0.1, 0.05, 0.05])
    assert lrs == pytest.approx([from_config(config.train)(e) for e in range(4)])


def test_early_stopping_needs_validation_data(tmp_path):
    config = load_config(None, ["train.early_stopping=3", "data.validation_split=0"])
    with pytest.raises(ConfigError, match="train.early_stopping"):
        api.train(config, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_float64_stays_float64(tmp_path):
    result = api.train(None, ["train.epochs=1", "model.dtype=float64"], out=tmp_path / "run")
    assert result.model.params.dtype == np.float64


def test_write_atomic_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "summary.json"
    runs.write_atomic(target, "old")

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(FastMLPError, match="cannot write .*summary.json: disk full"):
        runs.write_atomic(target, "new and longer")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_run_folders_do_not_collide(tmp_path):
    a = runs.create_run_dir(tmp_path, "x")
    b = runs.create_run_dir(tmp_path, "x")
    assert a != b and a.name.startswith("x-") and b.name.startswith("x-")


def test_summary_json_has_no_nan(tmp_path):
    runs.write_summary(tmp_path, {"r2": math.nan, "n": np.int64(3), "xs": [np.float32(0.5)]})
    assert json.loads((tmp_path / "summary.json").read_text()) == {"r2": None, "n": 3, "xs": [0.5]}


def test_predictions_csv_formats():
    assert api.predictions_csv(np.array([1, 0])) == "class\n1\n0\n"
    assert (
        api.predictions_csv(np.array([[0.25, 0.75]], np.float32), proba=True) == "prob_0,prob_1\n0.25,0.75\n"
    )
    assert api.predictions_csv(np.array([[1.5]])).startswith("y\n")


def test_read_features_errors(tmp_path):
    np.savez(tmp_path / "two.npz", a=np.zeros(2), b=np.zeros(2))
    with pytest.raises(FastMLPError, match="expected one named X"):
        api.read_features(tmp_path / "two.npz")
    (tmp_path / "x.xlsx").write_text("")
    with pytest.raises(FastMLPError, match="unknown input format"):
        api.read_features(tmp_path / "x.xlsx")
    (tmp_path / "bad.csv").write_text("1,2\n3,oops\n")
    with pytest.raises(FastMLPError, match="bad.csv"):
        api.read_features(tmp_path / "bad.csv")


def test_gradcheck_rows():
    rows = api.gradcheck(None, ["model.hidden=[8]", "model.activation=tanh"], samples=3, entries=None)
    assert [r["layer"] for r in rows] == [1, 2] and all(r["ok"] for r in rows)
    assert rows[0]["shape"] == [64, 8]
