"""Full-batch L-BFGS through SciPy, fed by the kernels' loss and gradient.

SciPy's `minimize(method="L-BFGS-B", jac=True)` asks for J(theta) and dJ/dtheta over the whole
training set; kernels/network.full_loss_and_grad computes both in chunks of CHUNK rows, so the
workspace is one chunk's activations however large the set is. SciPy works in float64: theta
is copied into the model's own dtype for each evaluation (float32 stays float32 in the kernels)
and the loss and gradient are handed back as float64.

train.epochs bounds the iterations (as scikit-learn's max_iter does for lbfgs), max_fun the
loss evaluations; tol is SciPy's gtol and ftol. One History row per iteration.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.optimize import minimize

from .errors import Diverged
from .history import History, notify
from .kernels.evaluate import full_loss_and_grad
from .kernels.rows import dense_or_csr, union_room

CHUNK = 4096


def fit_lbfgs(model, X, y, w, *, max_iter, l2, optimizer, evaluate=None, callback=None, ftol=None):
    """Minimise J = sum w_i l_i / sum w_i + (l2/2) sum ||W||^2 over model.params in place.

    X: dense rows or a scipy sparse matrix (its first layer on the non-zeros, kernels/sparse.py).
    evaluate: model -> the row's validation figures (as loop.Loop's), or None. ftol: SciPy's ftol
    when it should differ from the optimizer's tol (scikit-learn leaves SciPy's default)."""
    problem = FullBatch(model, X, y, w, l2)
    history = History()
    iterations = _Iterations(problem, history, evaluate, callback)
    tol = optimizer.params["tol"]
    result = minimize(
        problem.objective,
        model.params.astype(np.float64),
        jac=True,
        method="L-BFGS-B",
        callback=iterations,
        options={
            "maxiter": max_iter,
            "maxfun": optimizer.params["max_fun"],
            "gtol": tol,
            "ftol": tol if ftol is None else ftol,
        },
    )
    model.params[...] = result.x
    # The weights kept are the last iterate (L-BFGS descends J on every step), so that is the epoch
    # the summary calls best.
    history.best_epoch = len(history.rows) or None
    history.notes = {
        "converged": bool(result.success),
        "message": str(result.message),
        "evaluations": int(result.nfev),
        "iterations": int(result.nit),
        "loss": float(result.fun),  # J at the weights kept, L2 term included
        "penalty": problem.penalty(result.x)[0],  # that L2 term
    }
    return history


class FullBatch:
    """J(theta) and its gradient over the whole training set, as SciPy asks for them (float64),
    from the kernels' chunked loss and gradient in the model's dtype."""

    def __init__(self, model, X, y, w, l2):
        self.model, self.w, self.l2 = model, w, l2
        self.y_class, self.y_target = y
        self.n = X.shape[0]
        self.chunk = min(CHUNK, self.n)
        self.X, self.csr = dense_or_csr(X, model.dtype)
        self.union = union_room(self.csr[2], model.n_inputs, model.layer_sizes[1], self.chunk, model.dtype)
        self.acts, self.deltas, _ = model.workspace(self.chunk)
        self.grad_chunk = np.empty_like(model.params)
        self.grad = np.empty_like(model.params)
        self.weight_mask = np.zeros_like(model.params)  # 1 on weights, 0 on biases: L2 skips biases
        for w0, b0, *_ in model.layout:
            self.weight_mask[w0:b0] = 1
        self.correct = 0  # right predictions at the last evaluation

    def penalty(self, theta):
        """(l2/2) sum ||W||^2 and its gradient l2 W (0 on biases), in float64."""
        l2_w = self.l2 * self.weight_mask * theta
        # A ufunc sum, not np.dot: NumPy's BLAS is not the one the kernels call (SciPy's), and a
        # threaded NumPy dot leaves its threads spinning through the next kernel evaluation
        # (docs/PERFORMANCE.md, "Two BLAS thread pools").
        return 0.5 * float(np.multiply(l2_w, theta).sum()), l2_w

    def objective(self, theta):
        """(J(theta), dJ/dtheta) in float64."""
        self.model.params[...] = theta
        value, self.correct = full_loss_and_grad(
            *self.model.kernel_args,
            self.X,
            self.csr,
            self.y_class,
            self.y_target,
            self.w,
            self.chunk,
            self.union,
            self.acts,
            self.deltas,
            self.grad_chunk,
            self.grad,
        )
        value_l2, grad_l2 = self.penalty(theta)
        return float(value) + value_l2, self.grad.astype(np.float64) + grad_l2


class _Iterations:
    """SciPy's per-iteration callback: one History row per iteration, with the callbacks a
    minibatch run makes; a non-finite loss raises Diverged."""

    def __init__(self, problem, history, evaluate, callback):
        self.problem, self.history, self.evaluate, self.callback = problem, history, evaluate, callback
        self.started = time.perf_counter()

    def __call__(self, intermediate_result):
        problem, model = self.problem, self.problem.model
        theta = intermediate_result.x
        model.params[...] = theta
        value = float(intermediate_result.fun)
        epoch = len(self.history.rows) + 1
        notify(self.callback, "on_epoch_start", epoch, 1)
        row = {
            "epoch": epoch,
            "lr": None,
            "train_loss": value - problem.penalty(theta)[0],
            "train_accuracy": problem.correct / problem.n if "accuracy" in model.task_spec.metrics else None,
            "val_loss": None,
            "val_accuracy": None,
            "seconds": time.perf_counter() - self.started,
        }
        if not math.isfinite(value):
            raise Diverged(f"training diverged at iteration {epoch} (loss {value})")
        if self.evaluate is not None:
            row.update(self.evaluate(model))
        self.history.rows.append(row)
        notify(self.callback, "on_batches", epoch, 1, 1, row["train_loss"])
        notify(self.callback, "on_epoch_end", row)
        self.started = time.perf_counter()
