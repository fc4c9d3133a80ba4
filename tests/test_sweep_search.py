"""Random search in sweep files: seeded draws from lists and distributions, checked up front."""

import math

import pytest

import fastmlp
from fastmlp.errors import ConfigError
from fastmlp.sweep import expand, load_sweep

BASE = {"model": {"hidden": [8]}, "train": {"epochs": 1}}


def sweep(**extra):
    grid = {
        "train.learning_rate": "loguniform(1e-3, 1e-1)",
        "train.batch_size": "int(16, 64)",
        "model.dropout": "uniform(0.0, 0.3)",
        "model.activation": ["relu", "tanh"],
    }
    return {"base": BASE, "search": "random", "trials": 12, "grid": grid, **extra}


def test_random_points_are_in_their_ranges_distinct_and_seeded():
    runs = expand(load_sweep(sweep()))
    assert len(runs) == 12 and len({r.name for r in runs}) == 12
    for run in runs:
        t, m = run.config.train, run.config.model
        assert 1e-3 <= t.learning_rate <= 1e-1 and 16 <= t.batch_size <= 64
        assert 0.0 <= m.dropout <= 0.3 and m.activation in ("relu", "tanh")
    rates = [r.config.train.learning_rate for r in runs]
    # loguniform: about as many draws below the geometric middle (1e-2) as above it
    assert 3 <= sum(rate < 1e-2 for rate in rates) <= 9
    again = expand(load_sweep(sweep()))
    assert [r.overrides for r in again] == [r.overrides for r in runs]
    other = expand(load_sweep(sweep(search_seed=1)))
    assert [r.overrides for r in other] != [r.overrides for r in runs]
    assert all(math.isfinite(r) for r in rates)


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"trials": None}, "search random needs trials"),
        ({"grid": {"train.learning_rate": "loguniform(0, 1)"}}, "needs a > 0"),
        ({"grid": {"train.batch_size": "int(1.5, 4)"}}, "needs integer bounds"),
        ({"grid": {"train.learning_rate": "gaussian(0, 1)"}}, "expected a list of values or a distribution"),
        ({"grid": {"model.activation": ["relu"]}, "trials": 3}, "only 1 distinct points"),
        ({"search": "grid", "trials": None}, "distributions are for search: random"),
        ({"search": "bayes"}, "search: expected one of grid, random"),
    ],
)
def test_bad_searches_are_one_line(extra, message):
    spec = sweep(**extra)
    if extra.get("trials", 0) is None:
        spec.pop("trials")
    with pytest.raises(ConfigError, match=message):
        expand(load_sweep(spec))


def test_a_random_sweep_runs_and_ranks(tmp_path):
    spec = {
        "base": {"data": {"name": "digits"}, "model": {"hidden": [8]}, "train": {"epochs": 1}},
        "search": "random",
        "trials": 3,
        "grid": {"train.learning_rate": "loguniform(1e-3, 1e-1)"},
    }
    result = fastmlp.sweep(spec, out=tmp_path / "s")
    assert len(result.rows) == 3 and all(row["status"] == "ok" for row in result.rows)
    assert (tmp_path / "s" / "results.csv").is_file()


def test_the_ranked_table_shows_proposed_floats_to_six_digits():
    """Optuna proposes floats to the last bit; the table shows 6 significant digits (results.csv
    keeps them all), lists as JSON, and a failed point says so."""
    from rich.console import Console

    from fastmlp.sweep.results import Group, ranked_table

    groups = [
        Group("a", {"train.learning_rate": 0.23153540586354188, "model.hidden": [32, 16]}, values=[0.9, 0.8]),
        Group("b", {"train.learning_rate": 1e-05, "model.hidden": [8]}, failed=1),
    ]
    console = Console(width=200, record=True)
    console.print(ranked_table(groups, "val_accuracy"))
    text = console.export_text()
    assert "0.231535 " in text and "0.23153540586" not in text and "1e-05" in text
    assert "[32, 16]" in text and "0.8500 ± 0.0707" in text and "failed" in text
