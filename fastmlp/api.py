"""The Python API behind every CLI command: train and gradcheck here; evaluate and predict
(fastmlp/inference.py) and plot_runs (fastmlp/plot.py) are re-exported.

    >>> from fastmlp.api import load_config, train
    >>> result = train(load_config("configs/digits.yaml", ["train.epochs=5"]))
    >>> result.summary["test_accuracy"], result.run_dir

`fastmlp train CONFIG --set k=v` is exactly `train(load_config(CONFIG, ["k=v"]))`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import checkpoint as checkpoint_file
from . import runs, tracking
from .config import Config, ConfigError, load_config
from .data.features import read_features
from .errors import Diverged, FastMLPError
from .gradcheck import TOLERANCE, check_gradients
from .history import notify
from .inference import (  # noqa: F401  (the API's names, as the CLI and users import them)
    data_spec,
    evaluate,
    load_model,
    predict,
    predictions_csv,
    resolve_model,
    write_predictions,
)
from .model import MLP
from .plot import plot_runs
from .schedules import from_config as schedule_from_config
from .trainer import History, fit, require_validation, sample_weights, sigterm_as_interrupt

__all__ = [
    "TrainResult",
    "load_config",
    "train",
    "evaluate",
    "predict",
    "read_features",
    "write_predictions",
    "gradcheck",
    "plot_runs",
    "versions",
]


@dataclass
class TrainResult:
    """What train() made: the trained model, its history, the run folder and summary.json's content."""

    model: MLP
    history: History
    run_dir: Path
    summary: dict[str, Any]
    config: Config
    dataset: Any = field(default=None, repr=False)


def versions() -> dict[str, str]:
    import numba

    from ._version import __version__

    return {"fastmlp": __version__, "numba": numba.__version__, "numpy": np.__version__}


# ---------------------------------------------------------------- train


class _Recorder:
    """Trainer callback: rewrites metrics.csv after every epoch, times the first minibatches
    (JIT compile or cache load lands there), and forwards every call to the user's callback."""

    def __init__(self, run_dir: Path, forward=None, rows=(), tracker=None):
        self.run_dir, self.forward, self.tracker = run_dir, forward, tracker
        self.rows: list[dict] = [dict(r) for r in rows]  # a resumed run's earlier epochs
        self.started = time.perf_counter()
        self.first_batches_seconds: float | None = None

    def on_epoch_start(self, epoch, n_batches):
        self._forward("on_epoch_start", epoch, n_batches)

    def on_batches(self, epoch, done, n_batches, running_loss):
        if self.first_batches_seconds is None:
            self.first_batches_seconds = time.perf_counter() - self.started
        self._forward("on_batches", epoch, done, n_batches, running_loss)

    def on_epoch_end(self, row):
        self.rows.append(row)
        runs.write_metrics(self.run_dir, self.rows)
        if self.tracker is not None:
            self.tracker.log_epoch(row)
        self._forward("on_epoch_end", row)

    def _forward(self, name, *args):
        method = getattr(self.forward, name, None)
        if method is not None:
            method(*args)


def train(
    config: Config | str | Path | Mapping | None = None,
    overrides: Sequence[str] = (),
    *,
    out: str | Path | None = None,
    callback=None,
    resume: str | Path | None = None,
    force: bool = False,
) -> TrainResult:
    """Load the data, build the model, fit it, and write a run folder; return what was made.

    config: a Config, a YAML path, a mapping, or None (the embedded default).
    out: the exact run folder (must be new or empty; force: it may hold an earlier run, which is
    replaced); default output.dir/<name>-<timestamp>.
    callback: a trainer callback (on_run_start(run_dir), on_epoch_start, on_batches,
    on_epoch_end), e.g. a progress bar.
    resume: a run folder that was interrupted: its config.yaml (with `overrides` applied) and
    its checkpoint.npz; the run continues there and, unchanged, ends bit-identical to a run
    that was never interrupted (the seconds column aside).
    With output.mlflow set, the run is also logged to MLflow (fastmlp/tracking.py).
    """
    # The tracker ends the run's MLflow run FAILED (KILLED on Ctrl-C) when anything below raises.
    with tracking.Tracker() as tracker, contextlib.ExitStack() as held, sigterm_as_interrupt():
        return _train(
            config,
            overrides,
            out=out,
            callback=callback,
            resume=resume,
            force=force,
            tracker=tracker,
            held=held,
        )


