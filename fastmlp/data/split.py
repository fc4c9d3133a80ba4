"""Seeded splits of row indices: stratified by class for classification, plain shuffles otherwise.

Both parts come back sorted, so rows keep their file order (the trainer shuffles).
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError


def split_indices(
    rows: np.ndarray, fraction: float, seed: int, labels: np.ndarray | None = None, what: str = "split"
) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held_out) subsets of rows; held_out has round(fraction * n) rows (at least 1).

    With labels (one per entry of rows), each class gives up its share of the
    held-out rows (largest-remainder rounding), so both parts keep the class mix.
    """
    n = len(rows)
    n_held = max(1, round(fraction * n))
    if n_held >= n:
        raise DataError(f"data.{what}: {fraction} of {n} rows leaves no rows to train on")
    rng = np.random.default_rng(seed)
    if labels is None:
        held = rng.permutation(n)[:n_held]
    else:
        held = _stratified(labels, n_held, rng)
    mask = np.zeros(n, bool)
    mask[held] = True
    return rows[~mask], rows[mask]


def _stratified(labels: np.ndarray, n_held: int, rng: np.random.Generator) -> np.ndarray:
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    quota = n_held * counts / len(labels)
    take = np.floor(quota).astype(np.int64)
    short = n_held - int(take.sum())
    take[np.argsort(-(quota - take), kind="stable")[:short]] += 1
    order = np.argsort(inverse, kind="stable")  # row positions grouped by class
    starts = np.concatenate([[0], np.cumsum(counts)])
    held = [rng.permutation(order[starts[k] : starts[k + 1]])[: take[k]] for k in range(len(classes))]
    return np.concatenate(held)
