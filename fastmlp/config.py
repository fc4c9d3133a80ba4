"""YAML experiment configs -> typed, validated objects.

Defaults live in one place: the dataclasses below. A config file (or a mapping)
is read as plain YAML, `--set key.path=value` overrides are applied to that
mapping, and only then is it validated. Every error is a ConfigError naming the
full dotted key path and what was expected; an unknown key suggests the closest
known one.

    seed: 0
    data:   {name: digits, ...}      # passed through to fastmlp.data.load_dataset
    model:  {hidden: [128], activation: relu, task: auto, dtype: float32,
             init: glorot_uniform, dropout: 0.0}   # `loss: cross_entropy | binary_cross_entropy | mse`
                                                   # is an alias of task
    train:  {epochs: 20, batch_size: 128, learning_rate: 0.1, l2: 0.0001,
             optimizer: {name: sgd, momentum: 0.0, nesterov: false}, shuffle: true,
             lr_schedule: {name: constant}, early_stopping: null, class_weight: null}
    output: {dir: runs, name: null,
             mlflow: null}    # or {tracking_uri: sqlite:///mlflow.db, experiment: mine}: see tracking.py
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from . import optimizers, schedules
from .data.formats import DATA_SUFFIXES
from .errors import ConfigError, FastMLPError
from .model import ACTIVATIONS, INITS
from .schema import boolean, check_keys, choice, echo, integer, kind_of, number, plain_name, suggest, text
from .tasks import AUTO, DTYPES, TASK_NAMES

TASKS = (AUTO, *TASK_NAMES)
KEEP = ("auto", "best", "last")
# What a user may pass to `fastmlp train` by mistake instead of a config: every suffix the data
# readers take (data/table.py's table formats, NumPy's, gzip), from their one table.
LOSSES = {
    "cross_entropy": "classification",
    "binary_cross_entropy": "multilabel",
    "mse": "regression",
    "poisson": "poisson",
}
# Keys that moved; an old config gets one line saying where.
MOVED = {
    "train.momentum": "train.optimizer.momentum (with train.optimizer.name: sgd)",
    "train.nesterov": "train.optimizer.nesterov (with train.optimizer.name: sgd)",
}

# ---------------------------------------------------------------- the schema


@dataclass
class ModelConfig:
    hidden: list[int] = field(default_factory=lambda: [128])
    activation: str = "relu"
    task: str = AUTO  # inferred from the labels (fastmlp.data.labels.infer_task)
    dtype: str = "float32"
    init: str = "glorot_uniform"
    dropout: float = 0.0  # inverted dropout on the hidden layers while training


@dataclass
class ScheduleConfig:
    """A learning-rate schedule: its name and the parameters that name takes."""

    name: str = "constant"
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **self.params}


@dataclass
class TrainConfig:
    epochs: int = 20
    batch_size: int = 128
    learning_rate: float = 0.1
    l2: float = 0.0001
    optimizer: optimizers.Optimizer = field(default_factory=optimizers.Optimizer)
    shuffle: bool = True
    lr_schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    early_stopping: int | None = None  # patience in epochs on the validation loss
    class_weight: str | dict | None = None  # "balanced" or {class label: weight}
    keep: str = "auto"  # the saved weights: best (epoch) | last | auto (best with validation data)
    init_from: str | None = None  # a model.npz whose weights this run starts from (fine-tuning)
    checkpoint_seconds: float = 60.0  # also checkpoint inside an epoch once this long has passed


@dataclass
class MlflowConfig:
    """output.mlflow: where fastmlp.tracking logs runs. tracking_uri, experiment None: MLflow's own default
    (MLFLOW_TRACKING_URI, else sqlite:///mlflow.db; MLFLOW_EXPERIMENT_NAME, else "Default").
    A relative path in the URI (sqlite:///mlflow.db) is kept as written: MLflow reads it against
    the current directory, as it does everywhere else, not against the config file's folder."""

    tracking_uri: str | None = None
    experiment: str | None = None
    parent_run_id: str | None = None  # log as a child of this MLflow run (a sweep sets its own)

    def to_dict(self) -> dict[str, str | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class OutputConfig:
    dir: str = "runs"
    name: str | None = None  # None: the config file's stem, or "default"
    mlflow: MlflowConfig | None = None  # None: no experiment tracking


@dataclass
class Config:
    """One experiment. `source` is the file it came from (None for a mapping)."""

    seed: int = 0
    data: dict[str, Any] = field(default_factory=lambda: _data({"name": "digits"}))
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    source: Path | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        """The run's name: output.name, else the config file's stem, else "default"."""
        if self.output.name:
            return self.output.name
        return self.source.stem if self.source is not None else "default"

    def to_dict(self) -> dict[str, Any]:
        """The resolved mapping (every key, overrides applied); load_config(it) == self."""
        return {
            "seed": self.seed,
            "data": copy.deepcopy(self.data),
            "model": {f.name: copy.copy(getattr(self.model, f.name)) for f in fields(ModelConfig)},
            "train": {
                **{f.name: getattr(self.train, f.name) for f in fields(TrainConfig)},
                "lr_schedule": self.train.lr_schedule.to_dict(),
                "optimizer": self.train.optimizer.to_dict(),
                "class_weight": copy.deepcopy(self.train.class_weight),
            },
            "output": {
                "dir": self.output.dir,
                "name": self.output.name,
                "mlflow": None if self.output.mlflow is None else self.output.mlflow.to_dict(),
            },
        }

    def to_yaml(self) -> str:
        return dump_yaml(self.to_dict())


# ---------------------------------------------------------------- YAML


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads 1e-4 as a float (YAML 1.1 wants 1.0e-4) and rejects duplicate keys."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
            |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
            |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
            |[-+]?\.(?:inf|Inf|INF)
            |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", mark)
        seen[key] = True
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, where: str) -> Any:
    """YAML text -> Python object; a syntax error becomes one line: where:line:col: problem."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        at = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark is not None else where
        raise ConfigError(f"{at}: malformed YAML: {problem}") from None


class _Dumper(yaml.SafeDumper):
    """Block-style sections, flow-style lists: `hidden: [256, 128]`."""


_Dumper.add_representer(
    list, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


def dump_yaml(mapping: Mapping[str, Any]) -> str:
    return yaml.dump(dict(mapping), Dumper=_Dumper, sort_keys=False, default_flow_style=False)


def read_yaml_file(path: str | Path) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config path is a directory, not a YAML file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    return parse_yaml(text, str(path))


def default_config_text() -> str:
    """The embedded default experiment (fastmlp/configs/default.yaml)."""
    return resources.files("fastmlp").joinpath("configs/default.yaml").read_text(encoding="utf-8")


# ---------------------------------------------------------------- overrides


def parse_override(text: str) -> tuple[list[str], Any]:
    """'model.hidden=[512,256]' -> (['model', 'hidden'], [512, 256]); the value is YAML."""
    key, sep, value = text.partition("=")
    key = key.strip()
    parts = key.split(".")
    if not sep or not key or any(not re.fullmatch(r"[\w-]+", p) for p in parts):
        raise ConfigError(f"--set {text!r}: expected key.path=value, e.g. --set train.epochs=5")
    return parts, parse_yaml(value, f"--set {key}")


def apply_overrides(mapping: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A deep copy of mapping with each 'key.path=value' set; missing sections are created."""
    result = copy.deepcopy(dict(mapping))
    if isinstance(overrides, str):  # one override given bare, not in a list
        overrides = [overrides]
    for override in overrides:
        parts, value = parse_override(override)
        node = result
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif isinstance(child, str) and parts[: depth + 1] in (
                ["train", "lr_schedule"],
                ["train", "optimizer"],
            ):
                child = node[part] = {"name": child}  # shorthand `lr_schedule: cosine`, `optimizer: adam`
            elif not isinstance(child, dict):
                path = ".".join(parts[: depth + 1])
                raise ConfigError(f"--set {'.'.join(parts)}: {path} is {echo(child)}, not a section")
            node = child
        node[parts[-1]] = value
    return result


# ---------------------------------------------------------------- loading


def load_config(
    path_or_mapping: str | Path | Mapping[str, Any] | Config | None = None, overrides: Iterable[str] = ()
) -> Config:
    """A validated Config from a YAML file, a mapping, or (None) the embedded default.

    overrides are 'key.path=value' strings (values parsed as YAML), applied to the
    mapping before validation, exactly like `fastmlp train --set`.
    """
    source = None
    if path_or_mapping is None:
        raw = parse_yaml(default_config_text(), "<default config>")
    elif isinstance(path_or_mapping, Config):
        raw, source = path_or_mapping.to_dict(), path_or_mapping.source
    elif isinstance(path_or_mapping, Mapping):
        raw = path_or_mapping
    elif isinstance(path_or_mapping, (str, Path)):
        source = Path(path_or_mapping)
        if source.suffix.lower() in DATA_SUFFIXES:
            raise ConfigError(
                f"{source}: a data file, not a config; name it in one (data: {{path: {source}}}) or "
                f"run: fastmlp train --set data.name=null --set data.path={source}"
            )
        raw = resolve_paths(read_yaml_file(source), source.resolve().parent)
    else:
        raise ConfigError(f"a config is a YAML file path or a mapping, not {type(path_or_mapping).__name__}")
    if raw is None:  # an empty file: all defaults
        raw = {}
    if not isinstance(raw, Mapping):
        where = f"{source}: " if source is not None else ""
        raise ConfigError(f"{where}a config must be a mapping of sections, got {kind_of(raw)}")
    overrides = list(overrides)
    raw = apply_overrides(raw, overrides)
    # A file named with --set is relative to the current folder: made absolute now, so that the
    # run's config.yaml (read later from the run folder: evaluate, --resume) still finds it.
    raw = resolve_paths(raw, Path.cwd(), only={tuple(parse_override(o)[0]) for o in overrides})
    try:
        config = from_mapping(raw)
    except FastMLPError as e:
        if source is None:
            raise
        # Name the file: a key path alone does not say which of several configs is at fault.
        raise type(e)(f"{source}{' with --set overrides' if overrides else ''}: {e}") from None
    config.source = source
    return config


# Keys whose values are files: relative ones in a config file are relative to that file's folder.
PATH_KEYS = (
    ("data", "path"),
    ("data", "y_path"),
    ("data", "test_path"),
    ("data", "test_y_path"),
    ("train", "init_from"),
)


def resolve_paths(raw: Any, folder: Path, only=None) -> Any:
    """raw with the relative file paths of PATH_KEYS joined to folder (the config file's folder),
    so a config works from any current directory, as a sweep's base: does; only: those of PATH_KEYS
    (as tuples) to resolve (load_config resolves the ones --set gives against the current folder).
    output.dir stays relative to the current folder."""
    if not isinstance(raw, Mapping):
        return raw
    raw = dict(raw)
    for section, key in PATH_KEYS:
        if only is not None and (section, key) not in only:
            continue
        part = raw.get(section)
        if isinstance(part, Mapping) and isinstance(part.get(key), str):
            value = Path(part[key]).expanduser()
            if not value.is_absolute():
                raw[section] = {**part, key: str(folder / value)}
    return raw


def _check_combinations(config: Config) -> Config:
    """Settings that are each valid but do not go together: one line naming both keys."""
    if config.train.optimizer.full_batch:
        for key, value in (
            ("model.dropout", config.model.dropout),
            ("train.early_stopping", config.train.early_stopping),
        ):
            if value:
                raise ConfigError(optimizers.minibatch_only(key, config.train.optimizer))
    return config


def from_mapping(raw: Mapping[str, Any]) -> Config:
    """Validate a plain mapping into a Config (no file, no overrides)."""
    defaults = Config()
    check_keys(raw, [f.name for f in fields(Config) if f.name != "source"], "")
    data = raw.get("data")
    data = defaults.data if data is None else data
    return _check_combinations(
        Config(
            seed=integer(raw.get("seed", defaults.seed), "seed", low=0),
            data=_data(data),
            model=_model(_section(raw, "model")),
            train=_train(_section(raw, "train")),
            output=_output(_section(raw, "output")),
        )
    )


def _section(raw: Mapping[str, Any], key: str, parent: str = "") -> Mapping[str, Any]:
    value = raw.get(key)
    path = f"{parent}{key}"
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{path}: expected a mapping of keys, got {kind_of(value)}")
    return value


def _data(value: Any) -> dict[str, Any]:
    """The data section, checked by the data module's own DataSpec and resolved to all its keys."""
    from .data import DATASET_NAMES, DataSpec
    from .errors import DataError

    if not isinstance(value, Mapping):
        raise ConfigError(f"data: expected a mapping (e.g. {{name: digits}}), got {kind_of(value)}")
    check_keys(value, [f.name for f in fields(DataSpec)], "data.")
    if value.get("name") is None and value.get("path") is None:
        raise ConfigError("data: needs data.name (a built-in dataset) or data.path (a file)")
    name = value.get("name")
    if isinstance(name, str) and name not in DATASET_NAMES:
        raise ConfigError(
            f"data.name: expected one of {', '.join(DATASET_NAMES)}, got {name!r}"
            f"{suggest(name, list(DATASET_NAMES))} (or use data.path for a file)"
        )
    try:
        spec = DataSpec.from_mapping(value)
    except DataError as exc:
        raise ConfigError(str(exc)) from None
    return copy.deepcopy(asdict(spec))


def _model(raw: Mapping[str, Any]) -> ModelConfig:
    d = ModelConfig()
    check_keys(raw, [f.name for f in fields(ModelConfig)] + ["loss"], "model.")
    hidden = raw.get("hidden", d.hidden)
    if isinstance(hidden, int) and not isinstance(hidden, bool):
        hidden = [hidden]
    if not isinstance(hidden, list):
        raise ConfigError(
            f"model.hidden: expected a list of layer widths like [256, 128], got {kind_of(hidden)}"
        )
    hidden = [integer(h, f"model.hidden[{i}]", low=1) for i, h in enumerate(hidden)]
    task = choice(raw.get("task", d.task), "model.task", TASKS)
    if "loss" in raw:
        from_loss = LOSSES[choice(raw["loss"], "model.loss", tuple(LOSSES))]
        if "task" in raw and from_loss != task:
            raise ConfigError(
                f"model.loss: {echo(raw['loss'])} means task {from_loss!r}, but model.task is {task!r}"
            )
        task = from_loss
    return ModelConfig(
        hidden=hidden,
        activation=choice(raw.get("activation", d.activation), "model.activation", ACTIVATIONS),
        task=task,
        dtype=choice(raw.get("dtype", d.dtype), "model.dtype", DTYPES),
        init=choice(raw.get("init", d.init), "model.init", INITS),
        dropout=number(raw.get("dropout", d.dropout), "model.dropout", low=0.0, high=1.0, high_open=True),
    )


def _train(raw: Mapping[str, Any]) -> TrainConfig:
    d = TrainConfig()
    for key in raw:
        if f"train.{key}" in MOVED:
            raise ConfigError(f"train.{key}: moved to {MOVED[f'train.{key}']}")
    check_keys(raw, [f.name for f in fields(TrainConfig)], "train.")
    patience = raw.get("early_stopping", d.early_stopping)
    return TrainConfig(
        epochs=integer(raw.get("epochs", d.epochs), "train.epochs", low=1),
        batch_size=integer(raw.get("batch_size", d.batch_size), "train.batch_size", low=1),
        learning_rate=number(
            raw.get("learning_rate", d.learning_rate), "train.learning_rate", low=0.0, low_open=True
        ),
        l2=number(raw.get("l2", d.l2), "train.l2", low=0.0),
        optimizer=optimizers.parse(raw.get("optimizer"), "train.optimizer"),
        shuffle=boolean(raw.get("shuffle", d.shuffle), "train.shuffle"),
        lr_schedule=_schedule(raw.get("lr_schedule", "constant")),
        early_stopping=None if patience is None else integer(patience, "train.early_stopping", low=1),
        class_weight=_class_weight(raw.get("class_weight", d.class_weight)),
        keep=choice(raw.get("keep", d.keep), "train.keep", KEEP),
        init_from=None if raw.get("init_from") is None else text(raw["init_from"], "train.init_from"),
        checkpoint_seconds=number(
            raw.get("checkpoint_seconds", d.checkpoint_seconds),
            "train.checkpoint_seconds",
            low=0.0,
            low_open=True,
        ),
    )


def _class_weight(value: Any) -> str | dict | None:
    path = "train.class_weight"
    if value is None or value == "balanced":
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{path}: expected null, balanced or a mapping of class label -> weight, got {kind_of(value)}"
        )
    for label, weight in value.items():
        number(weight, f"{path}.{label}", low=0.0)
    return {k: float(v) for k, v in value.items()}


def _schedule(value: Any) -> ScheduleConfig:
    return ScheduleConfig(*schedules.parse(value))


def _output(raw: Mapping[str, Any]) -> OutputConfig:
    d = OutputConfig()
    check_keys(raw, [f.name for f in fields(OutputConfig)], "output.")
    directory = text(raw.get("dir", d.dir), "output.dir")
    name = raw.get("name", d.name)
    if name is not None:
        name = plain_name(name, "output.name")
    return OutputConfig(dir=directory, name=name, mlflow=_mlflow(raw.get("mlflow")))


def _mlflow(value: Any) -> MlflowConfig | None:
    """output.mlflow: null/false (off), true or {} (on, MLflow's defaults), or a mapping."""
    path = "output.mlflow"
    if value is None or value is False:
        return None
    if value is True:
        return MlflowConfig()
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{path}: expected a mapping like {{tracking_uri: sqlite:///mlflow.db, experiment: mine}} "
            f"(or null to turn tracking off), got {kind_of(value)}"
        )
    check_keys(value, [f.name for f in fields(MlflowConfig)], f"{path}.")
    return MlflowConfig(**{k: None if value.get(k) is None else text(value[k], f"{path}.{k}") for k in value})


# ---------------------------------------------------------------- checks
