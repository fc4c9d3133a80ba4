"""The epoch kernel's side of a fit: its buffers and optimizer unit (`Minibatches`), the choice of
forward path by minibatch size (row streaming), and how many BLAS threads the minibatches run on."""

from __future__ import annotations

import contextlib
import functools
from typing import NamedTuple

import numpy as np
import scipy.linalg.cython_blas  # noqa: F401  the BLAS Numba calls: loaded now so thread limits reach it
from threadpoolctl import threadpool_info, threadpool_limits

from .kernels.blas import SMALL_GEMM
from .kernels.epoch import train_batches
from .kernels.layout import zeros_aligned
from .kernels.optim import LR, plain_sgd
from .kernels.rows import dense_or_csr, is_csr, union_room
from .kernels.sparse import settle, train_batches_sparse
from .workers import Workers, split_workers

# Minibatch sizes (least, most) that take the row-streaming forward kernel (dense.py): with a
# handful of rows BLAS spends more time packing W than multiplying it, and below 5 rows it is
# quick again. Within such a minibatch only layers of more than ROW_STREAMING_WORK multiply-adds
# take it; smaller ones stay on OpenBLAS's unpacked small-matrix path (blas.SMALL_GEMM). Chosen
# on an Intel AVX-512 machine; the measurements, and how they differ on an AVX2 EPYC, are in
# docs/PERFORMANCE.md ("Choices in the code").
ROW_STREAMING = (5, 12)
ROW_STREAMING_WORK = SMALL_GEMM


def row_streaming(batch_size):
    """Whether minibatches of batch_size rows take the row-streaming forward (ROW_STREAMING)."""
    return ROW_STREAMING[0] <= batch_size <= ROW_STREAMING[1]


# OpenBLAS core types with small-matrix kernels (its AVX-512 ones, chosen from the CPU's flags when
# the library loads): there a product of at most blas.SMALL_GEMM multiply-adds runs unpacked, and
# the workers' forward products of a small minibatch (half a layer each) go to BLAS; on the others
# (AVX2: Haswell, Zen) BLAS packs W for every product, and the row-streaming kernel takes them
# all (docs/PERFORMANCE.md, "Both cores").
SMALL_MATRIX_CORES = ("skylakex", "cooperlake", "sapphirerapids")


@functools.cache
def blas_small_matrix_kernels() -> bool:
    """Whether the BLAS the kernels call (SciPy's) has small-matrix kernels; a BLAS other than
    OpenBLAS is taken to multiply small products well."""
    libraries = [i for i in threadpool_info() if i.get("internal_api") == "openblas"]
    scipy_own = [i for i in libraries if "scipy.libs" in i.get("filepath", "")]
    for info in scipy_own or libraries:
        return str(info.get("architecture", "")).lower() in SMALL_MATRIX_CORES
    return True


def workers_stream_above(batch_size):
    """The workers' stream_above (kernels/split.py): for minibatches of ROW_STREAMING sizes, the
    products too large for BLAS's small-matrix kernels, or every product where it has none."""
    if not row_streaming(batch_size):
        return np.empty(0, np.int64)
    return np.array([ROW_STREAMING_WORK if blas_small_matrix_kernels() else 0], np.int64)


# Below this many rows a minibatch runs its BLAS calls (the backward products) on one thread: a
# second thread brings nothing to products that small, and an idle OpenBLAS pool would only
# spin; every larger minibatch keeps the process's threads (docs/PERFORMANCE.md).
BLAS_THREADED_BATCH = 9


def blas_threads_limit(threads):
    """A context running BLAS on `threads` threads; None leaves the process's setting (and skips
    threadpoolctl's scan of the loaded libraries, a few milliseconds per call)."""
    if threads is None:
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


class EpochSums(NamedTuple):
    """Running sums over an epoch's minibatches, as the epoch kernel returns them."""

    loss: float  # sum over minibatches of J_data times the minibatch's weight total
    correct: int
    weight: float
    samples: int

    def plus(self, other):
        return EpochSums(*(a + b for a, b in zip(self, other, strict=True)))


NO_SUMS = EpochSums(0.0, 0, 0.0, 0)


