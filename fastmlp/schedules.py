"""Learning-rate schedules: each is a plain function epoch_index (0-based) -> lr.

    constant:         lr
    step:             lr * gamma ** (epoch // step_size)
    cosine:           min_lr + (lr - min_lr) * (1 + cos(pi * epoch / epochs)) / 2
    inverse_scaling:  lr / (epoch + 1) ** power

`make_schedule` builds one from a config's train section; the trainer calls it
at the start of each epoch.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .errors import ConfigError

Schedule = Callable[[int], float]


def constant(lr: float) -> Schedule:
    return lambda epoch: lr


def step(lr: float, step_size: int = 10, gamma: float = 0.1) -> Schedule:
    return lambda epoch: lr * gamma ** (epoch // step_size)


def cosine(lr: float, epochs: int, min_lr: float = 0.0) -> Schedule:
    return lambda epoch: min_lr + (lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))


def inverse_scaling(lr: float, power: float = 0.5) -> Schedule:
    return lambda epoch: lr / (epoch + 1) ** power


SCHEDULES = {"constant": constant, "step": step, "cosine": cosine, "inverse_scaling": inverse_scaling}


def make_schedule(name: str, learning_rate: float, epochs: int, **params) -> Schedule:
    """The schedule `name` with its params; `epochs` is the horizon (cosine uses it)."""
    if name not in SCHEDULES:
        raise ConfigError(
            f"train.lr_schedule.name: unknown schedule {name!r}; expected one of {', '.join(SCHEDULES)}"
        )
    if name == "cosine":
        return cosine(learning_rate, epochs, **params)
    return SCHEDULES[name](learning_rate, **params)


def from_config(train) -> Schedule:
    """The schedule of a TrainConfig."""
    s = train.lr_schedule
    return make_schedule(s.name, train.learning_rate, train.epochs, **s.params)
