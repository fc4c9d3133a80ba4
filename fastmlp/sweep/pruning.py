"""Pruning inside a worker (search: optuna): a train() callback that asks Optuna's MedianPruner,
after each epoch, whether this run's validation loss lags the finished trials' at that epoch.

optuna_search.py (the parent side) ships a PruneSpec with each task; this module imports nothing
else of the sweep package, so execute.run_one and spec.py can use it without a cycle. Optuna is
imported only when a run can be pruned (enough finished trials).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import runs as run_files
from ..errors import FastMLPError

MISSING = "search: optuna needs optuna: pip install 'fastmlp[optuna]'"
PRUNED_FILE = "pruned.json"  # in a pruned run's folder: its last metrics (it has no summary.json)


def require_optuna():
    """The optuna module, or the one-line FastMLPError saying how to install it."""
    try:
        import optuna
    except ImportError:
        raise FastMLPError(MISSING) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no line per trial; the sweep reports them
    return optuna


class Pruned(Exception):
    """Raised from the training callback to stop a run the pruner gave up on."""

    mlflow_status = "KILLED"  # stopped on purpose, not broken: MLflow's status for a run ended early

    def __init__(self, epoch: int, rows: list[dict[str, Any]]):
        super().__init__(f"pruned at epoch {epoch}")
        self.epoch, self.rows = epoch, rows


@dataclass
class PruneSpec:
    """What a worker needs to ask a MedianPruner: its settings (Optuna's names) and the
    validation-loss curves ({epoch: loss}) of the trials completed so far."""

    settings: dict[str, int]
    curves: list[dict[int, float]] = field(default_factory=list)


class PruneCallback:
    """A train() callback: reports val_loss each epoch to a one-trial study beside the snapshot
    of completed trials, and raises Pruned when Optuna's MedianPruner says so."""

    def __init__(self, spec: PruneSpec):
        self.spec, self.rows, self.trial = spec, [], None

    def on_epoch_end(self, row: Mapping[str, Any]) -> None:
        self.rows.append(dict(row))
        loss = row.get("val_loss")
        if loss is None or not math.isfinite(loss):
            return  # no validation data (or a divergence, which the trainer reports itself)
        if self.trial is None:
            self.trial = self._start()
        self.trial.report(float(loss), int(row["epoch"]))
        if self.trial.should_prune():
            raise Pruned(int(row["epoch"]), self.rows)

    def _start(self):
        optuna = require_optuna()
        study = optuna.create_study(
            direction="minimize", pruner=optuna.pruners.MedianPruner(**self.spec.settings)
        )
        complete = optuna.trial.TrialState.COMPLETE
        study.add_trials(
            [
                optuna.trial.create_trial(state=complete, value=min(c.values()), intermediate_values=c)
                for c in self.spec.curves
                if c
            ]
        )
        return study.ask()


def pruning_callback(spec: PruneSpec | None) -> PruneCallback | None:
    """A PruneCallback, or None when the pruner cannot prune yet (too few completed trials)."""
    if spec is None or len(spec.curves) < spec.settings.get("n_startup_trials", 0):
        return None
    return PruneCallback(spec)


def pruned_outcome(stop: Pruned, run_dir: Path, seconds: float, threads: int) -> dict[str, Any]:
    """run_one's result for a pruned run: its last epoch's metrics as the summary. The folder
    keeps config.yaml and metrics.csv, gains pruned.json (so a re-run reads it back) and loses
    its checkpoint (a pruned run is not meant to be resumed)."""
    from ..checkpoint import FILE

    last = stop.rows[-1]
    summary = {k: v for k, v in last.items() if k.startswith(("train_", "val_")) and v is not None}
    losses = [(r["val_loss"], r["epoch"]) for r in stop.rows if r.get("val_loss") is not None]
    summary.update(
        epochs_run=len(stop.rows),
        pruned_epoch=stop.epoch,
        best_epoch=min(losses)[1] if losses else None,
        wall_seconds=seconds,
    )
    run_files.write_atomic(run_dir / PRUNED_FILE, json.dumps(summary, indent=2) + "\n")
    (run_dir / FILE).unlink(missing_ok=True)
    return {
        "status": "pruned",
        "error": "",
        "wall_seconds": seconds,
        "summary": summary,
        "metrics": stop.rows,
        "threads": threads,
    }


def read_pruned(run_dir: Path) -> dict[str, Any] | None:
    """The outcome of a run pruned before (its pruned.json and metrics.csv), or None."""
    try:
        summary = json.loads((run_dir / PRUNED_FILE).read_text(encoding="utf-8"))
        history = run_files.read_metrics(run_dir)
    except (FastMLPError, OSError, ValueError):
        return None
    return {
        "status": "pruned",
        "error": "",
        "wall_seconds": summary.get("wall_seconds"),
        "summary": summary,
        "metrics": history,
    }
