"""The search space of a sweep's grid: each key a list of values, or (for drawn searches, random
and optuna) a distribution written as text: uniform(a, b), loguniform(a, b) (a > 0, uniform in
log space), int(a, b) (an integer in a..b inclusive); choice(a, b, ...) is a list by another
name. Drawing points from it (random search), and whether a value lies in it (optuna's enqueued
runs)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..schema import kind_of

DISTRIBUTION = re.compile(r"^\s*(uniform|loguniform|int)\s*\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)\s*$")
CHOICE = re.compile(r"^\s*choice\s*\((.*)\)\s*$", re.DOTALL)


def space_values(values: Any, key: str, drawn: bool) -> Any:
    """grid.<key>'s values checked: a non-empty list (choice(...) read as one), or with a drawn
    search a distribution (checked now, drawn later)."""
    if isinstance(values, str) and CHOICE.match(values):
        values = _choice(values, key)  # a list by another name, for every search
    if drawn and not isinstance(values, list):
        distribution(values, key)
        return values
    if not isinstance(values, list):
        hint = (
            "; distributions are for search: random or optuna"
            if isinstance(values, str) and DISTRIBUTION.match(values)
            else ""
        )
        raise ConfigError(
            f"grid.{key}: expected a list of values, got {kind_of(values)}"
            f" (write [{point_text(values)}] for a single value){hint}"
        )
    if not values:
        raise ConfigError(f"grid.{key}: the list is empty, so the grid has no runs")
    return values


def point_text(value: Any) -> str:
    """A value as it appears in a run's name: lists joined by x, mappings by commas."""
    if isinstance(value, list):
        return "x".join(point_text(v) for v in value)
    if isinstance(value, Mapping):
        return ",".join(f"{k}:{point_text(v)}" for k, v in value.items())
    return str(value)


def in_space(values: Any, value: Any) -> bool:
    """Whether value is one of a list's values or lies within a distribution's bounds."""
    if isinstance(values, list):
        return value in values
    kind, low, high = distribution(values, "")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return low <= value <= high and (kind != "int" or float(value).is_integer())


def random_points(grid: Mapping[str, Any], trials: int, seed: int) -> list[dict[str, Any]]:
    """trials distinct points, each key drawn from its list (uniformly) or its distribution."""
    rng = np.random.default_rng(seed)
    points: list[dict[str, Any]] = []
    for _ in range(50 * trials):
        point = {key: _draw(values, rng) for key, values in grid.items()}
        if point not in points:
            points.append(point)
            if len(points) == trials:
                return points
    raise ConfigError(
        f"trials: {trials} asked, but the grid holds only {len(points)} distinct points (use search: grid)"
    )


def _draw(values: Any, rng: np.random.Generator) -> Any:
    if isinstance(values, list):
        return values[int(rng.integers(len(values)))]
    kind, low, high = distribution(values, "")
    if kind == "int":
        return int(rng.integers(low, high + 1))
    u = rng.uniform(np.log(low), np.log(high)) if kind == "loguniform" else rng.uniform(low, high)
    return float(f"{(np.exp(u) if kind == 'loguniform' else u):.6g}")


def distribution(text: Any, key: str) -> tuple[str, float, float]:
    """("uniform" | "loguniform" | "int", low, high) from text like loguniform(1e-4, 1e-1)."""
    match = DISTRIBUTION.match(text) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(
            f"grid.{key}: expected a list of values or a distribution uniform(a, b), loguniform(a, b), "
            f"int(a, b) or choice(a, b, ...), got {kind_of(text)}"
        )
    kind = match.group(1)
    try:
        low, high = float(match.group(2)), float(match.group(3))
    except ValueError:
        raise ConfigError(f"grid.{key}: the bounds of {text!r} must be numbers") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ConfigError(f"grid.{key}: {text!r} needs finite bounds a < b")
    if kind == "loguniform" and low <= 0:
        raise ConfigError(f"grid.{key}: {text!r} needs a > 0 (it is uniform in log space)")
    if kind == "int" and not (low.is_integer() and high.is_integer()):
        raise ConfigError(f"grid.{key}: {text!r} needs integer bounds")
    return kind, (int(low) if kind == "int" else low), (int(high) if kind == "int" else high)


def _choice(text: str, key: str) -> list[Any]:
    """choice(a, b, ...) -> [a, b, ...]: the inside read as a YAML flow list, so
    choice([16], [32, 16]) and choice(relu, tanh) both work."""
    import yaml

    inside = CHOICE.match(text).group(1)
    try:
        values = yaml.safe_load(f"[{inside}]")
    except yaml.YAMLError:
        raise ConfigError(
            f"grid.{key}: cannot read the values of {text!r}; write choice(a, b, ...)"
        ) from None
    if not values:
        raise ConfigError(f"grid.{key}: {text!r} has no values")
    return values