class EpochData(NamedTuple):
    """The training set as the epoch kernel reads it (kernels/epoch.py's `data`)."""

    X: np.ndarray  # dense rows, or an empty (0, n_features) array when csr holds them
    y_class: np.ndarray  # class indices, or empty when the loss reads targets
    y_target: np.ndarray  # float targets, or empty when the loss reads class indices
    w: np.ndarray  # per-sample weights, or empty: all 1
    csr: tuple  # (values, indices, indptr) of sparse rows, or empty arrays (kernels/rows.py)


class MinibatchBuffers(NamedTuple):
    """One minibatch's worth of every array the epoch kernel writes (its `buffers`)."""

    x: np.ndarray  # the gathered rows, flat
    y_class: np.ndarray  # their class indices (empty when the loss reads targets)
    y_target: np.ndarray  # their targets (empty when the loss reads class indices)
    w: np.ndarray  # their weights (empty: unweighted)
    acts: np.ndarray  # h^1..h^L per row (kernels/layout.py)
    deltas: np.ndarray  # delta^1..delta^L per row
    masks: np.ndarray  # dropout masks, laid out like acts (empty without dropout)
    grad: np.ndarray  # the gradient, shaped like the parameters


class LazyRows(NamedTuple):
    """The sparse first layer's bookkeeping (kernels/sparse.py's `lazy`)."""

    last: np.ndarray  # per input column: the epoch's step its row is up to date at
    slot: np.ndarray  # per input column: its place in the minibatch's union of columns, or -1
    cols: np.ndarray  # the union's columns
    dWU: np.ndarray  # the union's gradient rows
    drift: np.ndarray  # Adam's drift sums, one per step of an epoch (and one for its start)
    clock: np.ndarray  # [1 when every row is up to date, the last step taken]
    run: np.ndarray  # [SGD's alpha lambda of the pending steps, or -1]

    @classmethod
    def for_csr(cls, indptr, n_in, fan_out, batch_size, n_batches, dtype):
        """Sized for any minibatch of batch_size rows (rows.union_room) and an epoch of n_batches."""
        slot, cols, dWU = union_room(indptr, n_in, fan_out, batch_size, dtype)
        clock, run = np.array([1, 0], np.int64), np.array([-1.0])
        return cls(np.zeros(n_in, np.int64), slot, cols, dWU, np.zeros(n_batches + 1), clock, run)


