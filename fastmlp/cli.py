"""The `fastmlp` command: parse, call fastmlp.api, print. Nothing here that the API lacks.

Exit codes: 0 success; 2 a user's mistake (one line `error: ...` on stderr); 1 an internal
failure (traceback only with --debug) or, for gradcheck, a gradient above tolerance.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .clikit import DEBUG, fmt, handles_errors, progress_bar, stderr_console, stdout_console
from .data.formats import FEATURE_FORMATS, describe
from .errors import FastMLPError
from .sweep.cli import sweep as sweep_command

app = typer.Typer(
    name="fastmlp",
    help="Train multilayer perceptrons on the CPU, fast: hand-derived gradients as Numba kernels.\n\n"
    "Start with [bold]fastmlp train[/bold] (the default digits experiment, a few seconds), "
    "then [bold]fastmlp train configs/fashion_mnist.yaml[/bold].",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from .api import versions

        v = versions()
        typer.echo(f"fastmlp {v['fastmlp']} (numba {v['numba']}, numpy {v['numpy']})")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of internal errors.")
    ] = False,
) -> None:
    """Train multilayer perceptrons on the CPU, fast."""
    DEBUG.set(debug)


# ---------------------------------------------------------------- train


def epoch_line(row, epochs: int) -> str:
    """One epoch as a plain line: epoch, lr, losses, accuracies, seconds. L-BFGS has no learning
    rate (its rows hold lr None), so its lines leave it out."""
    val = f"  val_loss {row['val_loss']:.4f}" if row["val_loss"] is not None else ""
    if row["val_accuracy"] is not None:
        val += f"  val_acc {row['val_accuracy']:.4f}"
    acc = f"  acc {row['train_accuracy']:.4f}" if row["train_accuracy"] is not None else ""
    lr = f"lr {row['lr']:.4g}  " if row["lr"] is not None else ""
    return (
        f"epoch {row['epoch']:>{len(str(epochs))}}/{epochs}  {lr}"
        f"loss {row['train_loss']:.4f}{acc}{val}  {row['seconds']:.2f}s"
    )


class ProgressDisplay:
    """Trainer callback drawing an epoch bar and a minibatch bar on stderr, plus one line per epoch."""

    def __init__(self, console: Console, epochs: int):
        self.console, self.epochs = console, epochs
        self.progress = progress_bar(console, "[bold]{task.description}")
        self.epoch_task = self.progress.add_task("epochs", total=epochs, info="")
        self.batch_task = self.progress.add_task("batches", total=1, info="")

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc):
        self.progress.stop()

    def on_run_start(self, run_dir):
        self.progress.console.print(f"run folder {run_dir}", markup=False, highlight=False)

    def on_epoch_start(self, epoch, n_batches):
        self.progress.reset(self.batch_task, total=n_batches, description=f"epoch {epoch}", info="")
        self.progress.update(self.epoch_task, completed=epoch - 1)

    def on_batches(self, epoch, done, n_batches, running_loss):
        self.progress.update(self.batch_task, completed=done, info=f"loss {running_loss:.4f}")

    def on_epoch_end(self, row):
        self.progress.console.print(epoch_line(row, self.epochs), markup=False, highlight=False)
        info = f"val_loss {row['val_loss']:.4f}" if row["val_loss"] is not None else ""
        self.progress.update(self.epoch_task, completed=row["epoch"], info=info)


class PlainLog:
    """Trainer callback for a stderr that is not a terminal (a log file, a pipe, CI): the run folder
    first, then one line per epoch as it ends, flushed, so the log can be followed; or, with
    json=True, each epoch's row as one JSON object per line."""

    def __init__(self, epochs: int, json: bool = False):
        self.epochs, self.json = epochs, json

    def _print(self, text):
        print(text, file=sys.stderr, flush=True)

    def on_run_start(self, run_dir):
        self._print(json.dumps({"run_dir": str(run_dir)}) if self.json else f"run folder {run_dir}")

    def on_epoch_end(self, row):
        self._print(json.dumps(row) if self.json else epoch_line(row, self.epochs))


