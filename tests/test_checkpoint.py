"""Runs that survive: a run interrupted anywhere — between epochs, inside one, by SIGKILL at a
random moment — and resumed from its checkpoint ends bit-identical to the run never interrupted
(weights, and every column of metrics.csv but the seconds)."""

import csv
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import fastmlp
from fastmlp import MLP, checkpoint, runs
from fastmlp.errors import FastMLPError

# Adam, dropout, a schedule, shuffling and a validation set: every piece of state a checkpoint holds.
CONFIG = {
    "seed": 3,
    "data": {"name": "digits", "validation_split": 0.1},
    "model": {"hidden": [32, 16], "dropout": 0.1},
    "train": {
        "epochs": 6,
        "batch_size": 32,
        "learning_rate": 0.003,
        "optimizer": {"name": "adam"},
        "lr_schedule": {"name": "cosine"},
    },
}


def metrics_without_seconds(run_dir):
    with open(run_dir / runs.METRICS, newline="") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def assert_same_run(run_dir, reference_dir):
    a, b = MLP.load(run_dir / runs.MODEL), MLP.load(reference_dir / runs.MODEL)
    np.testing.assert_array_equal(a.params, b.params)
    assert metrics_without_seconds(run_dir) == metrics_without_seconds(reference_dir)
    assert not (run_dir / checkpoint.FILE).exists()  # a finished run keeps no checkpoint


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return fastmlp.train(CONFIG, out=tmp_path_factory.mktemp("ref") / "run").run_dir


class StopAt:
    """A callback that raises KeyboardInterrupt at a chosen point, as Ctrl-C would."""

    def __init__(self, epoch, batches=None):
        self.epoch, self.batches = epoch, batches

    def on_batches(self, epoch, done, n_batches, running_loss):
        if self.batches is not None and epoch == self.epoch and done >= self.batches:
            raise KeyboardInterrupt

    def on_epoch_end(self, row):
        if self.batches is None and row["epoch"] == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize("stop", [StopAt(2), StopAt(3, batches=10), StopAt(1, batches=1), StopAt(6)])
def test_interrupted_then_resumed_equals_uninterrupted(stop, reference, tmp_path):
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt, match=r"keeps a checkpoint .*fastmlp train --resume"):
        fastmlp.train(CONFIG, out=run_dir, callback=stop)
    state = checkpoint.load(run_dir / checkpoint.FILE)
    assert (state.next_batch > 0) == (stop.batches is not None)
    assert not (run_dir / runs.MODEL).exists()
    result = fastmlp.train(resume=run_dir)
    assert result.summary["resumed_from"] == state.describe()
    assert_same_run(run_dir, reference)


def test_resume_refuses_a_finished_run_and_a_folder_that_is_no_run(reference, tmp_path):
    with pytest.raises(FastMLPError, match="the run finished"):
        fastmlp.train(resume=reference)
    with pytest.raises(FastMLPError, match="not a run folder"):
        fastmlp.train(resume=tmp_path)


def test_a_run_stopped_before_its_first_checkpoint_resumes_from_the_start(reference, tmp_path):
    """Killed before its first epoch ended, a run folder holds config.yaml only (and its lock)."""
    half = tmp_path / "half"
    half.mkdir()
    (half / runs.CONFIG).write_text(fastmlp.load_config(CONFIG).to_yaml())
    (half / runs.LOCK).write_text("12345\n")  # left by the killed process: its flock is gone
    result = fastmlp.train(resume=half)
    assert result.summary["resumed_from"].startswith("the start")
    assert_same_run(half, reference)