class Minibatches:
    """The epoch kernel's buffers and optimizer unit, allocated once per fit; one call per run of
    minibatches.

    X: dense rows, or a scipy sparse matrix (its rows stay sparse: the first layer works on their
    non-zeros, kernels/sparse.py). y = (y_class, y_target) and w (empty: unweighted) as model.check_y and
    model.check_weights give them. opt: an optimizer unit to continue (its state kept), else a
    fresh one from `optimizer`. l2_per_weight: lambda = l2 / W_B per minibatch (kernels/epoch.py)."""

    def __init__(
        self,
        model,
        X,
        y,
        w,
        batch_size,
        l2,
        optimizer,
        dropout=0.0,
        seed=0,
        opt=None,
        l2_per_weight=False,
        workers=None,
    ):
        self.model, self.batch_size = model, batch_size
        self.n = X.shape[0]
        self.n_batches = -(-self.n // batch_size)
        dtype = model.dtype
        y_class, y_target = y
        self.sparse = is_csr(X)
        X, csr = dense_or_csr(X, dtype)
        self.data = EpochData(X, y_class, y_target, w, csr)
        self.opt = opt if opt is not None else optimizer.kernel_unit(dtype, model.params.size, 0.0)
        # Hyperparameters cast to the parameters' dtype: a Python float would upcast float32.
        self.l2, self.l2_per_weight = dtype.type(l2), bool(l2_per_weight)
        self.dropout, self.seed = float(dropout), int(seed)
        # [most work kept on BLAS] selects the row-streaming forward for the larger layers; empty,
        # BLAS for all (kernels/network.py).
        self.stream_above = np.array([ROW_STREAMING_WORK] if row_streaming(batch_size) else [], np.int64)
        # Plain SGD (no momentum) is taken inside the dW GEMMs: slots for its GEMM coefficients.
        self.sgd_step = np.zeros(2 if plain_sgd(self.opt) and not self.sparse else 0, dtype)
        # Zeros, not zeros_like: its pages are mapped when first written, so a sparse input's
        # first-layer block of it, which the sparse kernels never write (they keep the touched
        # rows' gradient apart), takes no memory.
        grad = zeros_aligned(model.params.size, dtype)
        acts, deltas, masks = model.workspace(batch_size, dropout=dropout > 0)
        # Small dense minibatches run on every core, each worker owning a block of rows of every W
        # (workers.py); workers=N forces N (1: the one-worker kernel).
        if workers is None:
            workers = split_workers(batch_size, self.sparse, dropout)
        if workers > 1 and (self.sparse or dropout > 0):
            raise ValueError("the workers' kernel takes dense rows without dropout")
        self.workers = Workers(workers, dtype, deltas.size) if workers > 1 else None
        if self.workers is not None:
            self.stream_above = workers_stream_above(batch_size)
        self.buffers = MinibatchBuffers(
            np.empty(0 if self.sparse else batch_size * model.n_inputs, dtype),
            np.empty(batch_size if y_class.shape[0] else 0, np.int64),
            np.empty((batch_size if y_target.shape[0] else 0, model.n_outputs), dtype),
            np.empty(batch_size if w.shape[0] else 0, dtype),
            acts,
            deltas,
            masks,
            grad,
        )
        # The kernel's leading arguments as it takes them (plain tuples: one compiled type for
        # every caller), made once: run() changes only hyper[LR], in place.
        self._kernel_head = (
            *model.kernel_args,
            tuple(self.opt),
            self.l2,
            self.l2_per_weight,
            tuple(self.data),
            tuple(self.buffers),
        )
        self.lazy = None
        if self.sparse:
            self.lazy = LazyRows.for_csr(
                csr[2], model.n_inputs, model.sizes[1], batch_size, self.n_batches, dtype
            )
            self._kernel_head += (tuple(self.lazy),)

    @property
    def blas_threads(self):
        """BLAS threads for this batch size (None: leave the user's setting alone)."""
        return 1 if self.batch_size < BLAS_THREADED_BATCH or self.workers is not None else None

    def settle(self):
        """Every pending step taken, in place: for a run that stops mid-epoch (an epoch's last
        run settles by itself)."""
        if self.lazy is not None:
            settle(tuple(self.opt), self.model.params, self.model.layout, self.l2, tuple(self.lazy))

    def settled(self):
        """(parameters, optimizer state) as they truly are now, for a checkpoint: the live arrays,
        or mid-epoch with sparse rows pending, copies with every pending step taken. The run itself
        goes on from its pending rows, so when checkpoints are written does not change it."""
        if self.lazy is None or self.lazy.clock[0] == 1:
            return self.model.params, self.opt.state
        params, opt = self.model.params.copy(), (self.opt.code, self.opt.hyper, self.opt.state.copy())
        lazy = tuple(a.copy() for a in self.lazy)
        settle(opt, params, self.model.layout, self.l2, lazy)
        return params, opt[2]

    def run(self, order, lr, first, last, step0):
        """Minibatches first..last-1 of the epoch `order` (step0: the run's step of `first`): their
        EpochSums."""
        self.opt.hyper[LR] = lr
        if self.sparse:
            sums = train_batches_sparse(
                *self._kernel_head, order, self.batch_size, first, last, self.dropout, self.seed, step0
            )
            return EpochSums(*sums)
        if self.workers is not None:
            small_gemm = SMALL_GEMM if blas_small_matrix_kernels() else 0
            tail = (order, self.batch_size, first, last, self.stream_above, small_gemm, self.sgd_step)
            return EpochSums(*self.workers.run(self._kernel_head, tail))
        sums = train_batches(
            *self._kernel_head,
            order,
            self.batch_size,
            first,
            last,
            self.dropout,
            self.seed,
            step0,
            self.stream_above,
            self.sgd_step,
        )
        return EpochSums(*sums)
