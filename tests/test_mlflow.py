"""output.mlflow: runs and sweeps logged to MLflow (fastmlp/tracking.py), read back with MLflow's
own API. The store is sqlite (what MLflow recommends for a local store) and, with
MLFLOW_ALLOW_FILE_STORE=true, a file: store. Tests that need no mlflow run without it."""

import importlib.util
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from conftest import sweep_app
from typer.testing import CliRunner

import fastmlp
from fastmlp.cli import app
from fastmlp.errors import ConfigError
from fastmlp.tracking import MISSING, flat_params

EPOCHS = 2


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory):
    """An empty sqlite store, made once: MLflow creates a new one's tables in seconds, so each
    test starts from a copy of this file instead."""
    module = pytest.importorskip("mlflow")
    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    # Made in its own folder: the store's Default experiment keeps its artifacts in ./mlruns.
    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as patch:
        warnings.simplefilter("ignore", DeprecationWarning)  # SQLAlchemy's, from inside MLflow
        patch.chdir(path.parent)
        module.MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def mlflow(tmp_path, monkeypatch, empty_store):
    """mlflow (skipped when not installed) and an empty store at tmp_path/mlflow.db, with the
    working directory in tmp_path: a sqlite store puts its artifacts under ./mlruns, and nothing
    may land in the checkout."""
    import mlflow

    shutil.copyfile(empty_store, tmp_path / "mlflow.db")
    monkeypatch.chdir(tmp_path)
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_ID"):
        monkeypatch.delenv(name, raising=False)
    return mlflow


def sqlite_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def tiny(tmp_path: Path, uri: str, experiment: str = "tiny") -> dict:
    return {
        "data": {"name": "digits"},
        "model": {"hidden": [8]},
        "train": {"epochs": EPOCHS, "batch_size": 64},
        "output": {"dir": str(tmp_path / "runs"), "mlflow": {"tracking_uri": uri, "experiment": experiment}},
    }


def runs_of(mlflow, uri: str, experiment: str):
    """search_runs as a list of dict rows, oldest first."""
    frame = mlflow.search_runs(experiment_names=[experiment], order_by=["start_time ASC"])
    return frame.to_dict("records")


def one_line_exit_2(*args) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    out = result.output.strip()
    assert result.exit_code == 2, out
    assert len(out.splitlines()) == 1, out
    return out


# ---------------------------------------------------------------- a training run


def test_a_run_logs_params_each_epoch_the_summary_and_its_files(mlflow, tmp_path):
    uri = sqlite_uri(tmp_path)
    result = fastmlp.train(tiny(tmp_path, uri), out=tmp_path / "run")
    mlflow.set_tracking_uri(uri)
    (run,) = runs_of(mlflow, uri, "tiny")
    assert run["status"] == "FINISHED"
    assert run["tags.mlflow.runName"] == "run" and run["tags.fastmlp.run_dir"] == str(tmp_path / "run")
    # params: the resolved config, flattened with dots
    assert run["params.model.hidden"] == "[8]" and run["params.train.epochs"] == str(EPOCHS)
    assert float(run["params.train.learning_rate"]) == result.config.train.learning_rate
    assert run["params.data.name"] == "digits" and run["params.train.early_stopping"] == "null"
    # metrics: one point per epoch at step=epoch, as metrics.csv has them
    client = mlflow.MlflowClient(uri)
    for key in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr"):
        history = client.get_metric_history(run["run_id"], key)
        assert len(history) == EPOCHS
        assert [m.step for m in history] == [1, 2]
        assert [m.value for m in history] == pytest.approx([row[key] for row in result.history.rows])
    # the summary's numbers, apart from the per-epoch histories
    assert run["metrics.summary.test_accuracy"] == pytest.approx(result.summary["test_accuracy"])
    assert run["metrics.summary.epochs_run"] == EPOCHS
    assert run["metrics.summary.timings.wall_seconds"] > 0
    artifacts = {a.path for a in client.list_artifacts(run["run_id"])}
    assert {"model.npz", "config.yaml", "metrics.csv", "summary.json"} <= artifacts


