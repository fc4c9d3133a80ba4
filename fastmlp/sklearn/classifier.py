"""MLPClassifier: scikit-learn's classifier on fastmlp's kernels: labels (binarized as
scikit-learn binarizes them), probabilities, partial_fit, and the two-class network's one logistic
unit written to and read from model files as a softmax pair."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import validate_data

from ..kernels.losses import sigmoid_inplace, softmax_inplace
from ..model import MLP
from .base import _BaseMLP
from .params import store_params


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
        store_params(self, locals())

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
            model = _output_layer_replaced(model, "classification", _softmax_pair)
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
        return _output_layer_replaced(model, "multilabel", _logistic_unit)  # the form scikit-learn keeps


def _softmax_pair(W, b):
    """One logistic unit z as the softmax pair (0, z): the same probabilities."""
    return np.hstack([np.zeros_like(W), W]), np.concatenate([np.zeros_like(b), b])


def _logistic_unit(W, b):
    """Two softmax units (z0, z1) as one logistic unit z1 - z0: the same probabilities."""
    return W[:, 1:] - W[:, :1], b[1:] - b[:1]


def _output_layer_replaced(model, task, output):
    """The network with the same hidden layers and an output layer output(W, b) -> (W', b'), for
    `task`; its preprocessing and feature names carried over, no class names."""
    W, b = output(model.weights[-1], model.biases[-1])
    out = MLP([*model.layer_sizes[:-1], W.shape[1]], model.activation, task, model.dtype.name)
    for k in range(len(model.weights) - 1):
        out.weights[k][...], out.biases[k][...] = model.weights[k], model.biases[k]
    out.weights[-1][...], out.biases[-1][...] = W, b
    out.preprocessing, out.feature_names = model.preprocessing, model.feature_names
    return out
