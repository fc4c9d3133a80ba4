"""The Python API behind every CLI command: train, evaluate, predict, gradcheck, plot.

    >>> from fastmlp.api import load_config, train
    >>> result = train(load_config("configs/digits.yaml", ["train.epochs=5"]))
    >>> result.summary["test_accuracy"], result.run_dir

`fastmlp train CONFIG --set k=v` is exactly `train(load_config(CONFIG, ["k=v"]))`.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import runs
from .config import Config, ConfigError, load_config, parse_yaml, read_yaml_file
from .data.features import align_features, read_features
from .errors import DataError, FastMLPError
from .gradcheck import TOLERANCE, check_gradients
from .model import MLP
from .schedules import from_config as schedule_from_config
from .tasks import SPLITS
from .trainer import History, fit

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

    def __init__(self, run_dir: Path, forward=None):
        self.run_dir, self.forward = run_dir, forward
        self.rows: list[dict] = []
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
) -> TrainResult:
    """Load the data, build the model, fit it, and write a run folder; return what was made.

    config: a Config, a YAML path, a mapping, or None (the embedded default).
    out: the exact run folder (must be new or empty); default output.dir/<name>-<timestamp>.
    callback: a trainer callback (on_epoch_start, on_batches, on_epoch_end), e.g. a progress bar.
    """
    from .data import load_dataset

    started = time.perf_counter()
    if not isinstance(config, Config) or overrides:
        config = load_config(config, overrides)
    ds = load_dataset(config.data, seed=config.seed, dtype=config.model.dtype, task=config.model.task)
    loaded = time.perf_counter()
    if config.train.early_stopping is not None and _empty(ds.X_val):
        raise ConfigError("train.early_stopping: needs validation data; set data.validation_split > 0")
    model = model_for(config, ds)

    run_dir = runs.create_run_dir(config.output.dir, config.name, exact=out)
    runs.write_atomic(run_dir / runs.CONFIG, config.to_yaml())
    recorder = _Recorder(run_dir, callback)
    t = config.train
    try:
        history = fit(
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
            class_weight=t.class_weight,
            callback=recorder,
        )
    except KeyboardInterrupt:
        # Kept, not deleted: its metrics.csv holds the epochs that finished.
        raise KeyboardInterrupt(
            f"partial run (config.yaml, metrics.csv; no model) left at {run_dir}"
        ) from None
    trained = time.perf_counter()
    model.save(run_dir / runs.MODEL)

    summary: dict[str, Any] = {"name": config.name, "dataset": ds.name, "task": ds.task, "seed": config.seed}
    for split in ("train", "val", "test"):
        X, y = _split(ds, split)
        if not _empty(X):
            summary[f"n_{split}"] = int(len(X))
            X = model.check_X(X, split)
            summary.update(
                {f"{split}_{k}": v for k, v in model.metrics(X, *model.check_y(y, len(X), split)).items()}
            )
    if ds.classes is not None:
        summary["classes"] = [str(c) for c in ds.classes]
    summary.update(
        best_epoch=history.best_epoch, epochs_run=len(history.rows), stopped_early=history.stopped_early
    )
    summary["timings"] = _timings(history, recorder, started, loaded, trained, len(ds.X_train))
    summary["versions"] = versions()
    summary["config_file"] = str(config.source) if config.source is not None else None
    runs.write_summary(run_dir, summary)
    return TrainResult(
        model=model, history=history, run_dir=run_dir, summary=summary, config=config, dataset=ds
    )


def model_for(config: Config, ds, dtype: str | None = None) -> MLP:
    """The config's network for the dataset ds, carrying what ds was fitted with."""
    m = config.model
    return MLP.for_dataset(
        ds, m.hidden, activation=m.activation, dtype=dtype or m.dtype, seed=config.seed, init=m.init
    )


def _timings(history, recorder, started, loaded, trained, n_train) -> dict[str, float | None]:
    """Wall times; compile_seconds is epoch 1's excess over the median later epoch."""
    epochs = [row["seconds"] for row in history.rows]
    later = statistics.median(epochs[1:]) if len(epochs) > 1 else None
    epoch_seconds = sum(epochs)
    return {
        "wall_seconds": time.perf_counter() - started,
        "load_data_seconds": loaded - started,
        "fit_seconds": trained - loaded,
        "epoch_seconds_total": epoch_seconds,
        "first_epoch_seconds": epochs[0] if epochs else None,
        "epoch_seconds_median": later,
        "compile_seconds": max(epochs[0] - later, 0.0) if later is not None else None,
        "first_batches_seconds": recorder.first_batches_seconds,
        "samples_per_second": n_train * len(epochs) / epoch_seconds if epoch_seconds > 0 else None,
        "samples_per_second_after_first_epoch": n_train / later if later else None,
    }


