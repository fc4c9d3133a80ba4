"""The one validator for user-facing settings: unknown keys with a did-you-mean, one checker per
kind of value (integer, number, boolean, text, choice), and how to name a value in a one-line
error. config.py, optimizers.py, data/spec.py and sweep/spec.py declare their fields with these;
`error` picks the exception (ConfigError for config keys, DataError for data keys)."""

from __future__ import annotations

import difflib
import math
import numbers
import re
import reprlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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


# An echoed value is cut to this many characters: a whole file pasted into one line helps no one.
ECHO_CHARS = 60


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxtuple = 2, 4, 4, 4
_SHORT.maxstring = _SHORT.maxother = ECHO_CHARS


def echo(value: Any) -> str:
    """A short repr of value: strings cut to ECHO_CHARS (saying the full length), containers to
    a few items and two levels, so that echoing a pasted file or an alias bomb stays one short line."""
    if isinstance(value, str) and len(value) > ECHO_CHARS:
        return f"{value[:ECHO_CHARS]!r}... ({len(value)} characters)"
    return _SHORT.repr(value)


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {value!r}"
    if isinstance(value, (int, float, str)):
        return f"{type(value).__name__} {echo(value)}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def is_real(value: Any) -> bool:
    """An int or float (NumPy's too), not a bool (a subclass of int, but a category, not a scale)
    and not None."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def integer(
    value: Any,
    path: str,
    low: int | None = None,
    high: int | None = None,
    error: type = ConfigError,
    meaning: str = "",
) -> int:
    """value as an int in [low, high]; `meaning` (what the number counts) makes every message
    state the bounds and the meaning: "cv: expected an integer >= 2 (the number of folds), got ..."."""
    if meaning:
        bounds = "".join(f" {op} {b}" for op, b in ((">=", low), ("<=", high)) if b is not None)
        bad = isinstance(value, bool) or not isinstance(value, int)
        if bad or (low is not None and value < low) or (high is not None and value > high):
            raise error(f"{path}: expected an integer{bounds} ({meaning}), got {kind_of(value)}")
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{path}: expected an integer, got {kind_of(value)}")
    if low is not None and value < low:
        raise error(f"{path}: expected an integer >= {low}, got {value}")
    if high is not None and value > high:
        raise error(f"{path}: expected an integer <= {high}, got {value}")
    return value


def number(
    value: Any,
    path: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    error: type = ConfigError,
) -> float:
    """value as a finite float in the interval [low, high] (each end open on request)."""
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    rng = f"{lo}{-math.inf if low is None else low:g}, {math.inf if high is None else high:g}{hi}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        bounded = f" in {rng}" if low is not None or high is not None else ""
        raise error(f"{path}: expected a number{bounded}, got {kind_of(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise error(f"{path}: expected a finite number in {rng}, got {value}")
    if (low is not None and (value < low or (low_open and value == low))) or (
        high is not None and (value > high or (high_open and value == high))
    ):
        raise error(f"{path}: expected a number in {rng}, got {value:g}")
    return value


def boolean(value: Any, path: str, error: type = ConfigError) -> bool:
    if not isinstance(value, bool):
        raise error(f"{path}: expected true or false, got {kind_of(value)}")
    return value


def text(value: Any, path: str, error: type = ConfigError) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        raise error(f"{path}: expected a non-empty string, got {kind_of(value)}")
    return value


def plain_name(value: Any, path: str, error: type = ConfigError) -> str:
    """A non-empty string that names one folder: no path separators, not . or .. (output.name of
    a run and of a sweep)."""
    if not isinstance(value, str) or not value or "/" in value or "\\" in value or value in (".", ".."):
        raise error(f"{path}: expected a plain name without path separators, got {kind_of(value)}")
    return value


def choice(value: Any, path: str, choices: tuple[str, ...], error: type = ConfigError) -> str:
    """One of choices, with a did-you-mean."""
    if not isinstance(value, str) or value not in choices:
        hint = suggest(value, list(choices)) if isinstance(value, str) else ""
        raise error(f"{path}: expected one of {', '.join(choices)}, got {kind_of(value)}{hint}")
    return value


@dataclass(frozen=True)
class Param:
    """One parameter of a named thing (an optimizer, a learning-rate schedule): its default and
    the values it accepts. kind: "float" (a finite number in the interval), "int" or "bool"."""

    default: Any
    kind: str = "float"
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def check(self, value: Any, path: str) -> Any:
        if self.kind == "bool":
            return boolean(value, path)
        if self.kind == "int":
            return integer(value, path, low=self.low, high=self.high)
        return number(value, path, self.low, self.high, self.low_open, self.high_open)


def table_params(
    raw: Mapping[str, Any], path: str, table: Mapping[str, Param], owner: str, whole: str
) -> dict:
    """raw's parameters (every key but name) checked against table, the defaults filled in. An
    unknown key is one line naming the owner's parameters: owner is how the message names what
    they belong to ("'adam'", "the 'step' schedule"), whole how to replace it all."""
    for key in raw:
        if key != "name" and key not in table:
            raise ConfigError(
                f"{path}.{key}: not a parameter of {owner}{suggest(str(key), list(table))} "
                f"(its parameters: {', '.join(table) or 'none'}; {whole})"
            )
    return {key: p.check(raw[key], f"{path}.{key}") if key in raw else p.default for key, p in table.items()}
