"""Experiment tracking through MLflow (the optional extra: pip install 'fastmlp[mlflow]').

A config turns it on with `output.mlflow`:

    output:
      mlflow: {tracking_uri: sqlite:///mlflow.db, experiment: digits}

Each training run then becomes an MLflow run named after its run folder, holding:
- params: the resolved config flattened (model.hidden, train.learning_rate, ...);
- metrics: each epoch's row of metrics.csv (train_loss, val_loss, accuracies, lr, seconds)
  at step=epoch, while training; at the end summary.json's numbers as summary.<key>
  (summary.test_accuracy, summary.timings.wall_seconds, ...), apart from the per-epoch
  histories so that those keep one point per epoch;
- artifacts: the run folder's files (config.yaml, metrics.csv, model.npz, summary.json).
A run that raises ends FAILED (KILLED on Ctrl-C), with its error as the tag fastmlp.error.

A sweep logs one parent run (the sweep's grid as params, the best point at the end) and
every run as its child: the sweep writes the parent's id into each run's config as
output.mlflow.parent_run_id, so the nesting holds wherever the run executes (this process,
a process pool, Dask workers).

Everything goes through an MlflowClient with explicit run ids, never mlflow's global
"active run": runs in threads or worker processes, and a user's own `with mlflow.start_run()`,
cannot get mixed up. mlflow is imported only when output.mlflow is set.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import os
import re
import time
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError, FastMLPError
from .schema import is_real

MISSING = "output.mlflow needs mlflow: pip install 'fastmlp[mlflow]'"
PARENT_TAG = "mlflow.parentRunId"  # mlflow.utils.mlflow_tags.MLFLOW_PARENT_RUN_ID, the UI's nesting
# MLflow's limits (mlflow.utils.validation): values per log_batch call, characters per value.
PARAMS_PER_BATCH = 100
METRICS_PER_BATCH = 1000
PARAM_CHARS = 6000
TAG_CHARS = 5000
# Characters MLflow accepts in a param or metric name; a key with others is logged as JSON instead.
NAME = re.compile(r"[\w\-. /]+")
# MLflow's schema messages ("Creating initial MLflow database tables...", alembic's steps) are
# INFO lines on stderr each time a new sqlite store is opened; they say nothing to a fastmlp user.
QUIET_LOGGERS = ("alembic", "mlflow.store.db.utils")


def require(settings: Any) -> None:
    """A one-line ConfigError when output.mlflow is set and mlflow is not installed."""
    if settings is not None and importlib.util.find_spec("mlflow") is None:
        raise ConfigError(MISSING)


def with_parent(base: Mapping[str, Any], run_id: str) -> dict[str, Any]:
    """A copy of a raw config mapping whose output.mlflow.parent_run_id is run_id (a sweep's
    runs are built from its base mapping). Set in the mapping, not through an override string,
    which would read a hex id of digits and one 'e' as a YAML float."""
    raw = copy.deepcopy(dict(base))
    output = raw.get("output")
    output = dict(output) if isinstance(output, Mapping) else {}
    mlflow = output.get("mlflow")
    output["mlflow"] = {**(mlflow if isinstance(mlflow, Mapping) else {}), "parent_run_id": run_id}
    raw["output"] = output
    return raw


class Tracker:
    """One MLflow run, for one training run or one sweep.

    connect(settings) opens the store (with settings None it stays off, and every method does
    nothing, so callers need no `if`); start_training/start_sweep create the run, finish_training
    /finish_sweep end it FINISHED. Used as a context manager, it ends a run that is still open
    when the block raises: FAILED, or KILLED for Ctrl-C.
    """

    def __init__(self) -> None:
        self.client = None
        self.experiment_id: str | None = None
        self.parent_run_id: str | None = None
        self.run_id: str | None = None
        self._epochs_broken = False  # after one failed epoch log: warn once, stop trying

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        if self.run_id is not None and kind is not None:
            self._end_on_error(exc)
        return False

    # ------------------------------------------------------------ opening the store

    def connect(self, settings: Any) -> None:
        """Open settings' store and find the experiment, before any work starts, so a missing
        mlflow or a bad store is one ConfigError line (exit 2), not a lost run."""
        if settings is None:
            return
        require(settings)
        mlflow = _import_mlflow()
        where = f"output.mlflow.tracking_uri {settings.tracking_uri or mlflow.get_tracking_uri()}"
        try:
            with warnings.catch_warnings():  # SQLAlchemy's deprecations inside MLflow's store
                warnings.simplefilter("ignore", DeprecationWarning)
                client = mlflow.MlflowClient(tracking_uri=settings.tracking_uri)
                client.search_experiments(max_results=1)  # a wrong URI or a dead server fails here
        except Exception as exc:  # noqa: BLE001 - any failure to open a user-named store is theirs
            raise ConfigError(f"{where}: cannot open this MLflow store: {_store_problem(exc)}") from None
        self.client = client
        self.parent_run_id = settings.parent_run_id
        try:
            self.experiment_id = self._experiment(settings, where)
        except FastMLPError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. a server that refuses to create the experiment
            raise ConfigError(f"{where}: cannot use its experiment: {_store_problem(exc)}") from None

    def _experiment(self, settings: Any, where: str) -> str:
        """The experiment id: the parent run's (a child shows nested only beside its parent),
        else output.mlflow.experiment (created when new), else MLflow's own default."""
        if self.parent_run_id is not None:
            try:
                return self.client.get_run(self.parent_run_id).info.experiment_id
            except Exception:  # noqa: BLE001 - MLflow raises its own exception for a missing run
                raise ConfigError(
                    f"output.mlflow.parent_run_id {self.parent_run_id}: no such run in {where} "
                    "(--set output.mlflow.parent_run_id=null logs the run on its own)"
                ) from None
        name = settings.experiment or os.environ.get("MLFLOW_EXPERIMENT_NAME")
        if name is None:
            return os.environ.get("MLFLOW_EXPERIMENT_ID", "0")  # "0": the store's "Default"
        found = self.client.get_experiment_by_name(name)
        if found is None:
            try:
                return self.client.create_experiment(name)
            except Exception:  # noqa: BLE001 - another process created it first
                found = self.client.get_experiment_by_name(name)
                if found is None:
                    raise
        if found.lifecycle_stage == "deleted":
            raise ConfigError(
                f"output.mlflow.experiment {name!r}: deleted in this store; restore it "
                f"(mlflow experiments restore --experiment-id {found.experiment_id}) or choose another name"
            )
        return found.experiment_id

    # ------------------------------------------------------------ a training run

    def start_training(self, config: Any, run_dir: Path, earlier_rows: Iterable[Mapping] = ()) -> None:
        """Create the run (named after the run folder) with the config as params; earlier_rows
        are a resumed run's epochs from before, logged so the history is whole."""
        tags = {"fastmlp.run_dir": str(Path(run_dir).resolve()), "fastmlp.kind": "train"}
        if config.source is not None:
            tags["fastmlp.config_file"] = str(config.source)
        self._create(Path(run_dir).name, flat_params(config.to_dict()), tags)
        for row in earlier_rows:
            self.log_epoch(row)

    def log_epoch(self, row: Mapping[str, Any]) -> None:
        """One epoch's numbers at step=epoch. A failure warns once and logging stops; the
        training goes on (its run folder has every epoch anyway)."""
        if self.run_id is None or self._epochs_broken:
            return
        step = int(row.get("epoch") or 0)
        values = {k: v for k, v in row.items() if k != "epoch" and is_real(v)}
        try:
            self._log_metrics(values, step)
        except Exception as exc:  # noqa: BLE001 - tracking must not end a training run
            self._epochs_broken = True
            _warn(f"MLflow run {self.run_id}: epoch metrics are no longer logged: {_one_line(exc)}")

    def finish_training(self, summary: Mapping[str, Any], run_dir: Path) -> None:
        """summary.json's numbers, the run folder's files, status FINISHED. The run folder is
        already whole: a failure here warns rather than failing the run."""
        if self.run_id is None:
            return
        try:
            self._log_metrics({f"summary.{k}": v for k, v in flat_numbers(summary, skip=("seed",)).items()})
            self.client.log_artifacts(self.run_id, str(run_dir))
            self._end("FINISHED")
        except Exception as exc:  # noqa: BLE001 - the run folder is complete; say what MLflow lacks
            _warn(f"MLflow run {self.run_id}: could not log the run's end: {_one_line(exc)}")
            self._end_on_error(exc)

    # ------------------------------------------------------------ a sweep

    def start_sweep(self, spec: Any, sweep_dir: Path, n_runs: int) -> None:
        """The sweep's parent run: its grid, seeds, metric etc. as params (the base config is
        each child's)."""
        described = {k: v for k, v in spec.to_dict().items() if k not in ("base", "output")}
        params = {f"sweep.{k}": v for k, v in flat_params(described).items()}
        if n_runs:  # search: optuna proposes its runs as it goes (sweep.trials says how many)
            params["sweep.runs"] = str(n_runs)
        tags = {"fastmlp.sweep_dir": str(Path(sweep_dir).resolve()), "fastmlp.kind": "sweep"}
        self._create(spec.name, params, tags)

    def finish_sweep(self, result: Any) -> None:
        """Runs by status, the best point's metric (mean and std over seeds), the sweep
        folder's own files (results.csv, sweep.yaml; each run's files are its child's),
        status FINISHED."""
        if self.run_id is None:
            return
        metric = result.spec.metric
        values: dict[str, Any] = {"sweep.ok": 0, "sweep.failed": 0}
        for row in result.rows:  # runs by status: sweep.ok, sweep.failed (sweep.pruned, ...)
            key = f"sweep.{row.get('status')}"
            values[key] = values.get(key, 0) + 1
        best = result.best
        try:
            if best is not None:
                values[f"best.{metric}"] = best.mean
                values[f"best.{metric}.std"] = best.std
                self.client.set_tag(self.run_id, "fastmlp.best_point", _cut(str(best.point), TAG_CHARS))
            self._log_metrics({k: v for k, v in values.items() if is_real(v)})
            for path in sorted(Path(result.sweep_dir).iterdir()):
                if path.is_file():
                    self.client.log_artifact(self.run_id, str(path))
            self._end("FINISHED")
        except Exception as exc:  # noqa: BLE001 - results.csv is written; say what MLflow lacks
            _warn(f"MLflow run {self.run_id}: could not log the sweep's end: {_one_line(exc)}")
            self._end_on_error(exc)

    # ------------------------------------------------------------ plumbing

    def _create(self, name: str, params: Mapping[str, str], tags: dict[str, str]) -> None:
        if self.client is None:
            return
        from ._version import __version__

        tags["fastmlp.version"] = __version__
        if self.parent_run_id is not None:
            tags[PARENT_TAG] = self.parent_run_id
        from mlflow.entities import Param

        try:
            run = self.client.create_run(self.experiment_id, run_name=name, tags=tags)
            self.run_id = run.info.run_id
            items = [Param(k, v) for k, v in params.items()]
            for i in range(0, len(items), PARAMS_PER_BATCH):
                self.client.log_batch(self.run_id, params=items[i : i + PARAMS_PER_BATCH])
        except Exception as exc:  # noqa: BLE001 - before any work: the user's store refused
            raise FastMLPError(f"MLflow: cannot start a run: {_one_line(exc)}") from None

    def _log_metrics(self, values: Mapping[str, Any], step: int = 0) -> None:
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        items = [Metric(k, float(v), stamp, step) for k, v in values.items()]
        for i in range(0, len(items), METRICS_PER_BATCH):
            self.client.log_batch(self.run_id, metrics=items[i : i + METRICS_PER_BATCH])

    def _end(self, status: str) -> None:
        run_id, self.run_id = self.run_id, None
        self.client.set_terminated(run_id, status)

    def _end_on_error(self, exc: BaseException | None) -> None:
        """Status KILLED (Ctrl-C) or FAILED, the error as a tag and, unless killed, what the
        folder holds; never raises, so the original error is the one the user sees.

        An exception class that stops a run on purpose (a pruned trial) may name its status in
        an attribute `mlflow_status` ("KILLED", "FINISHED"); its message becomes fastmlp.stopped.
        """
        killed = isinstance(exc, KeyboardInterrupt)
        status = getattr(exc, "mlflow_status", None) or ("KILLED" if killed else "FAILED")
        run_id = self.run_id
        try:
            if exc is not None:
                tag = "fastmlp.error" if status == "FAILED" else "fastmlp.stopped"
                self.client.set_tag(run_id, tag, _cut(_one_line(exc), TAG_CHARS))
            folder = self.client.get_run(run_id).data.tags.get("fastmlp.run_dir")
            if not killed and folder and Path(folder).is_dir():
                self.client.log_artifacts(run_id, folder)
        except Exception:  # noqa: BLE001 - best effort: the status below matters more
            pass
        try:
            self._end(status)
        except Exception as end_exc:  # noqa: BLE001 - never mask the run's own error
            self.run_id = None
            _warn(f"MLflow run {run_id}: could not mark it ended: {_one_line(end_exc)}")