def _train(
    config, overrides, *, out, callback, resume, force, tracker: tracking.Tracker, held: contextlib.ExitStack
) -> TrainResult:
    """train()'s work; tracker logs it to MLflow when the config's output.mlflow says so."""
    from .data import load_dataset

    started = time.perf_counter()
    config = run_config(config, overrides, resume=resume, out=out)
    state = _resumed_state(resume, held)
    tracker.connect(config.output.mlflow)  # before any work: mlflow installed, its store usable
    data_started = time.perf_counter()  # importing mlflow and opening its store is not loading data
    ds = load_dataset(config.data, seed=config.seed, dtype=config.model.dtype, task=config.model.task)
    loaded = time.perf_counter()
    require_validation(config.train.early_stopping, ds.split("val")[0])
    model = model_for(config, ds)
    if config.train.init_from is not None and state is None:
        start_from(model, config.train.init_from)
    # Weights are made (and class_weight checked against the data) before the run folder exists.
    weights = sample_weights(model, ds.y_train, class_weight=config.train.class_weight)
    if resume is None:
        run_dir = _new_run_dir(config, out, force, held)
        # The run's name goes into its config.yaml: a resumed run reads that file, whose own stem
        # ("config") would otherwise become its name.
        config = dataclasses.replace(config, output=dataclasses.replace(config.output, name=config.name))
    else:
        run_dir = Path(resume)
    runs.write_atomic(run_dir / runs.CONFIG, config.to_yaml())
    recorder = _Recorder(run_dir, callback, rows=state.rows if state is not None else (), tracker=tracker)
    if state is not None:
        # The checkpoint is saved before an epoch's row reaches metrics.csv: a run killed between
        # the two (after its last epoch, say) would otherwise finish without that row.
        runs.write_metrics(run_dir, recorder.rows)
    tracker.start_training(config, run_dir, earlier_rows=recorder.rows)
    notify(callback, "on_run_start", run_dir)
    # L-BFGS runs in one SciPy call: no checkpoint between its iterations.
    checkpoint = None if config.train.optimizer.full_batch else run_dir / checkpoint_file.FILE
    history = _fit_config(model, ds, config, weights, recorder, checkpoint, state, run_dir)
    trained = time.perf_counter()
    model.save(run_dir / runs.MODEL)
    summary = _summary(config, ds, model, history, state, resume)
    summary["timings"] = _timings(
        history, recorder, started, data_started, loaded, trained, ds.X_train.shape[0]
    )
    runs.write_summary(run_dir, summary)
    if checkpoint is not None:
        # The run is whole (model.npz, summary.json): its checkpoint has done its job.
        checkpoint.unlink(missing_ok=True)
    tracker.finish_training(summary, run_dir)
    return TrainResult(
        model=model, history=history, run_dir=run_dir, summary=summary, config=config, dataset=ds
    )


def _resumed_state(resume, held):
    """The checkpoint of the run folder `resume` (None: a new run, or a resumed one stopped before
    its first checkpoint, which starts over in its folder: the same seed makes the same run),
    with the folder locked for this process."""
    if resume is None:
        return None
    run_dir = Path(resume)
    held.enter_context(runs.writer_lock(run_dir))  # one writer: a second --resume is refused
    if not (run_dir / checkpoint_file.FILE).is_file():
        if (run_dir / runs.MODEL).is_file():
            raise FastMLPError(
                f"--resume {run_dir}: the run finished (model.npz is there); nothing to resume"
            )
        return None
    return checkpoint_file.load(run_dir / checkpoint_file.FILE)


