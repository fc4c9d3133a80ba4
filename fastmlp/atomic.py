"""Atomic file writes: a temp file in the same folder, then os.replace."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import FastMLPError


def write_atomic(path: str | Path, data: str | bytes | Callable) -> Path:
    """Write data to path via a temp file in the same folder and os.replace; data may also be a
    function that writes into the open binary file (large arrays, written without a copy).

    The rename is atomic, so readers (and a crashed process) never see a partial file; the data
    is flushed to the disk (fsync) before the rename, so after a crash or a power cut the name
    holds either the old file or the whole new one, never a truncated one.
    """
    path = Path(path)
    if path.is_dir():
        raise FastMLPError(f"cannot write {path}: it is a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:  # the user chose this place: say so in one line
        raise FastMLPError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise FastMLPError(f"cannot write {path}: {e.strerror or e}") from None
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
