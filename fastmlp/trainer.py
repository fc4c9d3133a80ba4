"""Minibatch SGD around the epoch kernel: the loop over epochs, the call into the kernel,
the evaluation, the history. Nothing else."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg.cython_blas  # noqa: F401  the BLAS Numba calls: loaded now so thread limits reach it
from threadpoolctl import threadpool_limits

from .errors import FastMLPError
from .kernels.epoch import train_batches

# How many progress reports per epoch when a callback wants them.
PROGRESS_STEPS = 50

# Minibatches of at most this many rows take the row-streaming kernels (dense.py): below it,
# BLAS spends more time packing W than multiplying. Measured by scripts/bench.py.
SMALL_BATCH = 16

# Below this many rows a minibatch's GEMMs run on one BLAS thread: waking a second thread costs
# more than it saves, and idle OpenBLAS threads spin against whatever else runs. Measured by
# scripts/bench.py: batch 32, 0.66 s/epoch on one thread vs 0.74 on two; batch 128, 0.51 vs 0.42.
BLAS_THREADED_BATCH = 64


@dataclass
class History:
    """One row per epoch: epoch, lr, train_loss, train_accuracy, val_loss, val_accuracy, seconds.
    train_loss/train_accuracy are running figures over the epoch's minibatches (the weights move
    while they are measured), as PyTorch and Keras report them; train_loss is the data loss only."""

    rows: list = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    def column(self, name):
        return [row[name] for row in self.rows]


def _callback(callback, name, *args):
    method = getattr(callback, name, None)
    return method(*args) if method is not None else None


def _check_hyperparameters(epochs, batch_size, learning_rate, l2, momentum, early_stopping):
    checks = [
        (isinstance(epochs, (int, np.integer)) and epochs >= 1, f"epochs must be an int >= 1, got {epochs!r}"),
        (isinstance(batch_size, (int, np.integer)) and batch_size >= 1,
         f"batch_size must be an int >= 1, got {batch_size!r}"),
        (learning_rate > 0 and math.isfinite(learning_rate), f"learning_rate must be > 0, got {learning_rate!r}"),
        (l2 >= 0 and math.isfinite(l2), f"l2 must be >= 0, got {l2!r}"),
        (0 <= momentum < 1, f"momentum must be in [0, 1), got {momentum!r}"),
        (early_stopping is None or (isinstance(early_stopping, (int, np.integer)) and early_stopping >= 1),
         f"early_stopping must be None or an int >= 1, got {early_stopping!r}"),
    ]
    for ok, message in checks:
        if not ok:
            raise FastMLPError(message)


class _Epochs:
    """The epoch kernel's buffers, allocated once per fit, and one call per run of minibatches."""

    def __init__(self, model, X, y_class, y_target, batch_size, l2, momentum, nesterov):
        self.model, self.X, self.y_class, self.y_target = model, X, y_class, y_target
        self.batch_size = batch_size
        self.n_batches = -(-X.shape[0] // batch_size)
        dtype = model.dtype
        # Hyperparameters cast to the parameters' dtype: a Python float would upcast float32.
        self.l2, self.mu, self.nesterov = dtype.type(l2), dtype.type(momentum), bool(nesterov)
        if batch_size <= SMALL_BATCH:
            # The row-streaming kernels fold dW into the update: one scratch row, no gradient buffer.
            self.rows_scratch, self.grad = np.zeros(int(model.sizes[1:].max()), dtype), np.zeros(0, dtype)
        else:
            self.rows_scratch, self.grad = None, np.zeros_like(model.params)
        self.velocity = np.zeros_like(model.params)
        self.xb = np.empty(batch_size * model.n_inputs, dtype)
        self.yb_class = np.empty(batch_size if model.task == "classification" else 0, np.int64)
        self.yb_target = np.empty((batch_size if model.task == "regression" else 0, model.n_outputs), dtype)
        self.acts, self.deltas = model.workspace(batch_size)

    def run(self, order, lr, first, last):
        """Minibatches first..last-1 of the epoch `order`: (loss sum, n_correct, n_samples)."""
        m = self.model
        return train_batches(m.params, self.grad, self.velocity, m.sizes, m.activation_code, m.task_code,
                             self.X, self.y_class, self.y_target, order, self.batch_size, first, last,
                             m.dtype.type(lr), self.l2, self.mu, self.nesterov, self.rows_scratch,
                             self.xb, self.yb_class, self.yb_target, self.acts, self.deltas)


def fit(model, X, y, X_val=None, y_val=None, *, epochs=20, batch_size=128, learning_rate=0.1,
        l2=1e-4, momentum=0.0, nesterov=False, shuffle=True, seed=0,
        lr_schedule=None, early_stopping=None, callback=None) -> History:
    """Train `model` in place by minibatch SGD on J = mean loss + (l2/2) sum ||W||^2.

    lr_schedule: callable epoch_index (0-based) -> learning rate; None keeps learning_rate.
    early_stopping: patience in epochs on the validation loss; the best weights are restored.
    callback: object with any of on_epoch_start(epoch, n_batches),
              on_batches(epoch, done, n_batches, running_loss), on_epoch_end(row).
    The same seed and data give the same weights.
    """
    _check_hyperparameters(epochs, batch_size, learning_rate, l2, momentum, early_stopping)
    X = model.check_X(X, "X")
    y_class, y_target = model.check_y(y, X.shape[0], "y")
    n = X.shape[0]
    if n == 0:
        raise FastMLPError("the training set is empty")
    has_val = X_val is not None and len(X_val) > 0
    if early_stopping and not has_val:
        raise FastMLPError("early_stopping needs validation data (set a validation split)")
    if has_val:
        X_val = model.check_X(X_val, "X_val")
        y_val = model.check_y(y_val, X_val.shape[0], "y_val")  # (y_class, y_target), checked once

    batch_size = int(min(batch_size, n))
    epochs_kernel = _Epochs(model, X, y_class, y_target, batch_size, l2, momentum, nesterov)
    n_batches = epochs_kernel.n_batches
    step = n_batches if callback is None else max(1, -(-n_batches // PROGRESS_STEPS))
    rng = np.random.default_rng(seed)
    order = np.arange(n, dtype=np.int64)
    # None leaves the user's BLAS threads alone.
    blas_threads = 1 if batch_size < BLAS_THREADED_BATCH else None

    history = History()
    best_loss, best_params, waited = math.inf, None, 0
    for epoch in range(1, epochs + 1):
        lr = float(lr_schedule(epoch - 1)) if lr_schedule is not None else float(learning_rate)
        if shuffle:
            order = rng.permutation(n).astype(np.int64, copy=False)
        _callback(callback, "on_epoch_start", epoch, n_batches)
        t0 = time.perf_counter()
        total, correct, seen = 0.0, 0, 0
        with threadpool_limits(limits=blas_threads, user_api="blas"):
            for first in range(0, n_batches, step):
                last = min(first + step, n_batches)
                t, c, s = epochs_kernel.run(order, lr, first, last)
                total, correct, seen = total + t, correct + c, seen + s
                _callback(callback, "on_batches", epoch, last, n_batches, total / seen)
        seconds = time.perf_counter() - t0
        train_loss = total / seen
        if not math.isfinite(train_loss):
            raise FastMLPError(f"training diverged at epoch {epoch} (train loss {train_loss}); "
                               f"try a smaller learning_rate (now {lr:g})")
        row = {"epoch": epoch, "lr": lr, "train_loss": train_loss,
               "train_accuracy": correct / seen if model.task == "classification" else None,
               "val_loss": None, "val_accuracy": None, "seconds": seconds}
        if has_val:
            metrics = model.metrics(X_val, *y_val)
            row["val_loss"] = metrics["loss"]
            row["val_accuracy"] = metrics.get("accuracy")
        history.rows.append(row)
        _callback(callback, "on_epoch_end", row)

        watched = row["val_loss"] if has_val else train_loss
        if watched < best_loss:
            best_loss, history.best_epoch, waited = watched, epoch, 0
            if early_stopping:
                best_params = model.params.copy()
        else:
            waited += 1
            if early_stopping and waited >= early_stopping:
                history.stopped_early = True
                break
    if best_params is not None:
        model.params[...] = best_params
    return history
