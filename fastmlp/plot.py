"""Figures of runs as PNGs (`fastmlp plot RUN...`): learning curves, and for one finished run its
scores on the test split beside them (confusion matrix and per-class precision/recall/F1, per-label
bars, or predicted against true values). pyplot() is the one place that loads matplotlib, the
optional `plot` extra, for this module and sweep/plot.py.

Each figure_for_* function returns the matplotlib Figure; plot_* save it with save_figure(). The
scores are fastmlp.inference.evaluate()'s, drawn as they are: nothing is recomputed here.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import runs
from .errors import FastMLPError

# Counts are written into the confusion matrix's cells up to this many classes; beyond it the
# digits no longer fit a cell at the figure's size, and the colours alone tell the story.
ANNOTATE_MAX_CLASSES = 15
# Class names on the axes up to this many; beyond it every n-th, so the labels do not overlap.
TICK_MAX_CLASSES = 30
CURVE_METRICS = ("loss", "accuracy")
# Curves of this many epochs or fewer get a marker per epoch: a 1-epoch run is otherwise invisible.
MARKED_EPOCHS = 30
# Up to this many panels sit in one row; more (a classifier's four) go in two rows.
ONE_ROW = 3


def pyplot():
    """matplotlib.pyplot on the Agg backend, or one line saying how to install it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise FastMLPError("fastmlp plot needs matplotlib: pip install 'fastmlp[plot]'") from None
    return plt


def save_figure(fig, out: str | Path) -> Path:
    """Write fig as a PNG, atomically (a reader never sees half an image), and close it."""
    plt = pyplot()
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=120)
    finally:
        plt.close(fig)
    return runs.write_atomic(Path(out), buffer.getvalue())


# ---------------------------------------------------------------- runs


def plot_runs(run_dirs: Sequence[str | Path], out: str | Path | None = None, scores: bool = True) -> Path:
    """PNG of loss (and accuracy) per epoch for each run and, for one finished run, its scores
    on the test split (val if it has none) beside them; scores=False draws the curves alone,
    without evaluating. Default out: RUN/curves.png for one run, curves.png here for several.
    Needs matplotlib (pip install 'fastmlp[plot]')."""
    fig = figure_for_runs(run_dirs, scores=scores)
    default = Path(run_dirs[0]) / "curves.png" if len(run_dirs) == 1 else Path("curves.png")
    return save_figure(fig, out if out is not None else default)


def figure_for_runs(run_dirs: Sequence[str | Path], scores: bool = True):
    """The Figure plot_runs saves: a row of curve panels (loss, and accuracy when a run has it)
    and, for a single run with scores, a second row with that run's score panels."""
    pyplot()  # the install hint before any file is read
    if not run_dirs:
        raise FastMLPError("plot: give at least one run folder")
    histories = [(Path(d), runs.read_metrics(_run_folder(d))) for d in run_dirs]
    report = run_scores(histories[0][0]) if scores and len(histories) == 1 else None
    metrics = [m for m in CURVE_METRICS if _has_metric(histories, m)] or ["loss"]
    score_panels = _score_panels(report) if report is not None else []
    fig, curve_axes, score_axes = _grid(len(metrics), len(score_panels))
    for ax, metric in zip(curve_axes, metrics, strict=True):
        _draw_curves(ax, histories, metric)
    for ax, draw in zip(score_axes, score_panels, strict=True):
        draw(fig, ax, report)
    fig.tight_layout()
    return fig


def figure_for_run(run_dir: str | Path, scores: bool = True):
    """figure_for_runs for one run folder."""
    return figure_for_runs([run_dir], scores=scores)


def _run_folder(path: str | Path) -> Path:
    """path, checked to be a run folder, so a wrong path reads as such and not as a missing file."""
    path = Path(path)
    if not path.exists():
        raise FastMLPError(f"{path}: no such run folder")
    if not (path / runs.METRICS).is_file():
        raise FastMLPError(
            f"{path}: neither a run folder (no {runs.METRICS}) nor a sweep folder (no results.csv)"
        )
    return path


def _has_metric(histories, metric: str) -> bool:
    return any(
        r.get(f"{split}_{metric}") is not None
        for _, rows in histories
        for r in rows
        for split in ("train", "val")
    )


def _grid(n_top: int, n_bottom: int):
    """(figure, curve axes, score axes): all panels in one row when they are few (ONE_ROW), else
    the curves in a row with the scores in a taller row under it, each row split evenly."""
    plt = pyplot()
    if n_top + n_bottom <= ONE_ROW:
        n = n_top + n_bottom
        fig, axes = plt.subplots(1, n, figsize=(5.5 * n, 4.5 if n_bottom else 4), squeeze=False)
        return fig, list(axes[0][:n_top]), list(axes[0][n_top:])
    columns = math.lcm(n_top, n_bottom)  # so either row splits the width into equal panels
    fig = plt.figure(figsize=(12, 10))
    grid = fig.add_gridspec(2, columns, height_ratios=(4, 5.5))

    def row(index: int, n: int) -> list:
        width = columns // n
        return [fig.add_subplot(grid[index, i * width : (i + 1) * width]) for i in range(n)]

    return fig, row(0, n_top), row(1, n_bottom)


def _draw_curves(ax, histories, metric: str) -> None:
    """metric per epoch, train solid and val dashed, one pair of lines per run."""
    for run_dir, rows in histories:
        epochs = [r["epoch"] for r in rows]
        for split, style in (("train", "-"), ("val", "--")):
            values = [r.get(f"{split}_{metric}") for r in rows]
            if any(v is not None for v in values):
                ax.plot(
                    epochs,
                    [np.nan if v is None else v for v in values],
                    style,
                    marker="o" if len(epochs) <= MARKED_EPOCHS else None,
                    markersize=3,
                    label=f"{run_dir.name} {split}",
                )
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax.set_title(f"{metric} per epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")