def test_sigterm_checkpoints_at_the_next_chunk_then_resume_is_bit_identical(tmp_path):
    """SIGTERM (what schedulers and containers send) mid-run: the checkpoint at the next chunk,
    one line, exit 130, as Ctrl-C; then --resume ends as the uninterrupted run."""
    config = fastmlp.load_config(CONFIG, ["train.epochs=40"])  # long enough to be caught training
    (tmp_path / "config.yaml").write_text(config.to_yaml())
    run_dir = tmp_path / "run"
    config_file = str(tmp_path / "config.yaml")
    command = [sys.executable, "-m", "fastmlp.cli", "train", config_file, "--out", str(run_dir)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (run_dir / runs.METRICS).exists() and time.monotonic() < deadline:
        time.sleep(0.02)  # the first epoch's row: the run is inside epoch 2 now
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the run finished before SIGTERM arrived")
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("interrupted"), err
    fastmlp.train(resume=run_dir)
    assert_same_run(run_dir, fastmlp.train(config, out=tmp_path / "uninterrupted").run_dir)


@pytest.mark.parametrize("interval, least, most", [(1e-9, 40, None), (3600.0, 0, 0)])
def test_a_long_epoch_checkpoints_on_a_wall_clock_interval(interval, least, most, tmp_path, monkeypatch):
    from fastmlp.trainer import fit

    saved = []
    original = checkpoint.save

    def recording(path, state):
        saved.append((state.epoch, state.next_batch))
        return original(path, state)

    monkeypatch.setattr(checkpoint, "save", recording)
    rng = np.random.default_rng(0)
    X, y = rng.random((400, 3)), np.arange(400) % 2
    fit(
        MLP([3, 4, 2], seed=0),
        X,
        y,
        epochs=1,
        batch_size=2,
        checkpoint=tmp_path / "c.npz",
        checkpoint_seconds=interval,
    )
    inside = [s for s in saved if s[1] > 0]  # mid-epoch ones (about 50 chunk boundaries an epoch)
    assert len(inside) >= least and (most is None or len(inside) <= most), saved


def test_a_damaged_checkpoint_is_one_line(tmp_path):
    path = tmp_path / checkpoint.FILE
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(FastMLPError, match="not a readable fastmlp checkpoint"):
        checkpoint.load(path)


def test_a_run_cut_between_its_last_checkpoint_and_metrics_csv_resumes_every_row(
    tmp_path, monkeypatch, reference
):
    """The checkpoint of an epoch is saved before its row reaches metrics.csv: a run killed in
    between (here, after its last epoch) resumes to a metrics.csv with every row."""

    class Killed(BaseException):
        pass

    write = runs.write_metrics

    def killed_at_the_last_row(run_dir, rows):
        rows = list(rows)
        if len(rows) == CONFIG["train"]["epochs"]:
            raise Killed
        return write(run_dir, rows)

    monkeypatch.setattr(runs, "write_metrics", killed_at_the_last_row)
    with pytest.raises(Killed):
        fastmlp.train(CONFIG, out=tmp_path / "run")
    monkeypatch.setattr(runs, "write_metrics", write)
    assert len(metrics_without_seconds(tmp_path / "run")) == CONFIG["train"]["epochs"] - 1
    fastmlp.train(resume=tmp_path / "run")
    assert_same_run(tmp_path / "run", reference)


KILLED_RUN = """
import sys, fastmlp
fastmlp.train({config!r}, out=sys.argv[1])
"""


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_is_bit_identical(tmp_path):
    """20 runs killed at moments spread over a whole run; each one that had reached a checkpoint
    resumes to the uninterrupted run; the others left a folder whose resume is refused in one line."""
    config = {**CONFIG, "train": {**CONFIG["train"], "epochs": 30}}
    reference = fastmlp.train(config, out=tmp_path / "reference").run_dir
    script = KILLED_RUN.format(config=config)

    def start(run_dir):
        """The run in a subprocess, and the moment its run folder appeared (after the imports)."""
        process = subprocess.Popen([sys.executable, "-c", script, str(run_dir)], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not (run_dir / runs.CONFIG).exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        return process, time.monotonic()

    # When, after its folder appears, a run writes its first checkpoint and when it ends: most kills
    # land between the two (the machine's speed drifts, so the window is measured, not assumed).
    timing = tmp_path / "timing"
    process, began = start(timing)
    first_checkpoint = finished = None
    while process.poll() is None:
        if first_checkpoint is None and (timing / checkpoint.FILE).exists():
            first_checkpoint = time.monotonic() - began
        if finished is None and (timing / runs.MODEL).exists():
            finished = time.monotonic() - began  # the process still exits after this
        time.sleep(0.002)
    span = finished if finished is not None else time.monotonic() - began
    first_checkpoint = first_checkpoint if first_checkpoint is not None else span / 2
    rng = random.Random(0)
    resumed = 0
    for trial in range(20):
        run_dir = tmp_path / f"run{trial}"
        process, _ = start(run_dir)
        # Trials 0-4 anywhere in the run (before any checkpoint too), the rest after the first one:
        # waited for, not assumed, since a run's start-up drifts from the timing run's.
        if trial < 5:
            time.sleep(rng.uniform(0.0, span))
        else:
            while not (run_dir / checkpoint.FILE).exists() and process.poll() is None:
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, span - first_checkpoint))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        # Every file in the folder is whole: a write cut short leaves at most a hidden temp file.
        for name in (checkpoint.FILE, runs.METRICS, runs.MODEL):
            if (run_dir / name).exists() and name != runs.METRICS:
                (checkpoint.load if name == checkpoint.FILE else MLP.load)(run_dir / name)
        if (run_dir / checkpoint.FILE).exists():
            fastmlp.train(resume=run_dir)
            assert_same_run(run_dir, reference)
            resumed += 1
        elif (run_dir / runs.MODEL).exists():
            assert_same_run(run_dir, reference)  # it finished before the kill
        elif (run_dir / runs.CONFIG).exists():
            fastmlp.train(resume=run_dir)  # killed before its first checkpoint: from the start
            assert_same_run(run_dir, reference)
        else:
            with pytest.raises(FastMLPError, match="not a run folder"):
                fastmlp.train(resume=run_dir)
    print(f"SIGKILL trials: {resumed} of 20 resumed from a checkpoint (run span {span:.2f} s)")
    assert resumed >= 5, f"only {resumed} of 20 kills landed after a checkpoint (run span {span:.2f} s)"


