"""The sweep file: a base config, a grid over dotted keys, seeds, and how to rank the runs.

    base: ../digits.yaml          # a config path (relative to this file) or an inline mapping
    set: {train.epochs: 3}        # optional: overrides applied to every run
    grid:                         # dotted key -> list of values; the Cartesian product
      train.learning_rate: [0.01, 0.1]
      model.hidden: [[32], [64]]
    runs:                         # optional: explicit override sets, run besides the grid
      - {train.momentum: 0.0}
    seeds: [0, 1, 2]              # or `repeats: 3` (seeds base.seed .. base.seed + 2)
    search: grid                  # grid (every point) | random (`trials` points drawn from grid:)
                                  # | optuna (`trials` points proposed by Optuna's TPE, pruned)
    trials: 20                    # random/optuna: how many points; search_seed: 0 seeds the draws
    cv: 5                         # optional: each point trained once per fold (k-fold on the
                                  # training rows, stratified by class); results = fold mean, std
    metric: val_accuracy          # a summary.json key: {train,val,test}_{accuracy,loss,rmse,mae,r2}
    direction: max                # max | min (default: min for loss/rmse/mae, else max)
    output: {dir: runs/sweeps, name: digits_tiny}   # the sweep folder is dir/name

With search: random, each grid key is a list (a uniform choice among its values) or a
distribution written as text: uniform(a, b), loguniform(a, b) (a > 0; uniform in log space),
int(a, b) (an integer in a..b inclusive), choice(a, b, ...) (the same as the list [a, b, ...]).
Draws are rounded to 6 significant digits, repeated points are drawn again, and the same
search_seed gives the same points.

With search: optuna (the optuna extra), the same grid is Optuna's search space and each trial's
point is proposed by its TPE sampler from the results so far; a trial whose validation loss
falls behind the median of the finished trials' at the same epoch is pruned (stopped). Its
settings are Optuna's own parameter names:

    sampler: {n_startup_trials: 10}                 # TPESampler: random trials before TPE
    pruner: {n_startup_trials: 5, n_warmup_steps: 0, interval_steps: 1}   # MedianPruner; null: off

A runs: list there holds trials to evaluate first (Optuna's enqueue_trial), keys of the grid only.
See optuna_search.py for how trials run on the executors.

Every run's config is built with config.py's own override parsing and validated
before anything runs, so an unknown key fails with the same one-line ConfigError
(and the same "did you mean" hint) as `fastmlp train --set`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config, apply_overrides, load_config, parse_override, read_yaml_file, resolve_paths
from ..errors import ConfigError
from ..schema import check_keys, integer, kind_of, plain_name, suggest
from ..tasks import METRICS, SPLITS, lower_is_better
from .space import distribution, in_space, point_text, random_points, space_values

SWEEP_KEYS = (
    "base",
    "set",
    "grid",
    "runs",
    "seeds",
    "repeats",
    "search",
    "trials",
    "search_seed",
    "sampler",
    "pruner",
    "cv",
    "metric",
    "direction",
    "output",
)
SEARCHES = ("grid", "random", "optuna")
DRAWN = ("random", "optuna")  # searches whose grid keys may be distributions, with trials:
# Optuna's own parameter names and defaults (TPESampler, MedianPruner); only these are accepted.
SAMPLER_DEFAULTS = {"n_startup_trials": 10}
PRUNER_DEFAULTS = {"n_startup_trials": 5, "n_warmup_steps": 0, "interval_steps": 1}
DEFAULT_DIR = "runs/sweeps"


@dataclass
class SweepSpec:
    """A parsed, checked sweep file. `base` is the base config's raw mapping."""

    base: dict[str, Any]
    base_source: Path | None = None
    fixed: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)
    seeds: list[int] | None = None
    metric: str = "val_accuracy"
    direction: str = "max"
    output_dir: str = DEFAULT_DIR
    name: str = "sweep"
    source: Path | None = None
    search: str = "grid"
    trials: int | None = None
    search_seed: int = 0
    sampler: dict[str, int] = field(default_factory=dict)  # search: optuna; Optuna's defaults when empty
    pruner: dict[str, int] | None = field(default_factory=dict)  # None: no pruning
    cv: int | None = None  # k folds, or None: data.validation_split as in the base config

    @property
    def directory(self) -> Path:
        return Path(self.output_dir) / self.name

    def to_dict(self) -> dict[str, Any]:
        """The sweep as a mapping (base inlined); load_sweep(it) gives the same runs."""
        out: dict[str, Any] = {"base": self.base, "set": self.fixed, "grid": self.grid, "runs": self.runs}
        if self.seeds is not None:
            out["seeds"] = self.seeds
        if self.search != "grid":
            out.update(search=self.search, trials=self.trials, search_seed=self.search_seed)
        if self.search == "optuna":
            out.update(sampler=self.sampler, pruner=self.pruner)
        if self.cv is not None:
            out["cv"] = self.cv
        out.update(
            metric=self.metric, direction=self.direction, output={"dir": self.output_dir, "name": self.name}
        )
        return out


