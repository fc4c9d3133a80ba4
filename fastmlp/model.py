"""MLP: a network that predicts from raw features by itself.

It is a network.Network (parameters, forward, loss and gradients, metrics on network inputs and
encoded labels) that also carries what it was fitted with: the table encoder, the preprocessing
of its inputs, the scaling of its targets, its class labels and feature names. So `predict`,
`predict_proba`, `decision_function` and `evaluate` take raw feature rows (an array, or a
DataFrame whose columns are checked against the names it was trained on) and return class labels
as the training data spelled them (or values, in the targets' own units); `save`/`load` write and
read it whole (modelfile.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .data.features import align_features, frame_to_array
from .data.labels import class_indices
from .errors import FastMLPError
from .kernels.losses import sigmoid_inplace, softmax_inplace
from .kernels.rows import is_csr
from .modelfile import load_model, save_model
from .network import ACTIVATIONS, INITS, Network
from .preprocessing import Preprocessing

__all__ = ["ACTIVATIONS", "INITS", "MLP"]


class MLP(Network):
    """A network with its fitted encoding, preprocessing, target scaling, classes and feature
    names (a bare network has none: the identity, class indices, unnamed columns).

    >>> m = MLP([64, 128, 10], activation="relu", seed=0)
    >>> m.predict(X_raw)                                     # labels as the training data spelled them
    >>> loss, grads = m.loss_and_gradients(X, y, l2=1e-4)   # grads[k] = (dW, db), on network inputs
    """

    def __init__(self, *args, **kwargs):
        """Network's arguments: layer_sizes, activation, task, dtype, seed, init."""
        super().__init__(*args, **kwargs)
        self.preprocessing = Preprocessing("none")
        self.target_scaler = Preprocessing("none")
        self.classes: np.ndarray | None = None  # class labels as the training data spelled them
        self.feature_names: list[str] | None = None
        self.encoder = None  # a TableEncoder: table columns -> inputs (fills, one-hot categories)
        # Trained on an svmlight file: its indexing, which files to predict on are read with.
        self.svmlight_zero_based: bool | None = None

    @classmethod
    def for_dataset(cls, ds, hidden=(128,), **kwargs) -> MLP:
        """A network sized for the Dataset ds (from load_dataset or data.prepare) that carries
        what ds was fitted with — preprocessing, target scaling, class labels, feature names —
        so it predicts from raw features by itself. kwargs: activation, dtype, seed, init."""
        model = cls([ds.n_inputs, *hidden, ds.n_outputs], task=ds.task, **kwargs)
        model.preprocessing, model.target_scaler = ds.preprocessing, ds.target_scaler
        model.classes, model.feature_names = ds.classes, ds.feature_names
        model.encoder = getattr(ds, "encoder", None)
        model.svmlight_zero_based = getattr(ds, "svmlight_zero_based", None)
        return model

    # -- raw features -> what the network sees ---------------------------------------

    def transform(self, X, name="X", encoded=False) -> np.ndarray:
        """Raw feature rows -> the network's inputs: columns matched by name when X is a
        DataFrame and the model knows its feature names, checked, then the fitted preprocessing.
        A model with an encoder takes a table (DataFrame, pyarrow Table) of its raw columns and
        encodes it first (encoded=True: X is already encoded, as a Dataset's rows are)."""
        if is_csr(X):
            return self._sparse_inputs(X, name)
        if self.encoder is not None and not encoded:
            X = self._encode(X, name)
        X, names = frame_to_array(X, name, keep=self.feature_names)
        if names is not None and self.feature_names is not None:
            X = align_features(X, names, self.feature_names, name)
        return self.preprocessing.transform(self.check_X(X, name))

    def _sparse_inputs(self, X, name):
        """A scipy sparse matrix of raw rows: the network's inputs as they are, sparse (a model
        that encodes table columns or shifts its inputs cannot take them: one line says so)."""
        if self.encoder is not None:
            raise FastMLPError(f"{name}: this model encodes table columns; a sparse matrix has none")
        if self.preprocessing.kind != "none":
            raise FastMLPError(
                f"{name}: this model applies {self.preprocessing.kind} preprocessing to its inputs, "
                "which a sparse matrix cannot take (it would fill every zero); pass dense rows"
            )
        return self.check_X(X, name)

    def _encode(self, X, name) -> np.ndarray:
        """Raw table rows through the encoder (an unseen category or an unfillable gap: one line)."""
        from .data.table import Columns, frame_table, is_table_like

        if isinstance(X, Columns):
            columns = self.encoder.conform(X, name)
        elif is_table_like(X):
            columns = self.encoder.table_columns(frame_table(X, name), name)
        elif self.encoder.named:
            raise FastMLPError(
                f"{name}: this model encodes named table columns ({', '.join(self.encoder.names[:10])}); "
                "give a DataFrame, a pyarrow Table or a CSV/Parquet file with those columns"
            )
        else:
            import pyarrow as pa

            X = np.asarray(X)
            if X.ndim != 2:
                raise FastMLPError(f"{name}: expected a 2-D array (rows x columns), got shape {X.shape}")
            table = pa.table({str(j): X[:, j] for j in range(X.shape[1])})
            columns = self.encoder.table_columns(table, name)
        return self.encoder.encode(columns, None, self.dtype, unseen="error")

    def encode_labels(self, y, n, name="y"):
        """Raw labels (class labels as the training data spelled them, or targets in their own
        units) -> what check_y returns."""
        y = np.asarray(y)
        if self.task_spec.indices and self.classes is not None:
            y = class_indices(y.ravel() if y.ndim == 2 and y.shape[1] == 1 else y, self.classes, name)
        elif self.task_spec.labels == "values" and self.target_scaler.kind != "none":
            y = np.asarray(y, dtype=self.dtype)
            y = self.target_scaler.transform(np.ascontiguousarray(y if y.ndim == 2 else y[:, None]))
        return self.check_y(y, n, name)

    # -- forward ---------------------------------------------------------------------

    def decision_function(self, X, name="X") -> np.ndarray:
        """z^L for every raw row of X (logits; for regression the scaled prediction)."""
        return self.forward(self.transform(X, name))

    # -- predictions on raw rows -------------------------------------------------------

    def predict_proba(self, X, name="X") -> np.ndarray:
        """f(x): softmax(z^L) (classification) or sigmoid(z^L) per label (multilabel), on raw rows."""
        return self._outputs(self.decision_function(X, name), proba=True)

    def predict(self, X, name="X") -> np.ndarray:
        """On raw rows: class labels (as the training data spelled them; indices for a bare
        network), a 0/1 indicator matrix (multilabel), or predictions in the targets' own
        units (regression). `name` is how errors call X."""
        return self._outputs(self.decision_function(X, name), proba=False)

    def _outputs(self, z, proba):
        spec = self.task_spec
        if proba:
            if not spec.output:
                raise FastMLPError(f"predict_proba is for classification models; this one does {self.task}")
            (softmax_inplace if spec.output == "softmax" else sigmoid_inplace)(z)
            return z
        if spec.indices:
            idx = z.argmax(axis=1)
            return self.classes[idx] if self.classes is not None else idx
        if spec.labels == "indicators":
            return (z >= 0).astype(np.int64)  # sigmoid(z) >= 1/2
        return self.values(z)

    def values(self, z) -> np.ndarray:
        """Predictions in the targets' own units from z^L: the task's inverse link (e^z for
        counts), then the target scaling undone. z is overwritten when the link applies."""
        z = self.task_spec.inverse_link(z)
        return self.target_scaler.inverse_transform(z) if self.target_scaler.kind != "none" else z

    def target_units(self, y_target) -> np.ndarray:
        """Encoded targets back in their own units (the target scaling undone)."""
        return (
            self.target_scaler.inverse_transform(y_target) if self.target_scaler.kind != "none" else y_target
        )

    def evaluate(self, X, y) -> dict:
        """Metrics on raw rows X and raw labels y: mean data loss, and accuracy (classification,
        multilabel: every label right) or rmse/mae/r2 in the targets' own units (regression)."""
        X = self.transform(X)
        return self.metrics(X, *self.encode_labels(y, X.shape[0]))

    # -- files -----------------------------------------------------------------------

    def save(self, path) -> Path:
        """Write a plain .npz (no pickle), atomically, holding the network and everything
        prediction from raw features needs (modelfile.py)."""
        return save_model(self, path)

    @classmethod
    def load(cls, path) -> MLP:
        """Read a model written by save(); every inconsistency is a ModelFileError naming the file."""
        return load_model(cls, path)

    def to_onnx(self, path) -> Path:
        """Write the model, its preprocessing included, as an ONNX file (see fastmlp/export.py)."""
        from .export import to_onnx

        return to_onnx(self, path)

    def copy(self, dtype=None) -> MLP:
        """An independent copy, optionally in another dtype."""
        other = MLP(
            self.layer_sizes, self.activation, self.task, dtype or self.dtype.name, self.seed, self.init
        )
        other.params[...] = self.params
        other.preprocessing, other.target_scaler = self.preprocessing, self.target_scaler
        other.classes, other.feature_names = self.classes, self.feature_names
        other.encoder, other.svmlight_zero_based = self.encoder, self.svmlight_zero_based
        return other