def test_keep_best_and_last(tmp_path):
    config = {
        "data": {"name": "digits", "validation_split": 0.2},
        "model": {"hidden": [16]},
        "train": {"epochs": 8, "learning_rate": 0.5},
    }
    best = fastmlp.train(config, out=tmp_path / "best")
    rows = best.history.rows
    best_epoch = min(rows, key=lambda r: r["val_loss"])["epoch"]
    assert best.summary["kept_epoch"] == best.summary["best_epoch"] == best_epoch
    assert best.summary["val_loss"] == pytest.approx(rows[best_epoch - 1]["val_loss"], rel=1e-6)
    last = fastmlp.train(config, ["train.keep=last"], out=tmp_path / "last")
    assert last.summary["kept_epoch"] == 8
    assert last.summary["val_loss"] == pytest.approx(last.history.rows[-1]["val_loss"], rel=1e-6)


def test_divergence_inside_an_epoch_is_caught_and_named(tmp_path):
    config = {"model": {"hidden": [64]}, "train": {"epochs": 3, "learning_rate": 1e4}}
    expected = r"training diverged at epoch 1, minibatch(es \d+-\d+| \d+) of \d+"
    with pytest.raises(FastMLPError, match=expected):
        fastmlp.train(config, out=tmp_path / "run")


