"""plot_sweep: a sweep's ranking metric against one swept key, one point per run, mean ± std."""

from __future__ import annotations

import io
import json
import statistics
from pathlib import Path

from .. import runs
from ..errors import FastMLPError
from ..plot import pyplot
from .results import read_results


def plot_sweep(
    sweep_dir: str | Path, key: str | None = None, metric: str | None = None, out: str | Path | None = None
) -> Path:
    """PNG of `metric` (default: the sweep's ranking metric) against swept `key` (default:
    the first swept key), one line per combination of the other keys. Default out:
    SWEEP_DIR/<metric>_vs_<key>.png. Needs matplotlib (pip install 'fastmlp[plot]')."""
    plt = pyplot()
    sweep_dir = Path(sweep_dir)
    rows = [r for r in read_results(sweep_dir) if r["status"] == "ok"]
    if not rows:
        raise FastMLPError(f"{sweep_dir}: no finished runs to plot")
    swept = list(dict.fromkeys(k for r in rows for k in json.loads(r["overrides"])))
    key = key or (swept[0] if swept else None)
    if key not in swept:
        raise FastMLPError(f"--key: {key!r} is not a swept key here (swept: {', '.join(swept) or 'none'})")
    metric = metric or _sweep_metric(sweep_dir)
    if not any(r.get(metric) is not None for r in rows):
        raise FastMLPError(f"--metric: no run has {metric!r}")
    lines: dict[str, dict] = {}
    for r in rows:
        overrides = json.loads(r["overrides"])
        x = overrides[key] if key in overrides else None
        if r.get(metric) is None or x is None:
            continue
        rest = ", ".join(f"{k}={json.dumps(v)}" for k, v in overrides.items() if k != key) or metric
        lines.setdefault(rest, {}).setdefault(json.dumps(x), []).append(float(r[metric]))
    numeric = all(isinstance(json.loads(x), (int, float)) for line in lines.values() for x in line)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, points in lines.items():
        xs = sorted(points, key=lambda x: json.loads(x) if numeric else x)
        means = [statistics.fmean(points[x]) for x in xs]
        stds = [statistics.stdev(points[x]) if len(points[x]) > 1 else 0.0 for x in xs]
        where = [json.loads(x) for x in xs] if numeric else xs
        ax.errorbar(where, means, yerr=stds, marker="o", capsize=3, label=label)
    if numeric and all(json.loads(x) > 0 for line in lines.values() for x in line):
        values = sorted({json.loads(x) for line in lines.values() for x in line})
        if len(values) > 2 and values[-1] / values[0] >= 100:
            ax.set_xscale("log")
    ax.set_xlabel(key)
    ax.set_ylabel(f"{metric} (mean ± std over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    out = Path(out) if out is not None else sweep_dir / f"{metric}_vs_{key.rsplit('.', 1)[-1]}.png"
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    return runs.write_atomic(out, buffer.getvalue())


def is_sweep_dir(path: str | Path) -> bool:
    return (Path(path) / "results.csv").is_file()


def _sweep_metric(sweep_dir: Path) -> str:
    from .spec import load_sweep

    try:
        return load_sweep(sweep_dir / "sweep.yaml").metric
    except FastMLPError:
        return "val_accuracy"
