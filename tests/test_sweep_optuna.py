"""search: optuna — TPE proposals seeded by search_seed, median pruning on the validation loss,
trials on the process pool and on Dask, and the one line when optuna is not installed."""

import csv
import json
import sys

import pytest
import yaml
from conftest import sweep_app as app
from typer.testing import CliRunner

from fastmlp.errors import ConfigError
from fastmlp.sweep import expand, load_sweep, sweep
from fastmlp.sweep.pruning import MISSING, PRUNED_FILE

BASE = {"data": {"name": "digits"}, "model": {"hidden": [8]}, "train": {"epochs": 2, "batch_size": 64}}
SPACE = {
    "train.learning_rate": "loguniform(0.01, 0.3)",
    "train.batch_size": "int(32, 128)",
    "model.hidden": "choice([8], [16])",
}


@pytest.fixture
def optuna():
    return pytest.importorskip("optuna", reason="needs the fastmlp[optuna] extra")


def optuna_sweep(**extra):
    return {"base": BASE, "search": "optuna", "trials": 5, "grid": dict(SPACE), **extra}


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_trials_are_proposed_in_the_space_recorded_and_seeded(optuna, tmp_path):
    first = sweep(optuna_sweep(pruner=None), out=tmp_path / "a")
    rows = read_rows(tmp_path / "a" / "results.csv")
    assert len(rows) == 5 and [r["trial"] for r in rows] == ["0", "1", "2", "3", "4"]
    assert all(r["status"] == "ok" and float(r["metric"]) == float(r["val_accuracy"]) for r in rows)
    for row in first.rows:
        point = json.loads(row["overrides"])
        assert 0.01 <= point["train.learning_rate"] <= 0.3 and 32 <= point["train.batch_size"] <= 128
        assert point["model.hidden"] in ([8], [16]) and isinstance(point["train.batch_size"], int)
        assert row["run"].startswith(f"trial={row['trial']:03d}_")
        assert (tmp_path / "a" / row["run"] / "summary.json").is_file()
    assert first.best is not None and first.best.mean == max(r["metric"] for r in first.rows)
    # the same search_seed proposes the same values (and, seeded, trains to the same numbers)
    again = sweep(optuna_sweep(pruner=None), out=tmp_path / "b")
    assert [r["overrides"] for r in again.rows] == [r["overrides"] for r in first.rows]
    assert [r["metric"] for r in again.rows] == [r["metric"] for r in first.rows]
    other = sweep(optuna_sweep(pruner=None, search_seed=1), out=tmp_path / "c")
    assert [r["overrides"] for r in other.rows] != [r["overrides"] for r in first.rows]


# Two good trials first, then one with a learning rate that cannot learn in 3 epochs: its
# validation loss after epoch 1 is far above the median of the two finished trials'.
PRUNING = """\
base: {data: {name: digits}, model: {hidden: [16]}, train: {epochs: 3, batch_size: 64}}
search: optuna
trials: 4
search_seed: 0
pruner: {n_startup_trials: 2}
grid:
  train.learning_rate: loguniform(1.0e-6, 0.3)
runs:
  - {train.learning_rate: 0.1}
  - {train.learning_rate: 0.08}
  - {train.learning_rate: 1.0e-6}
"""


def test_a_hopeless_trial_is_pruned_recorded_and_not_ranked(optuna, tmp_path):
    path = tmp_path / "prune.yaml"
    path.write_text(PRUNING)
    result = sweep(path, out=tmp_path / "s")
    rows = read_rows(tmp_path / "s" / "results.csv")
    assert [json.loads(r["overrides"])["train.learning_rate"] for r in rows[:3]] == [0.1, 0.08, 1e-6]
    assert [r["status"] for r in rows[:3]] == ["ok", "ok", "pruned"]
    pruned = rows[2]
    assert pruned["epochs_run"] == "1" and pruned["error"] == ""
    assert float(pruned["val_loss"]) > 2.0 and float(pruned["val_accuracy"]) < 0.5  # its last metrics
    assert pruned["metric"] == pruned["val_accuracy"] and pruned["test_accuracy"] == ""
    folder = tmp_path / "s" / pruned["run"]
    assert (folder / PRUNED_FILE).is_file() and (folder / "metrics.csv").is_file()
    assert not (folder / "summary.json").exists() and not (folder / "checkpoint.npz").exists()
    assert result.best.overrides == {"train.learning_rate": 0.1}
    by_point = {g.overrides["train.learning_rate"]: g for g in result.groups}
    assert by_point[1e-6].mean is None and by_point[1e-6].pruned == 1 and result.groups[-1].mean is None
    assert result.failed == 0
    # a re-run replays every trial from its folder: nothing is trained again
    again = sweep(path, out=tmp_path / "s")
    assert all(r["resumed"] for r in again.rows)
    assert [r["status"] for r in again.rows] == [r["status"] for r in result.rows]