def test_a_file_store_works_when_mlflow_is_told_to_allow_it(mlflow, tmp_path, monkeypatch):
    uri = (tmp_path / "file-store").as_uri()
    with pytest.raises(ConfigError, match="MLFLOW_ALLOW_FILE_STORE=true.*sqlite:///mlflow.db"):
        fastmlp.train(tiny(tmp_path, uri), out=tmp_path / "refused")
    assert not (tmp_path / "refused").exists()  # refused before any work
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    allowed = (tmp_path / "allowed").as_uri()
    fastmlp.train(tiny(tmp_path, allowed, "files"), out=tmp_path / "run")
    mlflow.set_tracking_uri(allowed)
    (run,) = runs_of(mlflow, allowed, "files")
    history = mlflow.MlflowClient(allowed).get_metric_history(run["run_id"], "val_loss")
    assert run["status"] == "FINISHED" and len(history) == EPOCHS


class Raise:
    """A trainer callback that raises `error` at the end of epoch 1."""

    def __init__(self, error):
        self.error = error

    def on_epoch_end(self, row):
        raise self.error


@pytest.mark.parametrize(
    ("error", "status"), [(RuntimeError("boom"), "FAILED"), (KeyboardInterrupt(), "KILLED")]
)
def test_a_run_that_raises_ends_failed_or_killed(mlflow, tmp_path, error, status):
    uri = sqlite_uri(tmp_path)
    with pytest.raises(type(error)):
        fastmlp.train(tiny(tmp_path, uri), out=tmp_path / "run", callback=Raise(error))
    mlflow.set_tracking_uri(uri)
    (run,) = runs_of(mlflow, uri, "tiny")
    assert run["status"] == status
    assert len(mlflow.MlflowClient(uri).get_metric_history(run["run_id"], "train_loss")) == 1
    if status == "FAILED":
        assert "boom" in run["tags.fastmlp.error"]


