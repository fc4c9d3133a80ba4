"""Learning curves of runs as a PNG (`fastmlp plot RUN...`); pyplot() is the one place that
loads matplotlib, the optional `plot` extra, for this module and sweep/plot.py."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import runs
from .errors import FastMLPError


def pyplot():
    """matplotlib.pyplot on the Agg backend, or one line saying how to install it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise FastMLPError("fastmlp plot needs matplotlib: pip install 'fastmlp[plot]'") from None
    return plt


def plot_runs(run_dirs: Sequence[str | Path], out: str | Path | None = None) -> Path:
    """PNG of loss (and accuracy) per epoch for each run; default out: RUN/curves.png for one
    run, curves.png here for several. Needs matplotlib (pip install 'fastmlp[plot]')."""
    plt = pyplot()
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
