"""Learning-rate schedules: each is a plain function epoch_index (0-based) -> lr.

    constant:         lr
    step:             lr * gamma ** (epoch // step_size)
    cosine:           min_lr + (lr - min_lr) * (1 + cos(pi * epoch / epochs)) / 2
    inverse_scaling:  lr / (epoch + 1) ** power

Each schedule's parameters, with their defaults and ranges, are in PARAMS; `parse` checks a
config's train.lr_schedule against it, `make_schedule` builds one from a config's train section;
the training loop calls it at the start of each epoch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from .errors import ConfigError
from .schema import Param, choice, kind_of, table_params

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
# name -> {parameter: its default and range}, for every schedule in SCHEDULES.
PARAMS: dict[str, dict[str, Param]] = {
    "constant": {},
    "step": {"step_size": Param(10, "int", low=1), "gamma": Param(0.1, low=0.0, high=1.0, low_open=True)},
    "cosine": {"min_lr": Param(0.0, low=0.0)},
    "inverse_scaling": {"power": Param(0.5, low=0.0)},
}


def parse(value: Any, path: str = "train.lr_schedule") -> tuple[str, dict[str, Any]]:
    """(name, parameters with defaults) from a schedule name or a mapping {name: ..., params}."""
    if value is None:
        value = "constant"
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{path}: expected a schedule name or a mapping like {{name: cosine}}, got {kind_of(value)}"
        )
    name = choice(value.get("name", "constant"), f"{path}.name", tuple(PARAMS))
    whole = f"to replace a whole schedule, set {path}={name}"
    return name, table_params(value, path, PARAMS[name], f"the {name!r} schedule", whole)


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
