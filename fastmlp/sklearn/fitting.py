"""How the estimators train. sgd and adam: epochs of fastmlp's training loop (loop.Loop) under
scikit-learn's rules (rules.Tolerance on the training loss or the validation score,
rules.SklearnRate), its epoch order (EpochOrder) and its record of each epoch (EpochRecord:
loss_, loss_curve_, validation_scores_); lbfgs: lbfgs.fit_lbfgs on the full batch."""

from __future__ import annotations

import signal
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import shuffle as shuffle_rows

from ..errors import Diverged
from ..lbfgs import fit_lbfgs
from ..loop import Loop
from ..minibatches import Minibatches
from ..optimizers import Optimizer
from ..rules import SklearnRate, Tolerance
from .params import NON_FINITE, SCIPY_FTOL


class EpochOrder:
    """scikit-learn's epoch order: each epoch shuffles the last epoch's order (sklearn.utils.shuffle
    with the estimator's random_state), starting from the rows in order."""

    def __init__(self, n, shuffle, random_state):
        self.order, self.shuffle, self.random_state = np.arange(n, dtype=np.int64), shuffle, random_state

    def __call__(self, n):
        if self.shuffle:
            self.order = shuffle_rows(self.order, random_state=self.random_state)
        return self.order


class EpochRecord:
    """What scikit-learn records and watches after each epoch: loss_ (the data loss, averaged over
    outputs for the squared error, plus (alpha/2) ||W||^2 per minibatch divided by W_B, about
    n_batches / total weight of it, with ||W||^2 averaged over the epoch's first and last
    weights), loss_curve_, n_iter_, and with early stopping the validation score. Called by the
    stopping rule (rules.Tolerance) with the epoch's row; returns the number it watches, lower
    is better: loss_, or the validation score negated."""

    def __init__(self, estimator, minibatches, total_weight, validation):
        self.est, self.validation = estimator, validation
        self.penalty_scale = minibatches.n_batches / total_weight
        self.penalty_before = estimator.model_.l2_penalty(estimator.alpha)

    def __call__(self, row):
        est = self.est
        data_loss = row["train_loss"] / (est.model_.n_outputs if est._mean_over_outputs else 1)
        penalty_after = est.model_.l2_penalty(est.alpha)
        penalty = 0.5 * (self.penalty_before + penalty_after)
        self.penalty_before = penalty_after
        est.loss_ = data_loss + penalty * self.penalty_scale
        if not np.isfinite(est.loss_) and not est.early_stopping:
            raise ValueError(NON_FINITE)
        est.n_iter_ += 1
        est.loss_curve_.append(est.loss_)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
        if self.validation is None:
            return est.loss_
        score = est._score_network_inputs(*self.validation)
        est.validation_scores_.append(score)
        if est.verbose:
            print(f"Validation score: {score:f}")
        return -score

    def say(self, ending):
        """Print, in a verbose fit, why the stopping rule fired and what follows (`ending`)."""
        est = self.est
        if est.verbose:
            what = "Validation score" if est.early_stopping else "Training loss"
            print(
                f"{what} did not improve more than tol={est.tol:f} "
                f"for {est.n_iter_no_change} consecutive epochs. {ending}"
            )


def fit_stochastic(est, X, y_encoded, w, incremental):
    """Epochs over network inputs X and encoded labels y_encoded: max_iter of them, or one for
    partial_fit (incremental), which continues the optimizer, learning rate and step count."""
    if not incremental or getattr(est, "_opt", None) is None:
        est._opt, est._lr, est._step = None, float(est.learning_rate_init), 0
    validation = None
    if est.early_stopping:
        X, X_val, y_encoded, y_val, w, w_val = validation_split(est, X, y_encoded, w)
        validation = (X_val, y_val, w_val)
    minibatches = Minibatches(
        est.model_,
        X,
        est.model_.check_y(y_encoded, y_encoded.shape[0]),
        est.model_.check_weights(w, X.shape[0]),
        est._batch_size(X.shape[0]),
        est.alpha,
        optimizer_of(est),
        dropout=est.dropout,
        # Drawn only with dropout, so the random stream otherwise stays scikit-learn's.
        seed=int(est._random_state.randint(2**31 - 1)) if est.dropout else 0,
        opt=est._opt,
        l2_per_weight=True,
    )
    est._opt = minibatches.opt
    record = EpochRecord(est, minibatches, float(X.shape[0] if w is None else w.sum()), validation)
    best = -est.best_validation_score_ if est.early_stopping else est.best_loss_
    stop = Tolerance(record, est.tol, est.n_iter_no_change, best, est._no_improvement_count)
    kind = est.learning_rate if est.solver == "sgd" else "constant"
    rate = SklearnRate(kind, est._lr, est.power_t, est.t_, est.learning_rate_init, record.say)
    loop = Loop(
        minibatches,
        stop,
        rate,
        EpochOrder(X.shape[0], est.shuffle, est._random_state),
        keep_best=est.early_stopping,
        best_params=est._best_params,
        first_step=est._step,
        signals=(signal.SIGINT,),  # Ctrl-C ends the fit with a warning; SIGTERM ends the process
    )
    est.n_iter_ = 0
    try:
        _run(est, loop, incremental)
    finally:
        est._lr, est.t_ = rate.lr, rate.t
        est._step += est.n_iter_ * minibatches.n_batches
        est._no_improvement_count, est._best_params = stop.waited, loop.best_params
        if est.early_stopping:
            est.best_validation_score_ = -stop.best
            est.model_.params[...] = est._best_params
        else:
            est.best_loss_ = stop.best


