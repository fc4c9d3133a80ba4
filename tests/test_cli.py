"""The `fastmlp` command through typer's CliRunner (and once through the installed script)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from fastmlp import api
from fastmlp.cli import app
from fastmlp.model import MLP

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def assert_user_error(result, *fragments):
    """Exit 2, one `error:` line on stderr naming what was wrong, and no traceback."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """One run of the embedded default (digits, full epochs), shared by the tests below."""
    run_dir = tmp_path_factory.mktemp("runs") / "default"
    result = invoke("train", "--out", run_dir)
    assert result.exit_code == 0, result.output
    return run_dir, result


def test_default_run_writes_the_four_files(default_run):
    run_dir, result = default_run
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "config.yaml",
        "metrics.csv",
        "model.npz",
        "summary.json",
    ]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["test_accuracy"] >= 0.96  # the default config's promise
    assert summary["epochs_run"] == 20 and 1 <= summary["best_epoch"] <= 20
    assert summary["seed"] == 0 and set(summary["versions"]) == {"fastmlp", "numba", "numpy"}
    assert summary["timings"]["wall_seconds"] > 0 and summary["timings"]["samples_per_second"] > 0
    rows = (run_dir / "metrics.csv").read_text().splitlines()
    assert rows[0] == "epoch,lr,train_loss,train_accuracy,val_loss,val_accuracy,seconds"
    assert len(rows) == 21
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["data"]["name"] == "digits"
    assert MLP.load(run_dir / "model.npz").preprocessing.kind == "standardize"
    assert "test accuracy" in result.stdout and str(run_dir) in result.stdout
    assert not list(run_dir.glob(".*.tmp"))  # no temp files left behind


def test_set_overrides_are_applied_and_recorded(tmp_path):
    run_dir = tmp_path / "run"
    result = invoke(
        "train",
        "--set",
        "train.epochs=2",
        "--set",
        "model.hidden=[32,16]",
        "--set",
        "train.lr_schedule=step",
        "--out",
        run_dir,
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(run_dir)
    resolved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert resolved["model"]["hidden"] == [32, 16]
    assert resolved["train"]["epochs"] == 2
    assert resolved["train"]["lr_schedule"] == {"name": "step", "step_size": 10, "gamma": 0.1}
    assert MLP.load(run_dir / "model.npz").layer_sizes == [64, 32, 16, 10]
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 3


def test_run_folder_name_and_output_dir(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(f"train: {{epochs: 1}}\noutput: {{dir: {tmp_path / 'out'}}}\n")
    result = invoke("train", config, "--quiet")
    assert result.exit_code == 0, result.output
    run_dir = Path(result.stdout.strip())
    assert run_dir.parent == tmp_path / "out" and run_dir.name.startswith("tiny-")


@pytest.mark.parametrize("name", ["digits", "spirals", "regression", "fashion_mnist"])
def test_shipped_configs_train_for_one_epoch(name, tmp_path):
    if name == "fashion_mnist" and "found" not in dict((r[0], r[2]) for r in api_list())["fashion-mnist"]:
        pytest.skip("Fashion-MNIST is not installed (apt-get install -y dataset-fashion-mnist)")
    result = invoke(
        "train",
        ROOT / "configs" / f"{name}.yaml",
        "--set",
        "train.epochs=1",
        "--out",
        tmp_path / "run",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["epochs_run"] == 1
    assert ("test_accuracy" in summary) != ("test_rmse" in summary)


def api_list():
    from fastmlp.data import list_datasets

    return list_datasets()


# ---------------------------------------------------------------- config errors -> exit 2


def test_unknown_key_suggests_the_closest(tmp_path):
    assert_user_error(invoke("train", "--set", "train.epoch=3"), "train.epoch", "did you mean 'epochs'?")


def test_wrong_type_names_the_key(tmp_path):
    assert_user_error(
        invoke("train", "--set", "train.batch_size=big"), "train.batch_size", "expected an integer"
    )


def test_out_of_range_names_the_key(tmp_path):
    assert_user_error(
        invoke("train", "--set", "train.optimizer.momentum=1.5"), "train.optimizer.momentum", "[0, 1)"
    )


def test_missing_config_file(tmp_path):
    assert_user_error(invoke("train", tmp_path / "nope.yaml"), "config file not found", "nope.yaml")


def test_malformed_yaml_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  epochs: [1,\n")
    assert_user_error(invoke("train", bad), "bad.yaml:", "malformed YAML")


def test_unknown_key_in_a_file_fails_before_training(tmp_path):
    bad = tmp_path / "typo.yaml"
    bad.write_text("data:\n  name: digits\n  validaton_split: 0.2\n")
    result = invoke("train", bad, "--out", tmp_path / "run")
    assert_user_error(result, "data.validaton_split", "did you mean 'validation_split'?")
    assert not (tmp_path / "run").exists()


def test_out_folder_that_is_not_empty_is_refused(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    assert_user_error(
        invoke("train", "--set", "train.epochs=1", "--out", tmp_path), "--out", "not an empty folder"
    )


def test_internal_errors_exit_1_with_traceback_only_under_debug(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(api, "train", boom)
    result = invoke("train")
    assert result.exit_code == 1
    assert "internal error: RuntimeError: kaboom" in result.stderr and "Traceback" not in result.output
    result = invoke("--debug", "train")
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)


# ---------------------------------------------------------------- evaluate / predict


def test_evaluate_a_run(default_run):
    run_dir, _ = default_run
    result = invoke("evaluate", run_dir, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert report["metrics"]["accuracy"] == pytest.approx(summary["test_accuracy"])
    confusion = np.array(report["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == report["n"] == summary["n_test"]
    assert np.trace(confusion) / confusion.sum() == pytest.approx(report["metrics"]["accuracy"])
    text = invoke("evaluate", run_dir, "--split", "val")
    assert text.exit_code == 0 and "confusion matrix" in text.stdout and "val split" in text.stdout


def test_evaluate_a_model_file_with_data(default_run):
    run_dir, _ = default_run
    result = invoke("evaluate", run_dir / "model.npz", "--data", ROOT / "configs" / "digits.yaml", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["metrics"]["accuracy"] >= 0.96
    assert_user_error(invoke("evaluate", run_dir / "model.npz"), "needs --data")
    assert_user_error(invoke("evaluate", run_dir, "--split", "dev"), "--split")


def test_evaluate_regression(tmp_path):
    run_dir = tmp_path / "reg"
    assert (
        invoke(
            "train",
            ROOT / "configs" / "regression.yaml",
            "--set",
            "train.epochs=2",
            "--out",
            run_dir,
            "--quiet",
        ).exit_code
        == 0
    )
    report = json.loads(invoke("evaluate", run_dir, "--json").stdout)
    assert set(report["metrics"]) == {"loss", "rmse", "mae", "r2"} and "confusion" not in report


def raw_digits():
    from fastmlp.data import load_dataset

    ds = load_dataset({"name": "digits", "preprocessing": "none"}, seed=0)
    return ds.X_test, ds.y_test


def test_predict_applies_the_saved_preprocessing(default_run, tmp_path):
    run_dir, _ = default_run
    X, y = raw_digits()
    np.save(tmp_path / "X.npy", X)
    result = invoke("predict", run_dir / "model.npz", tmp_path / "X.npy")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "class" and len(lines) == len(X) + 1
    predicted = np.array([int(v) for v in lines[1:]])
    assert (predicted == y).mean() >= 0.96


def test_predict_csv_in_probabilities_out(default_run, tmp_path):
    run_dir, _ = default_run
    X, _ = raw_digits()
    np.savetxt(
        tmp_path / "X.csv", X[:5], delimiter=",", header=",".join(f"p{i}" for i in range(64)), comments=""
    )
    result = invoke("predict", run_dir, tmp_path / "X.csv", "--proba", "--out", tmp_path / "p.npy")
    assert result.exit_code == 0, result.output
    proba = np.load(tmp_path / "p.npy")
    assert proba.shape == (5, 10) and proba.dtype == np.float32
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    expected = api.predict(run_dir, X[:5], proba=True)
    assert np.allclose(proba, expected)


def test_predict_user_errors(default_run, tmp_path):
    run_dir, _ = default_run
    np.save(tmp_path / "wrong.npy", np.zeros((3, 5)))
    assert_user_error(invoke("predict", run_dir / "model.npz", tmp_path / "wrong.npy"), "(n, 64)")
    assert_user_error(invoke("predict", run_dir / "model.npz", tmp_path / "none.npy"), "no such input file")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    assert_user_error(invoke("predict", tmp_path / "junk.npz", tmp_path / "wrong.npy"), "junk.npz")


# ---------------------------------------------------------------- gradcheck / plot / misc


def test_gradcheck_passes():
    result = invoke("gradcheck", "--set", "model.hidden=[16,8]", "--samples", "4")
    assert result.exit_code == 0, result.output
    assert result.stdout.count(" ok ") == 3


def test_gradcheck_fails_on_a_wrong_gradient(monkeypatch):
    """Scale one layer's dW by 1.001: the check must notice and exit 1."""
    real = MLP.loss_and_gradients

    def wrong(self, X, y, l2=0.0):
        loss, grads = real(self, X, y, l2)
        grads[0] = (grads[0][0] * 1.001, grads[0][1])
        return loss, grads

    monkeypatch.setattr(MLP, "loss_and_gradients", wrong)
    result = invoke("gradcheck", "--set", "model.hidden=[16]", "--samples", "4")
    assert result.exit_code == 1
    assert "FAIL" in result.stdout and "gradient check failed" in result.stderr


