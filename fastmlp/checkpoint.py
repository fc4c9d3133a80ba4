"""Checkpoints of a minibatch run: everything trainer.fit needs to continue it bit-identically.

A run folder's checkpoint.npz is a plain .npz (no pickle), written atomically at the end of every
epoch and when a run is interrupted (at the next minibatch-chunk boundary):

    params       the flat parameter buffer
    opt_state    the optimizer's state (SGD velocity; Adam's m, v and step count)
    best_params  the weights of the best epoch so far (when they are kept), else absent
    order        the permutation of the epoch in progress when the run stopped inside it
    meta         a JSON string: the epoch in progress (or next), the next minibatch within it,
                 the epoch's running sums, the shuffling RNG's state, the best loss and epoch,
                 early stopping's patience count, the history rows so far, and a format number

JSON writes floats by their shortest exact repr, so every number comes back bit for bit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import npzfile
from .errors import FastMLPError

FILE = "checkpoint.npz"
FORMAT = 2  # 2: with a manifest (npzfile.py); a checkpoint without one is refused


@dataclass
class TrainState:
    """Where a minibatch run stands at a boundary (an epoch's end, or between two chunks of one)."""

    epoch: int = 1  # the epoch in progress, or the next one (1-based)
    next_batch: int = 0  # the next minibatch of that epoch (0: not started)
    sums: tuple = (0.0, 0, 0.0, 0)  # the epoch's (loss x weight, correct, weight, samples) so far
    rng: dict | None = None  # the shuffling generator's bit_generator.state
    order: np.ndarray | None = None  # the epoch's permutation when next_batch > 0
    params: np.ndarray | None = None
    opt_state: np.ndarray | None = None
    best_params: np.ndarray | None = None
    best_loss: float = float("inf")
    best_epoch: int | None = None
    waited: int = 0
    stopped_early: bool = False
    done: bool = False  # every epoch ran (or early stopping ended the run)
    rows: list = field(default_factory=list)

    def describe(self) -> str:
        """Where the run stands, for messages: "epoch 3, minibatch 120" or "after epoch 2"."""
        if self.next_batch:
            return f"epoch {self.epoch}, minibatch {self.next_batch}"
        return f"after epoch {self.epoch - 1}" if self.epoch > 1 else "before the first epoch"


META = (
    "epoch",
    "next_batch",
    "sums",
    "rng",
    "best_loss",
    "best_epoch",
    "waited",
    "stopped_early",
    "done",
    "rows",
)


def save(path: str | Path, state: TrainState) -> Path:
    """Write state to path atomically (a temporary file, then a rename)."""
    meta = {name: getattr(state, name) for name in META}
    meta["format"] = FORMAT
    arrays = {"params": state.params, "opt_state": state.opt_state, "meta": np.array(json.dumps(meta))}
    if state.best_params is not None:
        arrays["best_params"] = state.best_params
    if state.order is not None:
        arrays["order"] = state.order
    return npzfile.save(path, arrays)


def load(path: str | Path) -> TrainState:
    """Read a checkpoint written by save(); one FastMLPError naming the file for anything wrong."""
    path = Path(path)
    if not path.is_file():
        raise FastMLPError(f"{path}: no checkpoint here (the run finished, or never got to one)")
    try:
        arrays, _ = npzfile.load(path)
        meta = json.loads(str(arrays["meta"]))
        if meta.get("format") != FORMAT:
            raise ValueError(f"checkpoint format {meta.get('format')!r}, this fastmlp reads {FORMAT}")
        state = TrainState(**{name: meta[name] for name in META})
        state.sums = tuple(state.sums)
        state.params, state.opt_state = arrays["params"], arrays["opt_state"]
        state.best_params, state.order = arrays.get("best_params"), arrays.get("order")
    except npzfile.NotWhole as e:
        raise FastMLPError(f"{path}: not a readable fastmlp checkpoint ({e})") from None
    except Exception as e:  # a damaged file is one short line naming it, whatever broke
        raise FastMLPError(f"{path}: not a readable fastmlp checkpoint ({_short(e)})") from None
    return state


def _short(e: Exception) -> str:
    """An exception as a few printable words: its message may hold the file's bytes."""
    text = "".join(c if c.isprintable() else "?" for c in str(e))
    return f"{type(e).__name__}: {text[:80]}{'...' if len(text) > 80 else ''}"