def _summary_table(result) -> Table:
    s, t = result.summary, result.summary["timings"]
    table = Table(title=f"run {result.config.name}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row(
        "data",
        f"{s['dataset']} ({s.get('n_train', 0)} train, {s.get('n_val', 0)} val, {s.get('n_test', 0)} test)",
    )
    table.add_row("model", f"{result.model.layer_sizes} {result.model.activation} {result.model.dtype.name}")
    table.add_row(
        "epochs",
        f"{s['epochs_run']} (best {s['best_epoch']}, weights of epoch {s.get('kept_epoch')} kept"
        f"{', stopped early' if s['stopped_early'] else ''})",
    )
    for split in ("test", "val", "train"):
        if f"{split}_accuracy" in s:
            table.add_row(
                f"{split} accuracy", f"{s[f'{split}_accuracy']:.4f}  (loss {s[f'{split}_loss']:.4f})"
            )
        elif f"{split}_rmse" in s:
            table.add_row(
                f"{split} RMSE",
                f"{s[f'{split}_rmse']:.4g}  (MAE {s[f'{split}_mae']:.4g}, R² {fmt(s[f'{split}_r2'])})",
            )
    # A resumed run's epochs include the earlier sessions': its wall time is this session's only.
    session, epochs = (" this session", "all epochs") if s.get("resumed_from") else ("", "training")
    table.add_row(
        "wall time",
        f"{t['wall_seconds']:.2f} s{session} ({epochs} {t['epoch_seconds_total']:.2f} s, "
        f"first epoch {t['first_epoch_seconds']:.2f} s)",
    )
    if t["samples_per_second"]:
        steady = t["samples_per_second_after_first_epoch"]
        table.add_row(
            "samples/s",
            f"{t['samples_per_second']:,.0f} overall" + (f", {steady:,.0f} after epoch 1" if steady else ""),
        )
    table.add_row("run folder", str(result.run_dir))
    return table


@app.command()
@handles_errors
def train(
    config: Annotated[
        Path | None,
        typer.Argument(
            help="Experiment YAML. Omitted: the embedded default (digits, a few seconds).", show_default=False
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", "-s", metavar="KEY=VALUE", help="Override a config key; the value is YAML. Repeatable."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the run here (a new or empty folder) instead of output.dir/<name>-<timestamp>.",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress or table; print only the run folder.")
    ] = False,
    resume: Annotated[
        Path | None,
        typer.Option(
            "--resume",
            help="Continue an interrupted run folder from its checkpoint (--set still applies).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Let --out name a folder holding an earlier run, and replace it.")
    ] = False,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format", help="When stderr is not a terminal: 'text' (a line per epoch) or 'json'."
        ),
    ] = "text",
) -> None:
    """Train an MLP from a YAML config and write a run folder.

    The run folder holds config.yaml (resolved, overrides applied), metrics.csv (one row per epoch), model.npz (with its preprocessing), summary.json, and while the run lasts checkpoint.npz: an interrupted run (Ctrl-C, a kill, a divergence) continues with --resume. Progress goes to stderr: bars on a terminal, else a plain line per epoch.

    [bold]Examples[/bold]

      fastmlp train
      fastmlp train configs/fashion_mnist.yaml
      fastmlp train configs/digits.yaml --set train.epochs=5 --set model.hidden=[256,128]
      fastmlp train configs/spirals.yaml --out runs/spirals-try --quiet
      fastmlp train --resume runs/fashion_mnist-20261128-101500
    """  # noqa: E501 (typer keeps single newlines: one paragraph, one line)
    from .api import run_config
    from .api import train as train_run

    if log_format not in ("text", "json"):
        raise FastMLPError(f"--log-format: expected text or json, got {log_format!r}")
    cfg = run_config(config, set_ or (), resume=resume, out=out)
    console = stderr_console()
    if quiet:
        callback = None
    elif console.is_terminal:
        console.print(
            f"[bold]{cfg.name}[/bold]: {cfg.data.get('name') or cfg.data.get('path')}, "
            f"hidden {cfg.model.hidden}, {cfg.train.epochs} epochs",
            highlight=False,
        )
        callback = ProgressDisplay(console, cfg.train.epochs)
    else:
        callback = PlainLog(cfg.train.epochs, json=log_format == "json")
    with callback if isinstance(callback, ProgressDisplay) else contextlib.nullcontext():
        if resume is not None:
            result = train_run(None, set_ or (), resume=resume, callback=callback)
        else:
            result = train_run(cfg, out=out, callback=callback, force=force)
    if quiet:
        typer.echo(str(result.run_dir))
    else:
        stdout_console().print(_summary_table(result))


