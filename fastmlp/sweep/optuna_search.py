"""search: optuna — Optuna's TPE sampler proposes each trial's point; its MedianPruner stops laggards.

How trials run on the same executors as a grid (in-process, a process pool, Dask):

- The parent process owns the study, in memory, through Optuna's ask/tell interface. It asks
  for a trial, turns its parameters into the point's runs (one per seed, times folds with
  cv:), submits them, keeps up to `workers` runs in flight, and tells the study each trial's
  result once its runs are done: the mean of their metric (COMPLETE), PRUNED, or FAIL.
- Pruning from the workers with no shared storage: each task carries a snapshot (a
  PruneSpec) of the learning curves — validation loss per epoch — of the trials completed
  when it was submitted, which are the only trials a MedianPruner compares with. The worker
  (pruning.py) rebuilds them in a small in-memory study, reports its own validation loss there
  after each epoch (through train()'s callback) and asks Optuna's MedianPruner whether to stop;
  a stop raises Pruned, which run_one turns into a result with status "pruned" and the last
  epoch's metrics. Nothing travels but the task and its result: no storage file, no locks and no
  shared filesystem, so a remote Dask cluster works as a process pool does. The price: trials
  that finish while a run trains are not in that run's comparison. With workers: 1 a sweep is
  reproducible (same search_seed, same proposals, same prunings).
- The pruner watches val_loss (lower is better) whatever the sweep's metric and direction; a
  trial's curve is the mean over its runs (seeds, folds) of their validation losses.
- Re-running a sweep folder replays the trials: a proposal whose run folders finished (or were
  pruned) before is read back, not trained again. With workers: 1 the proposals repeat exactly,
  so an interrupted sweep continues where it stopped; with more workers the order in which
  results arrive shapes later proposals, and only the proposals that repeat are reused.
"""

from __future__ import annotations

import json
import math
import statistics
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .execute import Task, error_line, outcome_of, run_one, runs_executor, warm_first, warm_up
from .pruning import PruneSpec, read_pruned, require_optuna
from .results import make_row, read_finished, write_results
from .space import distribution
from .spec import Run, SweepSpec, point_label, point_runs, probe_points

# ---------------------------------------------------------------- the parent side


def _label(value: Any) -> Any:
    """A categorical choice as Optuna takes it: scalars as they are, lists and mappings as JSON."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value)


def propose(trial, grid: Mapping[str, Any]) -> dict[str, Any]:
    """The trial's point: each grid key suggested from its list (categorical) or distribution."""
    point: dict[str, Any] = {}
    for key, values in grid.items():
        if isinstance(values, list):
            labels = [_label(v) for v in values]
            point[key] = values[labels.index(trial.suggest_categorical(key, labels))]
            continue
        kind, low, high = distribution(values, key)
        if kind == "int":
            point[key] = trial.suggest_int(key, low, high)
        else:
            point[key] = trial.suggest_float(key, low, high, log=kind == "loguniform")
    return point


def make_study(spec: SweepSpec):
    """An in-memory study: TPE seeded by search_seed, the direction of the sweep's metric, and
    the runs: list enqueued as the first trials."""
    optuna = require_optuna()
    study = optuna.create_study(
        direction="maximize" if spec.direction == "max" else "minimize",
        sampler=optuna.samplers.TPESampler(seed=spec.search_seed, **spec.sampler),
    )
    for point in spec.runs:
        study.enqueue_trial({key: _label(value) for key, value in point.items()})
    return study


def mean_curve(histories: list[list[Mapping[str, Any]]]) -> dict[int, float]:
    """{epoch: mean val_loss over the runs that reached that epoch}."""
    by_epoch: dict[int, list[float]] = {}
    for rows in histories:
        for row in rows:
            if row.get("val_loss") is not None and math.isfinite(row["val_loss"]):
                by_epoch.setdefault(int(row["epoch"]), []).append(float(row["val_loss"]))
    return {epoch: statistics.fmean(values) for epoch, values in sorted(by_epoch.items())}


@dataclass
class _Trial:
    """An asked trial and its runs; outcomes fill in as they finish."""

    trial: Any
    runs: list[Run]
    outcomes: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return len(self.outcomes) == len(self.runs)


