"""plot_sweep: a sweep's ranking metric against each swept key, one panel per key, one point per
finished run (rows whose status is not "ok" are left out).

How a panel is drawn depends on how the key was swept. In a grid every value of the key meets the
same combinations of the other keys, so a line per combination (mean ± std over seeds) shows the
key's effect with the rest held fixed; past MAX_LINES combinations the legend would be unreadable,
and the panel shows the runs as points with their mean per value instead. A random search draws
every value afresh, so a line through its runs would join unrelated configurations: its runs are
points, with the mean per value only where values repeat (a categorical key).
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import FastMLPError
from ..plot import pyplot, save_figure
from ..schema import is_real
from .results import read_results

MAX_LINES = 8  # lines per panel, one per combination of the other keys, before points replace them
LOG_SPAN = 100  # a positive numeric key spanning this factor or more gets a log axis
PANELS_PER_ROW = 3


def plot_sweep(
    sweep_dir: str | Path, key: str | None = None, metric: str | None = None, out: str | Path | None = None
) -> Path:
    """PNG of `metric` (default: the sweep's ranking metric) against each swept key, one panel
    per key (only `key` when given). Default out: SWEEP_DIR/<metric>_vs_<key>.png for one key,
    SWEEP_DIR/<metric>_vs_keys.png for several. Needs matplotlib (pip install 'fastmlp[plot]')."""
    rows, keys, metric, left_out = _selection(Path(sweep_dir), key, metric)
    fig = _figure(Path(sweep_dir), rows, keys, metric, left_out)
    name = keys[0].rsplit(".", 1)[-1] if len(keys) == 1 else "keys"
    return save_figure(fig, Path(out) if out is not None else Path(sweep_dir) / f"{metric}_vs_{name}.png")


def figure_for_sweep(sweep_dir: str | Path, key: str | None = None, metric: str | None = None):
    """The Figure plot_sweep saves: one axes per swept key (only `key` when given), in key order."""
    return _figure(Path(sweep_dir), *_selection(Path(sweep_dir), key, metric))


def is_sweep_dir(path: str | Path) -> bool:
    return (Path(path) / "results.csv").is_file()


def _selection(
    sweep_dir: Path, key: str | None, metric: str | None
) -> tuple[list[dict], list[str], str, int]:
    """(the finished runs' rows that have the metric, the keys to plot, the metric, how many rows
    were left out), each checked, with the user's mistakes (a key that was not swept, a metric no
    run has) as one-line errors."""
    pyplot()  # the install hint before any file is read
    rows = read_results(sweep_dir)
    finished = [r for r in rows if r["status"] == "ok"]
    if not finished:
        raise FastMLPError(f"{sweep_dir}: no finished runs to plot ({len(rows)} runs, none ok)")
    swept = list(dict.fromkeys(k for r in finished for k in json.loads(r["overrides"])))
    if key is not None and key not in swept:
        raise FastMLPError(f"--key: {key!r} is not a swept key here (swept: {', '.join(swept) or 'none'})")
    if not swept:
        raise FastMLPError(f"{sweep_dir}: no swept keys to plot against")
    metric = metric or _sweep_metric(sweep_dir)
    scored = [r for r in finished if r.get(metric) is not None]
    if not scored:
        raise FastMLPError(f"--metric: no finished run has {metric!r}")
    for r in scored:
        r["_overrides"] = json.loads(r["overrides"])
    return scored, [key] if key is not None else swept, metric, len(rows) - len(scored)


def _sweep_metric(sweep_dir: Path) -> str:
    """The metric the sweep ranked by, from its sweep.yaml; val_accuracy if that cannot be read."""
    from .spec import load_sweep

    try:
        return load_sweep(sweep_dir / "sweep.yaml").metric
    except FastMLPError:
        return "val_accuracy"


def _figure(sweep_dir: Path, rows: list[dict], keys: Sequence[str], metric: str, left_out: int = 0):
    """One panel per key, PANELS_PER_ROW to a row, sharing the metric's axis."""
    plt = pyplot()
    columns = min(len(keys), PANELS_PER_ROW)
    n_rows = math.ceil(len(keys) / columns)
    # Constrained layout makes room for the legends under the panels, which tight_layout does not.
    fig, axes = plt.subplots(
        n_rows,
        columns,
        figsize=(5.2 * columns, 5.2 * n_rows),
        sharey=True,
        squeeze=False,
        constrained_layout=True,
    )
    flat = list(axes.flat)
    for ax, key in zip(flat, keys, strict=False):
        _draw_key(ax, rows, key, metric)
    for ax in flat[len(keys) :]:
        fig.delaxes(ax)  # a part-filled last row: no empty frames
    for row in axes:
        row[0].set_ylabel(metric)
    note = f" ({left_out} failed or unscored, left out)" if left_out else ""
    fig.suptitle(f"{sweep_dir.name}: {metric} of {len(rows)} finished runs{note}")
    return fig