@dataclass
class Run:
    """One run of a sweep: its overrides (the swept values), seed, validated config and folder name."""

    index: int
    overrides: dict[str, Any]
    seed: int
    config: Config
    name: str
    fold: int | None = None  # cv: which fold is this run's validation set (the name ends /fold=i)
    trial: int | None = None  # search: optuna: the trial's number

    @property
    def point(self) -> str:
        """The grid point (the overrides without the seed), as text: the group for mean ± std."""
        return point_label(self.overrides)


def point_label(overrides: Mapping[str, Any]) -> str:
    return (
        ", ".join(f"{k}={json.dumps(v) if isinstance(v, (list, dict)) else v}" for k, v in overrides.items())
        or "(base)"
    )


def load_sweep(path_or_mapping: str | Path | Mapping[str, Any] | SweepSpec) -> SweepSpec:
    """A checked SweepSpec from a sweep YAML file or a mapping (or a SweepSpec, returned as is)."""
    if isinstance(path_or_mapping, SweepSpec):
        return path_or_mapping
    source = None
    if isinstance(path_or_mapping, Mapping):
        raw = path_or_mapping
    elif isinstance(path_or_mapping, (str, Path)):
        source = Path(path_or_mapping)
        raw = read_yaml_file(source)
    else:
        raise ConfigError(f"a sweep is a YAML file path or a mapping, not {type(path_or_mapping).__name__}")
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"{source or 'sweep'}: expected a mapping with base:, grid:, ..., got {kind_of(raw)}"
        )
    check_keys(raw, SWEEP_KEYS, "")
    base, base_source = _base(raw.get("base"), source)
    fixed = _overrides(raw.get("set") or {}, "set")
    search = raw.get("search", "grid")
    if search not in SEARCHES:
        raise ConfigError(f"search: expected one of {', '.join(SEARCHES)}, got {kind_of(search)}")
    if search == "optuna":
        from .pruning import require_optuna

        require_optuna()  # before anything is planned or run
    grid = _grid(raw.get("grid"), search)
    trials, search_seed = _draws(raw, search)
    sampler, pruner = _optuna_settings(raw, search)
    cv = _cv(raw.get("cv"))
    explicit = _runs(raw.get("runs"))
    if not grid and not explicit:
        raise ConfigError("grid: empty; give at least one key with a list of values (or a runs: list)")
    if search == "optuna":
        _check_enqueued(explicit, grid)
    if cv is not None and any("data.fold" in o for o in [grid, fixed, *explicit]):
        raise ConfigError("cv: data.fold is set by cv:; do not set it in grid/set/runs")
    seeds = _seeds(raw, base)
    if seeds is not None and any("seed" in o for o in [grid, fixed, *explicit]):
        raise ConfigError("seeds: the seed is also set in grid/set/runs; use one or the other")
    metric, direction = _metric(raw)
    directory, name = _output(raw, source)
    return SweepSpec(
        base=base,
        base_source=base_source,
        fixed=fixed,
        grid=grid,
        runs=explicit,
        seeds=seeds,
        metric=metric,
        direction=direction,
        output_dir=directory,
        name=name,
        source=source,
        search=search,
        trials=trials,
        search_seed=search_seed,
        sampler=sampler,
        pruner=pruner,
        cv=cv,
    )


