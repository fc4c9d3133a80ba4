"""Two runs at once against one after the other: a sweep's wall time with --workers 2 and 1.

    python scripts/bench_sweep.py                         # Fashion-MNIST, batch 32, 2 epochs
    python scripts/bench_sweep.py --batch-size 8 --epochs 1 --repeats 3

The same sweep of two runs (two seeds of one config: 784-256-128-10, SGD) three ways, in one
process, alternated --repeats times: `workers=1` (the runs one after the other, each with all the
cores), `workers=2` (two spawned processes at once, each pinned to cores // 2 threads), and
`workers=2` with the pinning undone (each worker left at every core: the oversubscribed case the
pinning exists to avoid). The kernels are compiled once first. Prints the median wall seconds of
each and the ratio two-at-once / one-after-the-other (below 1: running two at once pays), with
NumPy's float32 GEMM GFLOP/s at the start and the end (the machine drifts; compare ratios).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def spec(batch_size: int, epochs: int) -> dict:
    return {
        "base": {
            "data": {"name": "fashion-mnist", "validation_split": 0.05, "preprocessing": "scale"},
            "model": {"hidden": [256, 128]},
            "train": {"epochs": epochs, "batch_size": batch_size},
        },
        "grid": {"train.learning_rate": [0.05]},
        "seeds": [0, 1],
        "metric": "val_accuracy",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT / "scripts"))
    from bench import numpy_gemm_gflops

    from fastmlp.sweep import sweep
    from fastmlp.sweep.api import plan
    from fastmlp.sweep.execute import cores, warm_up

    print(f"NumPy float32 GEMM: {numpy_gemm_gflops()['2048^3']:.0f} GFLOP/s; {cores()} cores")
    s = spec(args.batch_size, args.epochs)
    ways = {
        "one after the other": {"workers": 1},
        "two at once": {"workers": 2},
        "two at once, unpinned": {"workers": 2, "threads_per_run": cores()},
    }
    walls: dict[str, list[float]] = {k: [] for k in ways}
    with tempfile.TemporaryDirectory() as tmp:
        _, _, planned = plan(s, Path(tmp) / "plan")
        warm_up([run.config for run in planned])  # one epoch on a few rows fills the kernel cache
        for r in range(args.repeats):
            for name, how in ways.items():
                t = time.perf_counter()
                result = sweep(s, out=Path(tmp) / f"{r}-{name}", warm=False, **how)
                walls[name].append(time.perf_counter() - t)
                assert all(row["status"] == "ok" for row in result.rows), result.rows
    serial = statistics.median(walls["one after the other"])
    print(f"two runs, batch {args.batch_size}, {args.epochs} epochs each, median of {args.repeats}:")
    for name, w in walls.items():
        wall = statistics.median(w)
        print(f"  {name:24s} {wall:7.2f} s   ratio to one after the other {wall / serial:.2f}")
    print(f"NumPy float32 GEMM at the end: {numpy_gemm_gflops()['2048^3']:.0f} GFLOP/s")


if __name__ == "__main__":
    main()
