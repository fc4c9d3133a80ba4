"""Gathering training rows into a dense minibatch buffer, from a dense matrix or a CSR one.

A sparse matrix (scipy's CSR: values, column indices, row pointers) is never densified whole:
each minibatch's rows are written into the dense buffer x the GEMMs read, zeros first, then the
stored values of that row,

    x[r, :] = 0;  x[r, indices[p]] = values[p]  for p in indptr[src] .. indptr[src + 1] - 1

`csr` is always the triple (values, indices, indptr): for a dense X all three are empty (no row
pointers) and X holds the rows; for a CSR matrix X is an empty (0, n_features) array that only
carries the width. Dense and sparse inputs thus reach the kernels with the same types, and one
compiled epoch kernel per dtype serves both (jit.py: one specialisation per dtype).
dense_or_csr (plain Python) turns what a caller holds into that pair.
"""

import sys

import numpy as np

from .jit import kernel


@kernel(inline="always")
def csr_row(csr, src, xrow):
    """xrow = row src of the CSR matrix csr = (values, indices, indptr), densified."""
    values, indices, indptr = csr
    for j in range(xrow.shape[0]):
        xrow[j] = 0
    for p in range(indptr[src], indptr[src + 1]):
        xrow[indices[p]] = values[p]


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
def gather_rows(X, csr, order, start, x):
    """x[r] = X[order[start + r]] for the x.shape[0] rows of x."""
    if not is_sparse(csr):
        for r in range(x.shape[0]):
            src = order[start + r]
            for j in range(x.shape[1]):
                x[r, j] = X[src, j]
    else:
        for r in range(x.shape[0]):
            csr_row(csr, order[start + r], x[r])


@kernel
def row_block(X, csr, start, stop, xbuf):
    """Rows start..stop-1 as a dense (stop - start, n_features) array: a view of X when dense,
    else densified into xbuf (a flat buffer of at least that many values)."""
    if not is_sparse(csr):
        return X[start:stop]
    m = stop - start
    x = xbuf[: m * X.shape[1]].reshape(m, X.shape[1])
    for r in range(m):
        csr_row(csr, start + r, x[r])
    return x


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


def no_csr(dtype):
    """The csr triple of a dense input: three empty arrays of the types a CSR matrix's have."""
    return np.empty(0, dtype), np.empty(0, np.int64), np.empty(0, np.int64)


def dense_or_csr(X, dtype):
    """(X, csr) as the kernels take rows: a dense X and no_csr(dtype), or for a scipy sparse matrix
    an empty (0, n_features) X and the CSR triple (values in dtype, int64 indices and row
    pointers, so that every CSR matrix has one type); see kernels/rows.py."""
    # Only scipy.sparse makes sparse matrices: if nobody imported it, X is dense, and nothing
    # here needs to import it.
    sparse = sys.modules.get("scipy.sparse")
    if sparse is None or not sparse.issparse(X):
        return X, no_csr(dtype)
    X = sparse.csr_matrix(X)  # CSC and others become CSR once; a CSR matrix is not copied
    if not X.has_canonical_format:  # repeated entries of a cell mean their sum
        X = X.copy()
        X.sum_duplicates()
    csr = (
        np.ascontiguousarray(X.data, dtype),
        np.ascontiguousarray(X.indices, np.int64),
        np.ascontiguousarray(X.indptr, np.int64),
    )
    return np.empty((0, X.shape[1]), dtype), csr
