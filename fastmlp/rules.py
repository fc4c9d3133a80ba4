"""The rules the training loop (loop.py) consults: what learning rate an epoch runs at, and what
an epoch's end means: an improvement (its weights become the best), a plateau (the run stops,
unless the learning-rate rule answers it by lowering the rate), or neither.

Every rule watches one number w_e per epoch e, lower is better: a loss, or a score negated.

fastmlp's own rules (`fastmlp train`, `fastmlp.fit`):
    Patience    w_e = the validation loss (or the training loss without validation data);
                improved when w_e < best; a plateau after `patience` epochs in a row without
                improvement (patience None: never).
    Schedule    lr_e = schedule(e - 1), or a constant; a plateau is never answered.

scikit-learn's (the estimators), as its MLP documents them:
    Tolerance   an epoch counts as "no improvement" when w_e > best - tol; a plateau when more
                than n_iter_no_change of them come in a row; improved when w_e < best.
    SklearnRate constant; invscaling, after each epoch lr = lr_0 / (t + 1)^power_t with t the
                samples seen; adaptive, a plateau divides lr by 5 and training goes on, until lr
                has come down to ADAPTIVE_MIN_LR.

A stopping rule's state (best, waited) is what a checkpoint keeps of it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

# sgd with learning_rate="adaptive" stops once lr has been divided down to this (scikit-learn's).
ADAPTIVE_MIN_LR = 1e-6


class Verdict(NamedTuple):
    """An epoch's end as a stopping rule reads it."""

    improved: bool  # the watched number is the best so far: these weights are the best weights
    plateau: bool  # the rule's patience is spent: stop, unless the rate rule answers it


class Patience:
    """fastmlp's early stopping: watch `key` of the epoch's row; stop after `patience` epochs
    (None: never) without a new best."""

    def __init__(self, key, patience=None, best=math.inf, waited=0):
        self.key, self.patience = key, patience
        self.best, self.waited = best, waited

    def update(self, row):
        watched = row[self.key]
        if watched < self.best:
            self.best, self.waited = watched, 0
            return Verdict(True, False)
        self.waited += 1
        return Verdict(False, self.patience is not None and self.waited >= self.patience)

    def restart(self):
        self.waited = 0


class Tolerance:
    """scikit-learn's stopping rule: w_e = watch(row), improvement only beyond tol, a plateau after
    more than n_iter_no_change epochs without one."""

    def __init__(self, watch, tol, n_iter_no_change, best=math.inf, waited=0):
        self.watch, self.tol, self.n_iter_no_change = watch, tol, n_iter_no_change
        self.best, self.waited = best, waited

    def update(self, row):
        watched = self.watch(row)
        self.waited = self.waited + 1 if watched > self.best - self.tol else 0
        improved = watched < self.best
        if improved:
            self.best = watched
        return Verdict(improved, self.waited > self.n_iter_no_change)

    def restart(self):
        self.waited = 0


class Schedule:
    """lr_e = schedule(e - 1) (epochs counted from 1), or `constant` without a schedule."""

    def __init__(self, constant, schedule=None):
        self.constant, self.schedule = float(constant), schedule

    def rate(self, epoch):
        return float(self.schedule(epoch - 1)) if self.schedule is not None else self.constant

    def epoch_end(self, samples):
        pass

    def answer_plateau(self):
        """Whether a plateau is answered (training goes on): never, here."""
        return False


class SklearnRate:
    """scikit-learn's learning_rate rules; `t` counts the samples seen (the estimator's t_),
    `say` prints what verbose fits print."""

    def __init__(self, kind, lr, power_t=0.5, t=0, lr_init=None, say=None):
        self.kind, self.lr, self.power_t, self.t = kind, float(lr), power_t, t
        self.lr_init = float(lr if lr_init is None else lr_init)
        self.say = say or (lambda message: None)

    def rate(self, epoch):
        return self.lr

    def epoch_end(self, samples):
        self.t += samples
        if self.kind == "invscaling":
            self.lr = self.lr_init / (self.t + 1) ** self.power_t

    def answer_plateau(self):
        if self.kind != "adaptive":
            self.say("Stopping.")
            return False
        if self.lr <= ADAPTIVE_MIN_LR:
            self.say("Learning rate too small. Stopping.")
            return False
        self.lr /= 5.0
        self.say(f"Setting learning rate to {self.lr:f}")
        return True
