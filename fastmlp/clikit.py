"""Plumbing shared by every `fastmlp` command: consoles, --debug, and one-line error handling.

fastmlp/cli.py (the app) and fastmlp/sweep/cli.py (the `sweep` command) both import from here;
cli.py imports sweep/cli.py to mount its command, never the reverse.

Exit codes: 0 success; 2 a user's mistake (one line `error: ...` on stderr); 1 an internal
failure (traceback only with --debug); 130 Ctrl-C.
"""

from __future__ import annotations

import contextvars
import functools
import sys
import warnings

import typer
from rich.console import Console

from .errors import FastMLPError

# --debug, set by the app callback for the command that follows it.
DEBUG = contextvars.ContextVar("fastmlp_debug", default=False)


# Width for output that goes to a file or a pipe: wide enough that a table keeps its natural
# width (rich would otherwise cut it to 80 columns, ellipsising values such as 0.048155...).
PIPED_WIDTH = 1000


def stdout_console() -> Console:
    return Console(soft_wrap=True, width=None if sys.stdout.isatty() else PIPED_WIDTH)


def stderr_console() -> Console:
    return Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else PIPED_WIDTH)


def one_line(text: object) -> str:
    return " ".join(str(text).split("\n")).strip()


def fmt(value, digits: int = 4) -> str:
    """A table cell: floats to `digits` places, None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def handles_errors(command):
    """User errors -> `error: message` on stderr, exit 2; anything else -> exit 1
    (the traceback only with --debug); Ctrl-C -> exit 130."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", UserWarning)
                try:
                    return command(*args, **kwargs)
                finally:
                    for w in caught:  # the API's warnings, as one line each
                        typer.echo(f"warning: {one_line(w.message)}", err=True)
        except typer.Exit:
            raise
        except FastMLPError as exc:
            typer.echo(f"error: {one_line(exc)}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt as exc:
            typer.echo(f"interrupted: {exc}" if str(exc) else "interrupted", err=True)
            raise typer.Exit(130) from None
        except Exception as exc:
            if DEBUG.get():
                raise
            typer.echo(
                f"internal error: {type(exc).__name__}: {one_line(exc)} "
                "(rerun as `fastmlp --debug <command> ...` for the traceback)",
                err=True,
            )
            raise typer.Exit(1) from None

    return wrapper


def progress_bar(console: Console, label: str, **options):
    """The rich progress display every command uses: a label, a bar, done/total, elapsed time
    and a free `info` field; transient (it disappears when done)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn(label, justify="right"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
        transient=True,
        **options,
    )