def test_plot(default_run, tmp_path):
    result = invoke("plot", default_run[0], "--out", tmp_path / "c.png")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert_user_error(result, "matplotlib", "pip install")
    else:
        assert result.exit_code == 0, result.output
        assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_datasets_lists_the_builtins():
    result = invoke("datasets")
    assert result.exit_code == 0 and "digits" in result.stdout and "spirals" in result.stdout


def test_version_and_help():
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.startswith("fastmlp ")
    for command in ("train", "evaluate", "predict", "gradcheck", "plot", "datasets", "sweep"):
        result = invoke(command, "--help")
        assert result.exit_code == 0 and "Examples" in result.stdout, command


def console_script():
    """The installed `fastmlp` script: beside this Python (a venv's bin), else on PATH."""
    beside = Path(sys.executable).parent / "fastmlp"
    return str(beside) if beside.is_file() else shutil.which("fastmlp")


@pytest.mark.skipif(
    console_script() is None, reason="the fastmlp console script is not installed (pip install -e .)"
)
def test_installed_console_script(tmp_path):
    run_dir = tmp_path / "run"
    done = subprocess.run(
        [console_script(), "train", "--set", "train.epochs=2", "--out", str(run_dir), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(run_dir) and (run_dir / "summary.json").is_file()
    bad = subprocess.run(
        [console_script(), "train", "--set", "model.hiden=[3]"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error: model.hiden")
    assert "Traceback" not in bad.stderr


def test_python_m_entry_point():
    done = subprocess.run(
        [sys.executable, "-m", "fastmlp.cli", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0 and done.stdout.startswith("fastmlp ")


def test_progress_display_draws_on_a_terminal(tmp_path):
    """The rich progress (epoch bar, minibatch bar, one line per epoch) as a trainer callback."""
    import io

    from rich.console import Console

    from fastmlp.cli import ProgressDisplay

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)
    with ProgressDisplay(console, epochs=2) as display:
        result = api.train(None, ["train.epochs=2"], out=tmp_path / "run", callback=display)
    text = buffer.getvalue()
    assert "epoch 1/2" in text and "epoch 2/2" in text and "val_acc" in text
    assert len(result.history.rows) == 2


OPTIMIZERS = {
    "sgd": ["train.optimizer=sgd"],
    "momentum": ["train.optimizer={name: sgd, momentum: 0.9}"],
    "nesterov": ["train.optimizer={name: sgd, momentum: 0.9, nesterov: true}"],
    "adam": ["train.optimizer=adam", "train.learning_rate=0.001"],
    "lbfgs": ["train.optimizer=lbfgs"],
}


@pytest.mark.parametrize("mode", ["terminal", "plain", "json", "quiet"])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_every_optimizer_trains_through_every_output_mode(optimizer, mode, tmp_path):
    """Each optimizer through each way of showing epochs: a terminal's progress display, plain
    lines, JSON lines, --quiet. L-BFGS leaves the learning rate empty (None): each must say so
    rather than fail (the terminal and plain lines once crashed formatting it)."""
    import io

    from rich.console import Console

    from fastmlp.cli import ProgressDisplay

    overrides = [*OPTIMIZERS[optimizer], "train.epochs=3"]
    has_lr = optimizer != "lbfgs"
    if mode == "terminal":
        buffer = io.StringIO()
        with ProgressDisplay(Console(file=buffer, force_terminal=True, width=120), epochs=3) as display:
            api.train(None, overrides, out=tmp_path / "run", callback=display)
        text = buffer.getvalue()
        assert "epoch 3/3" in text and (" lr " in text) == has_lr
        return
    extra = {"json": ["--log-format", "json"], "quiet": ["--quiet"], "plain": []}[mode]
    args = ["train", "--out", tmp_path / "run", *extra, *(a for o in overrides for a in ("--set", o))]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "model.npz").is_file()
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["epochs_run"] == 3 and summary["test_accuracy"] > 0.5
    epochs = [line for line in result.stderr.splitlines() if line.startswith(("epoch ", "{"))]
    if mode == "plain":
        assert len(epochs) == 3 and all((" lr " in line) == has_lr for line in epochs), result.stderr
    elif mode == "json":
        rows = [json.loads(line) for line in epochs if line.startswith("{")]
        assert [r["epoch"] for r in rows if "epoch" in r] == [1, 2, 3], result.stderr
        assert all((r.get("lr") is not None) == has_lr for r in rows if "epoch" in r)
    else:
        assert epochs == [] and str(tmp_path / "run") in result.stdout


# -- mistakes found by a first-time user: each one line, exit 2, nothing half-written ----------


def test_unusable_output_dir_is_a_user_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    result = invoke("train", "--set", f"output.dir={blocker}", "--set", "train.epochs=1")
    assert_user_error(result, "cannot create run folder", str(blocker))


def test_predict_out_to_a_folder_and_nan_inputs(default_run, tmp_path):
    run_dir, _ = default_run
    X = np.zeros((3, 64))
    np.save(tmp_path / "X.npy", X)
    assert_user_error(
        invoke("predict", run_dir, tmp_path / "X.npy", "--out", tmp_path), "cannot write", "it is a folder"
    )
    X[1, 5] = np.nan
    np.save(tmp_path / "Xnan.npy", X)
    result = invoke("predict", run_dir, tmp_path / "Xnan.npy", "--out", tmp_path / "p.csv")
    assert_user_error(result, "Xnan.npy: row 1, column 5: not finite")
    assert not (tmp_path / "p.csv").exists()


def test_gradcheck_rejects_negative_entries():
    result = invoke("gradcheck", "--entries", "-1")
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_predict_writes_class_names(tmp_path):
    """String labels in a CSV travel inside model.npz, so predict answers in the user's labels."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    labels = np.where(X[:, 0] > 0, "yes", "no")
    lines = ["a,b,c,label"] + [f"{a},{b},{c},{t}" for (a, b, c), t in zip(X, labels, strict=True)]
    (tmp_path / "train.csv").write_text("\n".join(lines) + "\n")
    run_dir = tmp_path / "run"
    result = invoke(
        "train",
        "--out",
        run_dir,
        "--set",
        "data.name=null",
        "--set",
        f"data.path={tmp_path / 'train.csv'}",
        "--set",
        "data.target=label",
        "--set",
        "train.epochs=30",
        "--set",
        "model.hidden=[8]",
    )
    assert result.exit_code == 0, result.output
    np.save(tmp_path / "rows.npy", np.array([[2.0, 0, 0], [-2.0, 0, 0]]))
    out = invoke("predict", run_dir, tmp_path / "rows.npy")
    assert out.stdout.split() == ["class", "yes", "no"]
    proba = invoke("predict", run_dir, tmp_path / "rows.npy", "--proba")
    assert proba.stdout.splitlines()[0] == "prob_no,prob_yes"


def test_resume_with_a_config_or_an_out_folder_is_one_line(tmp_path):
    """--resume runs the folder's own config.yaml, into that folder: a CONFIG or an --out beside
    it would be ignored, so it is refused (an --out was once dropped without a word)."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text(api.load_config(None).to_yaml())
    assert_user_error(
        invoke("train", ROOT / "configs" / "digits.yaml", "--resume", run_dir), "give no config"
    )
    assert_user_error(invoke("train", "--resume", run_dir, "--out", tmp_path / "elsewhere"), "--out")
    assert not (tmp_path / "elsewhere").exists()
    assert_user_error(invoke("train", "--resume", tmp_path / "nothing"), "not a run folder")


def test_a_table_piped_to_a_file_keeps_every_value_whole(tmp_path):
    """Output that is not a terminal (a pipe, a file) gets tables at their natural width: rich's
    default of 80 columns cut a random sweep's drawn values to '0.0481…'."""
    script = (
        "from rich.table import Table\n"
        "from fastmlp.clikit import stdout_console\n"
        "t = Table(*[f'train.some_long_key_{i}' for i in range(6)])\n"
        "t.add_row(*['0.0481551234'] * 6)\n"
        "stdout_console().print(t)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.count("0.0481551234") == 6 and out.count("train.some_long_key_") == 6 and "…" not in out


def test_a_resumed_runs_wall_time_is_this_sessions(tmp_path, default_run):
    """The summary of a resumed run says its wall time is this session's and its epoch seconds
    all epochs' (those include the earlier sessions'); a run from the start says training."""
    _, first = default_run
    assert "(training " in first.output and "this session" not in first.output
    half = tmp_path / "half"
    half.mkdir()
    config = yaml.safe_load((default_run[0] / "config.yaml").read_text())
    config["train"]["epochs"] = 2
    (half / "config.yaml").write_text(yaml.safe_dump(config))  # killed before its first checkpoint
    result = invoke("train", "--resume", half)
    assert result.exit_code == 0, result.output
    assert " this session (all epochs " in result.output
