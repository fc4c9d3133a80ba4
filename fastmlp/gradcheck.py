"""Hand-derived gradients against central finite differences, in float64.

For each parameter theta_i:  dJ/dtheta_i ~ (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps),
with J the full objective (mean loss + (lambda/2) sum ||W||^2). Per layer, the error is
||analytic - numeric|| / max(||analytic|| + ||numeric||, tiny), a norm-wise relative error
that is not swamped by entries whose gradient is ~0.
"""

from __future__ import annotations

import numpy as np

from .kernels.rows import is_csr

TOLERANCE = 1e-6


def numeric_gradient(model, X, y, l2, eps=1e-6, max_entries=None, seed=0, **objective):
    """Central differences of J for every parameter (or a random subset of `max_entries` per
    tensor); returns a flat array shaped like model.params with NaN where not probed.
    objective: more arguments of loss_and_gradients (sample_weight; dropout with its seed and
    step, which fix the mask)."""
    theta = model.params
    numeric = np.full(theta.shape, np.nan)
    rng = np.random.default_rng(seed)
    off = 0
    for k, (W, b) in enumerate(zip(model.weights, model.biases, strict=False)):
        for size in (W.size, b.size):
            idx = np.arange(off, off + size)
            if k == 0 and size == W.size and is_csr(X):
                # Sparse rows: probe the weights of the columns they use (the others' gradient is
                # only l2 W, too small for a difference quotient to measure well).
                used = np.unique(X.indices)
                idx = off + (used[:, None] * W.shape[1] + np.arange(W.shape[1])).ravel()
            if max_entries is not None and size > max_entries:
                idx = np.sort(rng.choice(idx, max_entries, replace=False))
            for i in idx:
                old = theta[i]
                theta[i] = old + eps
                j_plus, _ = model.loss_and_gradients(X, y, l2, **objective)
                theta[i] = old - eps
                j_minus, _ = model.loss_and_gradients(X, y, l2, **objective)
                theta[i] = old
                numeric[i] = (j_plus - j_minus) / (2 * eps)
            off += size
    return numeric


def relative_error(analytic, numeric) -> float:
    """||a - n|| / max(||a|| + ||n||, 1e-30) over the probed entries."""
    mask = ~np.isnan(numeric)
    a, n = analytic[mask], numeric[mask]
    return float(np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-30))


def check_gradients(model, X, y, l2=0.0, eps=1e-6, max_entries=None, seed=0, **objective):
    """Max relative error of dW and db per layer, on a float64 copy of the model.
    Returns [{"layer": k, "dW": err, "db": err}, ...] (layers numbered from 1)."""
    m64 = model.copy(dtype="float64")
    X = X.astype(np.float64) if is_csr(X) else np.asarray(X, dtype=np.float64)  # sparse rows stay sparse
    _, grads = m64.loss_and_gradients(X, y, l2, **objective)
    analytic = np.concatenate([np.concatenate([dW.ravel(), db.ravel()]) for dW, db in grads])
    numeric = numeric_gradient(m64, X, y, l2, eps, max_entries, seed, **objective)
    rows = []
    off = 0
    for k, (W, b) in enumerate(zip(m64.weights, m64.biases, strict=False), start=1):
        sw = slice(off, off + W.size)
        sb = slice(off + W.size, off + W.size + b.size)
        rows.append(
            {
                "layer": k,
                "dW": relative_error(analytic[sw], numeric[sw]),
                "db": relative_error(analytic[sb], numeric[sb]),
            }
        )
        off += W.size + b.size
    return rows
