"""scikit-learn estimators trained by fastmlp's kernels: `MLPClassifier` and `MLPRegressor`.

Change one import line and a scikit-learn script runs on fastmlp:

    from fastmlp import MLPClassifier      # was: from sklearn.neural_network import MLPClassifier

The constructor takes scikit-learn's parameters with scikit-learn's names and defaults, the
fitted estimator has scikit-learn's attributes (`coefs_`, `intercepts_`, `loss_curve_`, ...), and
it works inside Pipelines, GridSearchCV and cross_val_score. scikit-learn is the optional extra
`pip install 'fastmlp[sklearn]'`; the rest of fastmlp never imports it.

How each parameter maps onto fastmlp's core (J_B is the objective of minibatch B, W_B its
weight total: its row count, or the sum of its sample weights):

    hidden_layer_sizes   layer widths [n_features, *hidden_layer_sizes, n_outputs]
    activation           identity | logistic (the sigmoid) | tanh | relu; fastmlp adds leaky_relu
    solver               adam and sgd: the epoch kernel (one compiled call per epoch);
                         lbfgs: SciPy's L-BFGS-B on the full-batch loss and gradient kernels,
                         maxiter=max_iter, maxfun=max_fun, gtol=tol, ftol left at SciPy's default
    alpha                J_B = [sum_B w_i l_i + (alpha/2) sum_k ||W^k||^2] / W_B: the kernels'
                         lambda is alpha / W_B for each minibatch (the last, shorter one too);
                         L-BFGS: lambda = alpha / (total weight)
    batch_size           "auto" = min(200, n_samples); larger than n_samples: clipped, with a warning
    learning_rate        sgd only. constant; invscaling: after each epoch
                         lr = learning_rate_init / (t_ + 1) ** power_t, t_ = samples seen;
                         adaptive: when the stopping rule below fires, lr /= 5 instead of
                         stopping, until lr <= 1e-6
    momentum, nesterovs_momentum   v <- mu v - lr g; theta <- theta + v, or with Nesterov
                         theta <- theta + mu v - lr g (fastmlp's sgd optimizer)
    beta_1, beta_2, epsilon   Adam in scikit-learn's form: theta <- theta - lr_t m / (sqrt(v) + eps),
                         lr_t = lr sqrt(1 - beta_2^t) / (1 - beta_1^t) (fastmlp's adam with
                         epsilon_hat)
    tol, n_iter_no_change   after each epoch, an epoch counts as "no improvement" when the
                         training loss > best_loss_ - tol (or, with early_stopping, the
                         validation score < best_validation_score_ + tol); more than
                         n_iter_no_change of them in a row stops training (adaptive: lowers lr)
    early_stopping, validation_fraction   a validation_fraction split drawn from random_state
                         (stratified for binary targets, as scikit-learn does); the score is
                         accuracy or R^2; the best epoch's weights are restored at the end
    max_iter             epochs (sgd, adam) or iterations (lbfgs); reaching it warns ConvergenceWarning
    shuffle, random_state   the same random stream as scikit-learn's: weights and biases drawn
                         U(-b, b), b = sqrt(6 / (fan_in + fan_out)) (2 instead of 6 for logistic),
                         then the early-stopping split, then one permutation per epoch
    warm_start           fit continues from the current weights; the optimizer restarts (as in
                         scikit-learn); partial_fit keeps it across calls
    verbose              prints the loss after each epoch
    max_fun              L-BFGS's bound on loss evaluations
    loss (regressor)     squared_error: l_i = 1/2 ||y_hat_i - y_i||^2, identity output;
                         poisson: the half Poisson deviance with y_hat = e^z (fastmlp's task
                         poisson; y must be counts >= 0)

fastmlp's own parameters, whose defaults keep scikit-learn's behaviour:

    dtype         None: float32 input trains float32 weights, anything else float64 (as
                  scikit-learn); "float32" or "float64" forces it
    dropout       inverted dropout on the hidden layers while training (0: none)
    class_weight  (classifier) "balanced" or {class: weight}, multiplying sample_weight

Outputs, as scikit-learn's: more than two classes, softmax units with the cross-entropy loss;
two classes, one logistic unit (coefs_[-1] has one column) with the binary cross-entropy;
multilabel indicator targets, one logistic unit per label.

Threads: the GEMMs run on OpenBLAS through SciPy. Minibatches of 8 rows or fewer run their BLAS
calls on one thread (5 to 12 rows take the row-streaming forward kernel for their larger
layers); larger ones use the
process's BLAS threads as they are set. GridSearchCV(n_jobs=k) and cross_val_score run fits in
joblib's worker processes, which joblib starts with the BLAS threads limited to cores // k, and
fit never raises that limit; a fit called from a thread other than the main one (joblib's
threading backend) runs its BLAS on one thread. Either way cores are shared, not oversubscribed.

Where this differs from scikit-learn, on purpose:
- loss_ and loss_curve_ of sgd/adam count the L2 term with ||W||^2 averaged over the epoch's
  first and last weights (scikit-learn adds each minibatch's own), and with sample weights the
  epoch's data loss is weighted by sample weight rather than by minibatch row count.
- The cross-entropy is computed from the logits (log-sum-exp), so a confidently wrong sample
  costs its true loss; scikit-learn clips probabilities at the float epsilon (15.9 nats at most
  in float32).
- Sample weights must be >= 0 (scikit-learn takes negative ones without a word; a negative weight
  rewards a larger loss, which is no fit at all).
- Parameter errors are fastmlp.sklearn.InvalidParameterError (a ValueError and a TypeError, like
  scikit-learn's own, with its wording).
- Multi-output regression reports loss_ as scikit-learn does (the squared error averaged over
  outputs), but L-BFGS minimises the sum over outputs, whose gradient is the one both libraries
  compute (scikit-learn hands SciPy the averaged value with the summed gradient).

Models move between the estimator and the rest of fastmlp through the same plain .npz:
`est.save("m.npz")` writes what `fastmlp predict` reads (a two-class classifier is written as
the equivalent two-unit softmax), and `MLPClassifier.load("runs/x/model.npz")` wraps a model
trained by `fastmlp train`, its preprocessing included. Pickling the estimator (joblib.dump)
works too; model files themselves never hold pickles.
"""

