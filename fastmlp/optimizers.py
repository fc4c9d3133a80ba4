"""Optimizer specs: a name and its hyperparameters, checked once, turned into the kernel unit.

    train:
      optimizer: {name: sgd, momentum: 0.9, nesterov: true}
      optimizer: {name: adam, beta_1: 0.9, beta_2: 0.999, epsilon: 1.0e-8}
      optimizer: {name: lbfgs, max_fun: 15000, tol: 1.0e-7}   # full batch, through SciPy

Each entry of PARAMS lists a name's parameters with their defaults and allowed ranges; config.py
validates `train.optimizer` against it, the trainer builds the kernel's (code, hyper, state)
from it. The minibatch optimizers are kernels (fastmlp/kernels/optim.py); L-BFGS is SciPy's,
fed by the kernels' full-batch loss and gradient (fastmlp/lbfgs.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .errors import ConfigError
from .kernels.layout import zeros_aligned
from .kernels.optim import OPTIMIZER_CODES, make_hyper, state_size
from .schema import Param, kind_of, suggest, table_params

# name -> {parameter: its default and range (schema.Param)}.
PARAMS: dict[str, dict[str, Param]] = {
    "sgd": {"momentum": Param(0.0, low=0.0, high=1.0, high_open=True), "nesterov": Param(False, "bool")},
    "adam": {
        "beta_1": Param(0.9, low=0.0, high=1.0, high_open=True),
        "beta_2": Param(0.999, low=0.0, high=1.0, high_open=True),
        "epsilon": Param(1e-8, low=0.0, high=math.inf, high_open=True),
        # true: eps is added to the uncorrected sqrt(v) (TensorFlow's and scikit-learn's Adam)
        "epsilon_hat": Param(False, "bool"),
    },
    # max_fun bounds loss evaluations (train.epochs bounds iterations); tol is SciPy's gtol/ftol.
    "lbfgs": {
        "max_fun": Param(15000, "int", low=1),
        "tol": Param(1e-7, low=0.0, high=math.inf, high_open=True),
    },
}
NAMES = tuple(PARAMS)
FULL_BATCH = ("lbfgs",)


@dataclass
class Optimizer:
    """An optimizer's name and its parameters (every parameter present, defaults filled in)."""

    name: str = "sgd"
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        self.params = {k: p.default for k, p in PARAMS[self.name].items()} | dict(self.params)

    @property
    def full_batch(self) -> bool:
        return self.name in FULL_BATCH

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **self.params}

    def kernel_unit(self, dtype, n_params: int, lr: float) -> OptUnit:
        """The unit the kernels step with: the record cast to dtype, the state zeroed."""
        code = OPTIMIZER_CODES[self.name]
        hyper = make_hyper(dtype, lr, **self.params)
        return OptUnit(code, hyper, zeros_aligned(state_size(code, n_params), dtype))


class OptUnit(NamedTuple):
    """An optimizer as the kernels take it (as a plain tuple: tuple(unit))."""

    code: int  # kernels/optim.py's optimizer code
    hyper: np.ndarray  # the hyperparameter record (LR, MOMENTUM, ...), in the parameters' dtype
    state: np.ndarray  # velocity, or Adam's step count and moments


def parse(value: Any, path: str = "train.optimizer") -> Optimizer:
    """An Optimizer from a name or a mapping {name: ..., params...}; ConfigError naming the key."""
    if value is None:
        value = "sgd"
    if isinstance(value, Optimizer):
        value = value.to_dict()
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{path}: expected an optimizer name or a mapping like {{name: adam}}, got {kind_of(value)}"
        )
    name = value.get("name", "sgd")
    if name not in PARAMS:
        hint = suggest(name, list(PARAMS)) if isinstance(name, str) else ""
        raise ConfigError(f"{path}.name: expected one of {', '.join(NAMES)}, got {kind_of(name)}{hint}")
    whole = f"to replace the whole optimizer, set {path}={name}"
    return Optimizer(name, table_params(value, path, PARAMS[name], repr(name), whole))


def minibatch_only(what: str, optimizer: Optimizer) -> str:
    """The one line refusing a minibatch setting (dropout, early stopping) for a full-batch
    optimizer: config.py checks a config with it, trainer.fit its arguments."""
    return (
        f"{what}: is for minibatch optimizers; train.optimizer {optimizer.name} takes the full batch "
        "(set it to 0 / null, or use sgd or adam)"
    )
