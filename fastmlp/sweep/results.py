"""A sweep's results: one row per run, results.csv, and the ranking (mean ± std over seeds)."""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import runs
from ..errors import FastMLPError
from ..tasks import METRICS, SPLITS
from .spec import Run, point_label

RESULTS = "results.csv"
BEST = (("val_loss", min), ("val_accuracy", max))  # from metrics.csv, over epochs


def make_row(
    run: Run, run_dir: Path, outcome: Mapping[str, Any], metric: str, resumed: bool = False
) -> dict[str, Any]:
    """A results row from a run_one() outcome (or a finished run read back from disk)."""
    summary, history = outcome.get("summary") or {}, outcome.get("metrics") or []
    row: dict[str, Any] = {
        "run": run.name,
        "point": run.point,
        "seed": run.seed,
        "status": outcome["status"],
        "resumed": resumed,
        "overrides": json.dumps(run.overrides),
        **{f"set:{k}": v for k, v in run.overrides.items()},
        "metric": summary.get(metric),
    }
    for split in SPLITS:
        for name in METRICS:
            key = f"{split}_{name}"
            if summary.get(key) is not None:
                row[key] = summary[key]
    for key, pick in BEST:
        values = [r[key] for r in history if r.get(key) is not None]
        row[f"best_{key}"] = pick(values) if values else None
    row.update(
        best_epoch=summary.get("best_epoch"),
        epochs_run=summary.get("epochs_run"),
        wall_seconds=outcome.get("wall_seconds"),
        threads=outcome.get("threads"),
        run_dir=str(run_dir),
        error=outcome.get("error", ""),
    )
    return row


def read_finished(run_dir: Path) -> dict[str, Any] | None:
    """The outcome of a finished run (complete summary.json) in run_dir, or None to (re)run it."""
    try:
        summary = runs.read_summary(run_dir)
        history = runs.read_metrics(run_dir)
    except (FastMLPError, OSError, ValueError):
        return None
    if "timings" not in summary:  # summary.json is written last and atomically; this is its last key
        return None
    return {
        "status": "ok",
        "error": "",
        "wall_seconds": summary["timings"].get("wall_seconds"),
        "summary": summary,
        "metrics": history,
    }


def results_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV text: every column any row has, in first-seen order; empty cells for None."""
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row[c] for c in columns})
    return out.getvalue()


def write_results(sweep_dir: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    return runs.write_atomic(Path(sweep_dir) / RESULTS, results_csv(rows))


@dataclass
class Group:
    """One grid point over its seeds: the ranking metric's mean ± std over finished runs."""

    point: str
    overrides: dict[str, Any]
    values: list[float] = field(default_factory=list)
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation over seeds (0 for one seed)."""
        return statistics.stdev(self.values) if len(self.values) > 1 else (0.0 if self.values else None)


def rank(rows: Sequence[Mapping[str, Any]], direction: str) -> list[Group]:
    """Grid points best first by mean metric; points with no finished run last."""
    groups: dict[str, Group] = {}
    for row in rows:
        group = groups.setdefault(row["point"], Group(row["point"], json.loads(row["overrides"])))
        value = row.get("metric")
        if row["status"] == "ok" and value is not None and math.isfinite(value):
            group.values.append(float(value))
        else:
            group.failed += 1
            if row.get("error"):
                group.errors.append(row["error"])
    sign = -1.0 if direction == "max" else 1.0
    return sorted(
        groups.values(), key=lambda g: (g.mean is None, sign * g.mean if g.mean is not None else 0.0)
    )


def ranked_table(groups: Sequence[Group], metric: str, title: str = ""):
    """A rich Table: rank, each swept key, metric mean ± std, runs finished/failed."""
    from rich.table import Table

    keys: list[str] = []
    for g in groups:
        keys += [k for k in g.overrides if k not in keys]
    table = Table(title=title or None, title_justify="left")
    table.add_column("#", justify="right")
    for key in keys:
        table.add_column(key)
    table.add_column(f"{metric} (mean ± std)", justify="right")
    table.add_column("runs", justify="right")
    for i, g in enumerate(groups, 1):
        value = f"{g.mean:.4f} ± {g.std:.4f}" if g.mean is not None else "[red]failed[/red]"
        runs_text = f"{g.n}" + (f" [red]+{g.failed} failed[/red]" if g.failed else "")
        table.add_row(str(i), *(_cell(g.overrides.get(k)) for k in keys), value, runs_text)
    return table


def _cell(value: Any) -> str:
    return "-" if value is None else json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def read_results(sweep_dir: str | Path) -> list[dict[str, Any]]:
    """results.csv back as rows; numbers parsed, empty cells None."""
    path = Path(sweep_dir) / RESULTS
    if not path.is_file():
        raise FastMLPError(f"{sweep_dir}: no {RESULTS} here; is it a fastmlp sweep folder?")
    with path.open(newline="", encoding="utf-8") as f:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _number(text: str) -> Any:
    if text == "":
        return None
    try:
        return float(text) if any(c in text for c in ".eE") or text.lstrip("-").isdigit() else text
    except ValueError:
        return text


def label_of(row: Mapping[str, Any], key: str) -> str:
    """The swept value of `key` in a results row, as text."""
    return point_label({key: json.loads(row["overrides"]).get(key)}).split("=", 1)[1]
