"""Small shared checks for user-facing settings: unknown keys with a did-you-mean, and how to
name a value in a one-line error. Used by config.py, optimizers.py, sweep/spec.py."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import ConfigError


def check_keys(raw: Mapping[str, Any], known: Iterable[str], prefix: str) -> None:
    known = list(known)
    for key in raw:
        if not isinstance(key, str):
            raise ConfigError(f"{prefix}{key!r}: keys must be strings, got {kind_of(key)}")
        if key not in known:
            where = f"in {prefix[:-1]}" if prefix else "at the top level"
            shown = key if re.fullmatch(r"[\w-]+", key) else repr(key)
            raise ConfigError(
                f"{prefix}{shown}: unknown key{suggest(key, known)} (known {where}: {', '.join(known)})"
            )


# Names other libraries use for our keys, so their users get a pointed hint.
ALIASES = {
    "lr": "learning_rate",
    "learning_rate_init": "learning_rate",
    "weight_decay": "l2",
    "alpha": "l2",
    "n_epochs": "epochs",
    "max_epochs": "epochs",
    "max_iter": "epochs",
    "batch": "batch_size",
    "hidden_layers": "hidden",
    "hidden_layer_sizes": "hidden",
    "hidden_sizes": "hidden",
    "layers": "hidden",
    "patience": "early_stopping",
    "scheduler": "lr_schedule",
    "schedule": "lr_schedule",
    "random_state": "seed",
    "dataset": "data",
    "out": "output",
    "output_dir": "dir",
}


def suggest(key: str, known: list[str]) -> str:
    """'; did you mean ...?' naming the closest known key, or ''."""
    alias = ALIASES.get(key)
    if alias in known:
        return f"; did you mean {alias!r}?"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {value!r}"
    if isinstance(value, (int, float, str)):
        return f"{type(value).__name__} {value!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
