"""The estimators' parameters: scikit-learn's names for activations, the constraint table that
fit checks every parameter against (with scikit-learn's wording), and shared constants."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

# scikit-learn's activation names -> fastmlp's (leaky_relu is fastmlp's own).
ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
ACTIVATIONS_EXTRA = {"leaky_relu": "leaky_relu"}
SKLEARN_NAMES = {v: k for k, v in {**ACTIVATIONS, **ACTIVATIONS_EXTRA}.items()}
STOCHASTIC = ("sgd", "adam")
# SciPy's own default ftol for L-BFGS-B (factr 1e7 times the float64 epsilon), which
# scikit-learn keeps: its tol is only the gradient tolerance.
SCIPY_FTOL = 1e7 * np.finfo(np.float64).eps

# scikit-learn's words for a fit whose weights are not finite.
NON_FINITE = (
    "Solver produced non-finite parameter weights. The input data may contain large values and need to "
    "be preprocessed."
)


def _interval(low, high=None, low_open=False, high_open=False, integral=False):
    kind = Integral if integral else Real

    def check(v):
        if isinstance(v, bool) or not isinstance(v, kind):
            return False
        return (v > low if low_open else v >= low) and (
            high is None or (v < high if high_open else v <= high)
        )

    left, right = "(" if low_open else "[", ")" if high_open or high is None else "]"
    what = "an int" if integral else "a float"
    return check, f"{what} in the range {left}{low}, {'inf' if high is None else high}{right}"


def among(*options):
    return (lambda v: isinstance(v, str) and v in options), "a str among " + ", ".join(map(repr, options))


def _boolean():
    return (lambda v: isinstance(v, (bool, np.bool_))), "a bool"


def _int_at_least_one(v):
    return isinstance(v, Integral) and not isinstance(v, bool) and v >= 1


def dtype_name(value):
    """ "float32" / "float64" for anything numpy reads as one of them, else None."""
    try:
        return np.dtype(value).name if value is not None else None
    except TypeError:
        return None


# name -> (check, description) for every parameter both estimators share.
CONSTRAINTS = {
    "activation": among(*ACTIVATIONS, *ACTIVATIONS_EXTRA),
    "solver": among("lbfgs", "sgd", "adam"),
    "alpha": _interval(0.0),
    "learning_rate": among("constant", "invscaling", "adaptive"),
    "learning_rate_init": _interval(0.0, low_open=True),
    "power_t": _interval(0.0),
    "max_iter": _interval(1, integral=True),
    "shuffle": _boolean(),
    "tol": _interval(0.0),
    "warm_start": _boolean(),
    "momentum": _interval(0.0, 1.0),
    "nesterovs_momentum": _boolean(),
    "early_stopping": _boolean(),
    "validation_fraction": _interval(0.0, 1.0, high_open=True),
    "beta_1": _interval(0.0, 1.0, high_open=True),
    "beta_2": _interval(0.0, 1.0, high_open=True),
    "epsilon": _interval(0.0, low_open=True),
    "max_fun": _interval(1, integral=True),
    "dropout": _interval(0.0, 1.0, high_open=True),
    "batch_size": (lambda v: v == "auto" or _int_at_least_one(v), "'auto' or an int in the range [1, inf)"),
    "n_iter_no_change": (
        lambda v: _int_at_least_one(v) or v == np.inf,
        "an int in the range [1, inf) or inf",
    ),
    "dtype": (lambda v: v is None or dtype_name(v) in ("float32", "float64"), "None, float32 or float64"),
}


class InvalidParameterError(ValueError, TypeError):
    """A constructor parameter out of its range or of the wrong type, found by fit (a ValueError and a
    TypeError, as scikit-learn's own InvalidParameterError, so either `except` catches it)."""


def store_params(estimator, params):
    """Every constructor argument as an attribute of the same name, unchanged (scikit-learn's rule:
    __init__ stores, fit validates)."""
    for name, value in params.items():
        if name != "self":
            setattr(estimator, name, value)
