"""Configs: YAML -> validated Config; overrides before validation; one-line errors."""

from pathlib import Path

import pytest

from fastmlp.config import Config, ConfigError, apply_overrides, dump_yaml, load_config, parse_yaml
from fastmlp.schedules import from_config

ROOT = Path(__file__).resolve().parents[1]


def test_default_config_is_digits_and_round_trips():
    config = load_config()
    assert config.data["name"] == "digits"
    assert config.name == "default"
    assert load_config(config.to_dict()) == config
    assert load_config(parse_yaml(config.to_yaml(), "x")) == config


def test_shipped_digits_config_is_its_own_experiment():
    """configs/digits.yaml is not a copy of the embedded default: same data, a different run."""
    shipped, default = load_config(ROOT / "configs" / "digits.yaml"), load_config()
    assert shipped.data == default.data
    assert (shipped.model, shipped.train) != (default.model, default.train)


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_validate(path):
    config = load_config(path)
    assert config.name == path.stem
    assert load_config(config.to_dict()) == config


def test_empty_mapping_gives_the_documented_defaults():
    config = load_config({})
    assert config == Config()
    assert config.model.hidden == [128]
    assert config.train.epochs == 20 and config.train.learning_rate == 0.1
    assert config.train.lr_schedule.name == "constant"
    assert config.train.early_stopping is None
    assert config.output.dir == "runs" and config.name == "default"


def test_overrides_are_yaml_and_applied_before_validation():
    config = load_config(
        {},
        [
            "model.hidden=[512,256]",
            "train.l2=1e-5",
            "train.optimizer.nesterov=true",
            "train.lr_schedule=cosine",
            "output.name=exp",
        ],
    )
    assert config.model.hidden == [512, 256]
    assert config.train.l2 == 1e-5  # YAML 1.1 would read 1e-5 as a string
    assert config.train.optimizer.params["nesterov"] is True and config.train.optimizer.name == "sgd"
    assert config.train.lr_schedule.name == "cosine"
    assert config.name == "exp"


def test_override_into_a_schedule_shorthand_and_new_sections():
    raw = apply_overrides(
        {"train": {"lr_schedule": "step"}}, ["train.lr_schedule.gamma=0.5", "model.dtype=float64"]
    )
    assert raw == {"train": {"lr_schedule": {"name": "step", "gamma": 0.5}}, "model": {"dtype": "float64"}}
    assert load_config(raw).train.lr_schedule.params == {"step_size": 10, "gamma": 0.5}


