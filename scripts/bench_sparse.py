"""Sparse inputs: fastmlp against scikit-learn's MLPClassifier on bag-of-words rows.

    python scripts/bench_sparse.py [--widths 16 18 20] [--rows 12000] [--repeats 3]
                                   [--sklearn-repeats-at-20 1] [--files]

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

--files also writes svmlight files (training and test) of the 2^18 rows above and of 20,000 +
6,666 rows at 2^20 (seed 1), and runs `fastmlp train` on each in a fresh process with the
estimators' parameters (train_on_files): the whole command's wall time (reading the files,
loading the kernels, a checkpoint per epoch, the model file), the fit's, its peak resident
memory and the test accuracy.
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


TRAIN_CHILD = """
import resource, runpy, sys
try:
    runpy.run_module("fastmlp.cli", run_name="__main__")
finally:
    print("peak_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def train_on_files(folder: Path, rows: int, test_rows: int, width: int, seed: int) -> dict:
    """`fastmlp train` on svmlight files of generated rows (the estimators' parameters: hidden [32],
    batch 128, Adam at 0.001, 3 epochs, constant rate, L2 alpha / batch as scikit-learn's alpha
    1e-4 means, no validation split): wall seconds, the summary's fit seconds, peak MB, test
    accuracy."""
    import time

    from sklearn.datasets import dump_svmlight_file

    train, test = folder / f"train{width}.svm", folder / f"test{width}.svm"
    X, y = generate(rows + test_rows, width, seed)
    dump_svmlight_file(X[:rows], y[:rows], str(train), zero_based=False)
    dump_svmlight_file(X[rows:], y[rows:], str(test), zero_based=False)
    settings = {
        "data.name": "null", "data.path": train, "data.test_path": test, "data.preprocessing": "none",
        "data.validation_split": 0, "model.hidden": "[32]", "train.optimizer": "adam",
        "train.learning_rate": 0.001, "train.lr_schedule": "null", "train.l2": 1e-4 / 128,
        "train.epochs": 3, "train.batch_size": 128,
    }  # fmt: skip
    command = [sys.executable, "-c", TRAIN_CHILD, "train", "--quiet", "--force", "--out", str(folder / "run")]
    for key, value in settings.items():
        command += ["--set", f"{key}={value}"]
    t = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"fastmlp train failed: {out.stderr.strip().splitlines()[-1]}")
    peak_kb = int(out.stderr.split("peak_kb")[-1].split()[0])
    summary = json.loads((folder / "run" / "summary.json").read_text())
    return {
        "seconds": seconds,
        "fit_seconds": summary["timings"]["fit_seconds"],
        "peak_mb": peak_kb / 1024,
        "test_accuracy": summary["test_accuracy"],
        "file_mb": train.stat().st_size / 1e6,
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
    parser.add_argument("--files", action="store_true", help="also `fastmlp train` on svmlight files")
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
    if args.files:
        for rows, width, seed in ((args.rows, 18, 0), (20_000, 20, 1)):
            with tempfile.TemporaryDirectory() as folder:
                r = train_on_files(Path(folder), rows, rows // 3, width, seed)
            print(
                f"fastmlp train, {rows:,} rows x 2^{width} from svmlight ({r['file_mb']:.0f} MB): "
                f"{r['seconds']:.1f} s wall (fit {r['fit_seconds']:.1f} s), peak {r['peak_mb']:.0f} MB, "
                f"test accuracy {r['test_accuracy']:.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
