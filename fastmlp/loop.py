"""The training loop: the one loop over epochs that `fastmlp train`, `fastmlp.fit` and the
scikit-learn estimators all run.

Each epoch: the learning-rate rule gives lr; the order rule a permutation; the epoch kernel runs
its minibatches in chunks (the whole epoch in one call unless someone watches or a checkpoint may
be wanted mid-epoch); a non-finite loss raises Diverged; then the epoch's row (and the validation
figures, when there is an evaluator) goes to the stopping rule (rules.py), whose verdict keeps the
best weights and ends the run on a plateau the rate rule does not answer. Ctrl-C and SIGTERM
stop it at the next chunk boundary, with a checkpoint when the run has one.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time

import numpy as np

from . import checkpoint as checkpoint_file
from .checkpoint import TrainState
from .errors import Diverged, FastMLPError
from .history import History, notify
from .kernels.fpmode import flush_denormals
from .minibatches import NO_SUMS, EpochSums, blas_threads_limit

# How many progress reports per epoch when a callback wants them.
PROGRESS_STEPS = 50
# An epoch's end writes a checkpoint unless the last one is younger than this many times what
# writing it took: checkpoints then cost at most about a tenth of the run, even where a large
# model's state takes longer to write than its epochs take to run.
CHECKPOINT_SPACING = 10


class Shuffle:
    """fastmlp's epoch order: a new permutation of the rows from a seeded generator each epoch, or
    the rows in order without shuffling. `rng` is what a checkpoint keeps."""

    def __init__(self, seed, shuffle=True):
        self.rng, self.shuffle = np.random.default_rng(seed), shuffle

    def __call__(self, n):
        return self.rng.permutation(n).astype(np.int64) if self.shuffle else np.arange(n, dtype=np.int64)


class Loop:
    """Epochs of one run of `minibatches` (minibatches.Minibatches) under a stopping rule `stop`,
    a learning-rate rule `rate` (rules.py) and an epoch `order` (callable n -> permutation).

    evaluate: model -> {"val_loss": ..., "val_accuracy": ...} after each epoch, or None.
    keep_best: the weights of the best epoch (the stopping rule's improvements) are copied and
        put back at the end; best_params: the best weights before this run (None: none yet).
    callback: see trainer.fit. checkpoint: a path written at epoch ends (while the last one is
        younger than CHECKPOINT_SPACING times its writing time, not), every checkpoint_seconds
        inside an epoch, and when interrupted. first_step: optimizer steps
        taken before this run (the minibatch's step keys its dropout mask). signals: those that
        stop the run at the next chunk boundary (KeyboardInterrupt after its checkpoint); the
        estimators leave SIGTERM to end the process, as scikit-learn does."""

    def __init__(
        self,
        minibatches,
        stop,
        rate,
        order,
        *,
        evaluate=None,
        keep_best=False,
        best_params=None,
        callback=None,
        checkpoint=None,
        checkpoint_seconds=60.0,
        first_step=0,
        signals=(signal.SIGINT, signal.SIGTERM),
    ):
        self.minibatches, self.stop, self.rate, self.order = minibatches, stop, rate, order
        self.evaluate, self.keep_best, self.best_params = evaluate, keep_best, best_params
        self.callback, self.checkpoint, self.checkpoint_seconds = callback, checkpoint, checkpoint_seconds
        self.first_step, self.signals = first_step, signals
        self.save_seconds = 0.0  # what writing the last checkpoint took
        n_batches = minibatches.n_batches
        # A resumed run chunks as the original did, so its sums are added in the same order.
        watched = callback is not None or checkpoint is not None
        self.chunk = max(1, -(-n_batches // PROGRESS_STEPS)) if watched else n_batches
        self.history = History()

    @property
    def model(self):
        return self.minibatches.model

    def run(self, epochs, state=None) -> History:
        """Epochs 1..epochs, or from where `state` (a checkpoint, put back by restore()) stands;
        the model ends with the best weights when keep_best, else the last. KeyboardInterrupt
        after a checkpoint when interrupted; Diverged on a non-finite loss."""
        state = state if state is not None else TrainState()
        history = self.history = History(rows=[dict(r) for r in state.rows], best_epoch=state.best_epoch)
        history.stopped_early = state.stopped_early
        epoch, self.last_saved = state.epoch, time.monotonic()
        with _interrupt_flag(self.signals) as interrupted:
            while epoch <= epochs and not history.stopped_early:
                row, stop = self._epoch(epoch, state, interrupted, epochs)
                history.rows.append(row)
                self._judge(row, epoch)
                epoch += 1
                saved = self._save_if_due(TrainState(epoch=epoch), epochs)
                try:
                    notify(self.callback, "on_epoch_end", row)
                    if stop or interrupted():
                        raise KeyboardInterrupt
                except KeyboardInterrupt:
                    if not saved:
                        self._save(TrainState(epoch=epoch), NO_SUMS, None, epochs)
                    raise
        history.kept_epoch = len(history.rows) or None
        if self.keep_best and self.best_params is not None:
            self.model.params[...] = self.best_params
            history.kept_epoch = history.best_epoch
        return history

    def _epoch(self, epoch, state, interrupted, epochs):
        """One epoch's minibatches, chunk by chunk: (its row, whether to stop after it)."""
        mb, n_batches = self.minibatches, self.minibatches.n_batches
        lr = self.rate.rate(epoch)
        start = state.next_batch if epoch == state.epoch else 0
        if start:  # resumed inside this epoch: its permutation and running sums
            order, sums = state.order, EpochSums(*state.sums)
        else:
            order, sums = self.order(mb.n), NO_SUMS
        notify(self.callback, "on_epoch_start", epoch, n_batches)
        stop, t0 = False, time.perf_counter()
        with blas_threads_limit(mb.blas_threads), flush_denormals():
            for first in range(start, n_batches, self.chunk):
                last = min(first + self.chunk, n_batches)
                step0 = self.first_step + (epoch - 1) * n_batches + first
                chunk = mb.run(order, lr, first, last, step0)
                if not math.isfinite(chunk.loss):
                    _diverged(epoch, first, last, n_batches, chunk, lr)
                sums = sums.plus(chunk)
                try:
                    notify(self.callback, "on_batches", epoch, last, n_batches, sums.loss / sums.weight)
                    if interrupted() and last < n_batches:
                        raise KeyboardInterrupt
                except KeyboardInterrupt:
                    if last < n_batches:
                        mb.settle()  # the run ends here: the model's weights made whole
                        self._save(TrainState(epoch=epoch, next_batch=last), sums, order, epochs)
                        raise
                    stop = True  # the epoch is complete: finish it, then stop at its checkpoint
                if last < n_batches and time.monotonic() - self.last_saved >= self.checkpoint_seconds:
                    self._save(TrainState(epoch=epoch, next_batch=last), sums, order, epochs)
        self.rate.epoch_end(sums.samples)
        return self._row(epoch, lr, sums, time.perf_counter() - t0), stop

    def _row(self, epoch, lr, sums, seconds):
        """The history's row for an epoch that has run."""
        row = {
            "epoch": epoch,
            "lr": lr,
            "train_loss": sums.loss / sums.weight,
            "train_accuracy": sums.correct / sums.samples
            if "accuracy" in self.model.task_spec.metrics
            else None,
            "val_loss": None,
            "val_accuracy": None,
            "seconds": seconds,
        }
        if self.evaluate is not None:
            row.update(self.evaluate(self.model))
        return row

    def _judge(self, row, epoch):
        """The stopping rule's verdict on the epoch: best weights kept; a plateau ends the run
        unless the rate rule answers it (then the rule's count starts again)."""
        verdict = self.stop.update(row)
        if verdict.improved:
            self.history.best_epoch = epoch
            if self.keep_best:
                self.best_params = self.model.params.copy()
        if verdict.plateau:
            if self.rate.answer_plateau():
                self.stop.restart()
            else:
                self.history.stopped_early = True

    def _save_if_due(self, where, epochs):
        """The epoch-end checkpoint at `where`, when due (CHECKPOINT_SPACING); whether written."""
        due = min(self.checkpoint_seconds, CHECKPOINT_SPACING * self.save_seconds)
        if self.checkpoint is None or time.monotonic() - self.last_saved < due:
            return False
        self._save(where, NO_SUMS, None, epochs)
        return True

    def _save(self, where, sums, order, epochs):
        """Write the run's state at `where` (its epoch and next minibatch) to the checkpoint: the
        live parameters and optimizer state as they are (saving is synchronous), or settled copies
        while a sparse first layer has pending rows (Minibatches.settled)."""
        self.last_saved = time.monotonic()
        if self.checkpoint is None:
            return
        history = self.history
        where.sums = tuple(sums)
        where.rng = self.order.rng.bit_generator.state
        where.order = order.copy() if where.next_batch else None
        where.params, where.opt_state = self.minibatches.settled()
        where.best_params = self.best_params
        where.best_loss, where.waited = self.stop.best, self.stop.waited
        where.best_epoch, where.stopped_early = history.best_epoch, history.stopped_early
        where.done = where.epoch > epochs or history.stopped_early
        where.rows = [dict(r) for r in history.rows]
        checkpoint_file.save(self.checkpoint, where)
        self.save_seconds = time.monotonic() - self.last_saved

    def restore(self, state):
        """Put a checkpoint's parameters, optimizer state, RNG state, best weights and stopping
        rule's state back (shapes checked); then run(epochs, state) continues it."""
        for name, saved, live in (
            ("params", state.params, self.model.params),
            ("opt_state", state.opt_state, self.minibatches.opt.state),
        ):
            if saved is None or saved.shape != live.shape or saved.dtype != live.dtype:
                raise FastMLPError(
                    f"checkpoint: {name} do not fit this run's network "
                    f"({None if saved is None else saved.shape} vs {live.shape}); was the config changed?"
                )
            live[...] = saved
        if state.rng is not None:
            self.order.rng.bit_generator.state = state.rng
        if state.best_params is not None:
            self.best_params = state.best_params
        self.stop.best, self.stop.waited = state.best_loss, state.waited


def _diverged(epoch, first, last, n_batches, chunk, lr):
    which = f"minibatches {first + 1}-{last}" if last > first + 1 else f"minibatch {last}"
    raise Diverged(
        f"training diverged at epoch {epoch}, {which} of {n_batches} "
        f"(train loss {chunk.loss / chunk.weight}); try a smaller learning_rate (now {lr:g})"
    )


@contextlib.contextmanager
def sigterm_as_interrupt():
    """For the block, SIGTERM raises KeyboardInterrupt wherever Python is, as Ctrl-C does, so a
    scheduler's or container's stop ends a command the way Ctrl-C would (inside a Loop,
    _interrupt_flag turns either into a checkpoint at the next chunk). Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _interrupt_flag(caught=(signal.SIGINT, signal.SIGTERM)):
    """While training, Ctrl-C (SIGINT) and SIGTERM (what schedulers, containers and `kill` send)
    set a flag instead of raising wherever Python happens to be, so the loop stops at the next
    chunk boundary with a consistent checkpoint; a second signal raises at once. Off the main
    thread signals cannot be caught, and the flag stays False."""
    pressed = []
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return

    def handler(signum, frame):
        if pressed:
            raise KeyboardInterrupt
        pressed.append(signum)

    previous = {s: signal.signal(s, handler) for s in caught}
    try:
        yield lambda: bool(pressed)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
