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
from .kernels.network import full_loss_and_grad
from .kernels.rows import dense_or_csr

CHUNK = 4096


def fit_lbfgs(model, X, y, w, X_val, y_val, *, max_iter, l2, optimizer, callback=None, ftol=None):
    """Minimise J = sum w_i l_i / sum w_i + (l2/2) sum ||W||^2 over model.params in place.

    X: dense rows or a scipy sparse matrix (densified one chunk at a time). ftol: SciPy's ftol
    when it should differ from the optimizer's tol (scikit-learn leaves SciPy's default)."""
    y_class, y_target = y
    n = X.shape[0]
    chunk = min(CHUNK, n)
    X, csr = dense_or_csr(X, model.dtype)
    xbuf = np.empty(chunk * model.n_inputs if csr[2].shape[0] else 0, model.dtype)
    acts, deltas, _ = model.workspace(chunk)
    grad_chunk = np.empty_like(model.params)
    grad = np.empty_like(model.params)
    weight_mask = np.zeros_like(model.params)  # 1 on weights, 0 on biases: L2 skips biases
    for w0, b0, *_ in model.layout:
        weight_mask[w0:b0] = 1
    state = {"correct": 0}

    def penalty(theta):
        """(l2/2) sum ||W||^2 and its gradient l2 W (0 on biases), in float64."""
        l2_w = l2 * weight_mask * theta
        # A ufunc sum, not np.dot: NumPy's BLAS is not the one the kernels call (SciPy's), and a
        # threaded NumPy dot leaves its threads spinning through the next kernel evaluation
        # (docs/PERFORMANCE.md, "Two BLAS thread pools").
        return 0.5 * float(np.multiply(l2_w, theta).sum()), l2_w

    def objective(theta):
        model.params[...] = theta
        value, correct = full_loss_and_grad(
            model.params,
            model.layout,
            model.activation_code,
            model.loss_code,
            X,
            csr,
            y_class,
            y_target,
            w,
            chunk,
            xbuf,
            acts,
            deltas,
            grad_chunk,
            grad,
        )
        state["correct"] = correct
        value_l2, grad_l2 = penalty(theta)
        return float(value) + value_l2, grad.astype(np.float64) + grad_l2

    history = History()
    started = [time.perf_counter()]

    def on_iteration(intermediate_result):
        theta = intermediate_result.x
        model.params[...] = theta
        value = float(intermediate_result.fun)
        epoch = len(history.rows) + 1
        notify(callback, "on_epoch_start", epoch, 1)
        row = {
            "epoch": epoch,
            "lr": None,
            "train_loss": value - penalty(theta)[0],
            "train_accuracy": state["correct"] / n if "accuracy" in model.task_spec.metrics else None,
            "val_loss": None,
            "val_accuracy": None,
            "seconds": time.perf_counter() - started[0],
        }
        if not math.isfinite(value):
            raise Diverged(f"training diverged at iteration {epoch} (loss {value})")
        if X_val is not None:
            metrics = model.metrics(X_val, *y_val)
            row["val_loss"], row["val_accuracy"] = metrics["loss"], metrics.get("accuracy")
        history.rows.append(row)
        notify(callback, "on_batches", epoch, 1, 1, row["train_loss"])
        notify(callback, "on_epoch_end", row)
        started[0] = time.perf_counter()

    tol = optimizer.params["tol"]
    result = minimize(
        objective,
        model.params.astype(np.float64),
        jac=True,
        method="L-BFGS-B",
        callback=on_iteration,
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
        "penalty": penalty(result.x)[0],  # that L2 term
    }
    return history