def expand(spec: SweepSpec) -> list[Run]:
    """Every run of the sweep, each config validated: grid points, then explicit runs, times
    seeds (times folds with cv:).

    With search: optuna the points are proposed while the sweep runs, so this returns no runs;
    it still validates a probe point for every list value and every bound of the space.
    Raises ConfigError naming the run and the bad key before anything is trained.
    """
    keys = list(spec.grid)
    if spec.search == "optuna":
        probes = [r for i, point in enumerate(probe_points(spec.grid)) for r in point_runs(spec, point, i)]
        _check_folds(spec, probes)
        return []
    if spec.search == "random":
        points = random_points(spec.grid, spec.trials, spec.search_seed)
    elif keys:
        points = [dict(zip(keys, values, strict=True)) for values in itertools.product(*spec.grid.values())]
    else:
        points = []
    for extra in spec.runs:
        if extra not in points:
            points.append(extra)
    runs: list[Run] = []
    for point in points:
        runs += point_runs(spec, point, len(runs))
    _check_folds(spec, runs)
    return runs


def point_runs(spec: SweepSpec, point: Mapping[str, Any], index: int, trial: int | None = None) -> list[Run]:
    """The runs of one point: one per seed (and per fold with cv:), configs validated, numbered
    from index. trial: an Optuna trial's number, which starts the folder names (two trials may
    propose the same point)."""
    base = apply_overrides(spec.base, _as_strings(spec.fixed))
    overrides = {**spec.fixed, **point}
    folds = range(spec.cv) if spec.cv is not None else [None]
    runs: list[Run] = []
    for seed in spec.seeds if spec.seeds is not None else [None]:
        for fold in folds:
            texts = _as_strings(point) + ([f"seed={seed}"] if seed is not None else [])
            if fold is not None:
                texts.append(f"data.fold=[{spec.cv}, {fold}]")
            try:
                config = load_config(base, texts)
            except ConfigError as exc:
                raise ConfigError(f"sweep run {point_label(overrides)}: {exc}") from None
            config.source = spec.base_source
            name = run_name(point, config.seed)
            if trial is not None:
                name = f"trial={trial:03d}_{name}"
            # The folds of a point share its folder, each in a subfolder: the folder says the fold.
            config.output.name = name if fold is None else f"fold={fold}"
            if fold is not None:
                name = f"{name}/fold={fold}"
            runs.append(
                Run(
                    index=index + len(runs),
                    overrides=dict(point),
                    seed=config.seed,
                    config=config,
                    name=name,
                    fold=fold,
                    trial=trial,
                )
            )
    return runs


