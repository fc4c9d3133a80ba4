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


def fold_indices(
    rows: np.ndarray, fold, seed: int, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held_out) for k-fold cross-validation: fold = [k, i]; held_out is fold i (0..k-1).

    The k folds of one (rows, k, seed, labels) partition rows: every row is held out by
    exactly one fold. Both parts come back sorted, as split_indices' do.
    """
    k, fold = check_fold(fold)
    assignment = fold_assignment(len(rows), k, seed, labels)
    held = assignment == fold
    return rows[~held], rows[held]


def check_fold(value) -> tuple[int, int]:
    """data.fold's value [k, i] checked here, where it is used: integers with k >= 2, 0 <= i < k."""
    ok = (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )
    if not ok or value[0] < 2 or not 0 <= value[1] < value[0]:
        raise DataError(f"data.fold: expected [k, i], integers with k >= 2 and 0 <= i < k, got {value!r}")
    return value[0], value[1]


def fold_assignment(n: int, k: int, seed: int, labels: np.ndarray | None = None) -> np.ndarray:
    """The fold (0..k-1) of each of n rows, seeded.

    Without labels the rows are shuffled and dealt to the folds in turn. With labels each class's
    rows are shuffled and dealt likewise, the dealing carrying on from where the previous class
    stopped: each fold then holds every class's count // k or one more row, and the fold sizes
    differ by at most one.
    """
    rng = np.random.default_rng(seed)
    if labels is None:
        if n < k:
            raise DataError(f"data.fold: {k} folds need at least {k} training rows, there are {n}")
        folds = np.empty(n, np.int64)
        folds[rng.permutation(n)] = np.arange(n) % k
        return folds
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if counts.min() < k:
        smallest = int(np.argmin(counts))
        raise DataError(
            f"data.fold: {k} folds need at least {k} training rows of every class; "
            f"class {classes[smallest]} has {counts[smallest]}"
        )
    folds = np.empty(n, np.int64)
    dealt = 0
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(inverse == c))
        folds[members] = (dealt + np.arange(len(members))) % k
        dealt += len(members)
    return folds