# ---------------------------------------------------------------- values


def flat_params(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """{"model": {"hidden": [64]}} -> {"model.hidden": "[64]"}: YAML's spellings for null and
    booleans, JSON for lists and for mappings whose keys MLflow would refuse as names."""
    flat: dict[str, str] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if (
            isinstance(value, Mapping)
            and value
            and all(isinstance(k, str) and NAME.fullmatch(k) for k in value)
        ):
            flat.update(flat_params(value, f"{name}."))
        else:
            flat[name] = _cut(_param_text(value), PARAM_CHARS)
    return flat


def flat_numbers(
    mapping: Mapping[str, Any], prefix: str = "", skip: tuple[str, ...] = ()
) -> dict[str, float]:
    """The numbers in a nested mapping under dotted names (summary.json's timings.wall_seconds)."""
    flat: dict[str, float] = {}
    for key, value in mapping.items():
        if key in skip:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flat_numbers(value, f"{name}."))
        elif is_real(value):
            flat[name] = float(value)
    return flat


def _param_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, Mapping)):
        return json.dumps(value, default=str)
    return str(value)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return _cut(text or type(exc).__name__, 300)


def _store_problem(exc: BaseException) -> str:
    """MLflow's reason, cut to its point; for a refused file: store, what to do instead."""
    text = " ".join(str(exc).split())
    if "MLFLOW_ALLOW_FILE_STORE" in text:
        return (
            "MLflow 3.17+ refuses a file store unless MLFLOW_ALLOW_FILE_STORE=true; "
            "use a database, e.g. sqlite:///mlflow.db"
        )
    first = re.split(r"(?<=[.;])\s", text, maxsplit=1)[0]
    return _cut(first or type(exc).__name__, 300)


def _warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)


def _import_mlflow():
    """mlflow, imported here only; its import-time warnings (deprecations of its own
    dependencies) would otherwise reach a fastmlp user's terminal as if they were ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mlflow
    for name in QUIET_LOGGERS:  # after the import: mlflow configures its loggers as it loads
        logging.getLogger(name).setLevel(logging.WARNING)
    return mlflow