def _split(ds, split: str):
    if split == "train":
        return ds.X_train, ds.y_train
    if split == "val":
        return ds.X_val, ds.y_val
    return ds.X_test, ds.y_test


def _empty(X) -> bool:
    return X is None or len(X) == 0


# ---------------------------------------------------------------- evaluate


def resolve_model(source: str | Path) -> tuple[Path, Path | None]:
    """(model.npz, run folder or None) for a run folder or a model file."""
    source = Path(source)
    if source.is_dir():
        model_path = source / runs.MODEL
        if not model_path.is_file():
            raise FastMLPError(f"{source}: no {runs.MODEL} in this folder; is it a finished fastmlp run?")
        return model_path, source
    if not source.exists():
        raise FastMLPError(f"{source}: no such run folder or model file")
    return source, None


def data_spec(text: str | Mapping | None, run_dir: Path | None) -> tuple[dict, int]:
    """(data spec, seed) for evaluate: from --data, else from the run's config.yaml.

    --data may be a config YAML (its data: section), a data-spec YAML, an inline YAML
    mapping ("{name: digits, test_split: 0.3}"), a data file (.npz/.npy/.csv/IDX) or a
    built-in dataset name.
    """
    if text is None:
        if run_dir is None:
            raise FastMLPError("evaluate MODEL.npz needs --data (a config, a data file or a dataset name)")
        config = load_config(run_dir / runs.CONFIG)
        return dict(config.data), config.seed
    if isinstance(text, Mapping):
        return dict(text), 0
    path = Path(text)
    if path.suffix in (".yaml", ".yml"):
        raw = read_yaml_file(path)
        if isinstance(raw, Mapping) and ("data" in raw or not raw):
            config = load_config(path)
            return dict(config.data), config.seed
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{path}: expected a config or a data spec mapping")
        return dict(raw), 0
    if text.lstrip().startswith("{"):
        raw = parse_yaml(text, "--data")
        if not isinstance(raw, Mapping):
            raise ConfigError("--data: expected a mapping like {name: digits}")
        return dict(raw), 0
    if path.exists():
        return {"path": str(path)}, 0
    return {"name": text}, 0


def evaluate(source: str | Path, data: str | Mapping | None = None, split: str = "test") -> dict[str, Any]:
    """Metrics of a saved model on one split of a dataset.

    The data is loaded raw (no preprocessing, no target scaling) and the model's own saved
    transforms are applied, and labels are matched to the model's classes by value, so a model
    is judged on exactly what it was trained with.
    Returns {"split", "n", "task", "metrics", and for classification "classes",
    "per_class_accuracy", "confusion" (rows: true class, columns: predicted)}.
    """
    from .data import load_dataset

    if split not in SPLITS:
        raise FastMLPError(f"--split: expected one of {', '.join(SPLITS)}, got {split!r}")
    model_path, run_dir = resolve_model(source)
    model = MLP.load(model_path)
    spec, seed = data_spec(data, run_dir)
    spec["preprocessing"] = "none"
    spec["target_scaling"] = "none"
    ds = load_dataset(spec, seed=seed, dtype=model.dtype.name, task=model.task)
    X, y = _split(ds, split)
    if _empty(X):
        others = " or ".join(f"--split {s}" for s in SPLITS if s != split)
        raise DataError(f"{ds.name}: has no {split} split (try {others})")
    if ds.n_inputs != model.n_inputs:
        raise DataError(f"{ds.name}: has {ds.n_inputs} features but the model takes {model.n_inputs}")
    if model.task_spec.indices and ds.classes is not None:
        y = ds.classes[y]  # back to the labels as spelled, so they meet the model's classes by value
    X = model.transform(X, ds.name)
    y_class, y_target = model.encode_labels(y, len(X), ds.name)
    result = {
        "model": str(model_path),
        "dataset": ds.name,
        "split": split,
        "n": int(len(X)),
        "task": model.task,
        "metrics": model.metrics(X, y_class, y_target),
    }
    if model.task_spec.indices:
        k = model.n_outputs
        predicted = model.forward(X).argmax(axis=1)
        confusion = np.bincount(y_class * k + predicted, minlength=k * k).reshape(k, k)
        totals = confusion.sum(axis=1)
        result["classes"] = [str(c) for c in (model.classes if model.classes is not None else range(k))]
        result["per_class_accuracy"] = [
            float(confusion[i, i] / totals[i]) if totals[i] else None for i in range(k)
        ]
        result["confusion"] = confusion.tolist()
    return result


