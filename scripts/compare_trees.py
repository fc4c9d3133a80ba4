"""Seconds per epoch of two source trees of fastmlp, in one run: each tree in its own subprocess
(PYTHONPATH=<tree>), the trees alternating round by round, same data and settings.

    git worktree add ../fastmlp-before HEAD~3          # a checkout of the commit to compare against
    python scripts/compare_trees.py --baseline ../fastmlp-before
    python scripts/compare_trees.py --batch-sizes 128 --rounds 5 --epochs 5

Model: 784-256-128-10, relu, float32, L2 1e-4, plain SGD lr 0.1 (as scripts/bench.py; --optimizer for
momentum, Nesterov, or Adam at lr 1e-3); data:
Fashion-MNIST's 60,000 training images scaled to [0, 1] (random data of that shape when absent),
saved once to a temporary .npy so both trees train on the same bytes. Each measurement is one
subprocess: import, a warm-up fit on 2,048 rows (fills/loads the Numba cache: by default a new
empty one per tree for each run of this script, so the first round compiles), then --epochs
separate fit(epochs=1) calls over all rows; it reports the median of the History's epoch seconds
(the kernel loop) and of the whole fit() call (adds input checks and buffer set-up). The table
gives, per batch size, the median over rounds of those medians and the ratio current/baseline
(above 1: the current tree is slower). NumPy's float32 GEMM GFLOP/s is measured at the start and
the end of the run (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

SIZES = [784, 256, 128, 10]
LR, L2 = 0.1, 1e-4
ADAM_LR = 1e-3  # as scripts/bench.py's --adam

WORKER = r"""
import json, statistics, sys, time
import numpy as np
import fastmlp
from fastmlp import MLP, fit
X = np.load(sys.argv[1]); y = np.load(sys.argv[2])
b, epochs = int(sys.argv[3]), int(sys.argv[4])
sizes, lr, l2 = json.loads(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
opt = json.loads(sys.argv[8])
model = MLP(sizes, seed=0)
fit(model, X[:2048], y[:2048], epochs=1, batch_size=b, learning_rate=lr, l2=l2, optimizer=opt)  # warm-up
kernel, wall = [], []
for _ in range(epochs):
    t = time.perf_counter()
    h = fit(model, X, y, epochs=1, batch_size=b, learning_rate=lr, l2=l2, optimizer=opt)
    wall.append(time.perf_counter() - t)
    kernel.append(h.rows[0]["seconds"])
print(json.dumps({"file": fastmlp.__file__, "kernel": kernel, "wall": wall}))
"""


def numpy_gemm_gflops():
    """NumPy float32 2048^3 GEMM GFLOP/s (scripts/bench.py measures it)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench import gemm_gflops

    return gemm_gflops(2048, 2048, 2048)


def load_data():
    try:
        from fastmlp.data import load_dataset

        ds = load_dataset({"name": "fashion-mnist", "preprocessing": "scale", "validation_split": 0.0})
        return ds.X_train, ds.y_train, f"Fashion-MNIST ({ds.source})"
    except Exception as e:
        rng = np.random.default_rng(0)
        return (
            rng.random((60000, 784), dtype=np.float32),
            rng.integers(0, 10, 60000),
            f"random data of Fashion-MNIST's shape (Fashion-MNIST unavailable: {e})",
        )


def measure(tree, cache, xpath, ypath, batch, epochs, optimizer, blas_threads=None):
    env = dict(os.environ, PYTHONPATH=tree, NUMBA_CACHE_DIR=cache)
    if blas_threads:
        env["OPENBLAS_NUM_THREADS"] = str(blas_threads)
    argv = [
        sys.executable,
        "-c",
        WORKER,
        xpath,
        ypath,
        str(batch),
        str(epochs),
        json.dumps(SIZES),
        str(LR if optimizer["name"] == "sgd" else ADAM_LR),
        str(L2),
        json.dumps(optimizer),
    ]
    out = subprocess.run(argv, env=env, check=True, capture_output=True, text=True, cwd=tree).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline", required=True, help="the other source tree (a checkout of fastmlp)")
    ap.add_argument("--current", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 32, 128, 512])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs per measurement (median kept)")
    ap.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="OPENBLAS_NUM_THREADS for the workers (default: OpenBLAS's own, one per core)",
    )
    ap.add_argument(
        "--cache-dir",
        default=None,
        help="reuse this folder's Numba caches (one subfolder per tree); default: a fresh empty "
        "folder for this run, so no tree can load machine code compiled from other sources",
    )
    ap.add_argument(
        "--optimizer",
        default="sgd",
        help="sgd (plain, lr 0.1), momentum (SGD with momentum 0.9, lr 0.1), nesterov, or adam (lr 1e-3)",
    )
    args = ap.parse_args()
    optimizer = {
        "sgd": {"name": "sgd"},
        "momentum": {"name": "sgd", "momentum": 0.9},
        "nesterov": {"name": "sgd", "momentum": 0.9, "nesterov": True},
        "adam": {"name": "adam"},
    }.get(args.optimizer)
    if optimizer is None:
        ap.error(f"--optimizer: {args.optimizer!r} is not one of sgd, momentum, nesterov, adam")
    trees = {"baseline": os.path.abspath(args.baseline), "current": os.path.abspath(args.current)}

    X, y, source = load_data()
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    gemm = [numpy_gemm_gflops()]
    print(f"data: {source}; {X.shape[0]} rows; {os.cpu_count()} cores; python {sys.executable}")
    print(
        f"NumPy float32 GEMM 2048^3 at start: {gemm[0]:.0f} GFLOP/s (this process, {os.cpu_count()} BLAS "
        f"threads); workers' BLAS threads: {args.blas_threads or 'OpenBLAS default'}",
        flush=True,
    )

    results = {(t, b): {"kernel": [], "wall": []} for t in trees for b in args.batch_sizes}
    with tempfile.TemporaryDirectory() as tmp:
        xpath, ypath = os.path.join(tmp, "X.npy"), os.path.join(tmp, "y.npy")
        np.save(xpath, X)
        np.save(ypath, y)
        # One Numba cache per tree. Fresh for each run unless --cache-dir: a tree that caches next
        # to its sources (the baseline) would otherwise load machine code from an older checkout.
        caches = {t: os.path.join(args.cache_dir or os.path.join(tmp, "numba"), t) for t in trees}
        print(f"Numba caches: {', '.join(f'{t} {c}' for t, c in caches.items())}", flush=True)
        files = {}
        for r in range(args.rounds):
            for b in args.batch_sizes:
                # Alternate which tree goes first, round by round.
                names = list(trees) if r % 2 == 0 else list(trees)[::-1]
                for t in names:
                    res = measure(
                        trees[t], caches[t], xpath, ypath, b, args.epochs, optimizer, args.blas_threads
                    )
                    files.setdefault(t, res["file"])
                    assert res["file"] == files[t] and res["file"].startswith(trees[t]), (t, res["file"])
                    results[(t, b)]["kernel"].append(statistics.median(res["kernel"]))
                    results[(t, b)]["wall"].append(statistics.median(res["wall"]))
                    every = ", ".join(f"{s:.3f}" for s in res["kernel"])
                    print(
                        f"round {r + 1} batch {b:4d} {t:8s} epoch {statistics.median(res['kernel']):.3f} s "
                        f"(all: {every}); fit() {statistics.median(res['wall']):.3f} s",
                        flush=True,
                    )
    gemm.append(numpy_gemm_gflops())
    for t, f in files.items():
        print(f"{t}: fastmlp imported from {f}")
    print(f"NumPy float32 GEMM 2048^3: start {gemm[0]:.0f}, end {gemm[1]:.0f} GFLOP/s")
    print(
        f"\n{'batch':>5} {'baseline s':>11} {'current s':>10} {'ratio':>6}   {'baseline fit()':>14} "
        f"{'current fit()':>13} {'ratio':>6}   per-round ratios (epoch)"
    )
    for b in args.batch_sizes:
        kb, kc = (statistics.median(results[(t, b)]["kernel"]) for t in trees)
        wb, wc = (statistics.median(results[(t, b)]["wall"]) for t in trees)
        base, cur = results[("baseline", b)]["kernel"], results[("current", b)]["kernel"]
        per_round = [c / a for a, c in zip(base, cur, strict=True)]
        print(
            f"{b:5d} {kb:11.3f} {kc:10.3f} {kc / kb:6.2f}   {wb:14.3f} {wc:13.3f} {wc / wb:6.2f}   "
            + " ".join(f"{q:.2f}" for q in per_round)
        )


if __name__ == "__main__":
    main()
