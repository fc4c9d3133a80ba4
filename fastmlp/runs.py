"""The run directory: runs/<name>-<timestamp>/ with config.yaml, metrics.csv, model.npz, summary.json.

Every file is written atomically (a temp file in the same folder, flushed, then
renamed over the target), so a crash or Ctrl-C never leaves a half-written file:
a reader sees the old version or the new one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .errors import FastMLPError

CONFIG = "config.yaml"
METRICS = "metrics.csv"
MODEL = "model.npz"
SUMMARY = "summary.json"
METRIC_COLUMNS = ("epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds")


# What a run writes into its folder: what --force may replace.
RUN_FILES = (CONFIG, METRICS, MODEL, SUMMARY, "checkpoint.npz")
# Held by the one process writing the folder (a dot-file: an "empty" folder may hold it).
LOCK = ".lock"

try:
    import fcntl
except ImportError:  # not POSIX: no lock, as before
    fcntl = None


@contextlib.contextmanager
def writer_lock(run_dir: str | Path):
    """One writer per run folder, for the block: an exclusive flock on run_dir/.lock, which holds
    the writer's process id. Another process asking for it meanwhile is refused with one line
    naming the folder and that id. The operating system drops a flock when its process ends, so
    a lock left by a killed process is taken over without asking. Where the system or the file
    system has no flock, the block runs unlocked, as before there were locks."""
    fd = _lock(Path(run_dir)) if fcntl is not None else None
    try:
        yield
    finally:
        if fd is not None:
            with contextlib.suppress(OSError):
                (Path(run_dir) / LOCK).unlink()
            os.close(fd)


def _lock(run_dir: Path) -> int | None:
    """The open, flock-ed descriptor of run_dir/.lock with this process's id in it (None: the file
    system cannot lock); FastMLPError naming the holder when another process has it."""
    path = run_dir / LOCK
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise FastMLPError(f"cannot lock {run_dir}: {e.strerror or e}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise FastMLPError(
                f"{run_dir}: in use by another fastmlp (process {holder}); one process writes a run "
                "folder at a time"
            ) from None
        except OSError:  # a file system without locks (some network ones)
            os.close(fd)
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        # The holder before us may have removed the file between our open and our lock: ours
        # would then be a lock on a file no one else can find. Lock the file at the path only.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            return fd
        os.close(fd)


def create_run_dir(
    parent: str | Path, name: str, exact: str | Path | None = None, force: bool = False
) -> Path:
    """Make parent/<name>-<YYYYmmdd-HHMMSS> (suffixed -2, -3... if taken), or exactly `exact`.

    An `exact` folder may exist only if it is empty, so no earlier run is overwritten; with
    force it may hold an earlier run, whose files (RUN_FILES, nothing else) are removed first.
    """
    if exact is not None:
        path = Path(exact)
        if force and path.is_dir():
            others = [
                p.name for p in path.iterdir() if p.name not in RUN_FILES and not p.name.startswith(".")
            ]
            if others:
                raise FastMLPError(
                    f"--out {path}: holds files that are not a run's ({', '.join(sorted(others)[:5])}); "
                    "--force replaces a run folder only"
                )
            for name_ in RUN_FILES:
                (path / name_).unlink(missing_ok=True)
        if path.exists() and (
            not path.is_dir() or any(p for p in path.iterdir() if not p.name.startswith("."))
        ):
            raise FastMLPError(
                f"--out {path}: already exists and is not an empty folder (--force replaces a run there)"
            )
        _mkdir(path, exist_ok=True)
        return path
    stamp = time.strftime("%Y%m%d-%H%M%S")
    parent = Path(parent)
    for i in range(1, 1000):
        path = parent / (f"{name}-{stamp}" if i == 1 else f"{name}-{stamp}-{i}")
        try:
            _mkdir(path, exist_ok=False)
            return path
        except FileExistsError:
            continue
    raise FastMLPError(f"cannot create a run folder under {parent}: too many runs named {name}-{stamp}")


def _mkdir(path: Path, exist_ok: bool) -> None:
    """mkdir -p, with a folder the user cannot have (a file in the way, no permission) as a user error."""
    try:
        path.mkdir(parents=True, exist_ok=exist_ok)
    except FileExistsError:
        if not exist_ok:
            raise
        raise FastMLPError(f"cannot create run folder {path}: a file is in the way") from None
    except OSError as e:
        raise FastMLPError(f"cannot create run folder {path}: {e.strerror or e}") from None


def metrics_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """History rows as CSV text: METRIC_COLUMNS, empty cells for None."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(METRIC_COLUMNS)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in METRIC_COLUMNS])
    return out.getvalue()


def write_metrics(run_dir: str | Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    return write_atomic(Path(run_dir) / METRICS, metrics_csv(rows))


def write_summary(run_dir: str | Path, summary: Mapping[str, Any]) -> Path:
    text = json.dumps(_json_safe(summary), indent=2) + "\n"
    return write_atomic(Path(run_dir) / SUMMARY, text)


def read_metrics(run_dir: str | Path) -> list[dict[str, float | None]]:
    """metrics.csv back as rows of floats (None for empty cells)."""
    path = Path(run_dir) / METRICS
    if not path.is_file():
        raise FastMLPError(f"{path}: no metrics.csv here; is {run_dir} a fastmlp run folder?")
    with path.open(newline="") as f:
        return [
            {k: (float(v) if v not in ("", None) else None) for k, v in row.items()}
            for row in csv.DictReader(f)
        ]


def read_summary(run_dir: str | Path) -> dict[str, Any]:
    path = Path(run_dir) / SUMMARY
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise FastMLPError(f"{path}: not valid JSON ({exc})") from None


def _json_safe(value: Any) -> Any:
    """NaN/inf become null (JSON has neither); NumPy scalars become Python numbers."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
