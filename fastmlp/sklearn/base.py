"""What both estimators share: parameter checks, the network and scikit-learn's view of it
(coefs_, intercepts_), inputs, fit (fitting.py trains), the forward pass, files."""

from __future__ import annotations

import threading
import warnings
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..errors import FastMLPError
from ..kernels.fpmode import flush_denormals
from ..minibatches import BLAS_THREADED_BATCH, blas_threads_limit
from ..model import MLP
from .fitting import fit_full_batch, fit_stochastic
from .params import (
    ACTIVATIONS,
    ACTIVATIONS_EXTRA,
    CONSTRAINTS,
    NON_FINITE,
    SKLEARN_NAMES,
    STOCHASTIC,
    InvalidParameterError,
)


class _BaseMLP(BaseEstimator):
    """What both estimators share: parameter checks, fitting, the forward pass, files."""

    # -- parameters --------------------------------------------------------------

    # Parameters of one estimator only: name -> (check, description), as params.CONSTRAINTS.
    _own_constraints = {}

    def _check_params(self):
        """One ValueError naming the parameter, its value and what it accepts (as scikit-learn);
        returns the hidden layer sizes as a list."""
        name = type(self).__name__
        for param, (check, what) in {**CONSTRAINTS, **self._own_constraints}.items():
            value = getattr(self, param)
            if not check(value):
                raise InvalidParameterError(
                    f"The {param!r} parameter of {name} must be {what}. Got {value!r} instead."
                )
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise InvalidParameterError(f"hidden_layer_sizes must be > 0, got {sizes}.")
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
        rows stay sparse (the first layer works on their non-zeros: kernels/sparse.py)."""
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
        return self.model_.forward(self._network_inputs(X))

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
                    fit_stochastic(self, Xn, y_encoded, w, incremental)
                else:
                    fit_full_batch(self, Xn, y_encoded, w)
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

    def _score_network_inputs(self, X, y, sample_weight):
        """accuracy / R^2 on rows already in the network's form; NaN when the outputs are not finite."""
        z = self.model_.forward(X)
        if not np.isfinite(z).all():
            return float("nan")
        y_pred = self._predict_from_decision(z)
        return float(self._score_function(y, y_pred, sample_weight=sample_weight))

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
