"""Start-up: how long a user waits the first time, against the second time and scikit-learn.

    python scripts/bench_start.py                 # every row, median of 3
    python scripts/bench_start.py --repeats 5 --no-fallback
    python scripts/bench_start.py --tree ../fastmlp-before   # another checkout (git worktree add)

Each figure is the wall time of a whole fresh process (Python start-up and imports included):
  fastmlp train         `fastmlp train` (the embedded digits default) with an empty cache (cold:
                        a fresh HOME and NUMBA_CACHE_DIR, as on a new install), then again in
                        the same cache (warm);
  four fits             the four first fits a scikit-learn user makes in one fresh process
                        (FOUR_FITS: MLPClassifier on digits in float64, the same in float32,
                        MLPRegressor on diabetes, MLPClassifier with solver="sgd"), with
                        fastmlp's estimators cold and warm, and scikit-learn's own;
  ... no prebuilt       the same cold run with FASTMLP_PREBUILT=0: what a machine the prebuilt
                        kernels do not match (another Python or Numba, a CPU without AVX2) pays
                        on its first run, and `fastmlp warmup` pays up front.
Rows are medians of --repeats rounds, each round running every row once (interleaved: the
machine drifts). The machine's float32 GEMM rate, measured in the same run, is printed beside
the table; compare ratios within one run only.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

FOUR_FITS = r"""
import sys, warnings
warnings.filterwarnings("ignore")
import numpy as np
from sklearn.datasets import load_diabetes, load_digits
if sys.argv[1] == "fastmlp":
    from fastmlp import MLPClassifier, MLPRegressor
else:
    from sklearn.neural_network import MLPClassifier, MLPRegressor
X, y = load_digits(return_X_y=True)
X = X / 16.0
Xr, yr = load_diabetes(return_X_y=True)
MLPClassifier(max_iter=50, random_state=0).fit(X, y)
MLPClassifier(max_iter=50, random_state=0).fit(X.astype(np.float32), y)
MLPRegressor(max_iter=200, learning_rate_init=0.01, random_state=0).fit(Xr, yr)
MLPClassifier(solver="sgd", max_iter=30, random_state=0).fit(X, y)
"""


def gemm_gflops():
    spec = importlib.util.spec_from_file_location("bench", HERE / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.reference_gemm_gflops()


def timed(command, env):
    t0 = time.perf_counter()
    # From the (empty) HOME: run from a checkout, `python -c` would import the checkout's fastmlp.
    out = subprocess.run(command, env=env, capture_output=True, text=True, cwd=env["HOME"])
    seconds = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed:\n{out.stderr[-2000:]}")
    return seconds


TREE = None  # --tree: the checkout whose fastmlp the processes import (PYTHONPATH)


def fresh_env(home, prebuilt=True):
    """A new user's environment: an empty HOME and cache folders under `home`."""
    Path(home).mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        HOME=str(home),
        XDG_CACHE_HOME=str(Path(home) / ".cache"),
        NUMBA_CACHE_DIR=str(Path(home) / "numba"),
        FASTMLP_PREBUILT="1" if prebuilt else "0",
    )
    if TREE is not None:
        env["PYTHONPATH"] = TREE
    return env


def one_round(fallback):
    """{row: seconds} for one interleaved round."""
    train = [sys.executable, "-m", "fastmlp.cli", "train", "--out"]
    fits = [sys.executable, "-c", FOUR_FITS]
    row = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = fresh_env(Path(tmp) / "a")
        row["fastmlp train, cold"] = timed([*train, f"{tmp}/r1"], env)
        row["fastmlp train, warm"] = timed([*train, f"{tmp}/r2"], env)
        env = fresh_env(Path(tmp) / "b")
        row["four fits, fastmlp cold"] = timed([*fits, "fastmlp"], env)
        row["four fits, fastmlp warm"] = timed([*fits, "fastmlp"], env)
        row["four fits, scikit-learn"] = timed([*fits, "sklearn"], env)
        if fallback:
            env = fresh_env(Path(tmp) / "c", prebuilt=False)
            row["fastmlp train, cold, no prebuilt"] = timed([*train, f"{tmp}/r3"], env)
            env = fresh_env(Path(tmp) / "d", prebuilt=False)
            row["four fits, fastmlp cold, no prebuilt"] = timed([*fits, "fastmlp"], env)
    return row


RATIOS = [
    ("fastmlp train cold / warm", "fastmlp train, cold", "fastmlp train, warm"),
    ("four fits fastmlp cold / scikit-learn", "four fits, fastmlp cold", "four fits, scikit-learn"),
    ("four fits fastmlp warm / scikit-learn", "four fits, fastmlp warm", "four fits, scikit-learn"),
    ("no prebuilt: train cold / warm", "fastmlp train, cold, no prebuilt", "fastmlp train, warm"),
    (
        "no prebuilt: four fits cold / sklearn",
        "four fits, fastmlp cold, no prebuilt",
        "four fits, scikit-learn",
    ),
]


def main():
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-fallback", action="store_true", help="skip the FASTMLP_PREBUILT=0 rows")
    parser.add_argument("--tree", help="time the fastmlp of this checkout instead of the installed one")
    args = parser.parse_args()
    global TREE
    TREE = str(Path(args.tree).resolve()) if args.tree else None
    import numba
    from numba.core.registry import cpu_target

    from fastmlp.kernels import cache

    archive = cache.usable(cpu_target.target_context.codegen())
    python = platform.python_version()
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {python}, numba {numba.__version__}")
    if TREE:
        print(f"fastmlp from {TREE}")
    else:
        print(f"prebuilt kernels: {archive.path.name if archive else 'none match here'}")
    start = gemm_gflops()
    rounds = []
    for r in range(args.repeats):
        rounds.append(one_round(not args.no_fallback))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in rounds[-1].items()), flush=True)
    end = gemm_gflops()
    print(f"\nfloat32 GEMM (NumPy, 2048^3): {start:.0f} GFLOP/s at the start, {end:.0f} at the end")
    print(f"{'':42s} {'median s':>9s}  rounds")
    for k in rounds[0]:
        seconds = [r[k] for r in rounds]
        print(f"{k:42s} {statistics.median(seconds):9.2f}  " + " ".join(f"{s:.2f}" for s in seconds))
    print("\nratios (median of the rounds' own):")
    for label, a, b in RATIOS:
        if a in rounds[0]:
            print(f"  {label:44s} {statistics.median(r[a] / r[b] for r in rounds):.2f}")


if __name__ == "__main__":
    main()
