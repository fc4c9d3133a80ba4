"""MLP: parameters in one flat buffer (W^k, b^k are views), Glorot init, forward,
loss and gradients, save/load as a plain .npz. The math lives in fastmlp.kernels."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .atomic import write_atomic
from .errors import FastMLPError, ModelFileError
from .kernels import ACTIVATION_CODES, CLASSIFICATION, TASK_CODES
from .kernels.losses import softmax_inplace
from .kernels.network import evaluate_rows, forward, loss_and_grad
from .preprocessing import Preprocessing

ACTIVATIONS = tuple(ACTIVATION_CODES)
TASKS = tuple(TASK_CODES)
DTYPES = ("float32", "float64")

# Rows per kernel call when predicting or evaluating: bounds the workspace.
CHUNK = 4096

FORMAT_VERSION = 1


def _check_finite(X, name, rows=8192):
    """One line naming the first NaN/inf cell; checked in blocks so no full-size mask is made."""
    for start in range(0, X.shape[0], rows):
        block = X[start:start + rows]
        if not np.isfinite(block).all():
            i, j = np.argwhere(~np.isfinite(block))[0]
            raise FastMLPError(f"{name} row {start + i}, column {j} is not finite ({block[i, j]})")


def _param_count(sizes) -> int:
    return int(sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:])))


class MLP:
    """A multilayer perceptron: z^k = h^(k-1) W^k + b^k, h^k = g(z^k), output softmax (classification)
    or identity (regression). W^k has shape (fan_in, fan_out).

    >>> m = MLP([64, 128, 10], activation="relu", seed=0)
    >>> loss, grads = m.loss_and_gradients(X, y, l2=1e-4)   # grads[k] = (dW, db)
    """

    def __init__(self, layer_sizes, activation="relu", task="classification", dtype="float32", seed=0):
        sizes = [int(s) for s in layer_sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise FastMLPError(f"layer_sizes must be at least [inputs, outputs] of positive ints, got {list(layer_sizes)}")
        if activation not in ACTIVATION_CODES:
            raise FastMLPError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        if task not in TASK_CODES:
            raise FastMLPError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
        if str(dtype) not in DTYPES:
            raise FastMLPError(f"dtype must be float32 or float64, got {dtype!r}")
        if task == "classification" and sizes[-1] < 2:
            raise FastMLPError("a classifier needs at least 2 output units (classes)")
        self.layer_sizes = sizes
        self.activation = activation
        self.task = task
        self.dtype = np.dtype(dtype)
        self.seed = seed
        self.preprocessing = Preprocessing("none")
        self.classes = None  # class names (list of str) when the data had them
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.params = np.zeros(_param_count(sizes), dtype=self.dtype)
        self._bind_views()
        self._init_glorot(seed)

    # -- parameters ----------------------------------------------------------------

    def _bind_views(self):
        self.weights, self.biases = [], []
        off = 0
        for fan_in, fan_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            self.weights.append(self.params[off:off + fan_in * fan_out].reshape(fan_in, fan_out))
            off += fan_in * fan_out
            self.biases.append(self.params[off:off + fan_out])
            off += fan_out

    def _init_glorot(self, seed):
        """W ~ U(-r, r), r = sqrt(6 / (fan_in + fan_out)); b = 0. Drawn in float64, then cast,
        so a float32 and a float64 model with one seed start from the same weights."""
        rng = np.random.default_rng(seed)
        for W, b in zip(self.weights, self.biases):
            r = np.sqrt(6.0 / (W.shape[0] + W.shape[1]))
            W[...] = rng.uniform(-r, r, size=W.shape)
            b[...] = 0

    @property
    def activation_code(self) -> int:
        return ACTIVATION_CODES[self.activation]

    @property
    def task_code(self) -> int:
        return TASK_CODES[self.task]

    @property
    def n_inputs(self) -> int:
        return self.layer_sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.layer_sizes[-1]

    # -- checking inputs once, at the boundary --------------------------------------

    def check_X(self, X, name="X") -> np.ndarray:
        """X as a C-contiguous 2-D array of the model's dtype (no copy when it already is)."""
        X = np.asarray(X)
        if X.ndim == 1 and self.n_inputs == X.shape[0]:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise FastMLPError(f"{name} must have shape (n, {self.n_inputs}), got {X.shape}")
        if X.dtype.kind not in "fiub":
            raise FastMLPError(f"{name} must be numeric, got {X.dtype}")
        # The model's dtype wins: float64 inputs to a float32 model are converted once, here.
        X = np.ascontiguousarray(X, dtype=self.dtype)
        _check_finite(X, name)
        return X

    def check_y(self, y, n, name="y"):
        """(y_class, y_target) for the kernels: int64 labels or an (n, n_out) float target."""
        y = np.asarray(y)
        if self.task == "classification":
            if y.ndim != 1 or y.shape[0] != n:
                raise FastMLPError(f"{name} must be {n} class labels, got shape {y.shape}")
            if y.dtype.kind not in "iu":
                if y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0):
                    y = y.astype(np.int64)
                else:
                    raise FastMLPError(f"{name} must hold integer class labels, got {y.dtype}")
            y_class = np.ascontiguousarray(y, dtype=np.int64)
            if n and (y_class.min() < 0 or y_class.max() >= self.n_outputs):
                raise FastMLPError(f"{name} has labels outside 0..{self.n_outputs - 1}")
            return y_class, np.zeros((0, self.n_outputs), self.dtype)
        if y.ndim == 1:
            y = y[:, None]
        if y.shape != (n, self.n_outputs):
            raise FastMLPError(f"{name} must have shape ({n}, {self.n_outputs}), got {y.shape}")
        return np.zeros(0, np.int64), np.ascontiguousarray(y, dtype=self.dtype)

    def workspace(self, n):
        """acts and deltas buffers for n rows (layer outputs h^1..h^L, deltas delta^1..delta^L)."""
        size = n * int(self.sizes[1:].sum())
        return np.empty(size, self.dtype), np.empty(size, self.dtype)

    # -- forward ---------------------------------------------------------------------

    def decision_function(self, X) -> np.ndarray:
        """z^L for every row of X (logits for classification, yhat for regression)."""
        return self._forward(self.check_X(X))

    def _forward(self, X) -> np.ndarray:
        """z^L for an X already checked by check_X, in chunks of CHUNK rows."""
        out = np.empty((X.shape[0], self.n_outputs), self.dtype)
        acts, _ = self.workspace(min(CHUNK, max(len(X), 1)))
        for start in range(0, X.shape[0], CHUNK):
            x = X[start:start + CHUNK]
            out[start:start + len(x)] = forward(self.params, self.sizes, self.activation_code, x, acts, None)
        return out

    def predict_proba(self, X) -> np.ndarray:
        """f(x) = softmax(z^L), one row per sample."""
        return self._outputs(self.decision_function(X), proba=True)

    def predict(self, X) -> np.ndarray:
        """Class indices (classification) or yhat (regression). X is already preprocessed."""
        return self._outputs(self.decision_function(X), proba=False)

    def predict_raw(self, X, proba=False, name="X") -> np.ndarray:
        """predict (or predict_proba) on raw inputs: applies the saved preprocessing first."""
        X = self.preprocessing.transform(self.check_X(X, name))
        return self._outputs(self._forward(X), proba)

    def _outputs(self, z, proba):
        """From z^L: softmax(z) in place (proba), argmax (classes) or z itself (regression)."""
        if proba:
            if self.task != "classification":
                raise FastMLPError("predict_proba is for classification models")
            softmax_inplace(z)
            return z
        return z.argmax(axis=1) if self.task == "classification" else z

    # -- objective -------------------------------------------------------------------

    def l2_penalty(self, l2) -> float:
        """(lambda/2) sum_k ||W^k||_F^2 (biases excluded)."""
        return 0.5 * l2 * sum(float(np.dot(W.ravel(), W.ravel())) for W in self.weights)

    def loss_and_gradients(self, X, y, l2=0.0):
        """J = (1/|B|) sum_B l + (lambda/2) sum_k ||W^k||^2 and [(dW^k, db^k), ...], where
        dW^k = h^(k-1)^T delta^k + lambda W^k and db^k = column sums of delta^k."""
        X = self.check_X(X)
        y_class, y_target = self.check_y(y, X.shape[0])
        acts, deltas = self.workspace(X.shape[0])
        grad = np.empty_like(self.params)
        loss, _ = loss_and_grad(self.params, self.sizes, self.activation_code, self.task_code,
                                X, y_class, y_target, acts, deltas, grad)
        grads = []
        off = 0
        for W in self.weights:
            fan_in, fan_out = W.shape
            dW = grad[off:off + fan_in * fan_out].reshape(fan_in, fan_out)
            off += fan_in * fan_out
            db = grad[off:off + fan_out]
            off += fan_out
            if l2:
                dW += self.dtype.type(l2) * W
            grads.append((dW, db))
        return float(loss) + self.l2_penalty(l2), grads

    def evaluate(self, X, y) -> dict:
        """Mean data loss and accuracy (classification) or rmse/mae/r2 (regression) on (X, y)."""
        X = self.check_X(X)
        return self.metrics(X, *self.check_y(y, X.shape[0]))

    def metrics(self, X, y_class, y_target) -> dict:
        """evaluate() on inputs already as check_X and check_y return them (the trainer checks
        its validation set once, not every epoch)."""
        n = X.shape[0]
        if n == 0:
            raise FastMLPError("cannot evaluate on an empty set")
        if self.task_code == CLASSIFICATION:
            acts, deltas = self.workspace(min(CHUNK, n))
            total, correct = evaluate_rows(self.params, self.sizes, self.activation_code, self.task_code,
                                           X, y_class, y_target, CHUNK, acts, deltas)
            return {"loss": total / n, "accuracy": correct / n}
        # One forward pass gives the residuals, and every regression figure follows from them.
        sq = (self._forward(X) - y_target).astype(np.float64)
        sq *= sq
        ss_res = float(sq.sum())
        ss_tot = float(((y_target - y_target.mean(axis=0, dtype=np.float64)) ** 2).sum())
        return {
            "loss": 0.5 * ss_res / n,  # mean of 1/2 ||yhat - y||^2
            "rmse": float(np.sqrt(sq.mean())),
            "mae": float(np.sqrt(sq).mean()),
            "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
        }

    # -- files -----------------------------------------------------------------------

    def save(self, path) -> Path:
        """Write a plain .npz (no pickle), atomically: a temp file in the same folder, then rename."""
        path = Path(path)
        arrays = {
            "format_version": np.array(FORMAT_VERSION),
            "layer_sizes": self.sizes,
            "activation": np.array(self.activation),
            "task": np.array(self.task),
            "dtype": np.array(self.dtype.name),
            "seed": np.array(self.seed if self.seed is not None else -1),
            "params": self.params,
            **self.preprocessing.to_arrays(),
        }
        if self.classes is not None:
            arrays["classes"] = np.array([str(c) for c in self.classes])  # a str array: no pickle
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return write_atomic(path, buffer.getvalue())

    @classmethod
    def load(cls, path) -> "MLP":
        """Read a model written by save(); every inconsistency is a ModelFileError naming the file."""
        path = Path(path)
        if not path.is_file():
            raise ModelFileError(f"{path}: no such model file")
        try:
            with np.load(path, allow_pickle=False) as f:
                arrays = {k: f[k] for k in f.files}
        except Exception as e:  # zip, header or pickle errors all mean the same to a user
            raise ModelFileError(f"{path}: not a fastmlp model file ({type(e).__name__}: {e})") from None
        missing = [k for k in ("layer_sizes", "activation", "task", "dtype", "params") if k not in arrays]
        if missing:
            raise ModelFileError(f"{path}: missing key(s) {', '.join(missing)}")
        try:
            model = cls([int(s) for s in arrays["layer_sizes"]], activation=str(arrays["activation"]),
                        task=str(arrays["task"]), dtype=str(arrays["dtype"]),
                        seed=None)
            seed = int(arrays.get("seed", -1))
            model.seed = seed if seed >= 0 else None
        except (FastMLPError, TypeError, ValueError) as e:
            raise ModelFileError(f"{path}: {e}") from None
        params = arrays["params"]
        if params.shape != model.params.shape:
            raise ModelFileError(f"{path}: params has {params.size} values, layer_sizes "
                                 f"{model.layer_sizes} need {model.params.size}")
        if params.dtype != model.dtype:
            raise ModelFileError(f"{path}: params are {params.dtype} but dtype says {model.dtype}")
        model.params[...] = params
        if "classes" in arrays:
            classes = [str(c) for c in arrays["classes"]]
            if len(classes) != model.n_outputs:
                raise ModelFileError(f"{path}: {len(classes)} class names for {model.n_outputs} outputs")
            model.classes = classes
        try:
            model.preprocessing = Preprocessing.from_arrays(arrays)
        except FastMLPError as e:
            raise ModelFileError(f"{path}: {e}") from None
        if model.preprocessing.kind != "none" and model.preprocessing.offset.shape != (model.n_inputs,):
            raise ModelFileError(f"{path}: preprocessing has {model.preprocessing.offset.shape} values "
                                 f"for {model.n_inputs} inputs")
        return model

    def copy(self, dtype=None) -> "MLP":
        """An independent copy, optionally in another dtype."""
        other = MLP(self.layer_sizes, self.activation, self.task, dtype or self.dtype.name, self.seed)
        other.params[...] = self.params
        other.preprocessing = self.preprocessing
        other.classes = self.classes
        return other

    def __repr__(self):
        return (f"MLP({self.layer_sizes}, activation={self.activation!r}, task={self.task!r}, "
                f"dtype={self.dtype.name!r})")
