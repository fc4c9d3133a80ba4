"""Sweeps end to end on digits: process pool, resume, a failing point, a real Dask LocalCluster."""

import csv
import json
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numba
import pytest
from conftest import sweep_app as app
from typer.testing import CliRunner

import fastmlp.api
from fastmlp.errors import FastMLPError
from fastmlp.sweep import plot_sweep, sweep
from fastmlp.sweep.execute import pinned_threads, threads_per_worker

TINY = """\
base: {data: {name: digits}, model: {hidden: [8]}, train: {epochs: 2, batch_size: 64}}
grid:
  train.learning_rate: [0.05, 0.1]
seeds: [0, 1]
metric: val_accuracy
"""


def write_sweep(tmp_path, text=TINY):
    path = tmp_path / "tiny.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_process_pool_sweep_writes_one_row_per_run(tmp_path):
    out = tmp_path / "sweep"
    result = CliRunner().invoke(
        app(), ["sweep", str(write_sweep(tmp_path)), "--workers", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = read_rows(out / "results.csv")
    assert [(json.loads(r["overrides"]), r["seed"], r["status"]) for r in rows] == [
        ({"train.learning_rate": 0.05}, "0", "ok"),
        ({"train.learning_rate": 0.05}, "1", "ok"),
        ({"train.learning_rate": 0.1}, "0", "ok"),
        ({"train.learning_rate": 0.1}, "1", "ok"),
    ]
    for row in rows:
        assert (out / row["run"] / "summary.json").is_file()
        assert row["run_dir"] == str(out / row["run"])
        # The row's figure is the run's model judged again on its validation rows (evaluate reads
        # the raw data and applies the model's own saved transforms): the same accuracy, well
        # above chance (0.1) after 2 epochs.
        again = fastmlp.api.evaluate(out / row["run"], split="val")["metrics"]["accuracy"]
        assert float(row["metric"]) == float(row["val_accuracy"]) == pytest.approx(again, abs=1e-12)
        assert again > 0.3
        assert 0 < float(row["best_val_loss"]) and float(row["wall_seconds"]) > 0 and row["error"] == ""
        assert row["epochs_run"] == "2" and row["test_accuracy"]
        assert row["threads"] == str(threads_per_worker(2))  # cores // workers, pinned in the worker
    assert "train.learning_rate" in result.output and "±" in result.output
    assert (out / "sweep.yaml").is_file()


def test_resume_skips_finished_runs_and_retrains_incomplete_ones(tmp_path, monkeypatch):
    path, out = write_sweep(tmp_path), tmp_path / "sweep"
    first = sweep(path, out=out)
    assert first.failed == 0 and len(first.rows) == 4
    mtimes = {r["run"]: (out / r["run"] / "summary.json").stat().st_mtime_ns for r in first.rows}
    incomplete = first.rows[2]["run"]
    (out / incomplete / "summary.json").unlink()  # as if killed mid-run

    calls = []
    real_train = fastmlp.api.train
    monkeypatch.setattr(fastmlp.api, "train", lambda *a, **k: calls.append(1) or real_train(*a, **k))
    again = sweep(path, out=out)
    assert len(calls) == 1
    assert [r["resumed"] for r in again.rows] == [True, True, False, True]
    for row in again.rows:
        if row["run"] != incomplete:
            assert (out / row["run"] / "summary.json").stat().st_mtime_ns == mtimes[row["run"]]
    assert [r["metric"] for r in again.rows] == [r["metric"] for r in first.rows]  # seeded: same numbers
    assert len(read_rows(out / "results.csv")) == 4


def test_failing_point_is_recorded_and_the_others_finish(tmp_path):
    path = write_sweep(
        tmp_path,
        TINY.replace("[0.05, 0.1]", "[0.05, 1000.0]").replace(
            "epochs: 2,", "epochs: 2, optimizer: {name: sgd, momentum: 0.9},"
        ),
    )
    out = tmp_path / "sweep"
    result = CliRunner().invoke(app(), ["sweep", str(path), "--out", str(out)])
    assert result.exit_code == 1
    assert "2 of 4 runs failed" in result.output
    rows = read_rows(out / "results.csv")
    assert [r["status"] for r in rows] == ["ok", "ok", "failed", "failed"]
    assert all("training diverged" in r["error"] and "\n" not in r["error"] for r in rows[2:])
    assert rows[2]["metric"] == "" and rows[0]["metric"]
    # a re-run retries only the failed runs (they fail again)
    again = sweep(path, out=out)
    assert [r["resumed"] for r in again.rows] == [True, True, False, False]
    assert again.best.overrides == {"train.learning_rate": 0.05} and again.groups[-1].mean is None


def test_a_users_own_executor(tmp_path):
    with ThreadPoolExecutor(1) as executor:
        result = sweep(
            write_sweep(tmp_path, TINY.replace("seeds: [0, 1]", "seeds: [0]")),
            executor=executor,
            out=tmp_path / "sweep",
            warm=False,
        )
    assert [r["status"] for r in result.rows] == ["ok", "ok"]
    assert [g.n for g in result.groups] == [1, 1]


@pytest.mark.slow
def test_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed", reason="needs the fastmlp[distributed] extra")
    path, out = write_sweep(tmp_path), tmp_path / "sweep"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        result = CliRunner().invoke(
            app(), ["sweep", str(path), "--scheduler", cluster.scheduler_address, "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        rows = read_rows(out / "results.csv")
        assert [r["status"] for r in rows] == ["ok"] * 4
        assert [r["threads"] for r in rows] == [str(threads_per_worker(2))] * 4  # 2 workers on this host
        with distributed.Client(cluster) as client:  # the Python API with the client's executor
            again = sweep(path, executor=client.get_executor(), out=tmp_path / "api")
    assert [r["metric"] for r in again.rows] == [float(r["metric"]) for r in rows]


def test_threads_are_pinned_and_restored():
    before = numba.get_num_threads()
    from threadpoolctl import threadpool_info

    with pinned_threads(1):
        assert numba.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert numba.get_num_threads() == before
    assert threads_per_worker(10_000) == 1 and threads_per_worker(1) >= 1


def _record_threads_in_the_epoch_kernel(log):
    """Worker initializer: append, at every call of the epoch kernel, the Numba and BLAS thread
    counts in force to the file `log` (one line per call)."""
    from threadpoolctl import threadpool_info

    from fastmlp import minibatches

    run = minibatches.Minibatches.run

    def spying(self, *args):
        blas = max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        with open(log, "a") as f:
            f.write(f"{numba.get_num_threads()} {blas}\n")
        return run(self, *args)

    minibatches.Minibatches.run = spying


def test_two_workers_split_the_cores_between_them(tmp_path):
    """Two runs at once in two processes: while either trains, its Numba and BLAS pools hold
    cores // 2 threads at most, so together they never ask for more threads than cores."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from fastmlp.sweep.execute import cores

    log = tmp_path / "threads.log"
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        2, mp_context=context, initializer=_record_threads_in_the_epoch_kernel, initargs=(str(log),)
    ) as pool:
        result = sweep(write_sweep(tmp_path), executor=pool, out=tmp_path / "sweep", warm=False)
    assert [r["status"] for r in result.rows] == ["ok"] * 4
    seen = [tuple(map(int, line.split())) for line in log.read_text().splitlines()]
    share = max(1, cores() // 2)
    assert seen and all(numba_threads <= share and blas <= share for numba_threads, blas in seen), seen


def test_warm_up_trains_once_per_compiled_path(monkeypatch):
    """One warm-up run per distinct compiled path: plain SGD (its step inside the GEMMs) and a
    stateful optimizer (gradient, then update) are two; momentum and Adam share one; a second
    batch path (row-streaming) is a third."""
    from fastmlp.config import load_config
    from fastmlp.sweep.execute import warm_up

    trained = []
    monkeypatch.setattr(fastmlp.api, "train", lambda config, out: trained.append(config))
    base = ["train.batch_size=32"]
    configs = [
        load_config(None, [*base, "train.optimizer={name: sgd, momentum: 0.0}"]),
        load_config(None, [*base, "train.optimizer={name: sgd, momentum: 0.9}"]),
        load_config(None, [*base, "train.optimizer={name: adam}"]),
        load_config(None, [*base, "train.optimizer={name: sgd, momentum: 0.0}", "seed=5"]),
        load_config(None, ["train.batch_size=8", "train.optimizer={name: adam}"]),
    ]
    warm_up(configs)
    assert [
        (c.train.batch_size, c.train.optimizer.name, c.train.optimizer.params.get("momentum"))
        for c in trained
    ] == [
        (32, "sgd", 0.0),
        (32, "sgd", 0.9),
        (8, "adam", None),
    ]


def test_plot_sweep_needs_matplotlib_or_draws(tmp_path):
    out = tmp_path / "sweep"
    sweep(write_sweep(tmp_path, TINY.replace("seeds: [0, 1]", "seeds: [0]")), out=out)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        with pytest.raises(FastMLPError, match=r"pip install 'fastmlp\[plot\]'"):
            plot_sweep(out, "train.learning_rate", "val_accuracy")
        return
    png = plot_sweep(out, "train.learning_rate", "val_accuracy", tmp_path / "p.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(FastMLPError, match="not a swept key"):
        plot_sweep(out, "train.l2")


@pytest.mark.slow
def test_dask_scheduler_local_starts_and_closes_its_cluster(tmp_path):
    pytest.importorskip("distributed", reason="needs the fastmlp[distributed] extra")
    path, out = write_sweep(tmp_path, TINY.replace("seeds: [0, 1]", "seeds: [0]")), tmp_path / "sweep"
    result = CliRunner().invoke(
        app(), ["sweep", str(path), "--scheduler", "local", "--workers", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = read_rows(out / "results.csv")
    assert [(r["status"], r["threads"]) for r in rows] == [("ok", str(threads_per_worker(2)))] * 2


def test_scheduler_without_dask_fails_before_writing_anything(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name, *a)
    )
    path = write_sweep(tmp_path)
    with pytest.raises(FastMLPError, match="--scheduler needs Dask"):
        sweep(path, scheduler="local", out=tmp_path / "sw")
    assert not (tmp_path / "sw").exists()


# -- a sweep survives a lost worker, and leaves no orphans (execute.RestartingPool) -----------

LONGER = """\
base: {data: {name: digits}, model: {hidden: [64]}, train: {epochs: 12, batch_size: 16}}
grid:
  train.learning_rate: [0.02, 0.05, 0.1]
seeds: [0, 1]
metric: val_accuracy
"""


def pool_workers(parent):
    """The pids of parent's process-pool workers (not its resource tracker)."""
    import pathlib

    found = []
    for status in pathlib.Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            cmdline = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields["PPid"]) == parent and "spawn_main" in cmdline and "resource_tracker" not in cmdline:
            found.append(int(status.parent.name))
    return found


def alive(pid):
    import pathlib

    try:
        state = pathlib.Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state  # a zombie has ended


def start_sweep(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "fastmlp.cli", "sweep", str(write_sweep(tmp_path, LONGER))]
    proc = subprocess.Popen(
        [*command, "--workers", "2", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, out


def wait_for(condition, seconds=120):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.slow
@pytest.mark.skipif(not __import__("pathlib").Path("/proc").is_dir(), reason="reads /proc (Linux)")
def test_a_sweep_finishes_every_run_when_a_worker_is_killed(tmp_path):
    import os
    import signal

    proc, out = start_sweep(tmp_path)
    workers = wait_for(lambda: len(pool_workers(proc.pid)) == 2 and pool_workers(proc.pid))
    wait_for(lambda: any(out.glob("*/metrics.csv")))  # runs are training now
    try:
        os.kill(workers[0], signal.SIGKILL)
    except ProcessLookupError:  # a very fast machine: the sweep had already finished with it
        pass
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr[-2000:]
    rows = read_rows(out / "results.csv")
    assert len(rows) == 6 and all(r["status"] == "ok" for r in rows), rows
    assert all(r["epochs_run"] == "12" for r in rows)


@pytest.mark.skipif(not __import__("pathlib").Path("/proc").is_dir(), reason="reads /proc (Linux)")
def test_killing_the_sweep_ends_its_workers(tmp_path):
    import os
    import signal

    proc, out = start_sweep(tmp_path)
    workers = wait_for(lambda: len(pool_workers(proc.pid)) == 2 and pool_workers(proc.pid))
    wait_for(lambda: any(out.glob("*/metrics.csv")))
    try:
        os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:  # finished already: its workers ended with it
        pass
    proc.wait()
    wait_for(lambda: not any(alive(pid) for pid in workers), seconds=10)
