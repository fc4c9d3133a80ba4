"""The epoch kernel on several cores (kernels/split.py): when it runs, and its threads.

Each worker is one call of kernels.split.train_batches_split, from its own thread: worker 0 in
the caller's thread, the others in a pool of threads kept for the process. The kernel releases
the GIL, so the workers run at once; BLAS runs on one thread inside them (Minibatches.blas_threads),
so no second pool of threads competes for the cores.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from .kernels import fpmode
from .kernels.split import ONE_ZERO, train_batches_split
from .kernels.sync import SUPPORTED, abort, new_sync

# Minibatches of at most this many rows run on every core through the workers; larger ones keep
# one worker and OpenBLAS's own threads, which share a large product well (docs/PERFORMANCE.md,
# "Both cores").
SPLIT_BATCH = 64

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def split_workers(batch_size: int, sparse: bool, dropout: float) -> int:
    """How many workers a fit's minibatches run on: Numba's thread count (what a sweep pins each
    run to) for dense rows without dropout in minibatches of at most SPLIT_BATCH rows, else 1."""
    if sparse or dropout > 0 or batch_size > SPLIT_BATCH or not SUPPORTED:
        return 1
    return max(1, numba.get_num_threads())


def _threads(n: int) -> ThreadPoolExecutor:
    """The process's pool, with at least n threads."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < n:
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="fastmlp-worker")
        return _pool


class Workers:
    """The split kernel's own buffers for one fit, and one call per run of minibatches."""

    def __init__(self, workers: int, dtype, deltas_size: int):
        self.workers = workers
        self.scratch = np.zeros(ONE_ZERO + 2, dtype)
        self.scratch[ONE_ZERO] = 1
        self.partials = np.empty((workers, deltas_size), dtype)

    def run(self, head: tuple, tail: tuple):
        """Every worker's call with the kernel's arguments head + tail; worker 0's sums."""
        sync = new_sync(self.workers)
        mode = fpmode.read_mxcsr() if fpmode.SUPPORTED else 0
        args = (sync, self.scratch, self.partials, *head, *tail)
        others = []
        try:
            pool = _threads(self.workers - 1)
            others = [pool.submit(_worker, me, mode, args) for me in range(1, self.workers)]
            sums = _worker(0, None, args)
        except BaseException:
            abort(sync)  # whatever stopped worker 0 (an interrupt too) must not leave the others waiting
            raise
        finally:
            for future in others:
                future.result()  # a worker's exception is raised here
        return sums


def _worker(me: int, mode, args):
    """Worker me's call, in the caller's floating-point mode (MXCSR is per thread: mode is the
    caller's, None in the caller's own thread). Should the call fail before it reaches the
    kernel, the abort flag releases the workers waiting for this one."""
    sync = args[0]
    previous = None
    if mode is not None and fpmode.SUPPORTED:
        previous = fpmode.read_mxcsr()
        fpmode.write_mxcsr(mode)
    try:
        return train_batches_split(me, *args)
    except BaseException:
        abort(sync)
        raise
    finally:
        if previous is not None:
            fpmode.write_mxcsr(previous)
