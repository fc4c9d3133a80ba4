"""Sweep files: grid expansion, seeds, run names, and validation errors (nothing is trained here)."""

import textwrap

import pytest
from conftest import sweep_app as app
from typer.testing import CliRunner

from fastmlp.errors import ConfigError
from fastmlp.sweep import expand, load_sweep, plan
from fastmlp.sweep.spec import run_name

BASE = {"data": {"name": "digits"}, "model": {"hidden": [8]}, "train": {"epochs": 1}}


def spec(**sections):
    return {"base": BASE, **sections}


def test_grid_is_the_cartesian_product_in_key_order():
    runs = expand(load_sweep(spec(grid={"train.learning_rate": [0.1, 0.2, 0.3], "model.hidden": [[4], [8]]})))
    assert len(runs) == 6
    assert [r.overrides for r in runs[:2]] == [
        {"train.learning_rate": 0.1, "model.hidden": [4]},
        {"train.learning_rate": 0.1, "model.hidden": [8]},
    ]
    assert runs[5].config.train.learning_rate == 0.3 and runs[5].config.model.hidden == [8]
    assert runs[0].config.train.epochs == 1  # the base's own values stay


def test_nested_grid_keys_set_and_explicit_runs():
    runs = expand(
        load_sweep(
            spec(
                grid={"train": {"l2": [0.0, 0.01]}},
                set={"train.epochs": 2},
                runs=[{"train.l2": 0.5, "model.activation": "tanh"}, {"train.l2": 0.0}],
            )
        )
    )
    assert [r.overrides for r in runs] == [
        {"train.l2": 0.0},
        {"train.l2": 0.01},
        {"train.l2": 0.5, "model.activation": "tanh"},
    ]
    assert all(r.config.train.epochs == 2 for r in runs)
    assert runs[2].config.model.activation == "tanh"


def test_seeds_and_repeats_multiply_each_point():
    runs = expand(load_sweep(spec(grid={"train.l2": [0.0, 0.1]}, seeds=[3, 7])))
    assert [(r.overrides["train.l2"], r.seed, r.config.seed) for r in runs] == [
        (0.0, 3, 3),
        (0.0, 7, 7),
        (0.1, 3, 3),
        (0.1, 7, 7),
    ]
    runs = expand(load_sweep({"base": {**BASE, "seed": 5}, "grid": {"train.l2": [0.0]}, "repeats": 3}))
    assert [r.seed for r in runs] == [5, 6, 7]
    assert runs[0].point == runs[1].point  # one group for mean ± std


def test_run_names_are_deterministic_distinct_and_safe():
    runs = expand(
        load_sweep(spec(grid={"model.hidden": [[4, 4], [44]], "data.path": ["a/b c.csv"]}, seeds=[0, 1]))
    )
    names = [r.name for r in runs]
    assert len(set(names)) == 4
    assert names == [
        r.name
        for r in expand(
            load_sweep(spec(grid={"model.hidden": [[4, 4], [44]], "data.path": ["a/b c.csv"]}, seeds=[0, 1]))
        )
    ]
    assert all("/" not in n and " " not in n for n in names)
    assert run_name({"train.learning_rate": 0.1}, 0).startswith("learning_rate=0.1_seed=0-")


def test_base_path_is_relative_to_the_sweep_file(tmp_path):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "base.yaml").write_text("data: {name: digits}\ntrain: {epochs: 4}\n")
    sweep_file = tmp_path / "configs" / "s.yaml"
    sweep_file.write_text("base: base.yaml\ngrid: {train.l2: [0.0]}\n")
    s, directory, runs = plan(sweep_file)
    assert runs[0].config.train.epochs == 4 and s.name == "s"
    assert str(directory) == "runs/sweeps/s"


def test_unknown_grid_key_names_it_and_suggests_before_anything_runs():
    with pytest.raises(ConfigError, match=r"train\.learnin_rate: unknown key; did you mean 'learning_rate'"):
        expand(load_sweep(spec(grid={"train.learnin_rate": [0.1]})))


def test_bad_value_for_one_point_names_the_point():
    with pytest.raises(
        ConfigError, match=r"train\.learning_rate=-1.*train\.learning_rate: expected a number"
    ):
        expand(load_sweep(spec(grid={"train.learning_rate": [0.1, -1]})))


@pytest.mark.parametrize(
    "sweep, message",
    [
        (
            spec(grid={"train.l2": 0.1}),
            r"grid\.train\.l2: expected a list of values, got float 0\.1 \(write \[0\.1\]",
        ),
        (spec(grid={"train.l2": []}), r"grid\.train\.l2: the list is empty"),
        (spec(grid={}), r"grid: empty"),
        (spec(), r"grid: empty"),
        (spec(grid={"bad key": [1]}), r"grid\.bad key: expected a dotted config key"),
        ({"grid": {"train.l2": [0.0]}}, r"base: missing"),
        (spec(grid={"train.l2": [0.0]}, gird=1), r"gird: unknown key; did you mean 'grid'"),
        (spec(grid={"train.l2": [0.0]}, seeds=[1], repeats=2), r"not both"),
        (spec(grid={"train.l2": [0.0]}, seeds=[1, 1]), r"repeats a seed"),
        (spec(grid={"seed": [0, 1]}, seeds=[1]), r"seed is also set"),
        (spec(grid={"train.l2": [0.0]}, repeats=0), r"repeats: expected an integer >= 1"),
        (spec(grid={"train.l2": [0.0]}, metric="val_acuracy"), r"did you mean 'val_accuracy'"),
        (spec(grid={"train.l2": [0.0]}, direction="up"), r"direction: expected max or min"),
        (spec(grid={"train.l2": [0.0]}, output={"name": "a/b"}), r"output\.name"),
        (spec(runs={"train.l2": 0.1}), r"runs: expected a list"),
    ],
)
def test_sweep_file_errors_are_one_clear_line(sweep, message):
    with pytest.raises(ConfigError, match=message) as info:
        expand(load_sweep(sweep))
    assert "\n" not in str(info.value)


def test_direction_defaults_from_the_metric():
    assert load_sweep(spec(grid={"train.l2": [0.0]}, metric="val_loss")).direction == "min"
    assert load_sweep(spec(grid={"train.l2": [0.0]})).direction == "max"


def test_shipped_sweeps_validate():
    ci = plan("configs/sweeps/digits_tiny.yaml")[2]
    real = plan("configs/sweeps/fashion_mnist_lr_width_l2.yaml")
    assert len(ci) == 8 and len(real[2]) == 81
    assert real[2][0].config.data["name"] == "fashion-mnist" and real[0].seeds == [0, 1, 2]


def test_cli_dry_run_lists_runs_and_writes_nothing(tmp_path):
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text(
        textwrap.dedent("""\
        base: {data: {name: digits}}
        grid: {train.learning_rate: [0.1, 0.2]}
        seeds: [0, 1, 2]
        """)
    )
    result = CliRunner().invoke(
        app(), ["sweep", str(sweep_file), "--dry-run", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert "6 runs" in result.output
    assert not (tmp_path / "out").exists()


def test_cli_unknown_key_is_exit_2_one_line(tmp_path):
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text("base: {data: {name: digits}}\ngrid: {model.hiden: [[8]]}\n")
    result = CliRunner().invoke(app(), ["sweep", str(sweep_file), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "model.hiden: unknown key; did you mean 'hidden'" in result.output
    assert not (tmp_path / "out").exists()