def _new_run_dir(config, out, force, held) -> Path:
    """A new run folder (`out`, or output.dir/<name>-<timestamp>), locked for this process."""
    if out is not None:
        # One writer: the exact folder is locked before it is checked for emptiness, so of two
        # runs started at once into it, the second is refused naming the first.
        with contextlib.suppress(OSError):  # a file in the way: create_run_dir says so
            Path(out).mkdir(parents=True, exist_ok=True)
        if Path(out).is_dir():
            held.enter_context(runs.writer_lock(out))
    run_dir = runs.create_run_dir(config.output.dir, config.name, exact=out, force=force)
    if out is None:
        held.enter_context(runs.writer_lock(run_dir))
    return run_dir


def _fit_config(model, ds, config, weights, recorder, checkpoint, state, run_dir) -> History:
    """trainer.fit with the config's settings; a stop says what the run folder holds."""
    t = config.train
    try:
        return fit(
            model,
            ds.X_train,
            ds.y_train,
            ds.X_val,
            ds.y_val,
            epochs=t.epochs,
            batch_size=t.batch_size,
            learning_rate=t.learning_rate,
            l2=t.l2,
            optimizer=t.optimizer,
            shuffle=t.shuffle,
            seed=config.seed,
            lr_schedule=schedule_from_config(t),
            early_stopping=t.early_stopping,
            dropout=config.model.dropout,
            sample_weight=weights,
            callback=recorder,
            keep=t.keep,
            checkpoint=checkpoint,
            resume=state,
            checkpoint_seconds=t.checkpoint_seconds,
        )
    except KeyboardInterrupt:
        raise KeyboardInterrupt(_where(run_dir, checkpoint)) from None  # the CLI says "interrupted: ..."
    except FastMLPError as e:
        if checkpoint is None:
            raise
        # A smaller learning rate is advice for a divergence only (and it changes the run: the
        # continued run is then not bit-identical to an uninterrupted one).
        where = _where(run_dir, checkpoint, smaller_lr=isinstance(e, Diverged))
        raise type(e)(f"{e}; {where}") from None


def _summary(config, ds, model, history, state, resume) -> dict[str, Any]:
    """summary.json's figures: every split's metrics with the kept weights, how the run went."""
    summary: dict[str, Any] = {"name": config.name, "dataset": ds.name, "task": ds.task, "seed": config.seed}
    for split in ("train", "val", "test"):
        X, y = ds.split(split)
        if X is not None:
            summary[f"n_{split}"] = int(X.shape[0])
            X = model.check_X(X, split)
            summary.update(
                {f"{split}_{k}": v for k, v in model.metrics(X, *model.check_y(y, X.shape[0], split)).items()}
            )
    if ds.classes is not None:
        summary["classes"] = [str(c) for c in ds.classes]
    summary.update(
        best_epoch=history.best_epoch,
        kept_epoch=history.kept_epoch,
        epochs_run=len(history.rows),
        stopped_early=history.stopped_early,
    )
    if history.notes:  # e.g. L-BFGS: whether it converged, SciPy's message, the evaluations
        summary["optimizer_notes"] = history.notes
    summary["versions"] = versions()
    summary["config_file"] = str(config.source) if config.source is not None else None
    if state is not None:
        summary["resumed_from"] = state.describe()
    elif resume is not None:
        summary["resumed_from"] = "the start (stopped before its first checkpoint)"
    return summary


def run_config(config=None, overrides: Sequence[str] = (), *, resume=None, out=None) -> Config:
    """The Config a train() call runs: a resumed run folder's own config.yaml with the overrides
    applied, else `config` with them. One line for a resume given a config or an output folder
    too, or pointed at a folder that holds no run."""
    if resume is not None:
        if config is not None or out is not None:
            raise FastMLPError(
                "--resume continues a run folder with its own config.yaml; give no config or --out"
            )
        if not Path(resume).is_dir():
            raise FastMLPError(f"--resume {resume}: not a run folder (there is no such folder)")
        if not (Path(resume) / runs.CONFIG).is_file():
            raise FastMLPError(f"--resume {resume}: not a run folder (no {runs.CONFIG})")
        return load_config(Path(resume) / runs.CONFIG, overrides)
    if isinstance(config, Config) and not overrides:
        return config
    return load_config(config, overrides)