# ---------------------------------------------------------------- predict


def predict(model: MLP | str | Path, X: np.ndarray | str | Path, proba: bool = False) -> np.ndarray:
    """Predictions on raw inputs (the model's saved preprocessing is applied).

    model: an MLP, a model.npz, or a run folder; X: an array, a DataFrame, or a .npy/.npz/.csv
    file. A CSV header or a DataFrame's columns are matched to the model's feature names.
    Classification: class labels (probabilities per class with proba=True); multilabel: 0/1 per
    label; regression: predictions in the targets' own units.
    """
    if not isinstance(model, MLP):
        model = load_model(model)
    name = "X"
    if isinstance(X, (str, Path)):
        name = str(X)
        X, names = read_features(X, expected_names=model.feature_names)
        if names is not None and model.feature_names is not None:
            X = align_features(X, names, model.feature_names, name)
    if proba and not model.task_spec.output:
        raise FastMLPError(f"--proba is for classification models; this one does {model.task}")
    return model.predict(X, name=name) if not proba else model.predict_proba(X, name=name)


def load_model(source: str | Path) -> MLP:
    """The MLP of a run folder or a model.npz."""
    return MLP.load(resolve_model(source)[0])


def predictions_csv(
    predictions: np.ndarray, proba: bool = False, classes: Sequence[str] | None = None
) -> str:
    """CSV text with a header: class | prob_<class>... | <class>... (multilabel 0/1) | y (or
    y_0..y_k). Class predictions are the class labels themselves."""
    p = predictions if predictions.ndim == 2 else predictions[:, None]
    names = [str(c) for c in classes] if classes is not None else None
    if predictions.ndim == 1:
        return "class\n" + "".join(f"{_csv_cell(str(v))}\n" for v in predictions)
    elif proba:
        header = [f"prob_{names[i] if names else i}" for i in range(p.shape[1])]
    elif p.dtype.kind in "iu" and p.shape[1] > 1:  # multilabel indicators
        header = [_csv_cell(names[i]) if names else f"label_{i}" for i in range(p.shape[1])]
    else:
        header = ["y"] if p.shape[1] == 1 else [f"y_{i}" for i in range(p.shape[1])]
    out = io.StringIO()
    fmt = "%d" if p.dtype.kind in "iu" else "%.9g"
    np.savetxt(out, p, fmt=fmt, delimiter=",", header=",".join(header), comments="")
    return out.getvalue()


def _csv_cell(text: str) -> str:
    """A CSV field: quoted when it holds a comma, a quote or a newline."""
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\n') else text


def write_predictions(
    predictions: np.ndarray, path: str | Path, proba: bool = False, classes: Sequence[str] | None = None
) -> Path:
    """Write predictions atomically: .npy by extension (class indices), otherwise CSV."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, predictions)
        return runs.write_atomic(path, buffer.getvalue())
    return runs.write_atomic(path, predictions_csv(predictions, proba, classes))


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


# ---------------------------------------------------------------- plot


def plot_runs(run_dirs: Sequence[str | Path], out: str | Path | None = None) -> Path:
    """PNG of loss (and accuracy) per epoch for each run; default out: RUN/curves.png for one
    run, curves.png here for several. Needs matplotlib (pip install 'fastmlp[plot]')."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise FastMLPError("fastmlp plot needs matplotlib: pip install 'fastmlp[plot]'") from None
    if not run_dirs:
        raise FastMLPError("plot: give at least one run folder")
    histories = [(Path(d), runs.read_metrics(d)) for d in run_dirs]
    has_accuracy = any(r["train_accuracy"] is not None for _, rows in histories for r in rows)
    fig, axes = plt.subplots(
        1, 2 if has_accuracy else 1, figsize=(11 if has_accuracy else 6, 4), squeeze=False
    )
    for run_dir, rows in histories:
        epochs = [r["epoch"] for r in rows]
        for ax, metric in zip(axes[0], ("loss", "accuracy"), strict=False):
            for split, style in (("train", "-"), ("val", "--")):
                values = [r[f"{split}_{metric}"] for r in rows]
                if any(v is not None for v in values):
                    ax.plot(
                        epochs,
                        [np.nan if v is None else v for v in values],
                        style,
                        label=f"{run_dir.name} {split}",
                    )
    for ax, metric in zip(axes[0], ("loss", "accuracy"), strict=False):
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.tight_layout()
    out = (
        Path(out)
        if out is not None
        else (histories[0][0] / "curves.png" if len(histories) == 1 else Path("curves.png"))
    )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    return runs.write_atomic(out, buffer.getvalue())
