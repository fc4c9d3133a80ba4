"""The training loop's rules (rules.py) and the loop's use of them (loop.Loop), against sequences
worked out by hand from the rules as scikit-learn documents them; the loop is driven by a stand-in
for the epoch kernel that reports chosen losses, so each epoch's verdict is known in advance."""

import math
import warnings

import numpy as np
import pytest

from fastmlp import MLP
from fastmlp.errors import Diverged
from fastmlp.loop import Loop, Shuffle
from fastmlp.minibatches import EpochSums
from fastmlp.rules import ADAPTIVE_MIN_LR, Patience, Schedule, SklearnRate, Tolerance


def verdicts(rule, values, key="train_loss"):
    return [tuple(rule.update({key: v})) for v in values]


def test_tolerance_counts_epochs_that_improve_by_less_than_tol():
    rule = Tolerance(lambda row: row["train_loss"], tol=0.1, n_iter_no_change=2)
    # best - tol: inf, 0.9, 0.85, 0.83, 0.4, 0.35, 0.34 -> counts 0, 1, 2, 0, 1, 2, 3
    got = verdicts(rule, [1.0, 0.95, 0.93, 0.5, 0.45, 0.44, 0.43])
    assert [improved for improved, _ in got] == [True] * 7
    assert [plateau for _, plateau in got] == [False] * 6 + [True]
    assert rule.best == 0.43 and rule.waited == 3


def test_tolerance_worse_epochs_do_not_move_the_best():
    rule = Tolerance(lambda row: row["train_loss"], tol=0.0, n_iter_no_change=1)
    # counts 0, 1, 0 (equal to the best is not above best - tol), 1, 2 (> 1: a plateau)
    got = verdicts(rule, [1.0, 2.0, 1.0, 3.0, 3.0])
    assert got == [(True, False), (False, False), (False, False), (False, False), (False, True)]
    assert rule.best == 1.0


def test_patience_stops_after_that_many_epochs_without_a_new_best():
    rule = Patience("val_loss", patience=2)
    got = verdicts(rule, [1.0, 0.8, 0.8, 0.9, 0.7], key="val_loss")
    assert got == [(True, False), (True, False), (False, False), (False, True), (True, False)]
    assert verdicts(Patience("val_loss"), [1.0] * 50, key="val_loss")[-1] == (False, False)


def test_invscaling_follows_the_samples_seen():
    rate = SklearnRate("invscaling", 0.2, power_t=0.25, t=0)
    seen = []
    for _ in range(3):
        seen.append(rate.rate(1))
        rate.epoch_end(100)
    assert seen == pytest.approx([0.2, 0.2 / 101**0.25, 0.2 / 201**0.25], rel=1e-15)
    assert rate.t == 300 and not rate.answer_plateau()


def test_adaptive_divides_by_five_until_the_floor():
    said = []
    rate = SklearnRate("adaptive", 1e-4, say=said.append)
    answers = [rate.answer_plateau() for _ in range(5)]
    # 1e-4 -> 2e-5 -> 4e-6 -> 8e-7 (<= 1e-6): the fourth plateau stops
    assert answers == [True, True, True, False, False]
    assert rate.lr == pytest.approx(1e-4 / 125) and rate.lr <= ADAPTIVE_MIN_LR
    assert said[0].startswith("Setting learning rate to") and said[-1].endswith("Stopping.")
    assert SklearnRate("constant", 0.1).answer_plateau() is False


def test_schedule_gives_each_epoch_its_rate():
    assert Schedule(0.5).rate(7) == 0.5
    assert [Schedule(0.5, lambda e: 1.0 / (e + 1)).rate(e) for e in (1, 2, 3)] == [1.0, 0.5, 1 / 3]


class ScriptedMinibatches:
    """A stand-in for minibatches.Minibatches whose epochs report the given losses and move the
    weights to the epoch's number, so the weights a run ends with say which epoch they are from."""

    def __init__(self, losses, n=10):
        self.model = MLP([2, 3], task="regression", dtype="float64")
        self.losses, self.n, self.n_batches = list(losses), n, 1
        self.blas_threads, self.rates, self.epoch = None, [], 0

    def run(self, order, lr, first, last, step0):
        self.rates.append(lr)
        self.epoch += 1
        self.model.params[...] = self.epoch
        return EpochSums(self.losses.pop(0) * self.n, 0, float(self.n), self.n)


def test_the_loop_answers_plateaus_with_the_rate_rule_then_stops():
    losses = [1.0] * 10
    mb = ScriptedMinibatches(losses)
    stop = Tolerance(lambda row: row["train_loss"], tol=1e-4, n_iter_no_change=1)
    rate = SklearnRate("adaptive", 1e-5)
    history = Loop(mb, stop, rate, Shuffle(0)).run(epochs=len(losses))
    # counts 0, 1, 2 (a plateau: lr 1e-5 / 5, count 0), 1, 2 (lr / 5 again), 1, 2: lr 4e-7 is at
    # the floor, so that plateau stops the run
    assert mb.rates == pytest.approx([1e-5] * 3 + [2e-6] * 2 + [4e-7] * 2, rel=1e-12)
    assert history.stopped_early and len(history.rows) == 7


def test_the_loop_keeps_the_best_epoch_only_when_asked():
    for keep_best, expected in ((True, 2.0), (False, 4.0)):
        mb = ScriptedMinibatches([3.0, 1.0, 2.0, 2.5])
        history = Loop(mb, Patience("train_loss"), Schedule(0.1), Shuffle(0), keep_best=keep_best).run(4)
        assert history.best_epoch == 2 and (mb.model.params == expected).all()
        assert history.kept_epoch == (2 if keep_best else 4)


def test_the_loop_raises_diverged_naming_the_epoch():
    mb = ScriptedMinibatches([1.0, math.nan])
    with pytest.raises(Diverged, match="epoch 2, minibatch 1 of 1"):
        Loop(mb, Patience("train_loss"), Schedule(0.1), Shuffle(0)).run(5)


@pytest.mark.slow
@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_diverging_estimator_fit_raises_or_keeps_its_best_weights(early_stopping):
    """Through the estimators: a learning rate that blows the weights up ends in scikit-learn's
    ValueError, or with early stopping in the best epoch's (finite) weights and a warning."""
    pytest.importorskip("sklearn")
    from sklearn.exceptions import ConvergenceWarning

    from fastmlp import MLPRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) * 1e3
    params = dict(solver="sgd", learning_rate_init=10.0, momentum=0.0, max_iter=30, random_state=0)
    reg = MLPRegressor(early_stopping=early_stopping, **params)
    if not early_stopping:
        with pytest.raises(ValueError, match="non-finite parameter weights"):
            reg.fit(X, y)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg.fit(X, y)
    assert any(issubclass(w.category, ConvergenceWarning) and "diverged" in str(w.message) for w in caught)
    assert np.isfinite(reg.model_.params).all() and reg.n_iter_ >= 1
