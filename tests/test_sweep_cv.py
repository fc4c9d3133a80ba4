"""cv: k in sweep files — k stratified folds of the training rows (test rows never touched), one
run per fold, results.csv with the fold mean and std of each metric, ranking by the mean."""

import csv
import json
import statistics

import numpy as np
import pytest
from conftest import sweep_app as app
from typer.testing import CliRunner

from fastmlp.data import load_dataset
from fastmlp.errors import ConfigError, DataError
from fastmlp.sweep import expand, load_sweep, sweep
from fastmlp.sweep.results import FOLDS

BASE = {"data": {"name": "digits"}, "model": {"hidden": [8]}, "train": {"epochs": 1, "batch_size": 64}}


def write_ids(tmp_path, n=230):
    """An .npz whose first column is the row's number, so the split's rows can be read back;
    three classes of 100, 80 and 50 rows."""
    labels = np.repeat([0, 1, 2], [100, 80, 50])[:n]
    X = np.column_stack([np.arange(n), np.random.default_rng(0).normal(size=(n, 3))])
    path = tmp_path / "ids.npz"
    np.savez(path, X=X, y=labels)
    return path, labels


def split_ids(path, fold, seed=0):
    data = {"path": str(path), "test_split": 0.2, "preprocessing": "none", "fold": fold}
    ds = load_dataset(data, seed=seed, dtype="float64", task="classification")
    return [set(ds.split(s)[0][:, 0].astype(int).tolist()) for s in ("train", "val", "test")]


@pytest.mark.parametrize("k", [2, 3, 5])
def test_folds_partition_the_training_rows_stratified_and_never_touch_the_test_rows(tmp_path, k):
    path, labels = write_ids(tmp_path)
    splits = [split_ids(path, [k, i]) for i in range(k)]
    tests = {frozenset(test) for _, _, test in splits}
    assert len(tests) == 1  # the test rows are the same for every fold (data_seed's split)
    test = set(next(iter(tests)))
    training = splits[0][0] | splits[0][1]
    assert not training & test and len(training | test) == len(labels)
    held = [val for _, val, _ in splits]
    assert sorted(i for val in held for i in val) == sorted(training)  # each training row exactly once
    for train, val, _ in splits:
        assert train | val == training and not train & val
        for c in range(3):
            in_class = sum(labels[i] == c for i in training)
            count = sum(labels[i] == c for i in val)
            assert in_class // k <= count <= -(-in_class // k)  # the class's share, to one row
    assert max(map(len, held)) - min(map(len, held)) <= 1
    # seeded: the same seed gives the same folds, another seed others
    assert split_ids(path, [k, 0]) == splits[0]
    assert split_ids(path, [k, 0], seed=1)[1] != splits[0][1]


def test_regression_folds_are_plain_k_fold():
    from fastmlp.data.split import fold_indices

    rows = np.arange(10, 33)
    held = [fold_indices(rows, [4, i], seed=0)[1] for i in range(4)]
    assert sorted(np.concatenate(held).tolist()) == rows.tolist()
    assert sorted(map(len, held)) == [5, 6, 6, 6]


@pytest.mark.parametrize("fold", [[1, 0], [3, 3], [3, -1], 3, "x"])
def test_a_bad_data_fold_is_one_line(tmp_path, fold):
    path, _ = write_ids(tmp_path)
    with pytest.raises(DataError, match=r"data.fold: expected \[k, i\]"):
        split_ids(path, fold)


def test_results_hold_the_fold_mean_and_std_and_rank_by_the_mean(tmp_path):
    spec = {"base": BASE, "grid": {"train.learning_rate": [0.02, 0.2]}, "cv": 3}
    out = tmp_path / "s"
    result = sweep(spec, out=out)
    assert len(result.rows) == 6 and all(r["status"] == "ok" for r in result.rows)
    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(out / FOLDS, newline="") as f:
        assert len(list(csv.DictReader(f))) == 6
    assert len(rows) == 2 and [r["folds"] for r in rows] == ["3", "3"]
    for row in rows:
        folder = out / row["run"]
        assert row["run_dir"] == str(folder)
        summaries = [json.loads((folder / f"fold={i}" / "summary.json").read_text()) for i in range(3)]
        for i in range(3):
            config = (folder / f"fold={i}" / "config.yaml").read_text()
            assert f"fold: [3, {i}]" in config  # the run's folder and config say which fold
        for key in ("val_accuracy", "val_loss", "train_loss", "test_accuracy"):
            values = [s[key] for s in summaries]
            assert float(row[key]) == pytest.approx(statistics.fmean(values), rel=1e-12)
            assert float(row[f"{key}_std"]) == pytest.approx(statistics.stdev(values), rel=1e-12)
        assert row["metric"] == row["val_accuracy"] and row["metric_std"] == row["val_accuracy_std"]
        # every fold validates on a third of the training rows; they share the test rows
        n_val = [s["n_val"] for s in summaries]
        assert max(n_val) - min(n_val) <= 1 and {s["n_train"] + s["n_val"] for s in summaries} == {sum(n_val)}
        assert len({s["n_test"] for s in summaries}) == 1
    means = {json.loads(r["overrides"])["train.learning_rate"]: float(r["metric"]) for r in rows}
    assert result.best.mean == pytest.approx(max(means.values()))
    assert result.best.overrides["train.learning_rate"] == max(means, key=means.get)
    assert result.best.std == pytest.approx(float(rows[0 if means[0.02] > means[0.2] else 1]["metric_std"]))
    # a re-run finds every fold finished
    again = sweep(spec, out=out)
    assert all(r["resumed"] for r in again.rows)


@pytest.mark.parametrize(
    "value, message",
    [
        ("1", "cv: expected an integer >= 2 (the number of folds), got int 1"),
        ("-1", "cv: expected an integer >= 2"),
        ("x", "cv: expected an integer >= 2 (the number of folds), got str 'x'"),
        ("true", "cv: expected an integer >= 2"),
        ("400", "cv: 400: 400 folds need at least 400 training rows of every class"),
    ],
)
def test_bad_cv_values_are_one_line_and_exit_2(tmp_path, value, message):
    path = tmp_path / "cv.yaml"
    path.write_text(
        "base: {data: {name: digits}, model: {hidden: [8]}, train: {epochs: 1}}\n"
        f"grid: {{train.learning_rate: [0.1]}}\ncv: {value}\n"
    )
    for extra in ([], ["--dry-run"]):
        result = CliRunner().invoke(app(), ["sweep", str(path), "--out", str(tmp_path / "s"), *extra])
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and message in lines[0]
    assert not (tmp_path / "s").exists()


def test_cv_refuses_a_fold_set_by_hand():
    spec = {"base": BASE, "grid": {"train.learning_rate": [0.1]}, "set": {"data.fold": [3, 0]}, "cv": 3}
    with pytest.raises(ConfigError, match="data.fold is set by cv"):
        expand(load_sweep(spec))