def test_a_resumed_run_logs_the_epochs_from_before_the_interruption(mlflow, tmp_path):
    uri = sqlite_uri(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        fastmlp.train(tiny(tmp_path, uri), out=tmp_path / "run", callback=Raise(KeyboardInterrupt()))
    fastmlp.train(resume=tmp_path / "run")
    mlflow.set_tracking_uri(uri)
    killed, resumed = runs_of(mlflow, uri, "tiny")
    assert (killed["status"], resumed["status"]) == ("KILLED", "FINISHED")
    history = mlflow.MlflowClient(uri).get_metric_history(resumed["run_id"], "val_loss")
    assert [m.step for m in history] == [1, 2]


class Stop(Exception):
    """A deliberate stop (as a pruned trial's) that names its MLflow status."""

    mlflow_status = "FINISHED"


def test_an_exception_may_name_the_status_a_deliberate_stop_ends_with(mlflow, tmp_path):
    uri = sqlite_uri(tmp_path)
    with pytest.raises(Stop):
        fastmlp.train(tiny(tmp_path, uri), out=tmp_path / "run", callback=Raise(Stop("pruned at epoch 1")))
    mlflow.set_tracking_uri(uri)
    (run,) = runs_of(mlflow, uri, "tiny")
    assert run["status"] == "FINISHED" and run["tags.fastmlp.stopped"] == "pruned at epoch 1"


# ---------------------------------------------------------------- a sweep


@pytest.mark.slow
def test_a_sweep_is_a_parent_run_with_each_run_a_child_also_from_worker_processes(mlflow, tmp_path):
    from fastmlp.sweep import sweep

    uri = sqlite_uri(tmp_path)
    spec = {
        "base": tiny(tmp_path, uri, "sweep"),
        "grid": {"train.learning_rate": [0.05, 0.1]},
        "seeds": [0],
        "metric": "val_accuracy",
        "output": {"name": "lr"},
    }
    result = sweep(spec, workers=2, out=tmp_path / "sweep")
    assert result.failed == 0
    mlflow.set_tracking_uri(uri)
    found = runs_of(mlflow, uri, "sweep")
    assert len(found) == 3  # the parent and two children; the warm-up logs nothing
    (parent,) = [r for r in found if r["tags.fastmlp.kind"] == "sweep"]
    children = [r for r in found if r["tags.fastmlp.kind"] == "train"]
    assert parent["status"] == "FINISHED" and parent["tags.mlflow.runName"] == "lr"
    assert parent["params.sweep.metric"] == "val_accuracy"
    assert parent["params.sweep.grid.train.learning_rate"] == "[0.05, 0.1]"
    assert parent["metrics.best.val_accuracy"] == pytest.approx(result.best.mean)
    assert parent["metrics.sweep.ok"] == 2 and parent["metrics.sweep.failed"] == 0
    assert parent["tags.fastmlp.best_point"] == result.best.point
    client = mlflow.MlflowClient(uri)
    assert "results.csv" in {a.path for a in client.list_artifacts(parent["run_id"])}
    assert sorted(r["tags.mlflow.runName"] for r in children) == sorted(r["run"] for r in result.rows)
    for child in children:
        assert child["tags.mlflow.parentRunId"] == parent["run_id"]
        assert child["status"] == "FINISHED"
        assert len(client.get_metric_history(child["run_id"], "val_loss")) == EPOCHS
        assert "model.npz" in {a.path for a in client.list_artifacts(child["run_id"])}


# ---------------------------------------------------------------- the command line


def test_the_installed_command_logs_to_a_relative_sqlite_store_without_mlflow_noise(mlflow, tmp_path):
    command = shutil.which("fastmlp") or str(Path(sys.executable).parent / "fastmlp")
    (tmp_path / "mlflow.db").unlink()  # a new store: MLflow announces the tables it creates
    done = subprocess.run(
        [command, "train", "--set", f"train.epochs={EPOCHS}", "--set", "model.hidden=[8]", "--quiet"]
        + ["--set", "output.mlflow.tracking_uri=sqlite:///mlflow.db", "--out", "run"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "run"
    assert done.stderr.strip() == ""  # no "INFO mlflow.store.db.utils: Creating initial tables"
    # The store is the one in the working directory (as MLflow reads a relative path).
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    (run,) = runs_of(mlflow, None, "Default")
    assert run["status"] == "FINISHED"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("output.mlflow.tracking_url=sqlite:///x.db", "did you mean 'tracking_uri'?"),
        ("output.mlflow.tracking_uri=5", "output.mlflow.tracking_uri: expected a non-empty string"),
        ("output.mlflow.experiment=[a]", "output.mlflow.experiment: expected a non-empty string"),
        ("output.mlflow=sqlite:///x.db", "output.mlflow: expected a mapping like"),
        ("output.mlfow.experiment=x", "did you mean 'mlflow'?"),
    ],
)
def test_a_bad_output_mlflow_value_is_one_line_and_exit_2(value, expected, tmp_path):
    out = one_line_exit_2("train", "--set", value, "--out", tmp_path / "run")
    assert expected in out and not (tmp_path / "run").exists()


def test_a_store_mlflow_cannot_open_is_one_line_and_exit_2(mlflow, tmp_path):
    out = one_line_exit_2("train", "--set", "output.mlflow.tracking_uri=nosuch://x", "--out", tmp_path / "r")
    assert "output.mlflow.tracking_uri nosuch://x: cannot open this MLflow store" in out
    out = one_line_exit_2("train", "--set", "output.mlflow.parent_run_id=abc", "--out", tmp_path / "r")
    assert "output.mlflow.parent_run_id abc: no such run" in out
    assert not (tmp_path / "r").exists()


def test_without_mlflow_installed_the_extra_is_named_before_any_work(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a)
    )
    out = one_line_exit_2("train", "--set", "output.mlflow.experiment=x", "--out", tmp_path / "run")
    assert out == f"error: {MISSING}" and not (tmp_path / "run").exists()
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text("base: {output: {mlflow: {}}}\ngrid: {train.epochs: [1]}\n")
    result = CliRunner().invoke(sweep_app(), ["sweep", str(sweep_file), "--dry-run"])
    assert result.exit_code == 2 and MISSING in result.output
    # Off, nothing is needed: the default config trains without mlflow.
    assert fastmlp.load_config(None).output.mlflow is None


# ---------------------------------------------------------------- the config key


def test_output_mlflow_round_trips_and_stays_as_written():
    config = fastmlp.load_config(None, ["output.mlflow.tracking_uri=sqlite:///mlflow.db"])
    assert config.output.mlflow.tracking_uri == "sqlite:///mlflow.db"  # not made absolute
    assert config.output.mlflow.experiment is None
    assert fastmlp.load_config(config.to_dict()) == config
    assert (
        fastmlp.load_config(None, ["output.mlflow=true"]).output.mlflow
        == fastmlp.load_config(None, ["output.mlflow={}"]).output.mlflow
    )
    assert fastmlp.load_config(None, ["output.mlflow=false"]).output.mlflow is None


def test_params_are_flattened_with_yaml_spellings():
    flat = flat_params(
        {"model": {"hidden": [64, 32], "dropout": 0.0}, "x": None, "on": True, "w": {"a b!": 1}}
    )
    assert flat == {
        "model.hidden": "[64, 32]",
        "model.dropout": "0.0",
        "x": "null",
        "on": "true",
        "w": '{"a b!": 1}',
    }
