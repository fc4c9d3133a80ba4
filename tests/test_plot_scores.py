"""`fastmlp plot`: one run's curves with its test scores beside them (confusion matrix, per-class
bars, predicted against true), several runs' curves, and a sweep's metric against each swept key.
The figures are checked through the Figure the plot functions return before saving."""

import csv
import json
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("matplotlib")

from fastmlp import api, inference  # noqa: E402
from fastmlp.cli import app  # noqa: E402
from fastmlp.plot import figure_for_run, figure_for_runs, plot_runs  # noqa: E402
from fastmlp.sweep import sweep  # noqa: E402
from fastmlp.sweep.plot import figure_for_sweep, plot_sweep  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
TINY = {"model": {"hidden": [8]}, "train": {"epochs": 1, "batch_size": 64}}


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_user_error(result, *fragments):
    """Exit 2 and one `error:` line naming what was wrong."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def titles(fig):
    return [ax.get_title() for ax in fig.axes]


def axes_titled(fig, start):
    (ax,) = [ax for ax in fig.axes if ax.get_title().startswith(start)]
    return ax


def close(fig):
    import matplotlib.pyplot as plt

    plt.close(fig)


def train_npz(tmp_path, name, X, y, task, **data):
    """A tiny run on X, y saved as tmp_path/<name>.npz (an absolute path: evaluate reads it back)."""
    np.savez(tmp_path / f"{name}.npz", X=X, y=y)
    config = {
        "data": {"name": None, "path": str(tmp_path / f"{name}.npz"), **data},
        "model": {"hidden": [8], "task": task},
        "train": {"epochs": 2, "batch_size": 32},
    }
    return api.train(config, out=tmp_path / name).run_dir


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """One epoch on the built-in digits: ten classes, a test split."""
    run_dir = tmp_path_factory.mktemp("runs") / "digits"
    api.train({"data": {"name": "digits"}, **TINY}, out=run_dir)
    return run_dir


# ---------------------------------------------------------------- one run


def test_classification_run_shows_curves_confusion_and_per_class_bars(digits_run):
    report = inference.evaluate(digits_run, split="test")
    fig = figure_for_run(digits_run)
    # loss, accuracy, confusion matrix and its colour bar, per-class bars
    assert len(fig.axes) == 5
    assert titles(fig)[:2] == ["loss per epoch", "accuracy per epoch"]
    confusion = axes_titled(fig, "confusion")
    assert "test split" in confusion.get_title() and f"n={report['n']}" in confusion.get_title()
    # The annotations are evaluate()'s counts, each in its cell (row: true, column: predicted).
    drawn = np.zeros((10, 10), dtype=int)
    for text in confusion.texts:
        column, row = text.get_position()
        drawn[int(row), int(column)] = int(text.get_text())
    np.testing.assert_array_equal(drawn, report["confusion"])
    assert [t.get_text() for t in confusion.get_xticklabels()] == report["classes"]
    assert [t.get_text() for t in confusion.get_yticklabels()] == report["classes"]
    assert confusion.get_xlabel() == "predicted class" and confusion.get_ylabel() == "true class"
    # The image is normalised by true class: each row sums to 1.
    np.testing.assert_allclose(confusion.images[0].get_array().sum(axis=1), 1.0)
    bars = axes_titled(fig, "per-class scores")
    heights = [p.get_height() for p in bars.patches]
    per_class = report["per_class"]
    np.testing.assert_allclose(heights, per_class["precision"] + per_class["recall"] + per_class["f1"])
    close(fig)


def test_plot_runs_writes_a_png_into_the_run_folder(digits_run):
    path = plot_runs([digits_run])
    assert path == digits_run / "curves.png" and path.read_bytes()[:8] == PNG


def test_no_scores_does_not_evaluate(digits_run, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("evaluate called")

    monkeypatch.setattr(inference, "evaluate", refuse)
    fig = figure_for_run(digits_run, scores=False)
    assert titles(fig) == ["loss per epoch", "accuracy per epoch"]
    close(fig)


def test_several_runs_draw_curves_only(digits_run, tmp_path, monkeypatch):
    other = tmp_path / "other"
    api.train({"data": {"name": "digits"}, **TINY, "seed": 1}, out=other)
    monkeypatch.setattr(inference, "evaluate", lambda *a, **k: pytest.fail("evaluate called"))
    fig = figure_for_runs([digits_run, other])
    assert titles(fig) == ["loss per epoch", "accuracy per epoch"]
    assert {line.get_label() for line in fig.axes[0].lines} == {
        "digits train",
        "digits val",
        "other train",
        "other val",
    }
    close(fig)
    assert plot_runs([digits_run, other], tmp_path / "both.png").read_bytes()[:8] == PNG


def test_a_run_without_a_test_split_is_scored_on_val(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    run_dir = train_npz(tmp_path, "notest", X, (X[:, 0] > 0).astype(int), "classification", test_split=0.0)
    fig = figure_for_run(run_dir)
    assert "val split" in axes_titled(fig, "confusion").get_title()
    close(fig)


def test_missing_data_draws_the_curves_with_one_warning(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    run_dir = train_npz(tmp_path, "gone", X, (X[:, 0] > 0).astype(int), "classification")
    (tmp_path / "gone.npz").unlink()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = figure_for_run(run_dir)
    assert titles(fig) == ["loss per epoch", "accuracy per epoch"]
    close(fig)
    assert len(caught) == 1 and "gone.npz" in str(caught[0].message)
    result = invoke("plot", run_dir, "--out", tmp_path / "curves.png")
    assert result.exit_code == 0, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: ") and "curves only" in lines[0]
    assert (tmp_path / "curves.png").read_bytes()[:8] == PNG


def test_regression_run_shows_predicted_against_true(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    run_dir = train_npz(tmp_path, "reg", X, X @ [1.0, -2.0, 0.5, 0.0], "regression")
    report = inference.evaluate(run_dir, split="test", values=True)
    fig = figure_for_run(run_dir)
    assert titles(fig)[0] == "loss per epoch" and len(fig.axes) == 2
    scatter = axes_titled(fig, "predicted vs true")
    offsets = scatter.collections[0].get_offsets()
    np.testing.assert_allclose(offsets[:, 0], np.ravel(report["values"]["true"]))
    np.testing.assert_allclose(offsets[:, 1], np.ravel(report["values"]["predicted"]))
    assert scatter.get_xlabel() == "true value" and scatter.get_ylabel() == "predicted value"
    close(fig)


def test_evaluate_values_match_its_residual_summary(tmp_path):
    """values=True hands back the arrays the residual summary describes, and nothing else changes."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 2))
    run_dir = train_npz(tmp_path, "reg", X, X[:, 0] - X[:, 1], "regression")
    plain, with_values = inference.evaluate(run_dir), inference.evaluate(run_dir, values=True)
    assert "values" not in plain and plain["residuals"] == with_values["residuals"]
    residuals = np.ravel(with_values["values"]["true"] - with_values["values"]["predicted"])
    assert residuals.mean() == pytest.approx(plain["residuals"]["mean"])
    assert np.median(residuals) == pytest.approx(plain["residuals"]["median"])