def _draw_key(ax, rows: list[dict], key: str, metric: str) -> None:
    """metric against one key: lines per combination of the other keys for a grid, else points."""
    points = [
        (r["_overrides"][key], float(r[metric]), _rest(r["_overrides"], key))
        for r in rows
        if key in r["_overrides"]
    ]
    numeric = all(is_real(x) for x, _, _ in points)
    categories = [] if numeric else _ordered({_identity(x): x for x, _, _ in points})
    position = (lambda x: x) if numeric else (lambda x: categories.index(_identity(x)))
    lines = _by_combination(points)
    if _is_grid(lines) and len(lines) <= MAX_LINES:
        for label, by_x in lines.items():
            xs = sorted(by_x, key=lambda x: position(json.loads(x)))
            ax.errorbar(
                [position(json.loads(x)) for x in xs],
                [statistics.fmean(by_x[x]) for x in xs],
                yerr=[statistics.stdev(by_x[x]) if len(by_x[x]) > 1 else 0.0 for x in xs],
                marker="o",
                capsize=3,
                label=label or None,
            )
        if len(lines) > 1:
            _legend_below(ax)
    else:
        _draw_points(ax, points, position, join=numeric)
    if numeric:
        _numeric_scale(ax, [x for x, _, _ in points])
    else:
        ax.set_xticks(range(len(categories)), [_label(x) for x in categories])
        ax.set_xlim(-0.5, len(categories) - 0.5)  # half a slot of margin, so no point sits on the frame
    ax.set_title(key)
    ax.grid(alpha=0.3)


def _draw_points(ax, points, position, join: bool) -> None:
    """Every run as a point, and where values repeat the mean per value (joined by a line for a
    numeric key, whose values are ordered; markers alone for categories)."""
    ax.scatter([position(x) for x, _, _ in points], [y for _, y, _ in points], s=18, alpha=0.6, label="runs")
    by_x: dict[str, list[float]] = {}
    for x, y, _ in points:
        by_x.setdefault(_identity(x), []).append(y)
    if any(len(ys) > 1 for ys in by_x.values()):
        xs = sorted(by_x, key=lambda x: position(json.loads(x)))
        ax.plot(
            [position(json.loads(x)) for x in xs],
            [statistics.fmean(by_x[x]) for x in xs],
            "D-" if join else "D",
            color="black",
            markersize=5,
            label="mean per value",
        )
        _legend_below(ax)


def _legend_below(ax) -> None:
    """The legend under the panel: inside it, up to MAX_LINES entries would hide the lines."""
    ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.08), frameon=False)


def _by_combination(points) -> dict[str, dict[str, list[float]]]:
    """{the other keys' values as text: {this key's value as JSON: [metric of each seed]}}."""
    lines: dict[str, dict[str, list[float]]] = {}
    for x, y, rest in points:
        lines.setdefault(rest, {}).setdefault(_identity(x), []).append(y)
    return lines


def _is_grid(lines: Mapping[str, Mapping[str, list]]) -> bool:
    """Whether this key was crossed with the others as in a grid: each combination of the other
    keys ran at two or more of its values, and each value met two or more combinations. A random
    search fails the second test (each drawn value belongs to one trial), so a line would join
    unrelated configurations; with no other keys, the one line is the key's own curve."""
    if len(lines) == 1:
        return len(next(iter(lines.values()))) >= 2
    meetings: dict[str, int] = {}
    for by_x in lines.values():
        for x in by_x:
            meetings[x] = meetings.get(x, 0) + 1
    return all(len(by_x) >= 2 for by_x in lines.values()) and all(n >= 2 for n in meetings.values())


def _numeric_scale(ax, values: Sequence[float]) -> None:
    """A log axis when the positive values span LOG_SPAN or more (symmetric-log when 0 is among
    them, e.g. an L2 grid starting at 0, which a log axis cannot show), else linear."""
    positive = [v for v in values if v > 0]
    if not positive or any(v < 0 for v in values) or max(positive) / min(positive) < LOG_SPAN:
        return
    if len(positive) == len(values):
        ax.set_xscale("log")
    else:
        ax.set_xscale("symlog", linthresh=min(positive))


def _rest(overrides: Mapping[str, Any], key: str) -> str:
    """The other swept keys' values as one label, e.g. 'hidden=[16], l2=0.001'."""
    return ", ".join(f"{k.rsplit('.', 1)[-1]}={json.dumps(v)}" for k, v in overrides.items() if k != key)


def _identity(value: Any) -> str:
    """A hashable, exact stand-in for a value (lists such as model.hidden are not hashable)."""
    return json.dumps(value, sort_keys=True)


def _ordered(values: Mapping[str, Any]) -> list[str]:
    """Category identities in the values' natural order ([16] < [32] < [64]), or first-seen
    order when they do not compare (mixed types)."""
    try:
        return sorted(values, key=lambda k: values[k])
    except TypeError:
        return list(values)


def _label(identity: str) -> str:
    value = json.loads(identity)
    return value if isinstance(value, str) else identity
