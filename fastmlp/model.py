"""MLP: a network that predicts from raw features by itself.

Two layers of one object:
- the predictor (what `train`, `fit` and `MLP.load` hand back): `predict`, `predict_proba`,
  `decision_function`, `evaluate` take raw feature rows (an array, or a DataFrame whose columns
  are checked against the names it was trained on), apply the fitted preprocessing, and return
  class labels as the training data spelled them (or values, in the targets' own units);
- the bare network (for gradient work): `params` (one flat buffer; `weights`/`biases` are views),
  `transform` (raw rows -> what the network sees), `loss_and_gradients` and `metrics`, which
  take already-transformed inputs and encoded labels (class indices, scaled targets).

The math lives in fastmlp.kernels; the task table in fastmlp.tasks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import npzfile
from .data.features import align_features, frame_to_array
from .data.labels import class_indices
from .errors import FastMLPError, ModelFileError
from .kernels import ACTIVATION_CODES
from .kernels.dropout import dropout_key
from .kernels.layout import make_layout, n_params, row_width
from .kernels.losses import sigmoid_inplace, softmax_inplace
from .kernels.network import BLAS_ONLY, evaluate_rows, forward, loss_and_grad
from .preprocessing import Preprocessing
from .tasks import DTYPES, get_task

ACTIVATIONS = tuple(ACTIVATION_CODES)
INITS = ("glorot_uniform", "he_uniform", "he_normal")

# Rows per kernel call when predicting or evaluating: bounds the workspace.
CHUNK = 4096

# 3: the file carries a manifest (npzfile.py); files of version 2 and before load without one.
FORMAT_VERSION = 3
MANIFEST_SINCE = 3
TARGET_PREFIX = "target_scaling"


def _check_finite(X, name, rows=8192):
    """One line naming the first NaN/inf cell; checked in blocks so no full-size mask is made.
    A block's column sums are finite when all its cells are (NaN and inf survive a sum), so they
    are the first test: one pass, no mask (docs/PERFORMANCE.md has what it saves).
    A sum that overflows only sends its block to the cell-by-cell test."""
    for start in range(0, X.shape[0], rows):
        block = X[start : start + rows]
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow only means: look closer
            if np.isfinite(block.sum(axis=0)).all():
                continue
        if not np.isfinite(block).all():
            i, j = np.argwhere(~np.isfinite(block))[0]
            raise FastMLPError(f"{name} row {start + i}, column {j} is not finite ({block[i, j]})")


# Training holds about this many parameter-sized arrays: the weights, their gradient and an
# optimizer's state (Adam: two), plus the float64 draw of the largest layer at initialisation.
TRAINING_COPIES = 4


def available_memory() -> int | None:
    """Bytes of memory available for new allocations (Linux's MemAvailable), None when unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _check_fits_in_memory(sizes, n, dtype) -> None:
    """Refuse a network that cannot be trained in this machine's memory before allocating it
    (a huge np.zeros succeeds lazily, and the process is killed later, when it is written)."""
    available = available_memory()
    largest = max(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))
    needed = n * dtype.itemsize * TRAINING_COPIES + largest * 8
    if available is not None and needed > available:
        gb = 1024**3
        raise FastMLPError(
            f"layer sizes {sizes}: {n:,} parameters need about {needed / gb:.1f} GiB to train in "
            f"{dtype.name}; this machine has {available / gb:.1f} GiB available (use smaller hidden layers)"
        )


