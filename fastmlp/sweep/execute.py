"""Where the runs go: one concurrent.futures.Executor, whichever kind, and thread pinning.

- workers=1: InlineExecutor, in this process.
- workers=N: a RestartingPool, a ProcessPoolExecutor with the "spawn" context (Numba's
  OpenMP/workqueue threads and fork do not mix) that survives a lost worker: a pool whose
  worker dies (killed, out of memory) is replaced and the runs it lost are submitted again;
  its workers end themselves when the sweep's process is gone.
- scheduler="local": a dask LocalCluster(n_workers=N, threads_per_worker=1, processes=True);
  scheduler="tcp://host:port": an existing Dask cluster. Either way client.get_executor().

Each run executes `run_one` in its worker, which pins BLAS (threadpoolctl) and Numba
threads to the worker's share of the cores for the length of the run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import FastMLPError

# Not NUMBA_NUM_THREADS: Numba re-reads its variables in this (parent) process whenever it
# compiles, and refuses a value that differs from the pool it already launched. Children get
# their Numba share from pinned_threads() instead.
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def threads_per_worker(workers: int) -> int:
    """Each of `workers` concurrent runs gets cores // workers threads, at least 1."""
    return max(1, cores() // max(1, workers))


class InlineExecutor(Executor):
    """An Executor that runs each call at submit time, in this process: --workers 1."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the future, as a pool would
                future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
        return future


# ---------------------------------------------------------------- the worker side


@dataclass
class Task:
    """What a worker needs for one run: the validated config, the exact folder, its thread share."""

    config: Any
    run_dir: str
    threads: int | None = None  # None: this worker's share of its host (see worker_threads)
    host_slots: dict[str, int] | None = None  # Dask: concurrent runs per worker host
    prune: Any = None  # search: optuna: a pruning.PruneSpec; None: never pruned


def _end_with_parent(parent: int) -> None:
    """A pool worker's initializer: end this worker when the sweep's process is gone (killed, say),
    rather than go on with the runs queued for it and then sit idle as an orphan."""

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


class RestartingPool(Executor):
    """A process pool that survives a lost worker. ProcessPoolExecutor marks itself broken when a
    worker dies, and fails every run in flight or queued; here a run failed that way is submitted
    again to a new pool, up to ATTEMPTS times in all (a run whose worker dies each time, say from
    running out of memory, then fails with its own line)."""

    ATTEMPTS = 3

    def __init__(self, workers: int):
        import multiprocessing

        self._workers, self._context = workers, multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._pool = self._new_pool()
        self._closed = False

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=self._context,
            initializer=_end_with_parent,
            initargs=(os.getpid(),),
        )

    @property
    def _max_workers(self) -> int:  # what runs_executor reads as the number of slots
        return self._workers

    def submit(self, fn, /, *args, **kwargs) -> Future:
        outer: Future = Future()
        self._start(outer, fn, args, kwargs, self.ATTEMPTS)
        return outer

    def _start(self, outer: Future, fn, args, kwargs, attempts: int) -> None:
        with self._lock:
            if self._closed:
                outer.cancel()
                return
            pool = self._pool
            try:
                inner = pool.submit(fn, *args, **kwargs)
            except BrokenProcessPool:
                pool = self._replace(pool)
                inner = pool.submit(fn, *args, **kwargs)

        def done(f: Future) -> None:
            if f.cancelled() or outer.cancelled():
                outer.cancel()
                return
            exc = f.exception()
            if isinstance(exc, BrokenProcessPool) and attempts > 1 and not self._closed:
                with self._lock:
                    self._replace(pool)
                self._start(outer, fn, args, kwargs, attempts - 1)
                return
            with contextlib.suppress(Exception):  # the caller may have cancelled it meanwhile
                if exc is not None:
                    outer.set_exception(exc)
                else:
                    outer.set_result(f.result())

        inner.add_done_callback(done)

    def _replace(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        """A new pool in place of `broken` (once, whichever of its lost runs asks first)."""
        if self._pool is broken:
            broken.shutdown(wait=False, cancel_futures=False)
            self._pool = self._new_pool()
        return self._pool

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            pool = self._pool
        pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def run_one(task: Task) -> dict[str, Any]:
    """Train one run with pinned threads; never raises for a failed run.

    Returns {"status": "ok"|"failed"|"pruned", "error", "wall_seconds", "summary", "metrics"}; the
    summary and per-epoch metrics travel back so the caller needs no shared filesystem.
    """
    from ..api import train
    from .pruning import Pruned, pruned_outcome, pruning_callback

    threads = task.threads or worker_threads(task.host_slots)
    started = time.perf_counter()
    run_dir = Path(task.run_dir)
    if run_dir.exists():  # a run that crashed or failed before: start it afresh
        from ..runs import writer_lock

        # Not a folder another process is writing; a worker of a pool that broke may still be
        # ending (its lock goes with it), so wait a little for that.
        for attempt in range(40):
            try:
                with writer_lock(run_dir):
                    shutil.rmtree(run_dir)
                break
            except FastMLPError as exc:
                if attempt == 39:
                    failed = {"status": "failed", "error": error_line(exc), "wall_seconds": 0.0}
                    return {**failed, "summary": {}, "metrics": [], "threads": threads}
                time.sleep(0.25)
    try:
        with pinned_threads(threads):
            result = train(task.config, out=run_dir, callback=pruning_callback(task.prune))
        return {
            "status": "ok",
            "error": "",
            "wall_seconds": time.perf_counter() - started,
            "summary": dict(result.summary),
            "metrics": result.history.rows,
            "threads": threads,
        }
    except Pruned as stop:  # search: optuna stopped it: status "pruned", its last epoch's metrics
        return pruned_outcome(stop, run_dir, time.perf_counter() - started, threads)
    except Exception as exc:  # noqa: BLE001 - a failed run is data, not a crash of the sweep
        return {
            "status": "failed",
            "error": error_line(exc),
            "wall_seconds": time.perf_counter() - started,
            "summary": {},
            "metrics": [],
            "threads": threads,
        }


def error_line(exc: BaseException) -> str:
    """One line: the message of a user error, 'Type: message' for anything else."""
    text = " ".join(str(exc).split())
    return text if isinstance(exc, FastMLPError) else f"{type(exc).__name__}: {text}"


@contextlib.contextmanager
def pinned_threads(n: int) -> Iterator[None]:
    """BLAS pools limited by threadpoolctl and Numba's thread count set to n, restored after."""
    import numba
    from threadpoolctl import threadpool_limits

    n = max(1, min(int(n), numba.config.NUMBA_NUM_THREADS))
    before = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        numba.set_num_threads(before)


def worker_threads(host_slots: dict[str, int] | None) -> int:
    """On a Dask worker: this host's cores // the runs its workers execute at once."""
    slots = 1
    if host_slots:
        try:
            from distributed import get_worker

            host = get_worker().address.rsplit("://", 1)[-1].rsplit(":", 1)[0]
            slots = host_slots.get(host, 1)
        except (ImportError, ValueError):
            pass
    return max(1, cores() // slots)


# ---------------------------------------------------------------- the parent side


@contextlib.contextmanager
def child_thread_env(threads: int) -> Iterator[None]:
    """Set OMP/OPENBLAS/MKL_NUM_THREADS while worker processes are spawned (they read
    them at import); restore the parent's values after."""
    saved = {k: os.environ.get(k) for k in THREAD_ENV}
    os.environ.update({k: str(threads) for k in THREAD_ENV})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def require_dask() -> None:
    """A one-line user error when --scheduler is asked for without the distributed extra."""
    import importlib.util

    if importlib.util.find_spec("distributed") is None:
        raise FastMLPError("--scheduler needs Dask: pip install 'fastmlp[distributed]'")


@contextlib.contextmanager
def make_executor(workers: int = 1, scheduler: str | None = None) -> Iterator[tuple[Executor, dict]]:
    """(executor, task fields) for --workers/--scheduler; closes what it started on exit.

    The task fields ({"threads": k} or {"host_slots": ...}) tell run_one how to pin threads.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise FastMLPError(f"--workers: expected an integer >= 1, got {workers!r}")
    if scheduler is None:
        threads = threads_per_worker(workers)
        if workers == 1:
            yield InlineExecutor(), {"threads": threads}
            return
        pool = RestartingPool(workers)
        try:
            with child_thread_env(threads):
                yield pool, {"threads": threads}
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    require_dask()
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler == "local":
            threads = threads_per_worker(workers)
            import dask

            # pre-spawn-environ: set before each worker process starts (numpy and numba read them
            # at import); Dask's own default there is 1 thread each.
            stack.enter_context(
                dask.config.set(
                    {f"distributed.nanny.pre-spawn-environ.{k}": str(threads) for k in THREAD_ENV}
                )
            )
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
            )
            client = stack.enter_context(Client(cluster))
            yield client.get_executor(pure=False), {"threads": threads}
            return
        if "://" not in scheduler:
            raise FastMLPError(
                f"--scheduler: expected 'local' or an address like tcp://host:8786, got {scheduler!r}"
            )
        try:
            client = stack.enter_context(Client(scheduler, timeout=30))
        except (OSError, TimeoutError) as exc:
            raise FastMLPError(f"--scheduler {scheduler}: cannot connect ({error_line(exc)})") from None
        yield client.get_executor(pure=False), {"host_slots": host_slots(client)}


@contextlib.contextmanager
def runs_executor(
    executor: Executor | None, workers: int, scheduler: str | None, threads_per_run: int | None
) -> Iterator[tuple[Executor, dict, int]]:
    """(executor, task fields, slots) for a sweep: the caller's executor (left open; each run gets
    cores // its max_workers threads) or the one make_executor starts for workers/scheduler.
    threads_per_run overrides the threads; slots is how many runs execute at once."""
    if executor is not None:
        slots = getattr(executor, "_max_workers", workers)
        yield executor, {"threads": threads_per_run or threads_per_worker(slots)}, slots
        return
    with make_executor(workers, scheduler) as (owned, fields):
        if threads_per_run:
            fields = {"threads": threads_per_run}
        slots = sum(fields["host_slots"].values()) if fields.get("host_slots") else workers
        yield owned, fields, max(1, slots)


def warm_first(warm: bool | None, executor: Executor | None, workers: int, scheduler: str | None) -> bool:
    """Whether to compile the kernels here before the runs start: as `warm` says, else whenever
    the runs go to other processes (in this process the first run compiles them anyway)."""
    inline = executor is None and scheduler is None and workers == 1
    return warm if warm is not None else not inline


def outcome_of(future: Future) -> dict[str, Any]:
    """run_one's result, or a failed outcome when the future itself raised."""
    try:
        return future.result()
    except BaseException as exc:  # noqa: BLE001 - a lost worker, a pickling error, a cancel
        return {"status": "failed", "error": error_line(exc)}


def host_slots(client) -> dict[str, int]:
    """Runs each host executes at once: the sum of its Dask workers' threads."""
    slots: dict[str, int] = {}
    for address, info in client.scheduler_info()["workers"].items():
        host = address.rsplit("://", 1)[-1].rsplit(":", 1)[0]
        slots[host] = slots.get(host, 0) + int(info.get("nthreads", 1))
    return slots


def _step_path(optimizer) -> str:
    """Which compiled step a run's optimizer takes: full batch (L-BFGS), plain SGD inside the dW
    GEMMs, or a gradient then update_all (kernels/epoch.py)."""
    import numpy as np

    from ..kernels.optim import plain_sgd

    if optimizer.full_batch:
        return "full batch"
    return "in gemm" if plain_sgd(optimizer.kernel_unit(np.float32, 0, 0.0)) else "update"


def warm_up(configs) -> float:
    """Compile (or load from the on-disk cache) the kernels each config needs, once, here,
    so that N workers do not all compile at once: 1 epoch on a few rows per distinct
    (dtype, task, batch path, optimizer path). Returns the seconds it took."""
    from ..api import load_config, train
    from ..minibatches import row_streaming

    started = time.perf_counter()
    seen = set()
    for config in configs:
        key = (
            config.model.dtype,
            config.model.task,
            row_streaming(config.train.batch_size),
            _step_path(config.train.optimizer),
        )
        if key in seen:
            continue
        seen.add(key)
        rows = max(64, 2 * config.train.batch_size)
        # output.mlflow=null: a warm-up is no run of the sweep's, so it logs nothing to MLflow.
        off = ["train.early_stopping=null", "output.mlflow=null"]
        tiny = load_config(config, ["train.epochs=1", f"data.limit={rows}", *off])
        with tempfile.TemporaryDirectory(prefix="fastmlp-warmup-") as tmp:
            try:
                train(tiny, out=Path(tmp) / "run")
            except Exception:  # noqa: BLE001 - the real run will report it
                pass
    return time.perf_counter() - started