def test_loss_is_an_alias_of_task():
    assert load_config({"model": {"loss": "mse"}}).model.task == "regression"
    assert (
        load_config({"model": {"loss": "cross_entropy", "task": "classification"}}).model.task
        == "classification"
    )
    with pytest.raises(ConfigError, match="model.loss"):
        load_config({"model": {"loss": "mse", "task": "classification"}})


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["train.lerning_rate=0.1"], r"train\.lerning_rate: unknown key; did you mean 'learning_rate'\?"),
        (["train.lr=0.1"], r"train\.lr: unknown key; did you mean 'learning_rate'\?"),
        (["modle.hidden=[3]"], r"modle: unknown key; did you mean 'model'\?"),
        (
            ["data.validaton_split=0.2"],
            r"data\.validaton_split: unknown key; did you mean 'validation_split'\?",
        ),
        (["train.epochs=ten"], r"train\.epochs: expected an integer, got str 'ten'"),
        (["train.epochs=2.5"], r"train\.epochs: expected an integer"),
        (["train.epochs=0"], r"train\.epochs: expected an integer >= 1, got 0"),
        (["train.batch_size=true"], r"train\.batch_size: expected an integer, got boolean"),
        (["train.learning_rate=0"], r"train\.learning_rate: expected a number in \(0, inf\]"),
        (["train.learning_rate=.nan"], r"train\.learning_rate: expected a finite number"),
        (["train.optimizer.momentum=1.0"], r"train\.optimizer\.momentum: expected a number in \[0, 1\)"),
        (["train.momentum=0.9"], r"train\.momentum: moved to train\.optimizer\.momentum"),
        (["train.optimizer=rmsprop"], r"train\.optimizer\.name: expected one of sgd, adam, lbfgs"),
        (
            ["train.optimizer.name=adam", "train.optimizer.momentum=0.9"],
            r"train\.optimizer\.momentum: not a parameter of 'adam'",
        ),
        (["model.dropout=1"], r"model\.dropout: expected a number in \[0, 1\)"),
        (["train.optimizer=lbfgs", "model.dropout=0.2"], r"model\.dropout: is for minibatch optimizers"),
        (["train.class_weight=heavy"], r"train\.class_weight: expected null, balanced or a mapping"),
        (["train.l2=-1"], r"train\.l2: expected a number in \[0, inf\]"),
        (["train.shuffle=maybe"], r"train\.shuffle: expected true or false"),
        (["train.early_stopping=0"], r"train\.early_stopping: expected an integer >= 1"),
        (["train.lr_schedule=linear"], r"train\.lr_schedule\.name: expected one of constant, step, cosine"),
        (
            ["train.lr_schedule=step", "train.lr_schedule.step=3"],
            r"train\.lr_schedule\.step: not a parameter of the 'step' schedule; did you mean 'step_size'\?",
        ),
        (
            ["train.lr_schedule=step", "train.lr_schedule.gamma=2"],
            r"train\.lr_schedule\.gamma: expected a number in \(0, 1\]",
        ),
        (["model.hidden=[128, 0]"], r"model\.hidden\[1\]: expected an integer >= 1, got 0"),
        (["model.hidden=wide"], r"model\.hidden: expected a list of layer widths"),
        (["model.activation=rellu"], r"model\.activation: expected one of .*relu.*; did you mean 'relu'\?"),
        (["model.dtype=float16"], r"model\.dtype: expected one of float32, float64"),
        (["model.init=xavier"], r"model\.init: expected one of glorot_uniform, he_uniform, he_normal"),
        (
            ["model.task=ranking"],
            r"model\.task: expected one of auto, classification, multilabel, regression, poisson",
        ),
        (["output.name=a/b"], r"output\.name: expected a plain name"),
        (["seed=-1"], r"seed: expected an integer >= 0"),
        (["data=digits"], r"data: expected a mapping"),
        (["train=3"], r"train: expected a mapping of keys"),
        (["train.epochs.max=3"], r"--set train\.epochs\.max: train\.epochs is 20, not a section"),
        (["train.epochs"], r"--set 'train\.epochs': expected key\.path=value"),
        (["model.hidden=[3"], r"--set model\.hidden:1:3: malformed YAML"),
    ],
)
def test_errors_name_the_key_and_what_was_expected(overrides, message):
    with pytest.raises(ConfigError, match=message) as info:
        load_config(None, overrides)
    assert "\n" not in str(info.value)


def test_data_needs_a_name_or_a_path():
    with pytest.raises(ConfigError, match="data: needs data.name"):
        load_config({"data": {"validation_split": 0.1}})


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.yaml$"):
        load_config(tmp_path / "nope.yaml")


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("seed: 0\nmodel:\n  hidden: [128\n  activation: relu\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml:\d+:\d+: malformed YAML") as info:
        load_config(path)
    assert "\n" not in str(info.value)


def test_duplicate_keys_are_an_error_not_a_silent_overwrite(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("train:\n  epochs: 3\n  epochs: 5\n")
    with pytest.raises(ConfigError, match=r"dup\.yaml:3:3: malformed YAML: duplicate key 'epochs'"):
        load_config(path)


def test_a_file_that_is_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="a config must be a mapping"):
        load_config(path)


def test_name_comes_from_the_file_stem(tmp_path):
    path = tmp_path / "my_exp.yaml"
    path.write_text(dump_yaml({"train": {"epochs": 2}}))
    assert load_config(path).name == "my_exp"
    assert load_config(path, ["output.name=other"]).name == "other"


@pytest.mark.parametrize(
    "schedule, lrs",
    [
        ({"name": "constant"}, [0.1, 0.1, 0.1, 0.1]),
        ({"name": "step", "step_size": 2, "gamma": 0.5}, [0.1, 0.1, 0.05, 0.05]),
        ({"name": "cosine", "min_lr": 0.0}, [0.1, 0.1 * (1 + 2**-0.5) / 2, 0.05, 0.1 * (1 - 2**-0.5) / 2]),
        ({"name": "inverse_scaling", "power": 1.0}, [0.1, 0.05, 0.1 / 3, 0.025]),
    ],
)
def test_schedules_follow_their_formulas(schedule, lrs):
    config = load_config({"train": {"learning_rate": 0.1, "epochs": 4, "lr_schedule": schedule}})
    assert [from_config(config.train)(e) for e in range(4)] == pytest.approx(lrs)
