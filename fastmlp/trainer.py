"""The training loop around the epoch kernel: the loop over epochs, the call into the kernel,
the evaluation, the history. Nothing else (L-BFGS, full batch, lives in lbfgs.py)."""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time

import numpy as np
import scipy.linalg.cython_blas  # noqa: F401  the BLAS Numba calls: loaded now so thread limits reach it
from threadpoolctl import threadpool_limits

from . import checkpoint as checkpoint_file
from . import optimizers
from .checkpoint import TrainState
from .errors import Diverged, FastMLPError
from .history import History, notify
from .kernels.blas import SMALL_GEMM
from .kernels.epoch import train_batches
from .kernels.fpmode import flush_denormals
from .kernels.optim import LR, plain_sgd
from .kernels.rows import dense_or_csr

# How many progress reports per epoch when a callback wants them.
PROGRESS_STEPS = 50

# Minibatch sizes (least, most) that take the row-streaming forward kernel (dense.py): with a
# handful of rows BLAS spends more time packing W than multiplying it, and below 5 rows it is
# quick again. Within such a minibatch only layers of more than ROW_STREAMING_WORK multiply-adds
# take it; smaller ones stay on OpenBLAS's unpacked small-matrix path (blas.SMALL_GEMM). Chosen
# on an Intel AVX-512 machine; the measurements, and how they differ on an AVX2 EPYC, are in
# docs/PERFORMANCE.md ("Choices in the code").
ROW_STREAMING = (5, 12)
ROW_STREAMING_WORK = SMALL_GEMM


def row_streaming(batch_size):
    """Whether minibatches of batch_size rows take the row-streaming forward (ROW_STREAMING)."""
    return ROW_STREAMING[0] <= batch_size <= ROW_STREAMING[1]


# Below this many rows a minibatch runs its BLAS calls (the backward products) on one thread: a
# second thread brings nothing to products that small, and an idle OpenBLAS pool would only
# spin; every larger minibatch keeps the process's threads (docs/PERFORMANCE.md).
BLAS_THREADED_BATCH = 9


def blas_threads_limit(threads):
    """A context running BLAS on `threads` threads; None leaves the process's setting (and skips
    threadpoolctl's scan of the loaded libraries, a few milliseconds per call)."""
    if threads is None:
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def _check_hyperparameters(epochs, batch_size, learning_rate, l2, early_stopping, dropout):
    checks = [
        (
            isinstance(epochs, (int, np.integer)) and epochs >= 1,
            f"epochs must be an int >= 1, got {epochs!r}",
        ),
        (
            isinstance(batch_size, (int, np.integer)) and batch_size >= 1,
            f"batch_size must be an int >= 1, got {batch_size!r}",
        ),
        (
            learning_rate > 0 and math.isfinite(learning_rate),
            f"learning_rate must be > 0, got {learning_rate!r}",
        ),
        (l2 >= 0 and math.isfinite(l2), f"l2 must be >= 0, got {l2!r}"),
        (
            early_stopping is None or (isinstance(early_stopping, (int, np.integer)) and early_stopping >= 1),
            f"early_stopping must be None or an int >= 1, got {early_stopping!r}",
        ),
        (0 <= dropout < 1, f"dropout must be in [0, 1), got {dropout!r}"),
    ]
    for ok, message in checks:
        if not ok:
            raise FastMLPError(message)


def sample_weights(model, y_class, sample_weight=None, class_weight=None):
    """Per-sample weights w_i (None: unweighted) from sample_weight and/or class_weight.

    class_weight: "balanced" (w = n / (K n_k), as scikit-learn) or a mapping from class label
    (as model.classes spells it, or the class index for a bare network) to its weight; classes
    not named weigh 1. Both given: their product."""
    w = None if sample_weight is None else np.asarray(sample_weight, np.float64).ravel()
    if class_weight is None:
        return w
    if not model.task_spec.indices:
        raise FastMLPError(f"class_weight is for classification; this model does {model.task}")
    k = model.n_outputs
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise FastMLPError(
                f"class_weight: expected 'balanced' or a mapping of class -> weight, got {class_weight!r}"
            )
        counts = np.bincount(y_class, minlength=k).astype(np.float64)
        per_class = np.where(counts > 0, len(y_class) / (k * np.maximum(counts, 1)), 0.0)
    else:
        names = [str(c) for c in (model.classes if model.classes is not None else range(k))]
        per_class = np.ones(k)
        for label, weight in dict(class_weight).items():
            if str(label) not in names:
                raise FastMLPError(
                    f"class_weight: {label!r} is not a class (classes: {', '.join(names[:20])})"
                )
            if not (
                isinstance(weight, (int, float))
                and not isinstance(weight, bool)
                and weight >= 0
                and math.isfinite(weight)
            ):
                raise FastMLPError(f"class_weight[{label!r}]: expected a number >= 0, got {weight!r}")
            per_class[names.index(str(label))] = weight
    from_class = per_class[y_class]
    return from_class if w is None else w * from_class