def test_multilabel_run_shows_per_label_bars(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    Y = np.stack([X[:, 0] > 0, X[:, 1] > 0.3, X[:, 2] < 0], axis=1).astype(int)
    run_dir = train_npz(tmp_path, "ml", X, Y, "multilabel")
    report = inference.evaluate(run_dir)
    fig = figure_for_run(run_dir)
    assert len(fig.axes) == 3 and not any(t.startswith("confusion") for t in titles(fig))
    bars = axes_titled(fig, "per-label scores")
    assert len(bars.patches) == 3 * 3
    np.testing.assert_allclose([p.get_height() for p in bars.patches][6:], report["per_class"]["f1"])
    close(fig)


# ---------------------------------------------------------------- sweeps


def write_results(folder, rows):
    """A sweep folder's results.csv: only what the plot reads (status, overrides, the metric)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "results.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, ["run", "status", "overrides", "val_accuracy"])
        writer.writeheader()
        for i, (overrides, status, value) in enumerate(rows):
            writer.writerow(
                {"run": f"r{i}", "status": status, "overrides": json.dumps(overrides), "val_accuracy": value}
            )
    return folder


def test_a_grid_sweep_gets_one_panel_per_key(tmp_path):
    """A real sweep: two keys, two panels, a line per value of the other key."""
    spec = tmp_path / "grid.yaml"
    spec.write_text(
        "base: {data: {name: digits}, model: {hidden: [8]}, train: {epochs: 1, batch_size: 64}}\n"
        "grid:\n  train.learning_rate: [0.001, 0.1]\n  model.hidden: [[8], [16]]\n"
        "seeds: [0]\nmetric: val_accuracy\n"
    )
    out = tmp_path / "sweep"
    sweep(spec, out=out)
    fig = figure_for_sweep(out)
    assert titles(fig) == ["train.learning_rate", "model.hidden"]
    lr, hidden = fig.axes
    assert lr.get_xscale() == "log" and lr.get_ylabel() == "val_accuracy"
    assert len(lr.lines) >= 2  # one line (with its error bars) per hidden size
    assert [t.get_text() for t in hidden.get_xticklabels()] == ["[8]", "[16]"]
    close(fig)
    png = plot_sweep(out)
    assert png == out / "val_accuracy_vs_keys.png" and png.read_bytes()[:8] == PNG
    only = figure_for_sweep(out, key="model.hidden")
    assert titles(only) == ["model.hidden"]
    close(only)
    assert plot_sweep(out, key="model.hidden").name == "val_accuracy_vs_hidden.png"


def test_a_random_sweep_draws_points_not_lines(tmp_path):
    """Each trial draws its own learning rate: points, no line joining unrelated trials; a
    categorical key gets its categories on the axis and the mean per category."""
    rng = np.random.default_rng(0)
    rows = [
        ({"train.learning_rate": float(10 ** rng.uniform(-4, -1)), "model.hidden": [h]}, "ok", rng.random())
        for h in (8, 16, 32, 8, 16, 32, 8, 16)
    ]
    folder = write_results(tmp_path / "random", rows)
    fig = figure_for_sweep(folder, metric="val_accuracy")
    lr, hidden = fig.axes
    assert len(lr.collections[0].get_offsets()) == 8 and not lr.lines
    assert [t.get_text() for t in hidden.get_xticklabels()] == ["[8]", "[16]", "[32]"]
    (means,) = hidden.lines
    assert means.get_linestyle() == "None"  # categories are not joined
    close(fig)


def test_axis_scales_and_failed_runs(tmp_path):
    rows = [
        ({"train.l2": l2, "train.batch_size": b, "model.activation": a}, "ok", 0.5 + l2 + b / 1000)
        for l2 in (0.0, 0.0001, 0.01)
        for b in (16, 64)
        for a in ("relu", "tanh")
    ]
    rows += [({"train.l2": 0.01, "train.batch_size": 16, "model.activation": "relu"}, "error", 0.99)]
    folder = write_results(tmp_path / "grid", rows)
    fig = figure_for_sweep(folder, metric="val_accuracy")
    l2, batch, activation = fig.axes
    # 0 among L2 values that span 100x: symmetric log; 16..64 is linear; activations are categories.
    assert (l2.get_xscale(), batch.get_xscale(), activation.get_xscale()) == ("symlog", "linear", "linear")
    assert [t.get_text() for t in activation.get_xticklabels()] == ["relu", "tanh"]
    # The failed run (0.99) is in no panel.
    drawn = np.concatenate([line.get_ydata() for ax in fig.axes for line in ax.lines])
    assert drawn.size and 0.99 not in drawn
    assert "1 failed or unscored, left out" in fig._suptitle.get_text()
    close(fig)


# ---------------------------------------------------------------- the command


def test_cli_plots_a_run_and_a_sweep(digits_run, tmp_path):
    result = invoke("plot", digits_run, "--out", tmp_path / "run.png")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run.png").read_bytes()[:8] == PNG
    folder = write_results(tmp_path / "s", [({"train.l2": v}, "ok", v) for v in (0.1, 0.2)])
    result = invoke("plot", folder, "--metric", "val_accuracy")
    assert result.exit_code == 0, result.output
    assert (folder / "val_accuracy_vs_l2.png").read_bytes()[:8] == PNG


def test_cli_bad_inputs_are_one_line_and_exit_2(digits_run, tmp_path):
    (tmp_path / "empty").mkdir()
    assert_user_error(invoke("plot", tmp_path / "empty"), "neither a run folder", "nor a sweep folder")
    assert_user_error(invoke("plot", tmp_path / "nowhere"), "no such run folder")
    folder = write_results(tmp_path / "s", [({"train.l2": v}, "ok", v) for v in (0.1, 0.2)])
    assert_user_error(invoke("plot", folder, "--key", "train.epochs"), "not a swept key", "train.l2")
    assert_user_error(invoke("plot", folder, "--metric", "test_rmse"), "test_rmse")
    assert_user_error(invoke("plot", digits_run, "--key", "train.l2"), "--key", "sweep folder")
