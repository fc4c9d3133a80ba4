"""`fastmlp warmup`: every kernel a run can call, ready before the first run.

A run calls its kernels with one set of argument types per dtype (kernels/jit.py), so exercising
each entry into the kernels once per dtype on a few rows leaves every path warm: training with
any task, optimizer and option, evaluation, prediction, L-BFGS, gradients. Each kernel is taken
from the user's cache or the prebuilt kernels when one matches (kernels/cache.py), else compiled
for this machine and written to the user's cache. `warm_up` runs one process per dtype, side by
side (LLVM compiles on one core), so a Dockerfile or a CI job pays the compile once, up front.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

DTYPES = ("float32", "float64")


def exercise(dtype: str) -> None:
    """Call every entry into the kernels once for dtype, on a few rows of made-up data."""
    import numpy as np

    from .kernels.fpmode import flush_denormals
    from .model import MLP
    from .trainer import fit

    rng = np.random.default_rng(0)
    X = rng.standard_normal((24, 3)).astype(dtype)
    y = np.arange(24) % 2
    model = MLP([3, 4, 2], dtype=dtype, seed=0)
    with flush_denormals():
        # The epoch kernel (one specialisation for every option: plain SGD here), evaluation; with
        # dropout it runs on one worker, without, on the workers' kernel where the process has
        # several threads; the workers' kernel is also called directly, for any thread count.
        fit(model, X, y, X[:6], y[:6], epochs=1, batch_size=8)
        fit(model, X, y, epochs=1, batch_size=8, dropout=0.1)
        _split_epoch(model, X, y)
        # Full batch (L-BFGS), the gradient of one batch, prediction.
        fit(model, X, y, epochs=1, optimizer="lbfgs")
    model.loss_and_gradients(X, y, l2=1e-4)
    model.predict_proba(X)
    # Sparse rows: their own epoch kernel and first layer (kernels/sparse.py), the same calls.
    import scipy.sparse as sp

    S = sp.csr_matrix(X * (X > 0.5))
    with flush_denormals():
        fit(model, S, y, S[:6], y[:6], epochs=1, batch_size=8)
        fit(model, S, y, epochs=1, optimizer="lbfgs")
    model.loss_and_gradients(S, y, l2=1e-4)
    model.predict_proba(S)
    multilabel = MLP([3, 4, 2], task="multilabel", dtype=dtype, seed=0)
    multilabel.predict_proba(X)


def _split_epoch(model, X, y) -> None:
    """One run of the workers' epoch kernel (kernels/split.py) on two workers."""
    import numpy as np

    from .minibatches import Minibatches
    from .optimizers import parse

    w = np.zeros(0, model.dtype)
    mb = Minibatches(model, X, model.check_y(y, X.shape[0]), w, 8, 0.0, parse("sgd"), workers=2)
    mb.run(np.arange(X.shape[0]), 0.01, 0, mb.n_batches, 0)


def compiled_count() -> int:
    """How many specialisations of fastmlp's kernels this process compiled (not loaded)."""
    from numba.core.registry import CPUDispatcher

    total = 0
    for name, module in list(sys.modules.items()):
        if name.startswith("fastmlp.kernels."):
            for f in vars(module).values():
                if isinstance(f, CPUDispatcher) and f.__module__ == name:
                    total += sum(f.stats.cache_misses.values())
    return total


def _entries_compiled():
    """A Numba event listener collecting the kernels compiled for a call from Python (a compile
    that starts while no other is under way), as "<module file stem>.<name>": the names their
    cache files start with. Kernels compiled only inside another are linked into it."""
    from numba.core import event

    class Entries(event.Listener):
        def __init__(self):
            self.depth, self.names = 0, set()

        def on_start(self, ev):
            f = ev.data["dispatcher"].py_func
            if self.depth == 0 and f.__module__.startswith("fastmlp.kernels."):
                self.names.add(f"{f.__module__.rsplit('.', 1)[1]}.{f.__qualname__}")
            self.depth += 1

        def on_end(self, ev):
            self.depth -= 1

    listener = Entries()
    event.register("numba:compile", listener)
    return listener


def _child(dtypes: tuple) -> None:
    """The body of one warm-up process: exercise each dtype, print what it did as JSON."""
    entries = _entries_compiled()
    t0 = time.perf_counter()
    for dtype in dtypes:
        exercise(dtype)
    seconds = time.perf_counter() - t0
    row = {"dtype": " + ".join(dtypes), "seconds": seconds, "compiled": compiled_count()}
    print(json.dumps({**row, "entries": sorted(entries.names)}))


def warm_up(dtypes=DTYPES, env=None) -> list[dict]:
    """Exercise each dtype in a process of its own, side by side, then all of them again in one
    process: [{dtype, seconds, compiled, entries}, ...] (entries: the kernels it compiled for calls
    from Python). Numba updates a kernel's cache index by reading,
    adding to and rewriting it, so two processes compiling the same kernel at once can each drop
    the other's entry; the last pass, alone, compiles and records whatever was dropped (nothing,
    usually), and when it did, a pass more checks that every path now loads."""

    def run(group):
        out = subprocess.run(
            [sys.executable, "-c", f"from fastmlp.warmup import _child; _child({group!r})"],
            capture_output=True,
            text=True,
            env=dict(os.environ if env is None else env),
        )
        if out.returncode != 0:
            tail = out.stderr.strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"warm-up for {' + '.join(group)} failed: {tail[0]}")
        return json.loads(out.stdout.strip().splitlines()[-1])

    with ThreadPoolExecutor(max_workers=len(dtypes)) as pool:
        rows = list(pool.map(run, [(d,) for d in dtypes]))
    rows.append(run(tuple(dtypes)))
    if rows[-1]["compiled"]:
        rows.append(run(tuple(dtypes)))
    return rows
