"""sweep(): expand a sweep file, run what is not finished yet, write results.csv, rank.

    >>> from fastmlp.sweep import sweep
    >>> result = sweep("configs/sweeps/digits_tiny.yaml", workers=2)
    >>> result.best.point, result.best.mean, result.failed

Pass your own concurrent.futures.Executor (a ProcessPoolExecutor, a Dask client's
get_executor(), ...) as executor=; each run then gets threads_per_run threads (default:
cores // the executor's max_workers). workers > 1 spawns processes, so a script that calls
sweep() must do so under `if __name__ == "__main__":` (notebooks need nothing).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import runs, tracking
from ..config import dump_yaml, load_config
from ..errors import DataError
from .execute import Task, outcome_of, require_dask, run_one, runs_executor, warm_first, warm_up
from .results import Group, make_row, rank, read_finished, write_results
from .spec import Run, SweepSpec, expand, load_sweep

SPEC_COPY = "sweep.yaml"


@dataclass
class SweepResult:
    """rows: one dict per run (results.csv's rows); groups: grid points ranked best first."""

    spec: SweepSpec
    sweep_dir: Path
    rows: list[dict[str, Any]]
    groups: list[Group]
    seconds: float = 0.0
    warmup_seconds: float = 0.0
    dry_run: bool = False
    runs: list[Run] = field(default_factory=list, repr=False)

    @property
    def failed(self) -> int:
        return sum(row["status"] == "failed" for row in self.rows)

    @property
    def best(self) -> Group | None:
        return self.groups[0] if self.groups and self.groups[0].mean is not None else None


def plan(
    spec_or_path: str | Path | Mapping | SweepSpec, out: str | Path | None = None
) -> tuple[SweepSpec, Path, list[Run]]:
    """(spec, sweep folder, every run validated) without running or writing anything."""
    spec = load_sweep(spec_or_path)
    all_runs = expand(spec)
    tracking.require(_mlflow_settings(spec, all_runs))  # a missing extra is found by --dry-run too
    return spec, Path(out) if out is not None else spec.directory, all_runs


def _mlflow_settings(spec: SweepSpec, all_runs: list[Run]):
    """The sweep's output.mlflow (None: no tracking): its first run's, which is the base
    config's; with search: optuna no run exists before the sweep starts, so the base's own."""
    if all_runs:
        return all_runs[0].config.output.mlflow
    output = spec.base.get("output")
    raw = output.get("mlflow") if isinstance(output, Mapping) else None
    return load_config({"output": {"mlflow": raw}}).output.mlflow


def _track(
    tracker: tracking.Tracker, spec: SweepSpec, all_runs: list[Run], sweep_dir: Path
) -> tuple[SweepSpec, list[Run]]:
    """With output.mlflow: start the sweep's parent MLflow run, and build the runs again from a
    base config that names it (output.mlflow.parent_run_id), so each run logs as its child
    wherever it executes: here, in a process pool, on Dask workers."""
    settings = _mlflow_settings(spec, all_runs)
    if settings is None:
        return spec, all_runs
    tracker.connect(settings)
    tracker.start_sweep(spec, sweep_dir, len(all_runs))
    spec = replace(spec, base=tracking.with_parent(spec.base, tracker.run_id))
    return spec, expand(spec)


def check_data_found(all_runs: list[Run]) -> None:
    """Every run's data files exist and its built-in dataset is installed: one DataError naming
    the first run that would fail, before any run starts (and in a --dry-run)."""
    from ..data.builtin import BUILTINS, find_idx_dir, missing_message

    seen = set()
    for run in all_runs:
        data = run.config.data
        for key in ("path", "y_path", "test_path", "test_y_path"):
            value = data.get(key)
            if value and value not in seen:
                seen.add(value)
                if not Path(value).exists():
                    raise DataError(f"run {run.name}: data.{key} {value}: no such file or folder")
        name = data.get("name")
        if name and name not in seen and name in BUILTINS and BUILTINS[name].kind == "IDX files":
            seen.add(name)
            if find_idx_dir(name) is None:
                raise DataError(f"run {run.name}: {missing_message(name)}")


def sweep(
    spec_or_path: str | Path | Mapping | SweepSpec,
    executor: Executor | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    *,
    out: str | Path | None = None,
    dry_run: bool = False,
    warm: bool | None = None,
    threads_per_run: int | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> SweepResult:
    """Run every run of a sweep that has no finished run folder yet; return all rows, ranked.

    spec_or_path: a sweep YAML, a mapping, or a SweepSpec. out: the sweep folder (default
    output.dir/output.name from the sweep file). executor: any concurrent.futures.Executor
    (yours is not shut down); else workers/scheduler choose one (see execute.make_executor).
    warm: compile the kernels here first (default: when runs go to other processes).
    on_start(total, to_run) and on_result(row) are for progress displays.
    A failed run becomes a row with status "failed" and its error; it never stops the others.
    With output.mlflow in the base config, the sweep is one MLflow run and each of its runs a
    child of it (fastmlp/tracking.py).
    """
    # The tracker ends the sweep's MLflow run FAILED (KILLED on Ctrl-C) when the sweep raises.
    with tracking.Tracker() as tracker:
        options = (out, dry_run, warm, threads_per_run, on_start, on_result)
        result = _sweep(spec_or_path, executor, workers, scheduler, options, tracker)
        tracker.finish_sweep(result)
        return result


def _sweep(spec_or_path, executor, workers, scheduler, options, tracker: tracking.Tracker) -> SweepResult:
    """sweep()'s work (options: its keyword arguments, in order); tracker holds the sweep's MLflow
    run when output.mlflow is set."""
    out, dry_run, warm, threads_per_run, on_start, on_result = options
    started = time.perf_counter()
    if scheduler is not None and executor is None:
        require_dask()  # before anything is planned, printed or written
    spec, sweep_dir, all_runs = plan(spec_or_path, out)
    check_data_found(all_runs)
    if dry_run:
        return SweepResult(spec, sweep_dir, [], [], dry_run=True, runs=all_runs)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    runs.write_atomic(sweep_dir / SPEC_COPY, dump_yaml(spec.to_dict()))
    spec, all_runs = _track(tracker, spec, all_runs, sweep_dir)  # output.mlflow: the parent run
    if spec.search == "optuna":  # trials are proposed as results come in: sweep/optuna_search.py
        from .optuna_search import run_optuna

        ordered, all_runs, warmup_seconds = run_optuna(
            spec, sweep_dir, executor, workers, scheduler, check_data=check_data_found, warm=warm,
            threads_per_run=threads_per_run, on_start=on_start, on_result=on_result,
        )  # fmt: skip
        return SweepResult(
            spec, sweep_dir, ordered, rank(ordered, spec.direction), seconds=time.perf_counter() - started,
            warmup_seconds=warmup_seconds, runs=all_runs,
        )  # fmt: skip

    rows: dict[int, dict[str, Any]] = {}
    todo: list[Run] = []
    for run in all_runs:
        finished = read_finished(sweep_dir / run.name)
        if finished is None:
            todo.append(run)
        else:
            rows[run.index] = make_row(run, sweep_dir / run.name, finished, spec.metric, resumed=True)
    if on_start is not None:
        on_start(len(all_runs), len(todo))
    for row in rows.values():
        if on_result is not None:
            on_result(row)

    warmup_seconds = 0.0
    if todo:
        if warm_first(warm, executor, workers, scheduler):
            warmup_seconds = warm_up([r.config for r in todo])
        with runs_executor(executor, workers, scheduler, threads_per_run) as (runner, fields, _):
            _run_all(runner, fields, todo, sweep_dir, spec.metric, rows, on_result)

    ordered = [rows[i] for i in sorted(rows)]
    write_results(sweep_dir, ordered)
    return SweepResult(
        spec,
        sweep_dir,
        ordered,
        rank(ordered, spec.direction),
        seconds=time.perf_counter() - started,
        warmup_seconds=warmup_seconds,
        runs=all_runs,
    )


def _run_all(
    executor: Executor,
    fields: dict,
    todo: list[Run],
    sweep_dir: Path,
    metric: str,
    rows: dict[int, dict[str, Any]],
    on_result,
) -> None:
    """Submit every run; record each as it finishes (results.csv rewritten each time)."""
    lock = threading.Lock()

    def record(run: Run, future: Future) -> None:
        row = make_row(run, sweep_dir / run.name, outcome_of(future), metric)
        with lock:
            rows[run.index] = row
            write_results(sweep_dir, [rows[i] for i in sorted(rows)])
            if on_result is not None:
                on_result(row)

    futures = []
    try:
        for run in todo:
            future = executor.submit(run_one, Task(run.config, str(sweep_dir / run.name), **fields))
            future.add_done_callback(lambda f, run=run: record(run, f))
            futures.append(future)
        wait(futures)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
