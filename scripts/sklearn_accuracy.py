"""Cross-validated scores: fastmlp's MLPClassifier / MLPRegressor against scikit-learn's, same parameters.

    python scripts/sklearn_accuracy.py              # digits, iris, diabetes; sgd, adam, lbfgs; 5 folds
    python scripts/sklearn_accuracy.py --folds 3 --solvers adam

Each cell is make_pipeline(StandardScaler(), estimator) scored by cross_val_score (accuracy for
the classifiers, R^2 for the regressor; diabetes targets standardised) with scikit-learn's
default parameters except random_state=0, max_iter=1000 for the diabetes regressor (which the
default of 200 leaves far from converged), and for lbfgs alpha=--lbfgs-alpha (1.0): unregularised
full-batch L-BFGS fits these small sets to the noise, where rounding differences of 1e-16 between
any two implementations grow into different minima (--lbfgs-alpha 1e-4 shows it). fastmlp runs
twice: on the float64 data (scikit-learn's own dtype: the same weights up to rounding) and on a
float32 copy (fastmlp's fast path). The goal: every fastmlp score within 0.02 of scikit-learn's.
Fit seconds are the whole cross-validation's.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--solvers", nargs="+", default=["sgd", "adam", "lbfgs"])
    ap.add_argument("--lbfgs-alpha", type=float, default=1.0)
    args = ap.parse_args()

    from sklearn import neural_network as sk
    from sklearn.datasets import load_diabetes, load_digits, load_iris
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import fastmlp

    X, y = load_diabetes(return_X_y=True)
    diabetes = (X, (y - y.mean()) / y.std())
    sets = {
        "digits": (load_digits(return_X_y=True), fastmlp.MLPClassifier, sk.MLPClassifier, {}),
        "iris": (load_iris(return_X_y=True), fastmlp.MLPClassifier, sk.MLPClassifier, {}),
        "diabetes": (
            diabetes,
            fastmlp.MLPRegressor,
            sk.MLPRegressor,
            {"max_iter": 1000},
        ),
    }
    print(
        f"{'data':9} {'solver':6} {'sklearn':>8} {'fastmlp64':>9} {'fastmlp32':>9} {'max |diff|':>10}"
        "  seconds sk/64/32"
    )
    worst = 0.0
    for name, ((X, y), ours, theirs, extra) in sets.items():
        for solver in args.solvers:
            params = {"solver": solver, "random_state": 0, **extra}
            if solver == "lbfgs":
                params["alpha"] = args.lbfgs_alpha
            scores, seconds = [], []
            for cls, data in ((theirs, X), (ours, X), (ours, X.astype(np.float32))):
                t = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pipe = make_pipeline(StandardScaler(), cls(**params))
                    s = cross_val_score(pipe, data, y, cv=args.folds)
                seconds.append(time.perf_counter() - t)
                scores.append(s.mean())
            diff = max(abs(scores[1] - scores[0]), abs(scores[2] - scores[0]))
            worst = max(worst, diff)
            print(
                f"{name:9} {solver:6} {scores[0]:8.4f} {scores[1]:9.4f} {scores[2]:9.4f} {diff:10.4f}  "
                + "/".join(f"{s:.1f}" for s in seconds)
            )
    print(f"largest difference: {worst:.4f} ({'within' if worst <= 0.02 else 'NOT within'} 0.02)")


if __name__ == "__main__":
    main()