class AskTellLoop:
    """The ask/tell loop: proposes trials, submits their runs, records rows, tells results."""

    def __init__(self, spec: SweepSpec, sweep_dir: Path, on_result: Callable | None = None):
        self.spec, self.sweep_dir, self.on_result = spec, sweep_dir, on_result
        self.optuna = require_optuna()
        self.study = make_study(spec)
        self.curves: dict[int, dict[int, float]] = {}  # completed trials' curves, for the pruner
        self.rows: dict[tuple[int, int], dict[str, Any]] = {}  # by (trial, run index): asked order
        self.runs: list[Run] = []
        self.lock = threading.Lock()

    def run(self, executor: Executor, fields: Mapping[str, Any], capacity: int) -> None:
        """Ask, submit and tell until `trials` trials are told; at most `capacity` runs in flight
        (a trial's runs go in together, so a trial with many runs may pass it)."""
        in_flight: dict[Future, tuple[_Trial, Run]] = {}
        asked = 0
        try:
            while True:
                for future in [f for f in in_flight if f.done()]:
                    pending, run = in_flight.pop(future)
                    self._record(pending, run, outcome_of(future), resumed=False)
                if asked < self.spec.trials and len(in_flight) < capacity:
                    asked += 1
                    for owner, task in self._ask(fields):
                        in_flight[executor.submit(run_one, task)] = owner
                    continue
                if not in_flight:
                    return
                wait(list(in_flight), return_when=FIRST_COMPLETED)
        except BaseException:
            for future in in_flight:
                future.cancel()
            raise

    def _ask(self, fields: Mapping[str, Any]) -> list[tuple[tuple[_Trial, Run], Task]]:
        """Ask one trial; record its runs that finished before (a re-run), return the others' tasks."""
        trial = self.study.ask()
        point = propose(trial, self.spec.grid)
        try:
            trial_runs = point_runs(self.spec, point, len(self.runs), trial=trial.number)
        except ConfigError as exc:  # a combination of values no single bound showed: a failed trial
            self._failed_point(trial, point, exc)
            return []
        self.runs += trial_runs
        pending = _Trial(trial, trial_runs)
        prune = (
            PruneSpec(dict(self.spec.pruner), list(self.curves.values()))
            if self.spec.pruner is not None
            else None
        )
        tasks = []
        for run in trial_runs:
            run_dir = self.sweep_dir / run.name
            finished = read_finished(run_dir) or read_pruned(run_dir)
            if finished is not None:
                self._record(pending, run, finished, resumed=True)
            else:
                tasks.append(((pending, run), Task(run.config, str(run_dir), **fields, prune=prune)))
        return tasks

    def _record(self, pending: _Trial, run: Run, outcome: dict[str, Any], resumed: bool) -> None:
        row = make_row(run, self.sweep_dir / run.name, outcome, self.spec.metric, resumed=resumed)
        self._store((pending.trial.number, run.index), row)
        pending.outcomes[run.index] = outcome
        if pending.done:
            self._tell(pending)
        if self.on_result is not None:
            self.on_result(row)

    def _tell(self, pending: _Trial) -> None:
        """Tell the study the trial's result: its runs' mean metric, PRUNED or FAIL."""
        outcomes = list(pending.outcomes.values())
        curve = mean_curve([o.get("metrics") or [] for o in outcomes])
        for epoch, loss in curve.items():
            pending.trial.report(loss, epoch)
        states = self.optuna.trial.TrialState
        values = [(o.get("summary") or {}).get(self.spec.metric) for o in outcomes]
        if any(o["status"] == "failed" for o in outcomes):
            self.study.tell(pending.trial, state=states.FAIL)
        elif any(o["status"] == "pruned" for o in outcomes):
            self.study.tell(pending.trial, state=states.PRUNED)
        elif any(v is None or not math.isfinite(v) for v in values):
            self.study.tell(pending.trial, state=states.FAIL)
        else:
            self.study.tell(pending.trial, statistics.fmean(values))
            self.curves[pending.trial.number] = curve

    def _failed_point(self, trial, point: dict[str, Any], exc: Exception) -> None:
        self.study.tell(trial, state=self.optuna.trial.TrialState.FAIL)
        row = {
            "run": f"trial={trial.number:03d}",
            "point": point_label(point),
            "seed": None,
            "trial": trial.number,
            "status": "failed",
            "resumed": False,
            "overrides": json.dumps(point),
            "metric": None,
            "error": error_line(exc),
        }
        self._store((trial.number, -1), row)
        if self.on_result is not None:
            self.on_result(row)

    def _store(self, key: tuple[int, int], row: dict[str, Any]) -> None:
        """Keep the row (trial, run index order) and rewrite results.csv."""
        with self.lock:
            self.rows[key] = row
            write_results(self.sweep_dir, self.ordered())

    def ordered(self) -> list[dict[str, Any]]:
        return [self.rows[key] for key in sorted(self.rows)]


def run_optuna(
    spec: SweepSpec,
    sweep_dir: Path,
    executor: Executor | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    *,
    warm: bool | None = None,
    threads_per_run: int | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
    check_data: Callable[[list[Run]], None] | None = None,
) -> tuple[list[dict[str, Any]], list[Run], float]:
    """sweep()'s work for search: optuna (the arguments mean what they mean there):
    (the rows, as results.csv has them before cv: folds are combined; the runs; warm-up seconds).

    The sweep folder must exist. A probe of the search space (each list value, each bound)
    goes through check_data (api.check_data_found) and warms the kernels before the first trial."""
    probes = [run for i, point in enumerate(probe_points(spec.grid)) for run in point_runs(spec, point, i)]
    if check_data is not None:
        check_data(probes)
    loop = AskTellLoop(spec, sweep_dir, on_result)
    warmup_seconds = 0.0
    if warm_first(warm, executor, workers, scheduler):
        warmup_seconds = warm_up([r.config for r in probes])
    total = spec.trials * len(spec.seeds or [None]) * (spec.cv or 1)  # runs, if none fails to start
    if on_start is not None:
        on_start(total, total)
    with runs_executor(executor, workers, scheduler, threads_per_run) as (runner, fields, slots):
        loop.run(runner, fields, slots)
    ordered = loop.ordered()
    write_results(sweep_dir, ordered)
    return ordered, loop.runs, warmup_seconds
