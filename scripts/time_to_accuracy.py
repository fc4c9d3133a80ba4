"""Time to accuracy on Fashion-MNIST: a fastmlp config against scikit-learn's MLPClassifier, one run.

    python scripts/time_to_accuracy.py                              # configs/fashion_mnist.yaml
    python scripts/time_to_accuracy.py --config configs/fashion_mnist_adam.yaml --sklearn-epochs 20

fastmlp: `fastmlp train CONFIG` in this process through fastmlp.api.train (data loading, training,
the per-epoch validation and the final test evaluation all inside the wall time; the kernels are
compiled first on a slice, as a second `fastmlp train` finds them in the cache).
scikit-learn: MLPClassifier(hidden_layer_sizes=(256, 128)) with its defaults (Adam, lr 1e-3,
batch 200, alpha 1e-4) for --sklearn-epochs epochs (max_iter, no early stopping), on the same
standardised float32 training rows, scored on the same test rows; its wall time is fit + score.
Prints each one's test accuracy and seconds, the ratio fastmlp / scikit-learn, and NumPy's
float32 GEMM GFLOP/s measured in the same run (the machine drifts; compare ratios).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def gemm_gflops() -> float:
    sys.path.insert(0, str(ROOT / "scripts"))
    from bench import numpy_gemm_gflops

    return numpy_gemm_gflops()["2048^3"]


def run_fastmlp(config: str, out: Path) -> tuple[float, float]:
    from fastmlp import api

    api.train(config, ["train.epochs=1", "data.limit=2048"], out=out / "warm", force=True)  # compile
    t = time.perf_counter()
    result = api.train(config, out=out / "run", force=True)
    return result.summary["test_accuracy"], time.perf_counter() - t


def run_sklearn(epochs: int) -> tuple[float, float]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from fastmlp.data import load_dataset

    ds = load_dataset({"name": "fashion-mnist", "validation_split": 0.0, "preprocessing": "standardize"})
    clf = MLPClassifier(hidden_layer_sizes=(256, 128), max_iter=epochs, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t = time.perf_counter()
        clf.fit(ds.X_train, ds.y_train)
        accuracy = clf.score(ds.X_test, ds.y_test)
    return accuracy, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "configs/fashion_mnist.yaml"))
    ap.add_argument("--sklearn-epochs", type=int, default=20)
    ap.add_argument("--out", default="/tmp/fastmlp_time_to_accuracy")
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPUs; NumPy float32 GEMM {gemm_gflops():.0f} GFLOP/s (2048^3)")
    acc_f, sec_f = run_fastmlp(args.config, Path(args.out))
    print(f"fastmlp  {Path(args.config).name}: test accuracy {acc_f:.4f} in {sec_f:.1f} s")
    acc_s, sec_s = run_sklearn(args.sklearn_epochs)
    print(
        f"sklearn  MLPClassifier(256, 128) Adam, {args.sklearn_epochs} epochs: {acc_s:.4f} in {sec_s:.1f} s"
    )
    print(f"ratio fastmlp / scikit-learn wall time: {sec_f / sec_s:.2f} (goal <= 0.5 at accuracy >= 0.90)")
    print(f"GEMM after: {gemm_gflops():.0f} GFLOP/s")


if __name__ == "__main__":
    main()