def probe_points(grid: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Points that between them hold every list value and both bounds of every distribution,
    each varying one key from the first point: enough to validate a search space up front."""
    options = {
        key: values if isinstance(values, list) else list(distribution(values, key)[1:])
        for key, values in grid.items()
    }
    first = {key: values[0] for key, values in options.items()}
    points = [first]
    for key, values in options.items():
        points += [{**first, key: value} for value in values[1:]]
    return points


def _check_folds(spec: SweepSpec, runs: list[Run]) -> None:
    """cv: every class must have k training rows; found now by loading each distinct data
    section once (fold 0), as one line, rather than as k failed runs per point."""
    if spec.cv is None:
        return
    from ..data import load_dataset
    from ..errors import DataError

    seen = set()
    for run in runs:
        key = json.dumps(run.config.data, sort_keys=True, default=str)
        if run.fold != 0 or key in seen:
            continue
        seen.add(key)
        config = run.config
        try:
            load_dataset(config.data, seed=config.seed, dtype=config.model.dtype, task=config.model.task)
        except DataError as exc:
            text = str(exc)
            if text.startswith("data.fold:"):
                raise ConfigError(f"cv: {spec.cv}:{text.removeprefix('data.fold:')}") from None
            # Any other data problem is reported by the data checks before the runs, or by the runs.


def run_name(overrides: Mapping[str, Any], seed: int) -> str:
    """A folder name fixed by the overrides and seed: readable, filesystem-safe, unique by a hash.

    {"train.learning_rate": 0.1, "model.hidden": [64]} , 0 -> learning_rate=0.1_hidden=64_seed=0-1a2b3c4d
    """
    canonical = json.dumps({"overrides": overrides, "seed": seed}, sort_keys=True, default=str)
    digest = hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:8]
    parts = [f"{k.rsplit('.', 1)[-1]}={point_text(v)}" for k, v in overrides.items()] + [f"seed={seed}"]
    readable = re.sub(r"[^A-Za-z0-9.=,+-]+", "_", "_".join(parts)).strip("_")[:80]
    return f"{readable}-{digest}"


# ---------------------------------------------------------------- sections


def _base(value: Any, source: Path | None) -> tuple[dict[str, Any], Path | None]:
    if value is None:
        raise ConfigError("base: missing; give a config path (relative to the sweep file) or a mapping")
    if isinstance(value, Mapping):
        return dict(value), None
    if not isinstance(value, str):
        raise ConfigError(f"base: expected a config path or a mapping, got {kind_of(value)}")
    path = Path(value)
    if not path.is_absolute() and source is not None:
        path = source.parent / path
    raw = read_yaml_file(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"base: {path} is not a config mapping, got {kind_of(raw)}")
    # Its data files are relative to its own folder, as when it is trained alone.
    return dict(resolve_paths(raw, path.resolve().parent)), path


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{train: {learning_rate: [..]}} -> {"train.learning_rate": [..]}; dotted keys pass through."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        if not isinstance(key, str):
            raise ConfigError(f"{prefix}{key!r}: keys must be strings, got {kind_of(key)}")
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _overrides(value: Any, where: str) -> dict[str, Any]:
    """A mapping of dotted key -> value; each key checked by config.parse_override's rules."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping of dotted keys to values, got {kind_of(value)}")
    flat = _flatten(value)
    for key in flat:
        try:
            parse_override(f"{key}=null")
        except ConfigError:
            raise ConfigError(
                f"{where}.{key}: expected a dotted config key like train.learning_rate"
            ) from None
    return flat


def _optuna_settings(raw: Mapping[str, Any], search: str) -> tuple[dict[str, int], dict[str, int] | None]:
    """(sampler, pruner) settings: Optuna's parameter names, defaults filled in; pruner None: off."""
    given = [key for key in ("sampler", "pruner") if key in raw]
    if search != "optuna":
        if given:
            raise ConfigError(f"{given[0]}: is for search: optuna")
        return {}, {}
    sampler = _settings(raw.get("sampler") or {}, "sampler", SAMPLER_DEFAULTS)
    pruner = raw.get("pruner", {})
    if pruner is None or pruner is False or pruner == "none":
        return sampler, None
    return sampler, _settings(pruner or {}, "pruner", PRUNER_DEFAULTS)


def _draws(raw: Mapping[str, Any], search: str) -> tuple[int | None, int]:
    """(trials, search_seed): how many points a drawn search (random, optuna) proposes."""
    trials = raw.get("trials")
    if search in DRAWN:
        integer(trials, f"trials: search {search} needs trials", low=1)
    elif trials is not None:
        raise ConfigError("trials: is for search: random or optuna (a grid runs every point)")
    return trials, integer(raw.get("search_seed", 0), "search_seed", low=0)


def _metric(raw: Mapping[str, Any]) -> tuple[str, str]:
    """(metric, direction): the summary figure that ranks the runs, and which way is better."""
    metric = raw.get("metric", "val_accuracy")
    split, _, kind = str(metric).partition("_")
    if not isinstance(metric, str) or split not in SPLITS or kind not in METRICS:
        names = [f"{s}_{m}" for s in SPLITS for m in METRICS]
        hint = suggest(metric, names) if isinstance(metric, str) else ""
        raise ConfigError(
            f"metric: expected a summary metric like val_accuracy or test_loss, got {kind_of(metric)}{hint}"
        )
    direction = raw.get("direction", "min" if lower_is_better(kind) else "max")
    if direction not in ("max", "min"):
        raise ConfigError(f"direction: expected max or min, got {kind_of(direction)}")
    return metric, direction


def _output(raw: Mapping[str, Any], source: Path | None) -> tuple[str, str]:
    """(output.dir, output.name): where the sweep's folder goes, named after its file by default."""
    output = raw.get("output") or {}
    if not isinstance(output, Mapping):
        raise ConfigError(
            f"output: expected a mapping like {{dir: runs/sweeps, name: mine}}, got {kind_of(output)}"
        )
    check_keys(output, ("dir", "name"), "output.")
    name = plain_name(output.get("name") or (source.stem if source is not None else "sweep"), "output.name")
    directory = output.get("dir", DEFAULT_DIR)
    if not isinstance(directory, str) or not directory:
        raise ConfigError(f"output.dir: expected a folder path, got {kind_of(directory)}")
    return directory, name


def _settings(value: Any, where: str, defaults: Mapping[str, int]) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{where}: expected a mapping like {{{', '.join(f'{k}: {v}' for k, v in defaults.items())}}}"
            f", got {kind_of(value)}"
        )
    check_keys(value, tuple(defaults), f"{where}.")
    for key, number in value.items():
        integer(number, f"{where}.{key}", low=1 if key == "interval_steps" else 0)
    return {**defaults, **value}