def start_from(model: MLP, path: str | Path) -> None:
    """train.init_from: copy the weights of the model file at path into model (fine-tuning).
    The layer widths, the task and the class labels must agree; one line names what differs.
    The inputs stay preprocessed as this run's data section says."""
    source = MLP.load(path)
    key = f"train.init_from {path}"
    if source.layer_sizes != model.layer_sizes:
        raise ConfigError(
            f"{key}: its layers {source.layer_sizes} do not match this run's {model.layer_sizes} "
            "(model.hidden, and the data's inputs and outputs)"
        )
    if source.task != model.task:
        raise ConfigError(f"{key}: a {source.task} model, and this run does {model.task}")
    if (
        source.classes is not None
        and model.classes is not None
        and [str(c) for c in source.classes] != [str(c) for c in model.classes]
    ):
        raise ConfigError(f"{key}: its classes {list(source.classes)[:10]} differ from this data's")
    model.params[...] = source.params.astype(model.dtype)


def _where(run_dir: Path, checkpoint: Path | None, smaller_lr: bool = False) -> str:
    """What the run folder holds after a stop, and how to continue it."""
    if checkpoint is None or not checkpoint.is_file():
        held = [name for name in (runs.CONFIG, runs.METRICS) if (run_dir / name).is_file()]
        return f"partial run ({', '.join(held) or 'empty'}; no model) left at {run_dir}"
    at = checkpoint_file.load(checkpoint).describe()
    how = f"fastmlp train --resume {run_dir}"
    if smaller_lr:
        how += " --set train.learning_rate=<smaller>"
    return f"the run folder {run_dir} keeps a checkpoint ({at}); continue with: {how}"


def model_for(config: Config, ds, dtype: str | None = None) -> MLP:
    """The config's network for the dataset ds, carrying what ds was fitted with."""
    m = config.model
    return MLP.for_dataset(
        ds, m.hidden, activation=m.activation, dtype=dtype or m.dtype, seed=config.seed, init=m.init
    )


def _timings(history, recorder, started, data_started, loaded, trained, n_train) -> dict[str, float | None]:
    """Wall times; compile_seconds is epoch 1's excess over the median later epoch."""
    epochs = [row["seconds"] for row in history.rows]
    later = statistics.median(epochs[1:]) if len(epochs) > 1 else None
    epoch_seconds = sum(epochs)
    return {
        "wall_seconds": time.perf_counter() - started,
        "load_data_seconds": loaded - data_started,
        "fit_seconds": trained - loaded,
        "epoch_seconds_total": epoch_seconds,
        "first_epoch_seconds": epochs[0] if epochs else None,
        "epoch_seconds_median": later,
        "compile_seconds": max(epochs[0] - later, 0.0) if later is not None else None,
        "first_batches_seconds": recorder.first_batches_seconds,
        "samples_per_second": n_train * len(epochs) / epoch_seconds if epoch_seconds > 0 else None,
        "samples_per_second_after_first_epoch": n_train / later if later else None,
    }


# ---------------------------------------------------------------- gradcheck


def gradcheck(
    config: Config | str | Path | Mapping | None = None,
    overrides: Sequence[str] = (),
    samples: int = 8,
    entries: int | None = 20,
) -> list[dict[str, Any]]:
    """The config's model (float64) against central finite differences on `samples` rows.

    entries: how many randomly chosen entries per tensor to probe (None: all of them).
    Returns per-layer rows {"layer", "shape", "dW", "db", "ok"}; ok means max error <= TOLERANCE.
    """
    from .data import load_dataset

    if samples < 1:
        raise FastMLPError(f"--samples: expected an integer >= 1, got {samples}")
    if not isinstance(config, Config) or overrides:
        config = load_config(config, overrides)
    ds = load_dataset(config.data, seed=config.seed, dtype="float64", task=config.model.task)
    model = model_for(config, ds, dtype="float64")
    X, y = ds.X_train[:samples], ds.y_train[:samples]
    rows = check_gradients(model, X, y, l2=config.train.l2, max_entries=entries, seed=config.seed)
    for row, W in zip(rows, model.weights, strict=False):
        row["shape"] = list(W.shape)
        row["ok"] = max(row["dW"], row["db"]) <= TOLERANCE
    return rows