def test_a_pipe_gets_a_line_per_epoch_and_the_run_folder_first(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "fastmlp.cli", "train", "--set", "train.epochs=2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0] == f"run folder {out}"
    assert [line.split()[1] for line in lines[1:]] == ["1/2", "2/2"]


class FirstLoss:
    """Records the running loss after the first chunk of minibatches."""

    loss = None

    def on_batches(self, epoch, done, n_batches, running_loss):
        if self.loss is None:
            self.loss = running_loss


def test_init_from_starts_from_a_model_file_and_checks_its_shape(reference, tmp_path):
    one_epoch = {**CONFIG, "train": {**CONFIG["train"], "epochs": 1}}
    tuned = {**one_epoch, "train": {**one_epoch["train"], "init_from": str(reference / runs.MODEL)}}
    started, fresh = FirstLoss(), FirstLoss()
    fastmlp.train(tuned, out=tmp_path / "tuned", callback=started)
    fastmlp.train(one_epoch, out=tmp_path / "fresh", callback=fresh)
    assert started.loss < 0.5 * fresh.loss  # it started from the trained weights
    wrong = {**tuned, "model": {**CONFIG["model"], "hidden": [8]}}
    with pytest.raises(fastmlp.ConfigError, match=r"train.init_from .*its layers \[64, 32, 16, 10\] do not"):
        fastmlp.train(wrong, out=tmp_path / "wrong")


def test_an_unfinished_run_folder_says_how_to_finish_it(tmp_path):
    from typer.testing import CliRunner

    from fastmlp.cli import app

    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        fastmlp.train(CONFIG, out=run_dir, callback=StopAt(2))
    result = CliRunner().invoke(app, ["evaluate", str(run_dir)])
    assert result.exit_code == 2
    assert "an unfinished run (its checkpoint is after epoch 2)" in result.output
    assert f"fastmlp train --resume {run_dir}" in result.output


# -- what a stopped run says (each message names what is true of the folder) -----------------


def test_ctrl_c_says_interrupted_once_with_where_to_continue(tmp_path):
    from typer.testing import CliRunner

    from fastmlp import cli

    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt) as stopped:
        fastmlp.train(CONFIG, out=run_dir, callback=StopAt(1, batches=3))
    assert str(stopped.value).startswith(f"the run folder {run_dir} keeps a checkpoint")

    @cli.handles_errors
    def command():
        raise KeyboardInterrupt(str(stopped.value))

    app = cli.typer.Typer()
    app.command()(command)
    result = CliRunner().invoke(app, [])
    assert result.exit_code == 130
    assert result.output.startswith("interrupted: the run folder") and "interrupted;" not in result.output


def test_a_failed_checkpoint_write_gives_no_learning_rate_advice(tmp_path, monkeypatch):
    def full_disk(path, state):
        raise FastMLPError(f"cannot write {path}: No space left on device")

    monkeypatch.setattr(checkpoint, "save", full_disk)
    with pytest.raises(FastMLPError) as failed:
        fastmlp.train(CONFIG, out=tmp_path / "run")
    message = str(failed.value)
    assert "No space left on device" in message and "learning_rate" not in message
    # Killed before its first epoch's row: the folder holds config.yaml only, and says so.
    assert "(config.yaml; no model)" in message, message


def test_a_divergence_keeps_the_learning_rate_advice(tmp_path):
    config = {"model": {"hidden": [64]}, "train": {"epochs": 3, "learning_rate": 1e4}}
    with pytest.raises(FastMLPError, match=r"diverged at epoch 1.*try a smaller learning_rate"):
        fastmlp.train(config, out=tmp_path / "run")


def test_a_resumed_run_keeps_its_name(reference, tmp_path):
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        fastmlp.train(None, ["train.epochs=3"], out=run_dir, callback=StopAt(1))
    result = fastmlp.train(resume=run_dir)
    assert result.summary["name"] == "default" == result.config.name


# -- files that are whole or refused (npzfile.py): every single-byte flip ---------------------


def loads_of_every_flip(original, damaged, load, error, refused):
    """Write original's bytes with each single byte flipped to damaged and load it: a refusal must
    be `error` in one short line (counted in refused[0]); every load that succeeds is yielded."""
    data = original.read_bytes()
    for i in range(len(data)):
        damaged.write_bytes(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :])
        try:
            loaded = load(damaged)
        except error as e:
            message = str(e)
            assert "\n" not in message and len(message) < 400, message[:500]
            refused[0] += 1
            continue
        yield loaded


@pytest.mark.slow
def test_every_byte_flip_of_a_model_file_is_refused_or_changes_nothing(tmp_path):
    from fastmlp.data import prepare
    from fastmlp.errors import ModelFileError

    rng = np.random.default_rng(0)
    ds = prepare(rng.random((12, 3)), np.array(["ankle boot", "pullover", "trouser"] * 4), validation_split=0)
    model = MLP.for_dataset(ds, hidden=[2])
    original = tmp_path / "model.npz"
    model.save(original)
    reference = dict(np.load(original))
    refused = [0]
    for loaded in loads_of_every_flip(original, tmp_path / "damaged.npz", MLP.load, ModelFileError, refused):
        loaded.save(tmp_path / "again.npz")
        again = dict(np.load(tmp_path / "again.npz"))
        assert again.keys() == reference.keys()
        for key in reference:
            np.testing.assert_array_equal(again[key], reference[key], err_msg=key)
    assert refused[0] > 0.5 * original.stat().st_size  # most bytes are data: their flips are caught