def _cv(value: Any) -> int | None:
    if value is None:
        return None
    return integer(value, "cv", low=2, meaning="the number of folds")


def _check_enqueued(explicit: list[dict[str, Any]], grid: Mapping[str, Any]) -> None:
    """search: optuna: runs: are trials Optuna evaluates first, so each value must lie in its key's space."""
    for i, run in enumerate(explicit):
        for key, value in run.items():
            if key not in grid:
                raise ConfigError(
                    f"runs[{i}].{key}: with search: optuna, runs: are trials evaluated first; "
                    f"set only keys of grid: ({', '.join(grid)})"
                )
            if not in_space(grid[key], value):
                raise ConfigError(f"runs[{i}].{key}: {point_text(value)} lies outside grid.{key}")


def _grid(value: Any, search: str = "grid") -> dict[str, Any]:
    if value is None:
        return {}
    grid = _overrides(value, "grid")
    for key, values in grid.items():
        grid[key] = space_values(values, key, search in DRAWN)
    return grid


def _runs(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"runs: expected a list of override mappings, got {kind_of(value)}")
    return [_overrides(item, f"runs[{i}]") for i, item in enumerate(value)]


def _seeds(raw: Mapping[str, Any], base: Mapping[str, Any]) -> list[int] | None:
    if "seeds" in raw and "repeats" in raw:
        raise ConfigError("seeds: give seeds: [..] or repeats: n, not both")
    if "repeats" in raw:
        n = raw["repeats"]
        integer(n, "repeats", low=1)
        start = base.get("seed", 0)
        start = start if isinstance(start, int) and not isinstance(start, bool) else 0
        return list(range(start, start + n))
    seeds = raw.get("seeds")
    if seeds is None:
        return None
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = [seeds]
    if not isinstance(seeds, list) or not seeds:
        raise ConfigError(f"seeds: expected a non-empty list of integers, got {kind_of(seeds)}")
    for i, s in enumerate(seeds):
        integer(s, f"seeds[{i}]", low=0)
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"seeds: {seeds} repeats a seed")
    return list(seeds)


def _as_strings(overrides: Mapping[str, Any]) -> list[str]:
    """{"a.b": [1, 2]} -> ["a.b=[1, 2]"]: JSON is YAML, so config.parse_override reads it back."""
    return [f"{key}={json.dumps(value)}" for key, value in overrides.items()]