# ---------------------------------------------------------------- scores of one run


def run_scores(run_dir: str | Path) -> dict[str, Any] | None:
    """evaluate() of a finished run on its test split (val when it has none), or None with one
    warning saying why (no model yet, its data file gone, no split to score)."""
    from .inference import evaluate

    try:
        split = _score_split(runs.read_summary(run_dir))
        if split is None:
            warnings.warn(f"{run_dir}: curves only: the run has no test or val split to score", stacklevel=2)
            return None
        return evaluate(run_dir, split=split, values=True)
    except (FastMLPError, OSError) as exc:
        warnings.warn(f"{run_dir}: curves only, no scores: {exc}", stacklevel=2)
        return None


def _score_split(summary: Mapping[str, Any]) -> str | None:
    """'test' when the run held out a test split, else 'val', else None; a run without a summary
    (unfinished) is asked for 'test', and evaluate() says what is missing."""
    if not summary:
        return "test"
    return next((s for s in ("test", "val") if summary.get(f"n_{s}")), None)


def _score_panels(report: Mapping[str, Any]) -> list:
    """The drawing functions for what evaluate() returned: a classifier's confusion and per-class
    bars, a multilabel model's per-label bars, a regression's predicted against true values."""
    if "confusion" in report:
        return [_draw_confusion, _draw_per_class]
    if "per_class" in report:
        return [_draw_per_class]
    if "values" in report:
        return [_draw_predicted_vs_true]
    return []


def _draw_confusion(fig, ax, report: Mapping[str, Any]) -> None:
    """The confusion matrix normalised by true class (each row sums to 1), its counts written in
    the non-empty cells when there are few classes."""
    counts = np.asarray(report["confusion"], dtype=np.int64)
    totals = counts.sum(axis=1, keepdims=True)
    # A class absent from the split has no row to normalise; it stays 0 rather than NaN.
    fraction = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    image = ax.imshow(fraction, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    k = len(counts)
    if k <= ANNOTATE_MAX_CLASSES:
        for (row, column), count in np.ndenumerate(counts):
            if count:
                colour = "white" if fraction[row, column] > 0.5 else "black"
                ax.text(column, row, str(count), ha="center", va="center", color=colour, fontsize="small")
    _class_ticks(ax, report["classes"], "x", rotate=True)
    _class_ticks(ax, report["classes"], "y")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"confusion, {_split_note(report)}, accuracy {report['metrics']['accuracy']:.3f}")


def _draw_per_class(fig, ax, report: Mapping[str, Any]) -> None:
    """Precision, recall and F1 of each class (or label) as grouped bars, macro F1 as a line."""
    per_class, names = report["per_class"], report["classes"]
    positions = np.arange(len(names))
    width = 0.27
    for i, score in enumerate(("precision", "recall", "f1")):
        ax.bar(positions + (i - 1) * width, per_class[score], width, label=score)
    ax.axhline(per_class["macro"]["f1"], color="black", linewidth=0.8, linestyle=":", label="macro f1")
    _class_ticks(ax, names, "x", rotate=True)
    # The band above 1 is left empty for the legend, so it never hides a bar.
    ax.set_ylim(0.0, 1.2)
    ax.set_yticks(np.linspace(0.0, 1.0, 6))
    ax.set_xlabel("label" if "confusion" not in report else "class")
    ax.set_ylabel("score")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small", loc="upper center", ncol=4)
    kind = "per-class" if "confusion" in report else "per-label"
    ax.set_title(f"{kind} scores, {_split_note(report)}")


def _draw_predicted_vs_true(fig, ax, report: Mapping[str, Any]) -> None:
    """Predicted against true values (one colour per output), the line y = x where they would lie
    if the model were exact; the residuals' mean and spread in the legend's title."""
    true = np.asarray(report["values"]["true"], dtype=np.float64).reshape(report["n"], -1)
    predicted = np.asarray(report["values"]["predicted"], dtype=np.float64).reshape(true.shape)
    names = report.get("classes") or [f"y_{j}" for j in range(true.shape[1])]
    for j in range(true.shape[1]):
        ax.scatter(true[:, j], predicted[:, j], s=8, alpha=0.5, label=names[j] if true.shape[1] > 1 else None)
    low, high = float(min(true.min(), predicted.min())), float(max(true.max(), predicted.max()))
    ax.plot([low, high], [low, high], color="black", linewidth=0.8, linestyle=":", label="y = x")
    residuals = report["residuals"]
    ax.legend(fontsize="small", title=f"residual {residuals['mean']:.3g} ± {residuals['std']:.3g}")
    ax.set_xlabel("true value")
    ax.set_ylabel("predicted value")
    ax.grid(alpha=0.3)
    metrics = report["metrics"]
    extra = f", rmse {metrics['rmse']:.3g}" if metrics.get("rmse") is not None else ""
    ax.set_title(f"predicted vs true, {_split_note(report)}{extra}")


def _split_note(report: Mapping[str, Any]) -> str:
    return f"{report['split']} split (n={report['n']})"


def _class_ticks(ax, names: Sequence[str], axis: str, rotate: bool = False) -> None:
    """Class names as tick labels on one axis; every n-th when there are too many to read."""
    step = max(1, math.ceil(len(names) / TICK_MAX_CLASSES))
    positions = list(range(0, len(names), step))
    labels = [str(names[i]) for i in positions]
    long_names = rotate and any(len(label) > 3 for label in labels)
    if axis == "x":
        ax.set_xticks(
            positions, labels, rotation=45 if long_names else 0, ha="right" if long_names else "center"
        )
    else:
        ax.set_yticks(positions, labels)