def test_process_pool_with_two_workers_through_the_cli(optuna, tmp_path):
    path, out = tmp_path / "pool.yaml", tmp_path / "pool"
    path.write_text(PRUNING)
    result = CliRunner().invoke(app(), ["sweep", str(path), "--workers", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = read_rows(out / "results.csv")
    assert len(rows) == 4 and sorted(int(r["trial"]) for r in rows) == [0, 1, 2, 3]
    assert all(r["status"] in ("ok", "pruned") for r in rows)
    assert {r["status"] for r in rows[:2]} == {"ok"}
    assert "ranked by val_accuracy" in result.output


@pytest.mark.slow
def test_dask_local_cluster(optuna, tmp_path):
    pytest.importorskip("distributed", reason="needs the fastmlp[distributed] extra")
    result = sweep(optuna_sweep(trials=3), scheduler="local", workers=2, out=tmp_path / "dask")
    assert len(result.rows) == 3 and all(r["status"] == "ok" for r in result.rows)


def test_cv_with_optuna_tells_the_fold_mean(optuna, tmp_path):
    result = sweep(optuna_sweep(trials=2, cv=2, pruner=None), out=tmp_path / "cv")
    rows = read_rows(tmp_path / "cv" / "results.csv")
    assert len(result.rows) == 4 and len(rows) == 2 and [r["folds"] for r in rows] == ["2", "2"]
    assert result.best.mean == max(float(r["metric"]) for r in rows)


def test_dry_run_shows_the_space(optuna, tmp_path):
    path = tmp_path / "prune.yaml"
    path.write_text(PRUNING)
    result = CliRunner().invoke(app(), ["sweep", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "4 trials x 1 runs" in result.output and "loguniform(1.0e-6, 0.3)" in result.output
    assert not (tmp_path / "runs").exists()


def test_without_optuna_one_line_and_exit_2(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` now raises ImportError
    path = tmp_path / "prune.yaml"
    path.write_text(PRUNING)
    out = tmp_path / "never"
    result = CliRunner().invoke(app(), ["sweep", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {MISSING}"
    assert MISSING == "search: optuna needs optuna: pip install 'fastmlp[optuna]'"
    assert not out.exists()  # checked before anything is written or run


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"pruner": {"patience": 3}}, "pruner.patience: unknown key"),
        ({"pruner": {"n_warmup_steps": -1}}, "pruner.n_warmup_steps: expected an integer >= 0"),
        ({"sampler": {"n_startup_trials": "x"}}, "sampler.n_startup_trials: expected an integer"),
        ({"runs": [{"train.momentum": 0.9}]}, r"runs\[0\].train.momentum: with search: optuna"),
        ({"runs": [{"train.learning_rate": 5.0}]}, "lies outside grid.train.learning_rate"),
        ({"trials": 0}, "search optuna needs trials"),
        ({"grid": {"train.learning_rate": "choice()"}}, "has no values"),
    ],
)
def test_bad_optuna_settings_are_one_line(optuna, extra, message):
    with pytest.raises(ConfigError, match=message):
        expand(load_sweep(optuna_sweep(**extra)))


def test_optuna_settings_are_for_optuna_only():
    spec = {"base": BASE, "grid": {"train.learning_rate": [0.1]}, "pruner": None}
    with pytest.raises(ConfigError, match="pruner: is for search: optuna"):
        load_sweep(spec)


def test_choice_text_is_a_list_for_every_search():
    grid = {"model.hidden": "choice([8], [16, 8])", "model.activation": "choice(relu, tanh)"}
    spec = load_sweep({"base": BASE, "grid": grid})
    assert spec.grid == {"model.hidden": [[8], [16, 8]], "model.activation": ["relu", "tanh"]}
    assert len(expand(spec)) == 4
    drawn = expand(load_sweep({"base": BASE, "grid": grid, "search": "random", "trials": 3}))
    assert all(r.overrides["model.hidden"] in ([8], [16, 8]) for r in drawn)


def test_the_example_sweep_file_is_valid(optuna):
    path = "configs/sweeps/digits_optuna.yaml"
    spec = load_sweep(path)
    with open(path) as f:
        raw = yaml.safe_load(f)  # what the file says, read apart from load_sweep
    assert (spec.search, spec.trials, spec.search_seed) == ("optuna", raw["trials"], raw["search_seed"])
    assert spec.sampler == raw["sampler"]
    assert spec.pruner == {"interval_steps": 1, **raw["pruner"]}  # MedianPruner's default filled in
    assert spec.grid["model.hidden"] == [[16], [32], [64]]  # choice(...) read as a list
    assert spec.grid["train.learning_rate"] == raw["grid"]["train.learning_rate"]  # a distribution, as text
    assert spec.runs == raw["runs"] and spec.metric == raw["metric"]
    assert expand(spec) == []  # validated up front; the trials are proposed while it runs
