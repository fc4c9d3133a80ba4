"""The BLAS calls np.dot cannot make: a GEMM with its own alpha and beta, on row-major arrays that
may be column slices of larger ones.

    gemm:           C <- coef[0] op(A) op(B) + coef[1] C,   op(X) = X or X^T
    sgd_gemm_step:  W <- coef[1] W + coef[0] h_prev^T delta

With coef = [-alpha, 1 - alpha l2], sgd_gemm_step is plain SGD with L2 (g = dW + l2 W,
dW = h_prev^T delta) taken inside the dW product: xGEMM computes C <- alpha' A B + beta C, and
takes alpha' and beta by pointer, here straight from coef (the epoch kernel writes it once per
minibatch). np.dot always passes alpha' = 1, beta = 0, so the step would otherwise write dW out
and read it back in a pass of its own (docs/PERFORMANCE.md, "Choices in the code", has the
measurement). np.dot also copies a column slice W[:, c0:c1] before multiplying; gemm hands
BLAS the slice in place, with its row stride as the leading dimension (the two-worker epoch,
split.py, multiplies such slices).

The call goes through numba_xxgemm, the same entry into SciPy's BLAS that Numba's own np.dot
uses, so the kernels calling it still cache to disk. A row-major matrix is the column-major
transpose of itself, so C = op(A) op(B) is handed over as C^T = op(B)^T op(A)^T.
"""

from numba import types
from numba.core.errors import TypingError
from numba.extending import overload
from numba.np.linalg import _BLAS, ensure_blas

from .jit import kernel

BLAS_KIND = {types.float32: "s", types.float64: "d"}

# OpenBLAS multiplies a GEMM of at most 100^3 multiply-adds without packing its operands, on
# builds with small-matrix kernels (its AVX-512 ones); larger ones are packed, and with beta
# other than 0 or 1 also pay a pass that scales C first. For minibatches of at most
# SMALL_GEMM_ROWS rows the step's GEMM is therefore taken in column blocks of W of at most
# SMALL_GEMM multiply-adds (a multiple of BLOCK_ALIGN columns: whole 64-byte lines); with more
# rows the blocks were slower than one GEMM, hence the row limit (docs/PERFORMANCE.md).
SMALL_GEMM = 1_000_000
BLOCK_ALIGN = 16
SMALL_GEMM_ROWS = 8


def gemm(A, B, C, coef, trans_a, trans_b):
    """C <- coef[0] op(A) op(B) + coef[1] C (compiled code only: see the overload)."""
    raise NotImplementedError("gemm runs inside compiled kernels only")


@overload(gemm)
def _gemm(A, B, C, coef, trans_a, trans_b):
    for a in (A, B, C):
        if not isinstance(a, types.Array) or a.ndim != 2 or a.dtype != C.dtype:
            raise TypingError("gemm takes 2-D arrays of one dtype")
    if not isinstance(coef, types.Array) or coef.ndim != 1 or coef.dtype != C.dtype:
        raise TypingError("gemm: coef is a 1-D array [alpha', beta] in C's dtype")
    if C.dtype not in BLAS_KIND:
        raise TypingError(f"gemm: no BLAS GEMM for {C.dtype}")
    ensure_blas()
    xxgemm = _BLAS().numba_xxgemm(C.dtype)
    kind = ord(BLAS_KIND[C.dtype])

    def impl(A, B, C, coef, trans_a, trans_b):
        n, m = C.shape
        k = A.shape[0] if trans_a else A.shape[1]
        if n == 0 or m == 0:
            return
        if k == 0:  # BLAS refuses k = 0: no products, only the scaling of C (not read when beta = 0)
            if coef[1] == 0:
                C[:, :] = 0
            else:
                C *= coef[1]
            return
        size = C.itemsize
        # Rows may be strided (column slices); their elements may not.
        if (A.shape[1] > 1 and A.strides[1] != size) or (B.shape[1] > 1 and B.strides[1] != size):
            raise ValueError("gemm: rows must be contiguous")
        if m > 1 and C.strides[1] != size:
            raise ValueError("gemm: rows must be contiguous")
        status = xxgemm(
            kind,
            ord("t") if trans_b else ord("n"),
            ord("t") if trans_a else ord("n"),
            m,
            n,
            k,
            coef[:1].ctypes,
            B.ctypes,
            max(1, B.strides[0] // size),
            A.ctypes,
            max(1, A.strides[0] // size),
            coef[1:].ctypes,
            C.ctypes,
            max(1, C.strides[0] // size),
        )
        if status != 0:  # SciPy's BLAS could not be loaded: C is unchanged, so stop here
            raise RuntimeError("BLAS GEMM unavailable (scipy.linalg.cython_blas)")

    return impl


@kernel(inline="always")
def block_width(rows, k, cols, small_gemm):
    """The width of the column blocks a rows x k by k x cols product takes so that each block is
    at most small_gemm multiply-adds (BLAS's unpacked small-matrix path; a multiple of BLOCK_ALIGN
    columns: whole 64-byte lines); small_gemm = 0: one block, all cols."""
    if small_gemm <= 0:
        return max(cols, 1)
    return max(BLOCK_ALIGN, (small_gemm // max(rows * k, 1)) // BLOCK_ALIGN * BLOCK_ALIGN)


@kernel(inline="always")
def gemm_blocks(A, B, C, coef, trans_a, width):
    """gemm(A, B, C, coef, trans_a, False) in blocks of width columns of B and C."""
    for j0 in range(0, max(C.shape[1], 1), width):
        j1 = min(j0 + width, C.shape[1])
        gemm(A, B[:, j0:j1], C[:, j0:j1], coef, trans_a, False)


@kernel(inline="always")
def sgd_gemm_step(h_prev, delta, W, coef):
    """W <- coef[1] W + coef[0] h_prev^T delta, in column blocks of W small enough for BLAS's
    unpacked small-matrix path for minibatches of at most SMALL_GEMM_ROWS rows (see SMALL_GEMM)."""
    n, fan_in = h_prev.shape
    small = SMALL_GEMM if 0 < n <= SMALL_GEMM_ROWS else 0
    gemm_blocks(h_prev, delta, W, coef, True, block_width(fan_in, n, W.shape[1], small))