class Epochs:
    """The epoch kernel's buffers and optimizer unit, allocated once per fit; one call per run of
    minibatches.

    X: dense rows, or a scipy sparse matrix (minibatches are densified row by row, never the
    whole matrix). y = (y_class, y_target) and w (empty: unweighted) as model.check_y and
    model.check_weights give them. opt: an optimizer unit to continue (its state kept), else a
    fresh one from `optimizer`. l2_per_weight: lambda = l2 / W_B per minibatch (kernels/epoch.py)."""

    def __init__(
        self,
        model,
        X,
        y,
        w,
        batch_size,
        l2,
        optimizer,
        dropout=0.0,
        seed=0,
        opt=None,
        l2_per_weight=False,
    ):
        self.model, self.batch_size = model, batch_size
        self.n = X.shape[0]
        self.n_batches = -(-self.n // batch_size)
        dtype = model.dtype
        y_class, y_target = y
        X, csr = dense_or_csr(X, dtype)
        self.data = (X, y_class, y_target, w, csr)
        self.opt = opt if opt is not None else optimizer.kernel_unit(dtype, model.params.size, 0.0)
        # Hyperparameters cast to the parameters' dtype: a Python float would upcast float32.
        self.l2, self.l2_per_weight = dtype.type(l2), bool(l2_per_weight)
        self.dropout, self.seed = float(dropout), int(seed)
        # [most work kept on BLAS] selects the row-streaming forward for the larger layers; empty,
        # BLAS for all (kernels/network.py).
        self.rows = np.array([ROW_STREAMING_WORK] if row_streaming(batch_size) else [], np.int64)
        # Plain SGD (no momentum) is taken inside the dW GEMMs: slots for its GEMM coefficients.
        self.sgd = np.zeros(2 if plain_sgd(self.opt) else 0, dtype)
        grad = np.zeros_like(model.params)
        acts, deltas, masks = model.workspace(batch_size, dropout=dropout > 0)
        self.buffers = (
            np.empty(batch_size * model.n_inputs, dtype),
            np.empty(batch_size if y_class.shape[0] else 0, np.int64),
            np.empty((batch_size if y_target.shape[0] else 0, model.n_outputs), dtype),
            np.empty(batch_size if w.shape[0] else 0, dtype),
            acts,
            deltas,
            masks,
            grad,
        )

    @property
    def blas_threads(self):
        """BLAS threads for this batch size (None: leave the user's setting alone)."""
        return 1 if self.batch_size < BLAS_THREADED_BATCH else None

    def run(self, order, lr, first, last, step0):
        """Minibatches first..last-1 of the epoch `order` (step0: the run's step of `first`):
        (weighted loss sum, n_correct, weight total, n_samples)."""
        m = self.model
        self.opt[1][LR] = lr
        return train_batches(
            m.params,
            m.layout,
            m.activation_code,
            m.loss_code,
            self.opt,
            self.l2,
            self.l2_per_weight,
            self.data,
            self.buffers,
            order,
            self.batch_size,
            first,
            last,
            self.dropout,
            self.seed,
            step0,
            self.rows,
            self.sgd,
        )


def fit(
    model,
    X,
    y,
    X_val=None,
    y_val=None,
    *,
    epochs=20,
    batch_size=128,
    learning_rate=0.1,
    l2=1e-4,
    optimizer="sgd",
    shuffle=True,
    seed=0,
    lr_schedule=None,
    early_stopping=None,
    dropout=0.0,
    sample_weight=None,
    class_weight=None,
    callback=None,
    keep="auto",
    checkpoint=None,
    resume=None,
    checkpoint_seconds=60.0,
) -> History:
    """Train the network of `model` in place on J = sum w_i l_i / sum w_i + (l2/2) sum ||W||^2.

    X, y: network inputs and encoded labels (as model.transform / model.encode_labels give
    them; for a bare MLP, the arrays themselves and class indices).
    optimizer: a name ("sgd", "adam", "lbfgs"), a mapping {name: ..., its parameters}, or an
    optimizers.Optimizer (see fastmlp/optimizers.py for every parameter and its default).
    lr_schedule: callable epoch_index (0-based) -> learning rate; None keeps learning_rate.
    early_stopping: patience in epochs on the validation loss; the best weights are restored.
    dropout: inverted-dropout rate on the hidden layers while training (0: none).
    sample_weight, class_weight: see sample_weights().
    callback: object with any of on_epoch_start(epoch, n_batches),
              on_batches(epoch, done, n_batches, running_loss), on_epoch_end(row).
    keep: which weights the model ends with: "best" (the epoch with the lowest validation loss,
          or training loss without validation data), "last", or "auto" (best when there is
          validation data); early stopping always keeps the best. history.kept_epoch says which.
    checkpoint: a path; the run's state is written there (checkpoint.py) after every epoch, at
          the first chunk boundary after checkpoint_seconds since the last one (so a kill loses
          at most about that much), and when it is interrupted (Ctrl-C or SIGTERM, or a callback
          raising KeyboardInterrupt) between two chunks of minibatches, then KeyboardInterrupt
          propagates.
    resume: a checkpoint.TrainState (checkpoint.load(path)) to continue from; with the same
          arguments, data and thread count the run ends bit-identical to one never interrupted.
    The same seed and data give the same weights.
    """
    if keep not in ("auto", "best", "last"):
        raise FastMLPError(f"keep must be auto, best or last, got {keep!r}")
    optimizer = optimizers.parse(optimizer, "optimizer")
    _check_hyperparameters(epochs, batch_size, learning_rate, l2, early_stopping, dropout)
    X = model.check_X(X, "X")
    y = model.check_y(y, X.shape[0], "y")
    n = X.shape[0]
    if n == 0:
        raise FastMLPError("the training set is empty")
    w = model.check_weights(sample_weights(model, y[0], sample_weight, class_weight), n)
    has_val = X_val is not None and len(X_val) > 0
    if early_stopping and not has_val:
        raise FastMLPError("early_stopping needs validation data (set a validation split)")
    if has_val:
        X_val = model.check_X(X_val, "X_val")
        y_val = model.check_y(y_val, X_val.shape[0], "y_val")  # (y_class, y_target), checked once
    if optimizer.full_batch:
        from .lbfgs import fit_lbfgs

        if resume is not None:
            raise FastMLPError(
                f"resume is for minibatch optimizers; {optimizer.name} runs have no checkpoint"
            )
        if dropout or early_stopping:
            what = "dropout" if dropout else "early_stopping"
            raise FastMLPError(optimizers.minibatch_only(what, optimizer))

        return fit_lbfgs(
            model,
            X,
            y,
            w,
            X_val if has_val else None,
            y_val,
            max_iter=epochs,
            l2=l2,
            optimizer=optimizer,
            callback=callback,
        )

    batch_size = int(min(batch_size, n))
    epochs_kernel = Epochs(model, X, y, w, batch_size, l2, optimizer, dropout, seed)
    n_batches = epochs_kernel.n_batches
    # Chunks of minibatches per kernel call: the whole epoch, or ~PROGRESS_STEPS chunks when someone
    # watches or a checkpoint may be wanted mid-epoch. A resumed run chunks as the original did,
    # so its sums are added in the same order.
    watched_run = callback is not None or checkpoint is not None
    step = max(1, -(-n_batches // PROGRESS_STEPS)) if watched_run else n_batches
    keep_best = early_stopping is not None or keep == "best" or (keep == "auto" and has_val)
    rng = np.random.default_rng(seed)
    state = resume if resume is not None else TrainState()
    if resume is not None:
        _restore(model, epochs_kernel, rng, resume)
    history = History(rows=[dict(r) for r in state.rows], best_epoch=state.best_epoch)
    history.stopped_early = state.stopped_early

    def snapshot(epoch, next_batch, sums, order):
        """The run's state now (copies), as a checkpoint holds it."""
        return TrainState(
            epoch=epoch,
            next_batch=next_batch,
            sums=sums,
            rng=rng.bit_generator.state,
            order=order.copy() if next_batch else None,
            params=model.params.copy(),
            opt_state=epochs_kernel.opt[2].copy(),
            best_params=None if state.best_params is None else state.best_params,
            best_loss=state.best_loss,
            best_epoch=history.best_epoch,
            waited=state.waited,
            stopped_early=history.stopped_early,
            done=epoch > epochs or history.stopped_early,
            rows=[dict(r) for r in history.rows],
        )

    def save_checkpoint(*where):
        if checkpoint is not None:
            checkpoint_file.save(checkpoint, snapshot(*where))

    epoch, stop = state.epoch, False
    last_saved = time.monotonic()
    with _interrupt_flag() as interrupted:
        while epoch <= epochs and not history.stopped_early:
            lr = float(lr_schedule(epoch - 1)) if lr_schedule is not None else float(learning_rate)
            start = state.next_batch if epoch == state.epoch else 0
            if start:  # resumed inside this epoch: its permutation and running sums
                order, sums = state.order, state.sums
            else:
                order = rng.permutation(n).astype(np.int64) if shuffle else np.arange(n, dtype=np.int64)
                sums = (0.0, 0, 0.0, 0)
            notify(callback, "on_epoch_start", epoch, n_batches)
            t0 = time.perf_counter()
            with blas_threads_limit(epochs_kernel.blas_threads), flush_denormals():
                for first in range(start, n_batches, step):
                    last = min(first + step, n_batches)
                    t, c, wt, s = epochs_kernel.run(order, lr, first, last, (epoch - 1) * n_batches + first)
                    if not math.isfinite(t):
                        which = f"minibatches {first + 1}-{last}" if last > first + 1 else f"minibatch {last}"
                        raise Diverged(
                            f"training diverged at epoch {epoch}, {which} of {n_batches} "
                            f"(train loss {t / wt}); try a smaller learning_rate (now {lr:g})"
                        )
                    sums = (sums[0] + t, sums[1] + c, sums[2] + wt, sums[3] + s)
                    try:
                        notify(callback, "on_batches", epoch, last, n_batches, sums[0] / sums[2])
                        if interrupted() and last < n_batches:
                            raise KeyboardInterrupt
                    except KeyboardInterrupt:
                        if last < n_batches:
                            save_checkpoint(epoch, last, sums, order)
                            raise
                        stop = True  # the epoch is complete: finish it, then stop at its checkpoint
                    if last < n_batches and time.monotonic() - last_saved >= checkpoint_seconds:
                        save_checkpoint(epoch, last, sums, order)
                        last_saved = time.monotonic()
            total, correct, weight, seen = sums
            row = {
                "epoch": epoch,
                "lr": lr,
                "train_loss": total / weight,
                "train_accuracy": correct / seen if "accuracy" in model.task_spec.metrics else None,
                "val_loss": None,
                "val_accuracy": None,
                "seconds": time.perf_counter() - t0,
            }
            if has_val:
                metrics = model.metrics(X_val, *y_val)
                row["val_loss"] = metrics["loss"]
                row["val_accuracy"] = metrics.get("accuracy")
            history.rows.append(row)
            watched = row["val_loss"] if has_val else row["train_loss"]
            if watched < state.best_loss:
                state.best_loss, history.best_epoch, state.waited = watched, epoch, 0
                if keep_best:
                    state.best_params = model.params.copy()
            else:
                state.waited += 1
                if early_stopping and state.waited >= early_stopping:
                    history.stopped_early = True
            epoch += 1
            save_checkpoint(epoch, 0, (0.0, 0, 0.0, 0), order)
            last_saved = time.monotonic()
            notify(callback, "on_epoch_end", row)
            if stop or interrupted():
                raise KeyboardInterrupt
    history.kept_epoch = len(history.rows) or None
    if keep_best and state.best_params is not None:
        model.params[...] = state.best_params
        history.kept_epoch = history.best_epoch
    return history


def _restore(model, epochs_kernel, rng, state):
    """Put a checkpoint's parameters, optimizer state and RNG state back (shapes checked)."""
    for name, saved, live in (
        ("params", state.params, model.params),
        ("opt_state", state.opt_state, epochs_kernel.opt[2]),
    ):
        if saved is None or saved.shape != live.shape or saved.dtype != live.dtype:
            raise FastMLPError(
                f"checkpoint: {name} do not fit this run's network ({None if saved is None else saved.shape} "
                f"vs {live.shape}); was the config changed?"
            )
        live[...] = saved
    if state.rng is not None:
        rng.bit_generator.state = state.rng


@contextlib.contextmanager
def sigterm_as_interrupt():
    """For the block, SIGTERM raises KeyboardInterrupt wherever Python is, as Ctrl-C does, so a
    scheduler's or container's stop ends a command the way Ctrl-C would (inside fit's epochs,
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
def _interrupt_flag():
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

    caught = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.signal(s, handler) for s in caught}
    try:
        yield lambda: bool(pressed)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
