"""A sweep's results: one row per run, results.csv, and the ranking (mean ± std over seeds).

With cv:, results.csv holds one row per point and seed, each metric the mean over the folds
with its sample standard deviation beside it (val_accuracy, val_accuracy_std); folds.csv holds
the fold runs' own rows. A pruned run (search: optuna) has status "pruned" and its last epoch's
metrics; like a failed run, it is never ranked.
"""

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
from .spec import Run

RESULTS = "results.csv"
FOLDS = "folds.csv"  # cv: one row per fold run; results.csv then has their means and stds
BEST = (("val_loss", min), ("val_accuracy", max))  # from metrics.csv, over epochs


def make_row(
    run: Run, run_dir: Path, outcome: Mapping[str, Any], metric: str, resumed: bool = False
) -> dict[str, Any]:
    """A results row from a run_one() outcome (or a finished run read back from disk)."""
    summary, history = outcome.get("summary") or {}, outcome.get("metrics") or []
    row: dict[str, Any] = {"run": run.name, "point": run.point, "seed": run.seed}
    if run.trial is not None:
        row["trial"] = run.trial
    if run.fold is not None:
        row["fold"] = run.fold
    row.update(
        {
            "status": outcome["status"],
            "resumed": resumed,
            "overrides": json.dumps(run.overrides),
            **{f"set:{k}": v for k, v in run.overrides.items()},
            "metric": summary.get(metric),
        }
    )
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
    """results.csv from the runs' rows (and, with folds, folds.csv: the rows as they are)."""
    if any("fold" in row for row in rows):
        runs.write_atomic(Path(sweep_dir) / FOLDS, results_csv(rows))
    return runs.write_atomic(Path(sweep_dir) / RESULTS, results_csv(combine_folds(rows)))


# Per-run numbers that a cv row averages over its folds (and gives the std of).
AVERAGED = ("metric", *(f"{s}_{m}" for s in SPLITS for m in METRICS), *(f"best_{k}" for k, _ in BEST))


def combine_folds(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """cv: one row per point and seed (and trial) from its fold runs' rows; rows without a fold
    pass through. See _combined for what each column becomes."""
    if not any("fold" in row for row in rows):
        return [dict(row) for row in rows]
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for i, row in enumerate(rows):
        key = (row.get("trial"), row["overrides"], row["seed"]) if "fold" in row else (i,)
        groups.setdefault(key, []).append(row)
    return [_combined(group) if "fold" in group[0] else dict(group[0]) for group in groups.values()]


def _combined(folds: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The point's row: status failed if a fold failed, else pruned if one was, else ok; each
    AVERAGED number the mean over the folds that have it, with <name>_std their sample standard
    deviation (n - 1; None for fewer than 2); wall_seconds summed; run and run_dir the point's
    folder, which holds a fold=i folder per fold."""
    first, statuses = folds[0], [r["status"] for r in folds]
    status = "failed" if "failed" in statuses else "pruned" if "pruned" in statuses else "ok"
    columns: list[str] = []
    for r in folds:
        columns += [c for c in r if c not in columns]
    row: dict[str, Any] = {}
    for key in columns:
        if key == "fold":
            row["folds"] = len(folds)
        elif key == "status":
            row[key] = status
        elif key == "resumed":
            row[key] = all(r.get(key) for r in folds)
        elif key in ("run", "run_dir"):
            row[key] = str(first[key]).rsplit("/fold=", 1)[0]
        elif key == "wall_seconds":
            row[key] = sum(r.get(key) or 0.0 for r in folds)
        elif key == "error":
            row[key] = "; ".join(f"fold {r['fold']}: {r[key]}" for r in folds if r.get(key))
        elif key in AVERAGED:
            values = [float(r[key]) for r in folds if r.get(key) is not None]
            row[key] = statistics.fmean(values) if values else None
            row[f"{key}_std"] = statistics.stdev(values) if len(values) > 1 else None
        elif key != "best_epoch":  # differs by fold, and no mean of it means anything
            row[key] = first.get(key)
    return row


@dataclass
class Group:
    """One grid point over its seeds: the ranking metric's mean ± std over finished runs."""

    point: str
    overrides: dict[str, Any]
    values: list[float] = field(default_factory=list)
    failed: int = 0
    pruned: int = 0
    fold_stds: list[float] = field(default_factory=list)  # cv: each seed's std over its folds
    errors: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation over seeds; for one seed, over its folds with cv: (else 0)."""
        if len(self.values) > 1:
            return statistics.stdev(self.values)
        if not self.values:
            return None
        return self.fold_stds[0] if self.fold_stds else 0.0


def rank(rows: Sequence[Mapping[str, Any]], direction: str) -> list[Group]:
    """Grid points best first by mean metric (with cv: the mean over folds); points with no
    finished run last. Pruned and failed runs are counted, never ranked."""
    groups: dict[str, Group] = {}
    for row in combine_folds(rows):
        group = groups.setdefault(row["point"], Group(row["point"], json.loads(row["overrides"])))
        value = row.get("metric")
        if row["status"] == "ok" and value is not None and math.isfinite(value):
            group.values.append(float(value))
            if row.get("metric_std") is not None:
                group.fold_stds.append(float(row["metric_std"]))
        elif row["status"] == "pruned":
            group.pruned += 1
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
        if g.mean is not None:
            value = f"{g.mean:.4f} ± {g.std:.4f}"
        else:
            value = "[red]failed[/red]" if g.failed else "[yellow]pruned[/yellow]"
        runs_text = (
            f"{g.n}"
            + (f" [red]+{g.failed} failed[/red]" if g.failed else "")
            + (f" [yellow]+{g.pruned} pruned[/yellow]" if g.pruned else "")
        )
        table.add_row(str(i), *(_cell(g.overrides.get(k)) for k in keys), value, runs_text)
    return table


def _cell(value: Any) -> str:
    """A swept value as the table shows it: floats to 6 significant digits (Optuna proposes
    them to the last bit; results.csv keeps every digit), lists and mappings as JSON."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


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