class MLP:
    """A multilayer perceptron: z^k = h^(k-1) W^k + b^k, h^k = g(z^k); the output is softmax
    (classification), sigmoid (multilabel) or identity (regression). W^k is (fan_in, fan_out).

    >>> m = MLP([64, 128, 10], activation="relu", seed=0)
    >>> loss, grads = m.loss_and_gradients(X, y, l2=1e-4)   # grads[k] = (dW, db)
    """

    def __init__(
        self,
        layer_sizes,
        activation="relu",
        task="classification",
        dtype="float32",
        seed=0,
        init="glorot_uniform",
    ):
        sizes = [int(s) for s in layer_sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise FastMLPError(
                f"layer_sizes must be at least [inputs, outputs] of positive ints, got {list(layer_sizes)}"
            )
        if activation not in ACTIVATION_CODES:
            raise FastMLPError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
        self.task_spec = get_task(task)
        if str(dtype) not in DTYPES:
            raise FastMLPError(f"dtype must be float32 or float64, got {dtype!r}")
        if init not in INITS:
            raise FastMLPError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        if self.task_spec.indices and sizes[-1] < 2:
            raise FastMLPError("a classifier needs at least 2 output units (classes)")
        self.layer_sizes = sizes
        self.activation = activation
        self.task = self.task_spec.name
        self.dtype = np.dtype(dtype)
        self.seed = seed
        self.init = init
        # What prediction from raw features needs; a bare network has the identity and indices.
        self.preprocessing = Preprocessing("none")
        self.target_scaler = Preprocessing("none")
        self.classes: np.ndarray | None = None  # class labels as the training data spelled them
        self.feature_names: list[str] | None = None
        self.encoder = None  # a TableEncoder: table columns -> inputs (fills, one-hot categories)
        self.layout = make_layout(sizes)
        _check_fits_in_memory(sizes, n_params(self.layout), self.dtype)
        self.params = np.zeros(n_params(self.layout), dtype=self.dtype)
        self._bind_views()
        self.initialize(seed)

    @classmethod
    def for_dataset(cls, ds, hidden=(128,), **kwargs) -> MLP:
        """A network sized for the Dataset ds (from load_dataset or data.prepare) that carries
        what ds was fitted with — preprocessing, target scaling, class labels, feature names —
        so it predicts from raw features by itself. kwargs: activation, dtype, seed, init."""
        model = cls([ds.n_inputs, *hidden, ds.n_outputs], task=ds.task, **kwargs)
        model.preprocessing, model.target_scaler = ds.preprocessing, ds.target_scaler
        model.classes, model.feature_names = ds.classes, ds.feature_names
        model.encoder = getattr(ds, "encoder", None)
        return model

    # -- parameters ----------------------------------------------------------------

    def _bind_views(self):
        self.weights, self.biases = [], []
        for w0, b0, fan_in, fan_out, _ in self.layout:
            self.weights.append(self.params[w0:b0].reshape(fan_in, fan_out))
            self.biases.append(self.params[b0 : b0 + fan_out])

    def initialize(self, seed):
        """Draw W (biases = 0) by self.init, in float64 then cast, so a float32 and a float64 model
        with one seed start from the same weights:
            glorot_uniform  W ~ U(-r, r), r = sqrt(6 / (fan_in + fan_out))
            he_uniform      W ~ U(-r, r), r = sqrt(6 / fan_in)
            he_normal       W ~ N(0, s^2), s = sqrt(2 / fan_in)
        """
        rng = np.random.default_rng(seed)
        for W, b in zip(self.weights, self.biases, strict=False):
            fan_in, fan_out = W.shape
            if self.init == "he_normal":
                W[...] = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=W.shape)
            else:
                r = np.sqrt(6.0 / (fan_in + fan_out) if self.init == "glorot_uniform" else 6.0 / fan_in)
                W[...] = rng.uniform(-r, r, size=W.shape)
            b[...] = 0

    @property
    def activation_code(self) -> int:
        return ACTIVATION_CODES[self.activation]

    @property
    def loss_code(self) -> int:
        return self.task_spec.loss

    @property
    def n_inputs(self) -> int:
        return self.layer_sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.layer_sizes[-1]

    @property
    def sizes(self) -> np.ndarray:
        return np.asarray(self.layer_sizes, dtype=np.int64)

    # -- checking inputs once, at the boundary --------------------------------------

    def check_X(self, X, name="X", finite=True) -> np.ndarray:
        """X as a C-contiguous 2-D array of the model's dtype (no copy when it already is);
        finite=False skips the NaN/inf scan when the caller has made it."""
        X = np.asarray(X)
        if X.ndim == 1 and self.n_inputs == X.shape[0]:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise FastMLPError(f"{name} must have shape (n, {self.n_inputs}), got {X.shape}")
        if X.dtype.kind not in "fiub":
            raise FastMLPError(f"{name} must be numeric, got {X.dtype}")
        # The model's dtype wins: float64 inputs to a float32 model are converted once, here.
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if not X.flags.writeable:
            # Numba types a read-only array apart: every kernel would compile a second time.
            X = X.copy()
        if finite:
            _check_finite(X, name)
        return X

    def check_y(self, y, n, name="y"):
        """Encoded labels as the kernels take them: (y_class, y_target) — int64 class indices and
        an empty (0, n_out) target, or empty class indices and an (n, n_out) float target. The kind
        the task's loss does not read is empty rather than None, so every task reaches the kernels
        with the same types (kernels/losses.output_loss)."""
        y = np.asarray(y)
        if self.task_spec.indices:
            if y.ndim != 1 or y.shape[0] != n:
                raise FastMLPError(f"{name} must be {n} class labels, got shape {y.shape}")
            if y.dtype.kind not in "iu":
                if y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0):
                    y = y.astype(np.int64)
                else:
                    raise FastMLPError(f"{name} must hold integer class indices, got {y.dtype}")
            y_class = np.ascontiguousarray(y, dtype=np.int64)
            if n and (y_class.min() < 0 or y_class.max() >= self.n_outputs):
                raise FastMLPError(f"{name} has labels outside 0..{self.n_outputs - 1}")
            return y_class, np.empty((0, self.n_outputs), self.dtype)
        if y.ndim == 1:
            y = y[:, None]
        if y.shape != (n, self.n_outputs):
            raise FastMLPError(f"{name} must have shape ({n}, {self.n_outputs}), got {y.shape}")
        if y.dtype.kind not in "fiub":
            raise FastMLPError(f"{name} must be numeric, got {y.dtype}")
        y_target = np.ascontiguousarray(y, dtype=self.dtype)
        _check_finite(y_target, name)
        if self.task_spec.labels == "indicators" and not np.isin(y_target, (0, 1)).all():
            raise FastMLPError(f"{name} must be a 0/1 indicator matrix for a multilabel model")
        if self.task_spec.link == "exp" and (y_target < 0).any():
            raise FastMLPError(f"{name} must be counts >= 0 for a {self.task} model (it predicts e^z)")
        return np.empty(0, np.int64), y_target

    def check_weights(self, sample_weight, n, name="sample_weight") -> np.ndarray:
        """Per-sample weights as a contiguous array of the model's dtype (empty: unweighted)."""
        if sample_weight is None:
            return np.zeros(0, self.dtype)
        w = np.ascontiguousarray(np.asarray(sample_weight, dtype=np.float64).ravel())
        if w.shape[0] != n:
            raise FastMLPError(f"{name} must have {n} entries, got {w.shape[0]}")
        if not np.isfinite(w).all() or (w < 0).any():
            raise FastMLPError(f"{name} must be finite and >= 0")
        if n and w.sum() <= 0:
            raise FastMLPError(f"{name}: every weight is zero; at least one must be positive")
        return w.astype(self.dtype)

    def workspace(self, n, dropout=False):
        """acts, deltas and masks (empty without dropout) buffers for n rows."""
        size = n * row_width(self.layout)
        masks = np.empty(size if dropout else 0, self.dtype)
        return np.empty(size, self.dtype), np.empty(size, self.dtype), masks

    # -- raw features -> what the network sees ---------------------------------------

    def transform(self, X, name="X", encoded=False) -> np.ndarray:
        """Raw feature rows -> the network's inputs: columns matched by name when X is a
        DataFrame and the model knows its feature names, checked, then the fitted preprocessing.
        A model with an encoder takes a table (DataFrame, pyarrow Table) of its raw columns and
        encodes it first (encoded=True: X is already encoded, as a Dataset's rows are)."""
        if self.encoder is not None and not encoded:
            X = self._encode(X, name)
        X, names = frame_to_array(X, name, keep=self.feature_names)
        if names is not None and self.feature_names is not None:
            X = align_features(X, names, self.feature_names, name)
        return self.preprocessing.transform(self.check_X(X, name))

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

    def forward(self, X) -> np.ndarray:
        """z^L for network inputs X (as transform returns them), in chunks of CHUNK rows."""
        out = np.empty((X.shape[0], self.n_outputs), self.dtype)
        acts, _, masks = self.workspace(min(CHUNK, max(len(X), 1)))
        for start in range(0, X.shape[0], CHUNK):
            x = X[start : start + CHUNK]
            out[start : start + len(x)] = forward(
                self.params, self.layout, self.activation_code, x, acts, BLAS_ONLY, 0.0, np.uint64(0), masks
            )
        return out

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
        """Predictions in the targets' own units from z^L: the link (e^z for counts), then the
        target scaling undone. z is overwritten when the link applies."""
        if self.task_spec.link == "exp":
            return np.exp(z, out=z)
        return self.target_scaler.inverse_transform(z) if self.target_scaler.kind != "none" else z

    # -- objective -------------------------------------------------------------------

    def l2_penalty(self, l2) -> float:
        """(lambda/2) sum_k ||W^k||_F^2 (biases excluded). A ufunc sum, not np.dot: NumPy's dot
        is threaded on long float64 vectors (measured: 235k values) and leaves NumPy's BLAS
        threads spinning through the next kernel call, which runs on SciPy's (docs/PERFORMANCE.md, "Two BLAS
        thread pools")."""
        return 0.5 * l2 * sum(float(np.square(W).sum()) for W in self.weights)

    def loss_and_gradients(self, X, y, l2=0.0, sample_weight=None, dropout=0.0, dropout_seed=0, step=0):
        """The bare network's J = sum_i w_i l_i / sum_i w_i + (lambda/2) sum_k ||W^k||^2 and
        [(dW^k, db^k), ...], dW^k = h^(k-1)^T delta^k + lambda W^k, db^k = colsum(delta^k).

        X: network inputs (already preprocessed: see transform); y: encoded labels (class
        indices, 0/1 indicators, or scaled targets). dropout > 0 draws the masks of minibatch
        `step` of a run seeded dropout_seed: the same arguments give the same masks, so the
        gradient can be checked against finite differences with the mask held fixed."""
        X = self.check_X(X)
        y_class, y_target = self.check_y(y, X.shape[0])
        w = self.check_weights(sample_weight, X.shape[0])
        acts, deltas, masks = self.workspace(X.shape[0], dropout=dropout > 0)
        grad = np.empty_like(self.params)
        key = np.uint64(dropout_key(int(dropout_seed), int(step)))
        loss, _ = loss_and_grad(
            self.params,
            self.layout,
            self.activation_code,
            self.loss_code,
            X,
            y_class,
            y_target,
            w,
            acts,
            deltas,
            grad,
            float(dropout),
            key,
            masks,
            BLAS_ONLY,
            np.empty(0, self.dtype),  # no plain-SGD step: the gradient itself
        )
        grads = []
        for w0, b0, fan_in, fan_out, _ in self.layout:
            dW = grad[w0:b0].reshape(fan_in, fan_out)
            if l2:
                dW += self.dtype.type(l2) * self.params[w0:b0].reshape(fan_in, fan_out)
            grads.append((dW, grad[b0 : b0 + fan_out]))
        return float(loss) + self.l2_penalty(l2), grads

    def evaluate(self, X, y) -> dict:
        """Metrics on raw rows X and raw labels y: mean data loss, and accuracy (classification,
        multilabel: every label right) or rmse/mae/r2 in the targets' own units (regression)."""
        X = self.transform(X)
        return self.metrics(X, *self.encode_labels(y, X.shape[0]))

    def metrics(self, X, y_class, y_target) -> dict:
        """evaluate() on network inputs and encoded labels as check_X and check_y return them
        (the trainer checks its validation set once, not every epoch)."""
        n = X.shape[0]
        if n == 0:
            raise FastMLPError("cannot evaluate on an empty set")
        if self.task_spec.labels != "values":
            acts, deltas, _ = self.workspace(min(CHUNK, n))
            total, correct = evaluate_rows(
                self.params,
                self.layout,
                self.activation_code,
                self.loss_code,
                X,
                y_class,
                y_target,
                CHUNK,
                acts,
                deltas,
            )
            return {"loss": total / n, "accuracy": correct / n}
        # One forward pass gives the residuals; rmse/mae/r2 are in the targets' own units.
        z = self.forward(X)
        if self.task_spec.link == "exp":
            # The mean half Poisson deviance (kernels/losses.py), y log y = 0 at y = 0.
            z64, y64 = z.astype(np.float64), y_target.astype(np.float64)
            y_log_y = y64 * np.log(np.where(y64 > 0, y64, 1.0))  # 0 where y = 0
            loss = float((np.exp(z64) - y64 * z64 + y_log_y - y64).sum()) / n
        else:
            loss = 0.5 * float(((z - y_target).astype(np.float64) ** 2).sum()) / n
        yhat, y = self.values(z), y_target
        if self.target_scaler.kind != "none":
            y = self.target_scaler.inverse_transform(y_target)
        sq = (yhat - y).astype(np.float64)
        sq *= sq
        ss_res = float(sq.sum())
        ss_tot = float(((y - y.mean(axis=0, dtype=np.float64)) ** 2).sum())
        return {
            "loss": loss,  # the mean training loss, in the units the network trains on
            "rmse": float(np.sqrt(sq.mean())),
            "mae": float(np.sqrt(sq).mean()),
            "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
        }

    # -- files -----------------------------------------------------------------------

    def save(self, path) -> Path:
        """Write a plain .npz (no pickle), atomically: a temp file in the same folder, then rename.
        It holds the network and everything prediction from raw features needs."""
        path = Path(path)
        arrays = {
            "format_version": np.array(FORMAT_VERSION),
            "layer_sizes": self.sizes,
            "activation": np.array(self.activation),
            "task": np.array(self.task),
            "init": np.array(self.init),
            "dtype": np.array(self.dtype.name),
            "seed": np.array(self.seed if self.seed is not None else -1),
            "params": self.params,
            **self.preprocessing.to_arrays(),
            **self.target_scaler.to_arrays(prefix=TARGET_PREFIX),
        }
        if self.classes is not None:
            arrays["classes"] = _plain_array(self.classes)
        if self.feature_names is not None:
            arrays["feature_names"] = np.array([str(c) for c in self.feature_names])
        if self.encoder is not None:
            arrays.update(self.encoder.to_arrays())
        return npzfile.save(path, arrays)

    @classmethod
    def load(cls, path) -> MLP:
        """Read a model written by save(); every inconsistency is a ModelFileError naming the file."""
        path = Path(path)
        if not path.is_file():
            raise ModelFileError(f"{path}: no such model file")
        hint = "expected a model.npz or a run folder"
        try:
            arrays, checked = npzfile.load(path, require_manifest=False)
        except npzfile.NotWhole as e:
            raise ModelFileError(f"{path}: not a fastmlp model file ({e}; {hint})") from None
        # format_version is the first array and the manifest the last: a central directory cut
        # short (the damage that drops arrays silently) loses the manifest first.
        try:
            version = int(arrays.get("format_version", 0))
        except (TypeError, ValueError):
            raise ModelFileError(f"{path}: not a fastmlp model file (format_version damaged)") from None
        if version >= MANIFEST_SINCE and not checked:
            raise ModelFileError(f"{path}: not a fastmlp model file (its manifest is missing)")
        missing = [k for k in ("layer_sizes", "activation", "task", "dtype", "params") if k not in arrays]
        if missing:
            raise ModelFileError(f"{path}: not a fastmlp model file (missing {', '.join(missing)})")
        try:
            # The declared layers must account for the stored parameters before anything that size
            # is allocated: a damaged header must not make a huge network.
            sizes = [int(v) for v in np.asarray(arrays["layer_sizes"]).ravel()]
            declared = n_params(make_layout(sizes)) if len(sizes) >= 2 and min(sizes) >= 1 else -1
        except (TypeError, ValueError, OverflowError):
            declared = -1
        if declared != arrays["params"].size:
            raise ModelFileError(
                f"{path}: params has {arrays['params'].size} values, layer_sizes "
                f"{np.asarray(arrays['layer_sizes']).ravel()[:10].tolist()} need {declared}"
            )
        try:
            model = cls(
                [int(s) for s in arrays["layer_sizes"]],
                activation=str(arrays["activation"]),
                task=str(arrays["task"]),
                dtype=str(arrays["dtype"]),
                seed=None,
                init=str(arrays.get("init", "glorot_uniform")),
            )
            seed = int(arrays.get("seed", -1))
            model.seed = seed if seed >= 0 else None
        except (FastMLPError, TypeError, ValueError) as e:
            raise ModelFileError(f"{path}: {e}") from None
        params = arrays["params"]
        if params.shape != model.params.shape:
            raise ModelFileError(
                f"{path}: params has {params.size} values, layer_sizes "
                f"{model.layer_sizes} need {model.params.size}"
            )
        if params.dtype != model.dtype:
            raise ModelFileError(f"{path}: params are {params.dtype} but dtype says {model.dtype}")
        model.params[...] = params
        for key, width, what in (
            ("classes", model.n_outputs, "outputs"),
            ("feature_names", model.n_inputs, "inputs"),
        ):
            if key in arrays and (arrays[key].ndim != 1 or arrays[key].shape[0] != width):
                raise ModelFileError(
                    f"{path}: {key} holds {arrays[key].shape} values; {width} {what} need {width} names"
                )
        if "classes" in arrays:
            model.classes = arrays["classes"]
        if "feature_names" in arrays:
            model.feature_names = [str(c) for c in arrays["feature_names"]]
        try:
            model.preprocessing = Preprocessing.from_arrays(arrays)
            model.target_scaler = Preprocessing.from_arrays(arrays, prefix=TARGET_PREFIX)
        except FastMLPError as e:
            raise ModelFileError(f"{path}: {e}") from None
        except (TypeError, ValueError, IndexError) as e:  # arrays of the wrong kind or shape
            raise ModelFileError(f"{path}: its preprocessing is malformed ({type(e).__name__})") from None
        for what, p, width in (
            ("preprocessing", model.preprocessing, model.n_inputs),
            (TARGET_PREFIX, model.target_scaler, model.n_outputs),
        ):
            if p.kind != "none" and p.offset.shape != (width,):
                raise ModelFileError(f"{path}: {what} has {p.offset.shape} values for {width} columns")
        if "encoder_columns" in arrays:
            from .encoding import TableEncoder

            try:
                model.encoder = TableEncoder.from_arrays(arrays)
            except FastMLPError as e:
                raise ModelFileError(f"{path}: {e}") from None
            if model.encoder.n_outputs != model.n_inputs:
                raise ModelFileError(
                    f"{path}: its encoder makes {model.encoder.n_outputs} inputs; the network takes "
                    f"{model.n_inputs}"
                )
        return model

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
        other.encoder = self.encoder
        return other

    def __repr__(self):
        return (
            f"MLP({self.layer_sizes}, activation={self.activation!r}, task={self.task!r}, "
            f"dtype={self.dtype.name!r})"
        )


def _plain_array(values) -> np.ndarray:
    """Class labels as an array .npz stores without pickle: numbers as they are, anything else as str."""
    a = np.asarray(values)
    return a if a.dtype.kind in "biuU" else np.array([str(v) for v in values])
