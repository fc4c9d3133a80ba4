"""`fit`: a minibatch run of the training loop (loop.py) from fastmlp's arguments, or an L-BFGS
run (lbfgs.py); and `sample_weights`, the per-sample weights from sample_weight and class_weight."""

from __future__ import annotations

import math

import numpy as np

from . import optimizers
from .errors import ConfigError, FastMLPError
from .history import History
from .loop import Loop, Shuffle, sigterm_as_interrupt
from .minibatches import Minibatches
from .rules import Patience, Schedule

__all__ = ["History", "fit", "require_validation", "sample_weights", "sigterm_as_interrupt"]


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
    checkpoint: a path; the run's state is written there (checkpoint.py) after every epoch (unless
          the last one is younger than ten times what writing it took: loop.CHECKPOINT_SPACING), at
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
    if X.shape[0] == 0:
        raise FastMLPError("the training set is empty")
    w = model.check_weights(sample_weights(model, y[0], sample_weight, class_weight), X.shape[0])
    validation = _validation(model, X_val, y_val, early_stopping)
    if optimizer.full_batch:
        return _fit_full_batch(
            model, X, y, w, validation, epochs, l2, optimizer, callback, resume, dropout, early_stopping
        )
    minibatches = Minibatches(model, X, y, w, int(min(batch_size, X.shape[0])), l2, optimizer, dropout, seed)
    loop = Loop(
        minibatches,
        Patience("val_loss" if validation else "train_loss", early_stopping),
        Schedule(learning_rate, lr_schedule),
        Shuffle(seed, shuffle),
        evaluate=_evaluator(validation),
        keep_best=early_stopping is not None or keep == "best" or (keep == "auto" and validation is not None),
        callback=callback,
        checkpoint=checkpoint,
        checkpoint_seconds=checkpoint_seconds,
    )
    if resume is not None:
        loop.restore(resume)
    return loop.run(epochs, resume)


def require_validation(early_stopping, X_val):
    """ConfigError when early stopping has no validation rows to watch (fit checks it, and
    api.train before it makes a run folder)."""
    if early_stopping and (X_val is None or np.shape(X_val)[0] == 0):
        raise ConfigError(
            "train.early_stopping needs validation data: set data.validation_split > 0 "
            "(fit: pass X_val and y_val)"
        )


def _validation(model, X_val, y_val, early_stopping):
    """(X_val, (y_class, y_target)) checked once, or None without validation rows."""
    require_validation(early_stopping, X_val)
    if X_val is None or np.shape(X_val)[0] == 0:
        return None
    X_val = model.check_X(X_val, "X_val")
    return X_val, model.check_y(y_val, X_val.shape[0], "y_val")


def _evaluator(validation):
    """model -> the epoch row's validation figures, or None without validation data."""
    if validation is None:
        return None
    X_val, (y_class, y_target) = validation

    def evaluate(model):
        metrics = model.metrics(X_val, y_class, y_target)
        return {"val_loss": metrics["loss"], "val_accuracy": metrics.get("accuracy")}

    return evaluate


def _fit_full_batch(
    model, X, y, w, validation, epochs, l2, optimizer, callback, resume, dropout, early_stopping
):
    """The full-batch optimizer's run (L-BFGS), after refusing what only minibatch runs have."""
    from .lbfgs import fit_lbfgs

    if resume is not None:
        raise FastMLPError(f"resume is for minibatch optimizers; {optimizer.name} runs have no checkpoint")
    if dropout or early_stopping:
        raise FastMLPError(optimizers.minibatch_only("dropout" if dropout else "early_stopping", optimizer))
    return fit_lbfgs(
        model,
        X,
        y,
        w,
        max_iter=epochs,
        l2=l2,
        optimizer=optimizer,
        evaluate=_evaluator(validation),
        callback=callback,
    )