def test_every_byte_flip_of_a_checkpoint_is_refused_or_changes_nothing(tmp_path):
    from fastmlp.trainer import fit

    rng = np.random.default_rng(0)
    path = tmp_path / checkpoint.FILE
    fit(
        MLP([3, 2, 2], seed=0),
        rng.random((20, 3)),
        np.arange(20) % 2,
        epochs=1,
        batch_size=8,
        checkpoint=path,
    )
    reference = checkpoint.load(path)
    refused = [0]
    for state in loads_of_every_flip(path, tmp_path / "damaged.npz", checkpoint.load, FastMLPError, refused):
        for name in ("params", "opt_state", "best_params", "order"):
            a, b = getattr(state, name), getattr(reference, name)
            assert (a is None) == (b is None), name
            if a is not None:
                np.testing.assert_array_equal(a, b, err_msg=name)
        assert state.describe() == reference.describe() and state.rows == reference.rows


# -- one writer per run folder (runs.writer_lock) ---------------------------------------------


def test_a_folder_in_use_is_refused_naming_the_writer(tmp_path):
    from typer.testing import CliRunner

    from fastmlp.cli import app

    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        fastmlp.train(CONFIG, out=run_dir, callback=StopAt(1))
    with runs.writer_lock(run_dir):  # this process writes the folder now
        with pytest.raises(
            FastMLPError, match=rf"{run_dir}: in use by another fastmlp \(process {os.getpid()}\)"
        ):
            fastmlp.train(resume=run_dir)
        result = CliRunner().invoke(app, ["train", "--out", str(tmp_path / "run"), "--force"])
        assert result.exit_code == 2 and f"process {os.getpid()}" in result.output
        assert result.output.count("\n") == 1
    assert not (run_dir / runs.LOCK).exists()
    fastmlp.train(resume=run_dir)  # free again
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(
        [runs.CONFIG, runs.METRICS, runs.MODEL, runs.SUMMARY]
    )


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path):
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        fastmlp.train(CONFIG, out=run_dir, callback=StopAt(1))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from fastmlp import runs; import time\nwith runs.writer_lock({str(run_dir)!r}):\n"
            "    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(FastMLPError, match=f"process {holder.pid}"):
        fastmlp.train(resume=run_dir)
    holder.kill()
    holder.wait()
    assert (run_dir / runs.LOCK).exists()  # left behind by the killed process
    fastmlp.train(resume=run_dir)


def test_two_runs_started_at_once_into_one_folder_one_is_refused(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "fastmlp.cli", "train", "--out", str(out), "--set", "train.epochs=3"]
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert str(out) in refused and refused.strip().count("\n") == 0, refused
    summary = (out / runs.SUMMARY).read_text()
    assert '"epochs_run": 3' in summary


def test_epoch_end_checkpoints_are_spaced_by_what_writing_them_takes(tmp_path, monkeypatch):
    """A checkpoint that takes long to write (a large model's) is not rewritten at every epoch
    end: the next waits ten times as long. An interrupt at an epoch end still writes one there."""
    from fastmlp import fit

    written = []
    real = checkpoint.save

    def slow(path, state):
        written.append(state.epoch)
        time.sleep(0.05)
        return real(path, state)

    monkeypatch.setattr(checkpoint, "save", slow)
    rng = np.random.default_rng(0)
    X, y = rng.random((64, 4)), np.arange(64) % 2
    path = tmp_path / "checkpoint.npz"
    fit(MLP([4, 3, 2], seed=0), X, y, epochs=6, batch_size=64, checkpoint=path)
    assert written == [2]  # after epoch 1; epochs of a few milliseconds never wait out 0.5 s
    written.clear()
    with pytest.raises(KeyboardInterrupt):
        fit(MLP([4, 3, 2], seed=0), X, y, epochs=6, batch_size=64, checkpoint=path, callback=StopAt(3))
    assert written == [2, 4] and checkpoint.load(path).epoch == 4
