"""Sparse inputs: fastmlp against scikit-learn's MLPClassifier on bag-of-words rows.

    python scripts/bench_sparse.py [--widths 16 18 20] [--rows 12000] [--repeats 3]
                                   [--sklearn-repeats-at-20 1] [--svmlight-rss]

Generated data (generate()): `rows` training rows and a third as many test rows, each about 42
words drawn from a Zipf-like frequency over 2^width columns (word r has frequency ~ 1/r^1.1, the
columns in a random order), a twentieth of them from a vocabulary of 1,000 words peculiar to the
row's class (4 classes); log(1 + count) weights, rows scaled to unit length (as tf-idf
vectorizers leave them), float32 CSR.

Both estimators get identical parameters: hidden (32,), batch 128, Adam, 3 epochs, alpha 1e-4,
random_state 0 (scikit-learn warns that 3 epochs do not converge; that is the setting). Each fit
runs in a fresh process, so its peak resident memory (ru_maxrss, less the interpreter's after
imports and the data) is its own; each round runs both in turn (the machine drifts). Prints the
median fit seconds, test accuracy and peak MB per width, with the ratio, and NumPy's float32
GEMM GFLOP/s measured in the same run.

--svmlight-rss also writes a 20,000-row, 2^20-column svmlight file and runs `fastmlp train` on it
(hidden [32], Adam, 3 epochs, preprocessing none) in a fresh process, and reports its wall time
and peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

CLASSES = 4
WORDS_PER_ROW = 42
CLASS_SHARE = 0.05
CLASS_VOCABULARY = 1000


def generate(n, width, seed=0):
    """(X, y): n bag-of-words rows over 2^width columns as a float32 CSR matrix, and their classes."""
    import scipy.sparse as sp

    d = 2**width
    rng = np.random.default_rng(seed)
    frequency = 1.0 / np.arange(1, d + 1) ** 1.1
    cumulative = np.cumsum(frequency / frequency.sum())
    order = rng.permutation(d)
    vocabulary = rng.choice(d, (CLASSES, CLASS_VOCABULARY))
    y = rng.integers(0, CLASSES, n)
    rows = np.repeat(np.arange(n), np.maximum(rng.poisson(WORDS_PER_ROW, n), 1))
    cols = order[np.minimum(np.searchsorted(cumulative, rng.random(rows.size)), d - 1)]
    special = rng.random(rows.size) < CLASS_SHARE
    cols[special] = vocabulary[y[rows[special]], rng.integers(0, CLASS_VOCABULARY, special.sum())]
    X = sp.csr_matrix((np.ones(rows.size, np.float32), (rows, cols)), shape=(n, d))
    X.sum_duplicates()
    X.data = np.log1p(X.data)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.diags((1 / norms).astype(np.float32)) @ X
    return sp.csr_matrix(X, dtype=np.float32), y


CHILD = """
import json, resource, sys, time, warnings
import numpy as np, scipy.sparse as sp
sys.path.insert(0, {scripts!r})
from bench_sparse import generate
warnings.simplefilter("ignore")
which, width, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
X, y = generate(rows + rows // 3, width)
if which == "fastmlp":
    from fastmlp import MLPClassifier
else:
    from sklearn.neural_network import MLPClassifier
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
model = MLPClassifier((32,), batch_size=128, max_iter=3, solver="adam", alpha=1e-4, random_state=0)
t = time.perf_counter()
model.fit(X[:rows], y[:rows])
seconds = time.perf_counter() - t
accuracy = float((model.predict(X[rows:]) == y[rows:]).mean())
peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
print(json.dumps({{"seconds": seconds, "accuracy": accuracy, "peak_mb": peak}}))
"""


def fit_once(which, width, rows):
    code = CHILD.format(scripts=str(Path(__file__).resolve().parent))
    out = subprocess.run(
        [sys.executable, "-c", code, which, str(width), str(rows)], capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit(f"{which} at 2^{width} failed: {out.stderr.strip().splitlines()[-1]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def warm_up(rows):
    """One small fastmlp fit first, so the timed ones load compiled kernels as a user's later runs do."""
    fit_once("fastmlp", 10, min(rows, 1000))


def svmlight_rss(folder: Path) -> dict:
    """`fastmlp train` on a 20,000-row, 2^20-column svmlight file: wall seconds and peak MB."""
    import resource
    import time

    from sklearn.datasets import dump_svmlight_file

    path = folder / "bag.svm"
    if not path.exists():
        X, y = generate(20_000, 20, seed=1)
        dump_svmlight_file(X, y, str(path), zero_based=False)
    command = [
        sys.executable, "-m", "fastmlp.cli", "train", "--quiet", "--force", "--out", str(folder / "run"),
        "--set", "data.name=null", "--set", f"data.path={path}", "--set", "data.preprocessing=none",
        "--set", "model.hidden=[32]", "--set", "train.optimizer=adam",
        "--set", "train.learning_rate=0.001", "--set", "train.epochs=3", "--set", "train.batch_size=128",
    ]  # fmt: skip
    t = time.perf_counter()
    subprocess.run(command, check=True)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summary = json.loads((folder / "run" / "summary.json").read_text())
    return {
        "seconds": seconds,
        "peak_mb": peak,
        "test_accuracy": summary.get("test_accuracy"),
        "file_mb": path.stat().st_size / 1e6,
    }


def main() -> None:
    from bench import numpy_gemm_gflops
    from bench_load import cpu_name

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="*", default=[16, 18, 20], help="log2 of the columns")
    parser.add_argument("--rows", type=int, default=12_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--sklearn-repeats-at-20", type=int, default=1, help="scikit-learn's fits at 2^20 take minutes"
    )
    parser.add_argument("--svmlight-rss", action="store_true")
    args = parser.parse_args()
    gemm = numpy_gemm_gflops()
    print(f"{cpu_name()}; NumPy float32 GEMM: " + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in gemm.items()))
    warm_up(args.rows)
    heads = {"fastmlp s": 11, "sklearn s": 11, "ratio": 8, "acc fm": 8, "acc sk": 8, "MB fm": 8, "MB sk": 8}
    print(f"{'columns':>8}" + "".join(f"{h:>{w}}" for h, w in heads.items()))
    for width in args.widths:
        runs = {"fastmlp": [], "sklearn": []}
        for r in range(args.repeats):
            runs["fastmlp"].append(fit_once("fastmlp", width, args.rows))
            if width < 20 or r < args.sklearn_repeats_at_20:
                runs["sklearn"].append(fit_once("sklearn", width, args.rows))
        med = {
            k: {m: statistics.median(x[m] for x in v) for m in ("seconds", "accuracy", "peak_mb")}
            for k, v in runs.items()
        }
        fm, sk = med["fastmlp"], med["sklearn"]
        print(
            f"{'2^' + str(width):>8}{fm['seconds']:>11.2f}{sk['seconds']:>11.2f}"
            f"{sk['seconds'] / fm['seconds']:>7.1f}x"
            f"{fm['accuracy']:>8.3f}{sk['accuracy']:>8.3f}{fm['peak_mb']:>8.0f}{sk['peak_mb']:>8.0f}",
            flush=True,
        )
    if args.svmlight_rss:
        with tempfile.TemporaryDirectory() as folder:
            result = svmlight_rss(Path(folder))
        print(
            f"fastmlp train, 20,000 x 2^20 svmlight ({result['file_mb']:.0f} MB), hidden [32], Adam, "
            f"3 epochs: {result['seconds']:.1f} s wall, peak {result['peak_mb']:.0f} MB, "
            f"test accuracy {result['test_accuracy']:.3f}"
        )


if __name__ == "__main__":
    main()
