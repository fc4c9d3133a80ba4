"""Property: any YAML-ish mapping either loads into a Config or raises ConfigError (one line)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from fastmlp.config import Config, ConfigError, dump_yaml, load_config, parse_yaml

KEYS = [
    "seed",
    "data",
    "model",
    "train",
    "output",
    "name",
    "path",
    "validation_split",
    "hidden",
    "activation",
    "task",
    "loss",
    "dtype",
    "init",
    "epochs",
    "batch_size",
    "learning_rate",
    "l2",
    "optimizer",
    "momentum",
    "nesterov",
    "dropout",
    "shuffle",
    "lr_schedule",
    "early_stopping",
    "dir",
    "step_size",
    "gamma",
    "min_lr",
    "power",
    "bogus",
    "Hidden",
    "",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "relu",
            "tanh",
            "digits",
            "cosine",
            "step",
            "float32",
            "float64",
            "mse",
            "classification",
            "regression",
            "glorot_uniform",
            "runs",
            "x/y",
        ]
    ),
    st.text(max_size=5),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(KEYS), children, max_size=4)
    ),
    max_leaves=12,
)
configs = st.dictionaries(st.sampled_from(KEYS[:5] + ["bogus"]), values, max_size=5)


@settings(max_examples=400, deadline=None)
@given(configs)
def test_any_mapping_loads_or_raises_config_error(raw):
    try:
        config = load_config(raw)
    except ConfigError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(config, Config)
    resolved = dump_yaml(config.to_dict())
    assert dump_yaml(load_config(parse_yaml(resolved, "resolved")).to_dict()) == resolved


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_text_as_an_override_loads_or_raises_config_error(text):
    try:
        load_config({}, [text])
    except ConfigError as exc:
        assert "\n" not in str(exc)
