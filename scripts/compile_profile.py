"""Where a cold start's seconds go: every function Numba compiles while a command runs, with its
own time (nested compiles taken out) and its time with what it compiled below it.

    NUMBA_CACHE_DIR=$(mktemp -d) FASTMLP_PREBUILT=0 python scripts/compile_profile.py train
    NUMBA_CACHE_DIR=$(mktemp -d) FASTMLP_PREBUILT=0 python scripts/compile_profile.py four-fits

`train` runs `fastmlp train` (the embedded default) into a temporary folder; `four-fits` runs
bench_start.FOUR_FITS (a scikit-learn user's first four fits) with fastmlp's estimators. Run it
with an empty cache folder and FASTMLP_PREBUILT=0 to see the compile a machine without matching
prebuilt kernels pays (with them, nothing compiles and the table is empty). Numba reports each
compile as a "numba:compile" event; n counts a function's compiled specialisations.
"""

from __future__ import annotations

import collections
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

from numba.core import event

HERE = Path(__file__).resolve().parent


class CompileTimes(event.Listener):
    """Exclusive and inclusive seconds per compiled function, from nested compile events."""

    def __init__(self):
        self.stack = []
        self.own = collections.defaultdict(float)
        self.total = collections.defaultdict(float)
        self.count = collections.Counter()

    def on_start(self, ev):
        self.stack.append([ev.data["dispatcher"].py_func.__qualname__, time.perf_counter(), 0.0])

    def on_end(self, ev):
        name, t0, nested = self.stack.pop()
        seconds = time.perf_counter() - t0
        self.own[name] += seconds - nested
        self.total[name] += seconds
        self.count[name] += 1
        if self.stack:
            self.stack[-1][2] += seconds


def run_train():
    from fastmlp.cli import app

    with tempfile.TemporaryDirectory() as tmp:
        try:
            app(["train", "--out", f"{tmp}/run"], standalone_mode=False)
        except SystemExit:
            pass


def run_four_fits():
    spec = importlib.util.spec_from_file_location("bench_start", HERE / "bench_start.py")
    bench_start = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_start)
    sys.argv = ["four-fits", "fastmlp"]
    exec(bench_start.FOUR_FITS, {"__name__": "__four_fits__"})


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "train"
    runs = {"train": run_train, "four-fits": run_four_fits}
    if what not in runs:
        raise SystemExit(f"usage: compile_profile.py {{{', '.join(runs)}}}")
    times = CompileTimes()
    event.register("numba:compile", times)
    t0 = time.perf_counter()
    runs[what]()
    wall = time.perf_counter() - t0
    compiled = sum(times.own.values())
    print(f"\n{what}: {wall:.2f} s in all, {compiled:.2f} s of it compiling")
    print(f"{'function':44s} {'n':>3s} {'own s':>7s} {'with callees s':>15s}")
    for name in sorted(times.own, key=lambda n: -times.own[n]):
        if times.own[name] >= 0.05:
            print(f"{name[:44]:44s} {times.count[name]:3d} {times.own[name]:7.2f} {times.total[name]:15.2f}")


if __name__ == "__main__":
    main()
