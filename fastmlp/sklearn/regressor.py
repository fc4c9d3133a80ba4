"""MLPRegressor: scikit-learn's regressor on fastmlp's kernels (the squared error, or the half
Poisson deviance with y = e^z), with fastmlp's target scaling undone in predictions."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils import column_or_1d
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import validate_data

from .base import _BaseMLP
from .params import among, store_params


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor: scikit-learn's MLPRegressor, trained by fastmlp's kernels.

    Parameters, attributes and methods are scikit-learn's (see the module docstring for how each
    maps onto fastmlp); fastmlp adds `dtype` and `dropout`, and `save`/`load`.
    """

    _stratify_split = False
    _own_constraints = {"loss": among("squared_error", "poisson")}
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
        store_params(self, locals())

    @property
    def _mean_over_outputs(self):
        return self.loss == "squared_error"  # scikit-learn averages it over outputs, sums the deviance

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
        return model.task_spec.link

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
