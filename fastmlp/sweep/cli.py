"""The `fastmlp sweep` command. fastmlp/cli.py mounts it on the app (`app.command("sweep")(sweep)`);
this module imports only the shared plumbing in fastmlp/clikit.py, never fastmlp/cli.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..clikit import handles_errors, progress_bar, stderr_console, stdout_console


@handles_errors
def sweep(
    sweep_file: Annotated[
        Path, typer.Argument(metavar="SWEEP.yaml", help="The sweep file.", show_default=False)
    ],
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            "-w",
            min=1,
            help="Runs at once: 1 in this process; N a process pool "
            "(or N Dask workers with --scheduler local).",
        ),
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="ADDRESS",
            help="A Dask scheduler (tcp://host:8786), or 'local' for a LocalCluster of --workers "
            "processes. Needs pip install 'fastmlp\\[distributed]'.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="The sweep folder (default: output.dir/output.name of the sweep file)."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and list the runs; train nothing.")
    ] = False,
) -> None:
    """Train every run of a grid over config keys (or a random or Optuna search) and rank them.

    Each run goes through the same train() as `fastmlp train`, into its own folder under the sweep folder (named from its overrides and seed). Re-running skips runs that finished; failed runs are retried. Writes results.csv (one row per run; with cv: one per point, the fold mean and std of each metric) and prints a ranked table (mean ± std over seeds). search: optuna proposes each trial from the results so far and prunes runs whose validation loss lags (status pruned, never ranked). Exits 1 if any run failed.

    [bold]Examples[/bold]

      fastmlp sweep configs/sweeps/digits_tiny.yaml --dry-run
      fastmlp sweep configs/sweeps/digits_tiny.yaml --workers 2
      fastmlp sweep configs/sweeps/digits_optuna.yaml --workers 2
      fastmlp sweep configs/sweeps/fashion_mnist_lr_width_l2.yaml --scheduler local --workers 2
      fastmlp sweep configs/sweeps/fashion_mnist_lr_width_l2.yaml --scheduler tcp://10.0.0.5:8786
    """  # noqa: E501 (typer keeps single newlines: one paragraph, one line)
    from .api import sweep as run_sweep

    console, stdout = stderr_console(), stdout_console()
    if dry_run:
        _print_plan(stdout, sweep_file, out)
        return
    with SweepProgress(console) as progress:
        result = run_sweep(
            sweep_file,
            workers=workers,
            scheduler=scheduler,
            out=out,
            on_start=progress.start_runs,
            on_result=progress.add,
        )
    _report(stdout, result)


def _print_plan(stdout, sweep_file: Path, out: Path | None) -> None:
    """--dry-run: every run's name and point (for optuna, the search space), data checked."""
    from .api import check_data_found, plan

    spec, sweep_dir, all_runs = plan(sweep_file, out)
    check_data_found(all_runs)
    if spec.search == "optuna":  # its points are proposed while it runs: show the space
        _print_optuna_plan(stdout, spec, sweep_dir)
        return
    stdout.print(f"{len(all_runs)} runs -> {sweep_dir}", highlight=False)
    for run in all_runs:
        stdout.print(f"  {run.name}  [dim]{run.point}, seed={run.seed}[/dim]", highlight=False)


def _report(stdout, result) -> None:
    """The ranked table and where results.csv is; exit 1 when a run failed."""
    from .results import ranked_table

    spec = result.spec
    title = f"{spec.name}: {len(result.rows)} runs, ranked by {spec.metric} ({spec.direction})"
    stdout.print(ranked_table(result.groups, spec.metric, title=title))
    stdout.print(f"results: {result.sweep_dir / 'results.csv'}  ({result.seconds:.1f} s)", highlight=False)
    if result.failed:
        typer.echo(
            f"error: {result.failed} of {len(result.rows)} runs failed; "
            f"see the error column of {result.sweep_dir / 'results.csv'}",
            err=True,
        )
        raise typer.Exit(1)


def _print_optuna_plan(stdout, spec, sweep_dir: Path) -> None:
    """--dry-run for search: optuna: the trials, the sampler and pruner, and the search space."""
    per_trial = len(spec.seeds or [None]) * (spec.cv or 1)
    pruner = "no pruning" if spec.pruner is None else f"MedianPruner {spec.pruner}"
    stdout.print(
        f"{spec.trials} trials x {per_trial} runs -> {sweep_dir}  "
        f"(TPE {spec.sampler}, search_seed {spec.search_seed}; {pruner})",
        highlight=False,
    )
    for key, values in spec.grid.items():
        stdout.print(f"  {key}: {values}", highlight=False)
    for point in spec.runs:
        stdout.print(f"  first: {point}", highlight=False)


class SweepProgress:
    """A rich bar on stderr counting finished / failed / remaining runs, plus one line per run."""

    def __init__(self, console):
        self.console = console
        self.enabled = console.is_terminal
        self.progress = progress_bar(console, "[bold]runs", disable=not self.enabled)
        self.task = None
        self.total = self.done = self.failed = 0

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc):
        self.progress.stop()

    def start_runs(self, total: int, to_run: int) -> None:
        self.total = total
        self.console.print(
            f"{total} runs, {total - to_run} already finished, {to_run} to train", highlight=False
        )
        self.task = self.progress.add_task("runs", total=total, info="")

    def add(self, row) -> None:
        self.done += 1
        self.failed += row["status"] == "failed"
        if self.enabled and not row["resumed"]:
            if row["status"] == "failed":
                what = f"failed: {row['error']}"
            elif row["status"] == "pruned":
                what = f"pruned after epoch {row.get('epochs_run')}"
            else:
                what = f"{row['metric']:.4f}" if row["metric"] is not None else "ok"
            self.progress.console.print(
                f"  {row['point']}, seed={row['seed']}"
                + (f", fold={row['fold']}" if row.get("fold") is not None else "")
                + f": {what}",
                markup=False,
                highlight=False,
            )
        self.progress.update(
            self.task,
            completed=self.done,
            info=f"{self.done - self.failed} finished, {self.failed} failed, "
            f"{self.total - self.done} remaining",
        )