# ---------------------------------------------------------------- evaluate / predict


@app.command()
@handles_errors
def evaluate(
    source: Annotated[
        Path, typer.Argument(metavar="RUN_DIR|MODEL", help="A run folder or a model.npz.", show_default=False)
    ],
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            "-d",
            metavar="CONFIG_OR_SPEC",
            help="A config YAML, a data file, a dataset name, or an inline spec '{name: digits}'. "
            "Default: the run's own config.yaml.",
        ),
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(
            "--split",
            help="test, val, train or all (every row of the data's file). "
            "Default: all for a data file given with --data, else test.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Metrics of a trained model on one split of its data.

    Classification: accuracy, loss (log-loss), macro F1 and ROC-AUC, per class accuracy, precision, recall, F1 and one-vs-rest ROC-AUC, and the confusion matrix. Regression: loss, RMSE, MAE, R² and a residual summary. --json prints all of it, with support and macro/weighted averages. The data is read raw and the model's saved preprocessing applied.

    [bold]Examples[/bold]

      fastmlp evaluate runs/default-20250101-120000
      fastmlp evaluate runs/default-20250101-120000 --split val
      fastmlp evaluate model.npz --data configs/digits.yaml --json
    """  # noqa: E501 (typer keeps single newlines: one paragraph, one line)
    from .api import evaluate as evaluate_model

    result = evaluate_model(source, data, split)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    console = stdout_console()
    table = Table(
        title=f"{result['dataset']} · {result['split']} split · {result['n']} rows",
        title_justify="left",
        show_header=False,
    )
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in result["metrics"].items():
        table.add_row(key, fmt(value))
    console.print(table)
    if "confusion" in result:
        classes = result["classes"]
        matrix = Table(title="confusion matrix (rows: true class, columns: predicted)", title_justify="left")
        scores = Table(title="per class", title_justify="left")
        for name in ("class", "support", "accuracy", "precision", "recall", "f1", "roc_auc"):
            scores.add_column(name, justify="left" if name == "class" else "right")
        matrix.add_column("class")
        for i in range(len(classes)):
            matrix.add_column(str(i), justify="right")
        per_class, auc = result["per_class"], result["roc_auc"]["per_class"]
        for i, name in enumerate(classes):
            label = name if name == str(i) else f"{i} {name}"
            values = [per_class["support"][i], result["per_class_accuracy"][i]]
            values += [per_class[key][i] for key in ("precision", "recall", "f1")] + [auc[i]]
            scores.add_row(label, *map(fmt, values))
            matrix.add_row(label, *map(str, result["confusion"][i]))
        console.print(scores)
        console.print(matrix)
    if "residuals" in result:
        residuals = Table(title="residuals y - prediction", title_justify="left")
        for key in result["residuals"]:
            residuals.add_column(key, justify="right")
        residuals.add_row(*map(fmt, result["residuals"].values()))
        console.print(residuals)


@app.command()
@handles_errors
def predict(
    model: Annotated[
        Path, typer.Argument(metavar="MODEL", help="A model.npz or a run folder.", show_default=False)
    ],
    input: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help=f"Raw features: {describe(FEATURE_FORMATS)} (an .npz: its array X).",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Write here: .npy by extension, otherwise CSV. Default: CSV on stdout."
        ),
    ] = None,
    proba: Annotated[bool, typer.Option("--proba", help="Class probabilities instead of classes.")] = False,
) -> None:
    """Predict on raw inputs (the model's saved preprocessing is applied first).

    Prints CSV with a header (class, or prob_0..prob_k with --proba; y for regression) unless --out is given.

    [bold]Examples[/bold]

      fastmlp predict runs/default-20250101-120000/model.npz X.npy
      fastmlp predict model.npz rows.csv --proba --out probs.csv
    """
    from .api import load_model, predictions_csv, write_predictions
    from .api import predict as predict_rows

    mlp = load_model(model)
    predictions = predict_rows(mlp, input, proba=proba)
    if out is None:
        typer.echo(predictions_csv(predictions, proba, mlp.classes), nl=False)
    else:
        path = write_predictions(predictions, out, proba, mlp.classes)
        typer.echo(f"wrote {len(predictions)} predictions to {path}", err=True)


# ---------------------------------------------------------------- gradcheck / plot / datasets


@app.command()
@handles_errors
def gradcheck(
    config: Annotated[
        Path | None,
        typer.Argument(help="Experiment YAML (default: the embedded default).", show_default=False),
    ] = None,
    samples: Annotated[int, typer.Option("--samples", "-n", help="Rows of data to check on.")] = 8,
    entries: Annotated[
        int, typer.Option("--entries", min=0, help="Random entries probed per tensor (0: all).")
    ] = 20,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", metavar="KEY=VALUE", help="Override a config key, as in train."),
    ] = None,
) -> None:
    """Check the hand-derived gradients against finite differences.

    Builds the config's model in float64, compares its gradients with central finite differences on a few rows, prints the max relative error per layer, and exits 1 if any exceeds 1e-6.

    [bold]Examples[/bold]

      fastmlp gradcheck
      fastmlp gradcheck configs/fashion_mnist.yaml --samples 4
      fastmlp gradcheck --set model.activation=tanh --set model.hidden=[16,16] --entries 0
    """  # noqa: E501 (typer keeps single newlines: one paragraph, one line)
    from .api import gradcheck as check
    from .gradcheck import TOLERANCE

    rows = check(config, set_ or (), samples=samples, entries=entries or None)
    table = Table(title=f"gradient check (relative error, tolerance {TOLERANCE:g})", title_justify="left")
    for column in ("layer", "W shape", "dW", "db", ""):
        table.add_column(column, justify="right" if column else "left")
    for row in rows:
        table.add_row(
            str(row["layer"]),
            "x".join(map(str, row["shape"])),
            f"{row['dW']:.2e}",
            f"{row['db']:.2e}",
            "ok" if row["ok"] else "[red]FAIL[/red]",
        )
    stdout_console().print(table)
    if not all(row["ok"] for row in rows):
        typer.echo("error: gradient check failed: a layer's error exceeds the tolerance", err=True)
        raise typer.Exit(1)


@app.command()
@handles_errors
def plot(
    run_dirs: Annotated[
        list[Path],
        typer.Argument(
            metavar="RUN_DIR", help="One or more run folders, or one sweep folder.", show_default=False
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="PNG path. Default: RUN_DIR/curves.png for one run, ./curves.png for several, "
            "SWEEP_DIR/<metric>_vs_<key or keys>.png for a sweep.",
        ),
    ] = None,
    scores: Annotated[
        bool,
        typer.Option(
            "--scores/--no-scores",
            help="One run: evaluate it on its test split (val if none) and draw the scores beside "
            "the curves; --no-scores draws the curves alone, without loading the data.",
        ),
    ] = True,
    key: Annotated[
        str | None,
        typer.Option("--key", help="Sweep folder: plot against this swept key only (default: every one)."),
    ] = None,
    metric: Annotated[
        str | None,
        typer.Option("--metric", help="Sweep folder: the metric on the y axis (default: the sweep's)."),
    ] = None,
) -> None:
    """Plot runs, or a sweep's metric against its swept keys, to a PNG.

    One run: its loss and accuracy per epoch and, beside them, its scores on the test split
    (val if it has none): for classification the confusion matrix (normalised by true class)
    and per-class precision/recall/F1; multilabel, per-label bars; regression, predicted
    against true values. Several runs: their curves together. A sweep folder: the metric
    against each swept key, one panel per key (failed runs left out).

    Needs matplotlib: pip install 'fastmlp\\[plot]'.

    [bold]Examples[/bold]

      fastmlp plot runs/default-20250101-120000
      fastmlp plot runs/default-20250101-120000 --no-scores
      fastmlp plot runs/a runs/b --out compare.png
      fastmlp plot runs/sweeps/digits_tiny
      fastmlp plot runs/sweeps/digits_tiny --key train.learning_rate
    """
    from .api import plot_runs
    from .sweep import is_sweep_dir, plot_sweep

    if len(run_dirs) == 1 and is_sweep_dir(run_dirs[0]):
        typer.echo(str(plot_sweep(run_dirs[0], key, metric, out)))
        return
    if key is not None or metric is not None:
        raise FastMLPError("--key and --metric are for a sweep folder (one holding results.csv)")
    typer.echo(str(plot_runs(run_dirs, out, scores=scores)))


@app.command()
@handles_errors
def datasets(
    download: Annotated[
        str | None, typer.Option("--download", metavar="NAME", help="Fetch or install a dataset.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="With --download: fetch even when the data is already here.")
    ] = False,
) -> None:
    """List the built-in datasets and whether each is available here.

    [bold]Examples[/bold]

      fastmlp datasets
      fastmlp datasets --download fashion-mnist
    """
    from .data import download_dataset, list_datasets
    from .data.builtin import builtin, find_idx_dir

    if download is not None:
        found = find_idx_dir(builtin(download).name) if builtin(download).kind == "IDX files" else None
        if found is not None and not force:
            typer.echo(f"{builtin(download).name} is already here: {found} (--force downloads it anyway)")
            return
        typer.echo(str(download_dataset(download)))
        return
    table = Table("name", "kind", "status")
    for row in list_datasets():
        table.add_row(*(str(v) for v in row))
    stdout_console().print(table)


@app.command()
@handles_errors
def export(
    source: Annotated[
        Path, typer.Argument(metavar="RUN_DIR|MODEL", help="A run folder or a model.npz.", show_default=False)
    ],
    onnx: Annotated[Path, typer.Option("--onnx", help="The ONNX file to write.", show_default=False)],
) -> None:
    """Write a trained model as an ONNX graph, its preprocessing included (needs the onnx extra).

    Inputs: X, raw feature rows. Outputs: logits, and probabilities + label (classification), probabilities + labels (multilabel) or prediction (regression, in the targets' own units).

    [bold]Examples[/bold]

      fastmlp export runs/default-20261128-120000 --onnx model.onnx
    """  # noqa: E501 (typer keeps single newlines: one paragraph, one line)
    from .inference import load_model

    typer.echo(str(load_model(source).to_onnx(onnx)))


@app.command()
@handles_errors
def warmup() -> None:
    """Get every kernel ready for this machine now, so that no run waits for a compile.

    fastmlp ships its kernels compiled for x86-64 CPUs with AVX2 or AVX-512, for the Python and Numba versions it was built with; where those match, there is nothing to do. Elsewhere (another Python or Numba, another CPU kind), each dtype's kernels compile on first use, once, and are cached. This command does that up front, float32 and float64 side by side: run it once in a Dockerfile or a CI job after installing.

    [bold]Examples[/bold]

      fastmlp warmup
    """  # noqa: E501 (typer keeps single newlines: one paragraph, one line)
    from . import warm_up
    from .kernels import cache_dir

    for row in warm_up():
        done = f"compiled {row['compiled']} kernels" if row["compiled"] else "every path loads"
        typer.echo(f"{row['dtype']}: {done} in {row['seconds']:.1f} s")
    typer.echo(f"cache: {cache_dir()}")


# ---------------------------------------------------------------- sweep

# Mounted last so it lists last; the command lives in fastmlp/sweep/cli.py.
app.command("sweep")(sweep_command)


if __name__ == "__main__":  # python -m fastmlp.cli
    sys.exit(app())
