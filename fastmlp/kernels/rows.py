"""Rows as the kernels take them: a dense matrix, or a CSR one; minibatch rows and labels
gathered into their buffers.

`csr` is always the triple (values, indices, indptr): for a dense X all three are empty (no row
pointers) and X holds the rows; for a CSR matrix X is an empty (0, n_features) array that only
carries the width, and the rows are never densified: the first layer works on their non-zeros
(sparse.py). Dense and sparse inputs thus reach the kernels with the same types, and one compiled
kernel per dtype serves both (jit.py: one specialisation per dtype). dense_or_csr (plain Python)
turns what a caller holds into that pair.
"""

import sys

import numpy as np

from .jit import kernel


@kernel(inline="always")
def is_sparse(csr):
    """Whether csr holds a CSR matrix (a dense input has no row pointers)."""
    return csr[2].shape[0] > 0


@kernel(inline="always")
def n_rows(X, csr):
    """How many rows X holds (a CSR matrix: its row pointers, less one)."""
    if not is_sparse(csr):
        return X.shape[0]
    return csr[2].shape[0] - 1


@kernel
def gather_rows(X, order, start, x):
    """x[r] = X[order[start + r]] for the x.shape[0] rows of x (dense rows: sparse ones are
    never gathered, sparse.py)."""
    for r in range(x.shape[0]):
        src = order[start + r]
        for j in range(x.shape[1]):
            x[r, j] = X[src, j]


@kernel(inline="always")
def gather_classes(y, order, start, m, yb):
    """yb[r] = y[order[start + r]] for r < m (class indices); nothing for empty labels (the kind
    the loss does not read: MLP.check_y)."""
    if y.shape[0] == 0:
        return
    for r in range(m):
        yb[r] = y[order[start + r]]


@kernel(inline="always")
def gather_targets(y, order, start, m, yb):
    """yb[r, :] = y[order[start + r], :] for r < m (float targets), element by element (Numba's
    row assignment would compile a shape-mismatch message, seconds of start-up); nothing for
    empty labels."""
    if y.shape[0] == 0:
        return
    for r in range(m):
        src = order[start + r]
        for j in range(y.shape[1]):
            yb[r, j] = y[src, j]


@kernel(inline="always")
def gather_labels(y_class, y_target, w, order, start, m, yb_class, yb_target, wb):
    """A minibatch's labels and weights into their buffers (rows order[start..start+m-1]);
    returns its weight total W_B (m when unweighted)."""
    gather_classes(y_class, order, start, m, yb_class)
    gather_targets(y_target, order, start, m, yb_target)
    if w.shape[0] == 0:
        return float(m)
    total = 0.0
    for r in range(m):
        wb[r] = w[order[start + r]]
        total += wb[r]
    return total


def no_csr(dtype):
    """The csr triple of a dense input: three empty arrays of the types a CSR matrix's have."""
    return np.empty(0, dtype), np.empty(0, np.int64), np.empty(0, np.int64)


def is_csr(X):
    """Whether X is a scipy sparse matrix (plain Python: no import of scipy.sparse for it)."""
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(X)


def canonical_csr(X, dtype=None):
    """A scipy sparse matrix as CSR (in dtype when given), sorted, with repeated entries of a cell
    summed (what they mean); a matrix already so is not copied."""
    X = sys.modules["scipy.sparse"].csr_matrix(X, dtype=dtype)
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def dense_or_csr(X, dtype):
    """(X, csr) as the kernels take rows: a dense X and no_csr(dtype), or for a scipy sparse matrix
    an empty (0, n_features) X and the CSR triple (values in dtype, int64 indices and row
    pointers, so that every CSR matrix has one type); see kernels/rows.py."""
    # Only scipy.sparse makes sparse matrices: if nobody imported it, X is dense, and nothing
    # here needs to import it.
    if not is_csr(X):
        return X, no_csr(dtype)
    X = canonical_csr(X)
    csr = (
        np.ascontiguousarray(X.data, dtype),
        np.ascontiguousarray(X.indices, np.int64),
        np.ascontiguousarray(X.indptr, np.int64),
    )
    return np.empty((0, X.shape[1]), dtype), csr


def union_room(indptr, n_in, fan_out, rows, dtype):
    """(slot, cols, dWU) with room for the union of columns of any `rows` rows of a CSR matrix
    with row pointers indptr (at most the non-zeros of its `rows` longest rows, and at most n_in
    columns): kernels/sparse.py's bookkeeping of the first layer's touched rows. Empty arrays of
    the same types for a dense input (no row pointers)."""
    if indptr.shape[0] == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, fan_out), dtype)
    lengths = np.diff(indptr)
    if lengths.shape[0] > rows:
        lengths = np.partition(lengths, lengths.shape[0] - rows)[-rows:]
    most = max(int(min(n_in, lengths.sum())), 1)
    return np.full(n_in, -1, np.int64), np.empty(most, np.int64), np.empty((most, fan_out), dtype)