from __future__ import annotations

import threading
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import LabelBinarizer
    from sklearn.utils import check_random_state, column_or_1d
    from sklearn.utils import shuffle as shuffle_rows
    from sklearn.utils.class_weight import compute_sample_weight
    from sklearn.utils.metaestimators import available_if
    from sklearn.utils.multiclass import type_of_target, unique_labels
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "fastmlp's scikit-learn estimators need scikit-learn >= 1.6: pip install 'fastmlp[sklearn]'"
    ) from None

from .errors import FastMLPError
from .kernels.fpmode import flush_denormals
from .kernels.losses import sigmoid_inplace, softmax_inplace
from .lbfgs import fit_lbfgs
from .model import MLP
from .optimizers import Optimizer
from .trainer import BLAS_THREADED_BATCH, Epochs, blas_threads_limit

__all__ = ["MLPClassifier", "MLPRegressor"]

# scikit-learn's activation names -> fastmlp's (leaky_relu is fastmlp's own).
ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
ACTIVATIONS_EXTRA = {"leaky_relu": "leaky_relu"}
SKLEARN_NAMES = {v: k for k, v in {**ACTIVATIONS, **ACTIVATIONS_EXTRA}.items()}
STOCHASTIC = ("sgd", "adam")
# SciPy's own default ftol for L-BFGS-B (factr 1e7 times the float64 epsilon), which
# scikit-learn keeps: its tol is only the gradient tolerance.
SCIPY_FTOL = 1e7 * np.finfo(np.float64).eps
# sgd with learning_rate="adaptive" stops once lr has been divided down to this.
ADAPTIVE_MIN_LR = 1e-6
PREDICT_CHUNK = 4096

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


def _among(*options):
    return (lambda v: isinstance(v, str) and v in options), "a str among " + ", ".join(map(repr, options))


def _boolean():
    return (lambda v: isinstance(v, (bool, np.bool_))), "a bool"


# name -> (check, description) for every parameter both estimators share.
_CONSTRAINTS = {
    "activation": _among(*ACTIVATIONS, *ACTIVATIONS_EXTRA),
    "solver": _among("lbfgs", "sgd", "adam"),
    "alpha": _interval(0.0),
    "learning_rate": _among("constant", "invscaling", "adaptive"),
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
}


