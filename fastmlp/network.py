"""Network: the bare multilayer perceptron — one flat parameter buffer (`weights`/`biases` are
views into it), the forward pass, the loss and its gradients, and metrics, all on network
inputs (rows as the network sees them) and encoded labels (class indices, 0/1 indicators, or
targets in the units the network trains on). model.MLP wraps it into a predictor on raw features.

The math lives in fastmlp.kernels; the task table in fastmlp.tasks.
"""

from __future__ import annotations

import numpy as np

from .errors import FastMLPError
from .kernels import ACTIVATION_CODES
from .kernels.dropout import dropout_key
from .kernels.evaluate import evaluate_rows, outputs_rows
from .kernels.layout import make_layout, n_params, row_width, zeros_aligned
from .kernels.network import BLAS_ONLY, loss_and_grad
from .kernels.rows import canonical_csr, dense_or_csr, is_csr, union_room
from .kernels.sparse import csr_loss_and_grad
from .scores import value_scores
from .tasks import DTYPES, get_task

ACTIVATIONS = tuple(ACTIVATION_CODES)
INITS = ("glorot_uniform", "he_uniform", "he_normal")

# Rows per kernel call when predicting or evaluating: bounds the workspace.
CHUNK = 4096


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


class Network:
    """A multilayer perceptron: z^k = h^(k-1) W^k + b^k, h^k = g(z^k); the output is softmax
    (classification), sigmoid (multilabel), identity (regression) or exp (poisson counts), as
    the task table says. W^k is (fan_in, fan_out).

    >>> net = Network([64, 128, 10], activation="relu", seed=0)
    >>> loss, grads = net.loss_and_gradients(X, y, l2=1e-4)   # grads[k] = (dW, db)
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
        self.layout = make_layout(sizes)
        _check_fits_in_memory(sizes, n_params(self.layout), self.dtype)
        self.params = zeros_aligned(n_params(self.layout), self.dtype)
        self._bind_views()
        self.initialize(seed)

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
    def kernel_args(self) -> tuple:
        """(params, layout, act, loss): the arguments every network kernel starts with."""
        return self.params, self.layout, self.activation_code, self.loss_code

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
        """X as a C-contiguous 2-D array of the model's dtype (no copy when it already is), or a
        scipy sparse matrix as a CSR matrix of that dtype (its rows stay sparse all the way:
        kernels/sparse.py); finite=False skips the NaN/inf scan when the caller has made it."""
        if is_csr(X):
            return self._check_sparse(X, name, finite)
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

    def _check_sparse(self, X, name, finite):
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise FastMLPError(f"{name} must have shape (n, {self.n_inputs}), got {X.shape}")
        if X.dtype.kind not in "fiub":
            raise FastMLPError(f"{name} must be numeric, got {X.dtype}")
        X = canonical_csr(X, self.dtype)
        if finite and not np.isfinite(X.data).all():
            row = int(np.searchsorted(X.indptr, np.flatnonzero(~np.isfinite(X.data))[0], side="right")) - 1
            raise FastMLPError(f"{name} has a non-finite value in row {row}")
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
        self.task_spec.check_targets(y_target, name)
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

    def forward(self, X) -> np.ndarray:
        """z^L for network inputs X (as transform returns them), in chunks of CHUNK rows."""
        out = np.empty((X.shape[0], self.n_outputs), self.dtype)
        acts, _, _ = self.workspace(min(CHUNK, max(X.shape[0], 1)))
        outputs_rows(
            self.params, self.layout, self.activation_code, *dense_or_csr(X, self.dtype), CHUNK, acts, out
        )
        return out

    def values(self, z) -> np.ndarray:
        """Predictions from z^L in the units the network trains on (the task's inverse link);
        z is overwritten when the link applies. MLP undoes its target scaling too."""
        return self.task_spec.inverse_link(z)

    def target_units(self, y_target) -> np.ndarray:
        """Encoded targets in the units values() predicts in (MLP undoes its target scaling)."""
        return y_target

    def __repr__(self):
        return (
            f"{type(self).__name__}({self.layer_sizes}, activation={self.activation!r}, task={self.task!r}, "
            f"dtype={self.dtype.name!r})"
        )

    # -- objective -------------------------------------------------------------------

    def l2_penalty(self, l2) -> float:
        """(lambda/2) sum_k ||W^k||_F^2 (biases excluded). A ufunc sum, not np.dot: NumPy's dot
        is threaded on long float64 vectors and leaves NumPy's BLAS threads spinning through the
        next kernel call, which runs on SciPy's (docs/PERFORMANCE.md, "Two BLAS thread pools")."""
        return 0.5 * l2 * sum(float(np.square(W).sum()) for W in self.weights)

    def loss_and_gradients(self, X, y, l2=0.0, sample_weight=None, dropout=0.0, dropout_seed=0, step=0):
        """The bare network's J = sum_i w_i l_i / sum_i w_i + (lambda/2) sum_k ||W^k||^2 and
        [(dW^k, db^k), ...], dW^k = h^(k-1)^T delta^k + lambda W^k, db^k = colsum(delta^k).

        X: network inputs (already preprocessed: see transform); y: encoded labels (class
        indices, 0/1 indicators, or scaled targets). dropout > 0 draws the masks of minibatch
        `step` of a run seeded dropout_seed: the same arguments give the same masks, so the
        gradient can be checked against finite differences with the mask held fixed. A sparse X
        goes through the sparse first layer's kernels (no dropout there)."""
        X = self.check_X(X)
        y_class, y_target = self.check_y(y, X.shape[0])
        w = self.check_weights(sample_weight, X.shape[0])
        acts, deltas, masks = self.workspace(X.shape[0], dropout=dropout > 0)
        grad = np.empty_like(self.params)
        key = np.uint64(dropout_key(int(dropout_seed), int(step)))
        if is_csr(X):
            if dropout:
                raise FastMLPError("loss_and_gradients takes no dropout with sparse rows")
            _, csr = dense_or_csr(X, self.dtype)
            loss, _ = csr_loss_and_grad(
                *self.kernel_args,
                csr,
                0,
                X.shape[0],
                y_class,
                y_target,
                w,
                acts,
                deltas,
                grad,
                union_room(csr[2], self.n_inputs, self.layer_sizes[1], X.shape[0], self.dtype),
            )
            return self._with_l2(loss, grad, l2)
        loss, _ = loss_and_grad(
            *self.kernel_args,
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
        return self._with_l2(loss, grad, l2)

    def _with_l2(self, loss, grad, l2):
        """(J with its L2 term, [(dW^k + lambda W^k, db^k), ...]) from J_data and its gradient."""
        grads = []
        for w0, b0, fan_in, fan_out, _ in self.layout:
            dW = grad[w0:b0].reshape(fan_in, fan_out)
            if l2:
                dW += self.dtype.type(l2) * self.params[w0:b0].reshape(fan_in, fan_out)
            grads.append((dW, grad[b0 : b0 + fan_out]))
        return float(loss) + self.l2_penalty(l2), grads

    def metrics(self, X, y_class, y_target) -> dict:
        """The mean data loss over network inputs X and encoded labels (as check_X and check_y
        return them: the trainer checks its validation set once, not every epoch), from the loss
        kernel that trains the network; with it accuracy (classification, multilabel: every label
        right) or rmse/mae/r2 of the predictions in the targets' own units (scores.value_scores)."""
        n = X.shape[0]
        if n == 0:
            raise FastMLPError("cannot evaluate on an empty set")
        acts, deltas, _ = self.workspace(min(CHUNK, n))
        values = self.task_spec.labels == "values"
        z = np.empty((n if values else 0, self.n_outputs), self.dtype)
        total, correct = evaluate_rows(
            *self.kernel_args,
            *dense_or_csr(X, self.dtype),
            y_class,
            y_target,
            CHUNK,
            acts,
            deltas,
            z,
        )
        if not values:
            return {"loss": total / n, "accuracy": correct / n}
        return {"loss": total / n, **value_scores(self.target_units(y_target), self.values(z))}