def _run(est, loop, incremental):
    """The loop's epochs, with scikit-learn's warnings and errors for how they end."""
    try:
        history = loop.run(1 if incremental else est.max_iter)
    except Diverged as e:
        if not est.early_stopping:
            raise ValueError(NON_FINITE) from None
        # scikit-learn would go on with non-finite weights until its rule stops it, and end with
        # the same best weights.
        warnings.warn(f"{e}; the best epoch's weights are kept", ConvergenceWarning, stacklevel=5)
        return
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.", stacklevel=5)
        return
    if not (incremental or history.stopped_early or est.n_iter_ < est.max_iter):
        warnings.warn(
            f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached and the "
            "optimization hasn't converged yet.",
            ConvergenceWarning,
            stacklevel=5,
        )


def optimizer_of(est):
    """fastmlp's optimizer for the estimator's solver and parameters."""
    if est.solver == "sgd":
        return Optimizer("sgd", {"momentum": est.momentum, "nesterov": est.nesterovs_momentum})
    return Optimizer(
        "adam",
        {"beta_1": est.beta_1, "beta_2": est.beta_2, "epsilon": est.epsilon, "epsilon_hat": True},
    )


def validation_split(est, X, y_encoded, w):
    """scikit-learn's early-stopping split: (X, X_val, y, y_val decoded, w, w_val)."""
    # As booleans, the stratified split's classes are spelled (and sorted) as scikit-learn's.
    stratify = y_encoded.astype(bool) if est._stratify_split else None
    arrays = (X, y_encoded) if w is None else (X, y_encoded, w)
    parts = train_test_split(
        *arrays, random_state=est._random_state, test_size=est.validation_fraction, stratify=stratify
    )
    if parts[1].shape[0] < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' or the size of your dataset."
        )
    X_train, X_val, y_train, y_val = parts[:4]
    w_train, w_val = (parts[4], parts[5]) if w is not None else (None, None)
    return X_train, X_val, y_train, est._decode(y_val), w_train, w_val


def fit_full_batch(est, X, y_encoded, w):
    """lbfgs: SciPy's L-BFGS-B on the full-batch loss, lambda = alpha / total weight."""
    model = est.model_
    total_weight = float(X.shape[0] if w is None else w.sum())
    history = fit_lbfgs(
        model,
        X,
        model.check_y(y_encoded, y_encoded.shape[0]),
        model.check_weights(w, X.shape[0]),
        max_iter=est.max_iter,
        l2=est.alpha / total_weight,
        optimizer=Optimizer("lbfgs", {"max_fun": est.max_fun, "tol": est.tol}),
        ftol=SCIPY_FTOL,
    )
    notes = history.notes
    est.n_iter_ = min(notes["iterations"], est.max_iter)
    est.loss_ = notes["loss"]
    if est._mean_over_outputs:  # reported as scikit-learn's: the squared error's mean over outputs
        penalty = notes["penalty"]
        est.loss_ = (est.loss_ - penalty) / model.n_outputs + penalty
    if not notes["converged"]:
        warnings.warn(
            f"lbfgs failed to converge after {est.n_iter_} iteration(s): {notes['message']}. "
            f"Increase max_iter (now {est.max_iter}) or max_fun (now {est.max_fun}), "
            "or scale the data.",
            ConvergenceWarning,
            stacklevel=4,
        )