class InvalidParameterError(ValueError, TypeError):
    """A constructor parameter out of its range or of the wrong type, found by fit (a ValueError and a
    TypeError, as scikit-learn's own InvalidParameterError, so either `except` catches it)."""


def _dtype_name(value):
    """ "float32" / "float64" for anything numpy reads as one of them, else None."""
    try:
        return np.dtype(value).name if value is not None else None
    except TypeError:
        return None


def _store_params(estimator, params):
    """Every constructor argument as an attribute of the same name, unchanged (scikit-learn's rule:
    __init__ stores, fit validates)."""
    for name, value in params.items():
        if name != "self":
            setattr(estimator, name, value)


class _BaseMLP(BaseEstimator):
    """What both estimators share: parameter checks, fitting, the forward pass, files."""

    # -- parameters --------------------------------------------------------------

    def _check_params(self):
        """One ValueError naming the parameter, its value and what it accepts (as scikit-learn)."""
        name = type(self).__name__
        for param, (check, what) in _CONSTRAINTS.items():
            value = getattr(self, param)
            if not check(value):
                raise InvalidParameterError(
                    f"The {param!r} parameter of {name} must be {what}. Got {value!r} instead."
                )
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise InvalidParameterError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        bs = self.batch_size
        if not (bs == "auto" or (isinstance(bs, Integral) and not isinstance(bs, bool) and bs >= 1)):
            raise InvalidParameterError(
                f"The 'batch_size' parameter of {name} must be 'auto' or an int in the range "
                f"[1, inf). Got {bs!r} instead."
            )
        nic = self.n_iter_no_change
        if not ((isinstance(nic, Integral) and not isinstance(nic, bool) and nic >= 1) or nic == np.inf):
            raise InvalidParameterError(
                f"The 'n_iter_no_change' parameter of {name} must be an int in the range [1, inf) "
                f"or inf. Got {nic!r} instead."
            )
        if self.dtype is not None and _dtype_name(self.dtype) not in ("float32", "float64"):
            raise InvalidParameterError(
                f"The 'dtype' parameter of {name} must be None, float32 or float64. Got {self.dtype!r}."
            )
        return [int(s) for s in sizes]

    def _stochastic(self):
        if self.solver not in STOCHASTIC:
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. {self.solver} is not stochastic."
            )
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- the network and scikit-learn's view of it --------------------------------

    @property
    def coefs_(self):
        """W^k as (fan_in, fan_out) arrays: views into the network's parameters."""
        return list(self._fitted_model().weights)

    @coefs_.setter
    def coefs_(self, values):
        self._set_views(self._fitted_model().weights, values, "coefs_")

    @property
    def intercepts_(self):
        """b^k as (fan_out,) arrays: views into the network's parameters."""
        return list(self._fitted_model().biases)

    @intercepts_.setter
    def intercepts_(self, values):
        self._set_views(self._fitted_model().biases, values, "intercepts_")

    def _fitted_model(self):
        if "model_" not in self.__dict__:
            raise AttributeError(f"This {type(self).__name__} instance is not fitted yet.")
        return self.model_

    @staticmethod
    def _set_views(views, values, name):
        values = list(values)
        if [np.shape(v) for v in values] != [w.shape for w in views]:
            raise ValueError(f"{name}: expected arrays shaped {[w.shape for w in views]}")
        for w, v in zip(views, values, strict=True):
            w[...] = v

    def _new_model(self, n_features, hidden, n_outputs, task, dtype, random_state):
        """A network drawn as scikit-learn draws it, layer by layer from random_state:
        W ~ U(-b, b), then b ~ U(-b, b), b = sqrt(f / (fan_in + fan_out)), f = 2 for logistic, else 6."""
        activation = {**ACTIVATIONS, **ACTIVATIONS_EXTRA}[self.activation]
        model = MLP([n_features, *hidden, n_outputs], activation=activation, task=task, dtype=dtype, seed=0)
        factor = 2.0 if self.activation == "logistic" else 6.0
        for W, b in zip(model.weights, model.biases, strict=True):
            bound = np.sqrt(factor / (W.shape[0] + W.shape[1]))
            W[...] = random_state.uniform(-bound, bound, W.shape)
            b[...] = random_state.uniform(-bound, bound, b.shape[0])
        model.seed = None
        return model

    def _adopt(self, model):
        """Set the fitted attributes for the network `model` (a new fit, or a loaded file)."""
        self.model_ = model
        self.n_layers_ = len(model.layer_sizes)
        self.n_outputs_ = model.n_outputs
        self.out_activation_ = self._out_activation(model)
        self.n_iter_ = 0
        self.t_ = 0
        if self.solver in STOCHASTIC:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None
        self._best_params = model.params.copy()

    # -- inputs --------------------------------------------------------------------

    def _dtype_for(self):
        if self.dtype is not None:
            return np.dtype(self.dtype)
        if "model_" in self.__dict__:
            return self.model_.dtype
        return (np.float64, np.float32)

    def _network_inputs(self, X):
        """Validated rows -> what the network reads: the model's dtype and preprocessing; sparse
        rows stay sparse (the kernels densify them one minibatch or chunk at a time)."""
        model = self.model_
        if sp.issparse(X):
            if model.preprocessing.kind != "none":
                raise ValueError(
                    f"this model applies {model.preprocessing.kind} preprocessing to its inputs, which "
                    "a sparse matrix cannot take; pass a dense array"
                )
            return X.astype(model.dtype) if X.dtype != model.dtype else X
        return model.preprocessing.transform(model.check_X(X, finite=False))  # validate_data checked

    def _decision(self, X):
        """z^L for validated raw rows X (dense or sparse)."""
        return self._forward(self._network_inputs(X))

    def _forward(self, X):
        """z^L for rows in the network's form; a sparse X goes in chunks, never densified whole."""
        if not sp.issparse(X):
            return self.model_.forward(X)
        X = sp.csr_matrix(X)
        out = np.empty((X.shape[0], self.model_.n_outputs), self.model_.dtype)
        for start in range(0, X.shape[0], PREDICT_CHUNK):
            stop = min(start + PREDICT_CHUNK, X.shape[0])
            out[start:stop] = self.model_.forward(np.ascontiguousarray(X[start:stop].toarray()))
        return out

    def _validate_X(self, X):
        check_is_fitted(self)
        return validate_data(
            self, X, accept_sparse=["csr", "csc"], reset=False, dtype=(np.float64, np.float32)
        )

    # -- fitting -------------------------------------------------------------------

    def fit(self, X, y, sample_weight=None):
        """Fit the network to X (dense or sparse rows) and y; returns self."""
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(self, X, y, sample_weight, incremental):
        hidden = self._check_params()
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        first_pass = "model_" not in self.__dict__ or (not self.warm_start and not incremental)
        if first_pass:
            self.__dict__.pop("model_", None)
        X, y_encoded, width, task = self._validate_input(X, y, incremental, reset=first_pass)
        n = X.shape[0]
        w = None
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype=np.float64)
            if w.ndim == 0:
                w = np.full(n, float(w))
            if w.shape != (n,):
                raise ValueError(f"sample_weight.shape == {w.shape}, expected {(n,)}!")
        w = self._class_weights(y, w)
        if w is not None and (not np.isfinite(w).all() or (w < 0).any()):
            raise ValueError("sample_weight must be finite and non-negative")
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            dtype = np.dtype(X.dtype if self.dtype is None else self.dtype)
            self._adopt(self._new_model(X.shape[1], hidden, width, task, dtype, self._random_state))
            if getattr(self, "feature_names_in_", None) is not None:
                self.model_.feature_names = [str(c) for c in self.feature_names_in_]
        elif self.model_.layer_sizes[1:] != [*hidden, width]:
            raise ValueError(
                f"hidden_layer_sizes {tuple(hidden)} with {width} outputs do not match the fitted "
                f"network's layers {self.model_.layer_sizes[1:]}; set warm_start=False to fit a new one"
            )
        Xn = self._network_inputs(X)
        try:
            with blas_threads_limit(self._blas_threads(n)), flush_denormals():
                if self.solver in STOCHASTIC:
                    self._fit_stochastic(Xn, y_encoded, w, incremental)
                else:
                    self._fit_lbfgs(Xn, y_encoded, w)
        except FastMLPError as e:
            raise ValueError(str(e)) from None
        if not np.isfinite(self.model_.params).all():
            raise ValueError(NON_FINITE)
        return self

    def _batch_size(self, n, warn=True):
        """scikit-learn's: "auto" is min(200, n); larger than n is clipped (with a warning)."""
        if self.batch_size == "auto":
            return min(200, n)
        if self.batch_size > n and warn:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                stacklevel=3,
            )
        return int(np.clip(self.batch_size, 1, n))

    def _blas_threads(self, n):
        """One BLAS thread off the main thread (joblib threading) and for small minibatches;
        None (the process's setting) otherwise."""
        if threading.current_thread() is not threading.main_thread():
            return 1
        if self.solver in STOCHASTIC and self._batch_size(n, warn=False) < BLAS_THREADED_BATCH:
            return 1
        return None

    def _kernel_labels(self, y_encoded):
        """(y_class, y_target) as the kernels take them."""
        return self.model_.check_y(y_encoded, y_encoded.shape[0])

    def _optimizer(self):
        if self.solver == "sgd":
            return Optimizer("sgd", {"momentum": self.momentum, "nesterov": self.nesterovs_momentum})
        return Optimizer(
            "adam",
            {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "epsilon_hat": True},
        )

    def _fit_stochastic(self, X, y_encoded, w, incremental):
        model = self.model_
        if not incremental or getattr(self, "_opt", None) is None:
            self._opt, self._lr, self._step = None, float(self.learning_rate_init), 0
        X_val = y_val = w_val = None
        if self.early_stopping:
            X, X_val, y_encoded, y_val, w, w_val = self._validation_split(X, y_encoded, w)
        n = X.shape[0]
        batch_size = self._batch_size(n)
        y_kernel = self._kernel_labels(y_encoded)
        w_kernel = model.check_weights(w, n)
        epochs = Epochs(
            model,
            X,
            y_kernel,
            w_kernel,
            batch_size,
            self.alpha,
            self._optimizer(),
            dropout=self.dropout,
            # Drawn only with dropout, so the random stream otherwise stays scikit-learn's.
            seed=int(self._random_state.randint(2**31 - 1)) if self.dropout else 0,
            opt=self._opt,
            l2_per_weight=True,
        )
        self._opt = epochs.opt
        total_weight = float(n if w is None else w.sum())
        sample_idx = np.arange(n, dtype=np.int64)
        self.n_iter_ = 0
        penalty_before = model.l2_penalty(self.alpha)
        try:
            for _ in range(self.max_iter):
                if self.shuffle:
                    sample_idx = shuffle_rows(sample_idx, random_state=self._random_state)
                value, _, weight, _ = epochs.run(sample_idx, self._lr, 0, epochs.n_batches, self._step)
                self._step += epochs.n_batches
                data_loss = value / weight if weight > 0 else 0.0
                if self._mean_over_outputs:
                    data_loss /= model.n_outputs
                # (alpha/2) ||W||^2 per minibatch, divided by W_B: about n_batches / total weight of it
                penalty_after = model.l2_penalty(self.alpha)
                penalty = 0.5 * (penalty_before + penalty_after)
                penalty_before = penalty_after
                self.loss_ = data_loss + penalty * epochs.n_batches / total_weight
                if not np.isfinite(self.loss_) and not self.early_stopping:
                    # A non-finite loss has made (or is about to make) non-finite weights, as in
                    # scikit-learn, which then raises; early stopping keeps its best weights instead.
                    raise ValueError(NON_FINITE)
                self.n_iter_ += 1
                self.t_ += n
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
                self._update_no_improvement_count(X_val, y_val, w_val)
                if self.solver == "sgd" and self.learning_rate == "invscaling":
                    self._lr = float(self.learning_rate_init) / (self.t_ + 1) ** self.power_t
                if self._no_improvement_count > self.n_iter_no_change:
                    if self._stop_or_slow_down():
                        break
                    self._no_improvement_count = 0
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                        "optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=3,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=3)
        if self.early_stopping:
            model.params[...] = self._best_params

    def _stop_or_slow_down(self):
        """The stopping rule fired: stop (True), or for adaptive sgd lower lr five-fold (False)."""
        what = "Validation score" if self.early_stopping else "Training loss"
        msg = (
            f"{what} did not improve more than tol={self.tol:f} "
            f"for {self.n_iter_no_change} consecutive epochs."
        )
        if self.solver != "sgd" or self.learning_rate != "adaptive":
            if self.verbose:
                print(msg + " Stopping.")
            return True
        if self._lr <= ADAPTIVE_MIN_LR:
            if self.verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self._lr /= 5.0
        if self.verbose:
            print(msg + f" Setting learning rate to {self._lr:f}")
        return False

    def _validation_split(self, X, y_encoded, w):
        # As booleans, the stratified split's classes are spelled (and sorted) as scikit-learn's.
        stratify = y_encoded.astype(bool) if self._stratify_split else None
        arrays = (X, y_encoded) if w is None else (X, y_encoded, w)
        parts = train_test_split(
            *arrays, random_state=self._random_state, test_size=self.validation_fraction, stratify=stratify
        )
        if parts[1].shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size of your dataset."
            )
        X_train, X_val, y_train, y_val = parts[:4]
        w_train, w_val = (parts[4], parts[5]) if w is not None else (None, None)
        return X_train, X_val, y_train, self._decode(y_val), w_train, w_val

    def _update_no_improvement_count(self, X_val, y_val, w_val):
        if self.early_stopping:
            score = self._score_network_inputs(X_val, y_val, w_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = self.model_.params.copy()
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    def _score_network_inputs(self, X, y, sample_weight):
        """accuracy / R^2 on rows already in the network's form; NaN when the outputs are not finite."""
        z = self._forward(X)
        if not np.isfinite(z).all():
            return float("nan")
        y_pred = self._predict_from_decision(z)
        return float(self._score_function(y, y_pred, sample_weight=sample_weight))

    def _fit_lbfgs(self, X, y_encoded, w):
        model = self.model_
        y_kernel = self._kernel_labels(y_encoded)
        total_weight = float(X.shape[0] if w is None else w.sum())
        history = fit_lbfgs(
            model,
            X,
            y_kernel,
            model.check_weights(w, X.shape[0]),
            None,
            None,
            max_iter=self.max_iter,
            l2=self.alpha / total_weight,
            optimizer=Optimizer("lbfgs", {"max_fun": self.max_fun, "tol": self.tol}),
            ftol=SCIPY_FTOL,
        )
        notes = history.notes
        self.n_iter_ = min(notes["iterations"], self.max_iter)
        self.loss_ = notes["loss"]
        if self._mean_over_outputs:  # reported as scikit-learn's: the squared error's mean over outputs
            penalty = notes["penalty"]
            self.loss_ = (self.loss_ - penalty) / self.model_.n_outputs + penalty
        if not notes["converged"]:
            warnings.warn(
                f"lbfgs failed to converge after {self.n_iter_} iteration(s): {notes['message']}. "
                f"Increase max_iter (now {self.max_iter}) or max_fun (now {self.max_fun}), "
                "or scale the data.",
                ConvergenceWarning,
                stacklevel=3,
            )

    # -- files ---------------------------------------------------------------------

    def save(self, path):
        """Write the fitted network as fastmlp's plain .npz (what `fastmlp predict` reads)."""
        check_is_fitted(self)
        return self._model_for_file().save(path)

    def _model_for_file(self):
        return self.model_

    @classmethod
    def load(cls, path, **params):
        """An estimator around a model file written by save() or `fastmlp train`.

        The file holds the network, not how it was trained: the architecture (hidden_layer_sizes,
        activation, and for a regressor the loss) comes from it, every other constructor
        parameter is its default unless given in params (for further fitting with warm_start or
        partial_fit), and the training record starts empty (n_iter_ 0, no loss_curve_)."""
        model = MLP.load(path)
        est = cls(
            hidden_layer_sizes=tuple(model.layer_sizes[1:-1]),
            activation=SKLEARN_NAMES[model.activation],
            **params,
        )
        est._adopt(est._from_file(model, path))
        est.n_features_in_ = model.n_inputs
        if model.feature_names is not None:
            est.feature_names_in_ = np.asarray(model.feature_names, dtype=object)
        return est


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier: scikit-learn's MLPClassifier, trained by fastmlp's kernels.

    Parameters, attributes and methods are scikit-learn's (see the module docstring for how each
    maps onto fastmlp); fastmlp adds `dtype`, `dropout` and `class_weight`, and `save`/`load`.

    >>> from fastmlp import MLPClassifier
    >>> clf = MLPClassifier(hidden_layer_sizes=(256, 128), random_state=0).fit(X_train, y_train)
    >>> clf.score(X_test, y_test)
    """

    _mean_over_outputs = False
    _score_function = staticmethod(accuracy_score)

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dtype=None,
        dropout=0.0,
        class_weight=None,
    ):
        _store_params(self, locals())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # -- labels --------------------------------------------------------------------

    def _validate_input(self, X, y, incremental, reset):
        """Validated X, the binarized y, the output width and the network's task."""
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], multi_output=True, dtype=self._dtype_for(), reset=reset
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if "classes_" not in self.__dict__ or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the previous "
                        f"call to fit. Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. "
                    f"'y' has {classes}."
                )
        self._y_for_weights = y
        if self._label_binarizer.y_type_ == "multiclass":
            # classes_ is sorted and holds every label of y (checked above): indices by bisection.
            return X, np.searchsorted(self.classes_, y).astype(np.int64), len(self.classes_), "classification"
        Y = self._label_binarizer.transform(y).astype(bool)
        return X, Y.astype(X.dtype), Y.shape[1], "multilabel"

    @property
    def _stratify_split(self):
        return self._label_binarizer.y_type_ != "multiclass" and self.n_outputs_ == 1

    def _class_weights(self, y, w):
        if self.class_weight is None:
            return w
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            raise ValueError("class_weight is for single-label targets; this y is multilabel")
        from_class = compute_sample_weight(self.class_weight, self._y_for_weights)
        return from_class if w is None else w * from_class

    def _decode(self, y_encoded):
        """Encoded labels (class indices or indicators) back to what y spelled them as."""
        if y_encoded.ndim == 1:
            return self.classes_[y_encoded]
        return self._label_binarizer.inverse_transform(y_encoded)

    @staticmethod
    def _out_activation(model):
        return "softmax" if model.task == "classification" else "logistic"

    # -- prediction ----------------------------------------------------------------

    def _proba(self, z):
        (softmax_inplace if self.model_.task == "classification" else sigmoid_inplace)(z)
        return z

    def _predict_from_decision(self, z):
        p = self._proba(z)
        return self._label_binarizer.inverse_transform(p.ravel() if p.shape[1] == 1 else p)

    def predict(self, X):
        """Class labels (an indicator matrix for multilabel targets)."""
        return self._predict_from_decision(self._decision(self._validate_X(X)))

    def predict_proba(self, X):
        """P(class | x), columns ordered as classes_ (two columns for two classes)."""
        p = self._proba(self._decision(self._validate_X(X)))
        if p.shape[1] == 1:
            return np.hstack([1 - p, p])
        return p

    def predict_log_proba(self, X):
        """log predict_proba(X)."""
        p = self.predict_proba(X)
        return np.log(p, out=p)

    @available_if(_BaseMLP._stochastic)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over X, y; `classes` (every class that will ever appear) on the first call."""
        if "classes_" not in self.__dict__ and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if classes is not None:
            classes = unique_labels(classes)
            if "classes_" in self.__dict__ and not np.array_equal(self.classes_, classes):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on last call to partial_fit, "
                    f"was: {self.classes_!r}"
                )
            if "classes_" not in self.__dict__:
                self._label_binarizer = LabelBinarizer()
                self._label_binarizer.fit(y if type_of_target(y).startswith("multilabel") else classes)
                self.classes_ = self._label_binarizer.classes_
        return self._fit(X, y, sample_weight, incremental=True)

    # -- files ---------------------------------------------------------------------

    def _model_for_file(self):
        """The network as a model file holds it: class names attached, and a two-class network's one
        logistic unit z written as the softmax pair (0, z), which gives the same probabilities."""
        model = self.model_.copy()
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            model.classes = np.asarray(self.classes_)
            return model
        if model.n_outputs == 1:
            pair = MLP([*model.layer_sizes[:-1], 2], model.activation, "classification", model.dtype.name)
            pair.params[...] = 0
            for k, (W, b) in enumerate(zip(model.weights, model.biases, strict=True)):
                if k < len(model.weights) - 1:
                    pair.weights[k][...], pair.biases[k][...] = W, b
                else:
                    pair.weights[k][:, 1:], pair.biases[k][1:] = W, b
            pair.preprocessing, pair.feature_names = model.preprocessing, model.feature_names
            model = pair
        model.classes = np.asarray(self.classes_)
        return model

    def _from_file(self, model, path):
        if model.task_spec.labels == "values":
            raise ValueError(f"{path}: a {model.task} model; load it with MLPRegressor")
        if model.task == "multilabel":
            self.classes_ = np.arange(model.n_outputs)
            # An identity matrix is a multilabel indicator target with every label present.
            indicators = np.eye(max(model.n_outputs, 2), dtype=int)[:, : model.n_outputs]
            self._label_binarizer = LabelBinarizer().fit(indicators)
            return model
        classes = model.classes if model.classes is not None else np.arange(model.n_outputs)
        self._label_binarizer = LabelBinarizer().fit(classes)
        self.classes_ = self._label_binarizer.classes_
        if model.n_outputs != 2:
            return model
        # Two softmax units (z0, z1) are one logistic unit z1 - z0: the form scikit-learn keeps.
        single = MLP([*model.layer_sizes[:-1], 1], model.activation, "multilabel", model.dtype.name)
        for k, (W, b) in enumerate(zip(model.weights, model.biases, strict=True)):
            if k < len(model.weights) - 1:
                single.weights[k][...], single.biases[k][...] = W, b
            else:
                single.weights[k][:, 0] = W[:, 1] - W[:, 0]
                single.biases[k][0] = b[1] - b[0]
        single.preprocessing, single.feature_names = model.preprocessing, model.feature_names
        single.classes = None
        return single


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor: scikit-learn's MLPRegressor, trained by fastmlp's kernels.

    Parameters, attributes and methods are scikit-learn's (see the module docstring for how each
    maps onto fastmlp); fastmlp adds `dtype` and `dropout`, and `save`/`load`.
    """

    _stratify_split = False
    _score_function = staticmethod(r2_score)

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dtype=None,
        dropout=0.0,
    ):
        _store_params(self, locals())

    @property
    def _mean_over_outputs(self):
        return self.loss == "squared_error"  # scikit-learn averages it over outputs, sums the deviance

    def _check_params(self):
        if self.loss not in ("squared_error", "poisson"):
            raise InvalidParameterError(
                "The 'loss' parameter of MLPRegressor must be a str among 'squared_error', 'poisson'. "
                f"Got {self.loss!r} instead."
            )
        return super()._check_params()

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=self._dtype_for(),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        y2 = y.reshape(-1, 1) if y.ndim == 1 else y
        if self.loss == "poisson" and (y2 < 0).any():
            raise ValueError("loss='poisson' needs y >= 0 (counts); y has negative values")
        if "model_" in self.__dict__ and self.model_.target_scaler.kind != "none":
            y2 = self.model_.target_scaler.transform(np.ascontiguousarray(y2, dtype=self.model_.dtype))
        task = "poisson" if self.loss == "poisson" else "regression"
        return X, np.asarray(y2, dtype=X.dtype), y2.shape[1], task

    def _class_weights(self, y, w):
        return w

    def _decode(self, y_encoded):
        y = y_encoded
        if self.model_.target_scaler.kind != "none":
            y = self.model_.target_scaler.inverse_transform(y)
        return y.ravel() if y.shape[1] == 1 else y

    @staticmethod
    def _out_activation(model):
        return "exp" if model.task_spec.link == "exp" else "identity"

    def _predict_from_decision(self, z):
        y = self.model_.values(z)
        return y.ravel() if y.shape[1] == 1 else y

    def predict(self, X):
        """Predictions, shaped (n,) for one output and (n, n_outputs) otherwise."""
        return self._predict_from_decision(self._decision(self._validate_X(X)))

    @available_if(_BaseMLP._stochastic)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over X, y."""
        return self._fit(X, y, sample_weight, incremental=True)

    def _from_file(self, model, path):
        if model.task_spec.labels != "values":
            raise ValueError(f"{path}: a {model.task} model; load it with MLPClassifier")
        self.loss = "poisson" if model.task == "poisson" else "squared_error"
        return model
