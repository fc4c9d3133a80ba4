"""The mistakes a new user makes get one short line that says what to do (exit 2)."""

from typer.testing import CliRunner

from fastmlp.cli import app
from fastmlp.schema import ECHO_CHARS, kind_of


def run(*args):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output.strip()


def test_a_data_file_given_as_the_config_says_how_to_train_on_it(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b,label\n" + "1.0,2.0,x\n" * 20000)
    code, out = run("train", str(data))
    assert code == 2 and len(out.splitlines()) == 1 and len(out) < 200 + 3 * len(str(data))
    assert "a data file, not a config" in out and f"--set data.path={data}" in out


def test_every_table_format_given_as_the_config_is_recognised_as_data(tmp_path):
    """One list of suffixes serves the readers and this guard (config.py's once lacked .feather)."""
    from fastmlp.data.formats import FORMATS

    for suffix in (s for suffixes, _ in FORMATS.values() for s in suffixes):
        data = tmp_path / f"data{suffix}"
        data.write_bytes(b"not read")
        code, out = run("train", str(data))
        assert code == 2 and "a data file, not a config" in out, (suffix, out)


def test_a_config_that_is_not_a_mapping_echoes_a_short_value(tmp_path):
    config = tmp_path / "x.yaml"
    config.write_text("just some text " * 5000)
    code, out = run("train", str(config))
    assert code == 2 and len(out) < 300 and "characters)" in out


def test_echoed_values_are_cut():
    assert len(kind_of("y" * 10_000)) < ECHO_CHARS + 40
    assert kind_of("short") == "str 'short'"


def test_relative_paths_in_a_config_are_relative_to_its_folder(tmp_path, monkeypatch):
    import numpy as np

    import fastmlp

    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    np.savez(project / "data" / "set.npz", X=X, y=(X[:, 0] > 0).astype(int))
    (project / "exp.yaml").write_text(
        "data: {name: null, path: data/set.npz}\nmodel: {hidden: [8]}\ntrain: {epochs: 2}\n"
    )
    monkeypatch.chdir(tmp_path)  # elsewhere: the config still finds its data
    result = fastmlp.train("project/exp.yaml", out=tmp_path / "run")
    assert result.summary["n_train"] > 0
    saved = fastmlp.load_config(result.run_dir / "config.yaml")
    assert saved.data["path"] == str(project / "data" / "set.npz")
    # A path given with --set is the user's, typed in the current directory.
    override = ("--set", "data.path=data/set.npz")
    code, out = run("train", "project/exp.yaml", *override, "--out", str(tmp_path / "x"))
    assert code == 2 and "data/set.npz" in out


def test_predict_refuses_a_missing_output_folder(tmp_path):
    import numpy as np

    import fastmlp

    result = fastmlp.train({"model": {"hidden": [8]}, "train": {"epochs": 1}}, out=tmp_path / "run")
    np.save(tmp_path / "rows.npy", np.zeros((3, 64)))
    target = tmp_path / "missing" / "deeper" / "p.csv"
    model, rows = str(result.run_dir / "model.npz"), str(tmp_path / "rows.npy")
    code, out = run("predict", model, rows, "--out", str(target))
    assert code == 2 and "does not exist; create it first" in out
    assert not (tmp_path / "missing").exists()


def test_download_of_data_already_here_does_nothing(monkeypatch, tmp_path):
    from fastmlp.data import builtin as builtin_module

    monkeypatch.setattr(builtin_module, "find_idx_dir", lambda name: tmp_path)
    code, out = run("datasets", "--download", "fashion-mnist")
    assert code == 0 and "is already here" in out and "--force" in out


def test_a_network_too_big_for_memory_is_refused_before_allocation(monkeypatch):
    import pytest

    from fastmlp import MLP, network
    from fastmlp.errors import FastMLPError

    monkeypatch.setattr(network, "available_memory", lambda: 2 * 1024**3)
    expected = r"401,520,010 parameters need about 9\.0 GiB .* 2\.0 GiB available"
    with pytest.raises(FastMLPError, match=expected):
        MLP([64, 20000, 20000, 10])
    MLP([64, 128, 10])  # a small one is built as usual
    code, out = run("train", "--set", "model.hidden=[20000,20000]")
    assert code == 2 and "GiB available" in out


def test_a_sweep_dry_run_checks_that_every_run_finds_its_data(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text("data: {name: null, path: data/missing.csv}\n")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("base: base.yaml\ngrid: {model.hidden: [[4], [8]]}\n")
    code, out = run("sweep", str(sweep), "--dry-run")
    assert code == 2 and "data.path" in out and "missing.csv: no such file" in out


def test_predicting_on_a_file_with_its_label_column_says_to_drop_it(tmp_path):
    import fastmlp

    result = fastmlp.train({"model": {"hidden": [8]}, "train": {"epochs": 1}}, out=tmp_path / "run")
    rows = tmp_path / "rows.csv"
    rows.write_text("\n".join(",".join(["0.5"] * 64 + ["cat"]) for _ in range(3)) + "\n")
    code, out = run("predict", str(result.run_dir / "model.npz"), str(rows))
    assert code == 2 and "column 64" in out and "if that is the target (label) column, drop it" in out


def test_force_replaces_an_earlier_run_in_the_out_folder_and_nothing_else(tmp_path):
    args = ("train", "--set", "train.epochs=1", "--set", "model.hidden=[8]", "--out", str(tmp_path / "run"))
    assert run(*args)[0] == 0
    code, out = run(*args)
    assert code == 2 and "--force" in out
    assert run(*args, "--force")[0] == 0
    (tmp_path / "run" / "notes.txt").write_text("mine")
    code, out = run(*args, "--force")
    assert code == 2 and "notes.txt" in out and (tmp_path / "run" / "notes.txt").exists()


def test_predict_with_its_arguments_swapped_is_one_plain_line(tmp_path):
    import fastmlp

    result = fastmlp.train({"model": {"hidden": [8]}, "train": {"epochs": 1}}, out=tmp_path / "run")
    rows = tmp_path / "rows.csv"
    rows.write_text("\n".join(",".join(["0.5"] * 64) for _ in range(3)) + "\n")
    code, out = run("predict", str(rows), str(result.run_dir))
    assert code == 2 and len(out.splitlines()) == 1
    assert "not a fastmlp model file" in out and "pickle" not in out


def test_import_finds_the_package_from_a_folder_holding_a_namesake(tmp_path):
    """A folder named fastmlp in the current directory (a clone) must not shadow the install."""
    import subprocess
    import sys

    (tmp_path / "fastmlp").mkdir()
    done = subprocess.run(
        [sys.executable, "-c", "import fastmlp; print(fastmlp.__version__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stdout.strip(), done.stderr


def test_a_sweep_base_finds_its_data_relative_to_its_own_folder(tmp_path, monkeypatch):
    import numpy as np

    import fastmlp

    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    X = np.random.default_rng(0).normal(size=(100, 3))
    np.savez(project / "data" / "set.npz", X=X, y=(X[:, 0] > 0).astype(int))
    (project / "base.yaml").write_text("data: {name: null, path: data/set.npz}\ntrain: {epochs: 1}\n")
    (project / "sweeps").mkdir()
    sweep = project / "sweeps" / "s.yaml"
    sweep.write_text("base: ../base.yaml\ngrid: {model.hidden: [[4], [8]]}\n")
    monkeypatch.chdir(tmp_path)
    result = fastmlp.sweep(str(sweep), out=tmp_path / "out")
    assert [row["status"] for row in result.rows] == ["ok", "ok"]
