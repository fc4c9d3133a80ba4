"""The one BLAS call np.dot cannot make: a GEMM with its own alpha and beta.

    sgd_gemm_step:  W <- coef[1] W + coef[0] h_prev^T delta

with coef = [-alpha, 1 - alpha l2] is plain SGD with L2 (g = dW + l2 W, dW = h_prev^T delta)
taken inside the dW product: xGEMM computes C <- alpha' A B + beta C, and takes alpha' and beta
by pointer, here straight from coef (the epoch kernel writes it once per minibatch).
np.dot always passes alpha' = 1, beta = 0, so the step would otherwise write dW out and read it
back in a pass of its own (docs/PERFORMANCE.md, "Choices in the code", has the measurement).

The call goes through numba_xxgemm, the same entry into SciPy's BLAS that Numba's own np.dot
uses, so the kernels calling it still cache to disk. Row-major arrays are handed to the
column-major BLAS as their transposes: C^T = delta^T h_prev, delta as stored (n_out x n, 'n'),
h_prev transposed ('t').
"""

from numba import types
from numba.core.errors import TypingError
from numba.extending import overload
from numba.np.linalg import _BLAS, ensure_blas

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


def sgd_gemm_step(h_prev, delta, W, coef):
    """W <- coef[1] W + coef[0] h_prev^T delta (compiled code only: see the overload)."""
    raise NotImplementedError("sgd_gemm_step runs inside compiled kernels only")


@overload(sgd_gemm_step)
def _sgd_gemm_step(h_prev, delta, W, coef):
    for a in (h_prev, delta, W):
        if not isinstance(a, types.Array) or a.ndim != 2 or a.layout != "C" or a.dtype != W.dtype:
            raise TypingError("sgd_gemm_step takes C-contiguous 2-D arrays of one dtype")
    if not isinstance(coef, types.Array) or coef.ndim != 1 or coef.dtype != W.dtype:
        raise TypingError("sgd_gemm_step: coef is a 1-D array [alpha', beta] in W's dtype")
    if W.dtype not in BLAS_KIND:
        raise TypingError(f"sgd_gemm_step: no BLAS GEMM for {W.dtype}")
    ensure_blas()
    xxgemm = _BLAS().numba_xxgemm(W.dtype)
    kind = ord(BLAS_KIND[W.dtype])

    def impl(h_prev, delta, W, coef):
        n, fan_in = h_prev.shape
        fan_out = W.shape[1]
        if n == 0:  # BLAS refuses k = 0; no rows, no gradient: only the L2 decay
            W *= coef[1]
            return
        # Column blocks of W small enough for BLAS's unpacked small-matrix path (see SMALL_GEMM).
        width = fan_out
        if n <= SMALL_GEMM_ROWS:
            width = max(BLOCK_ALIGN, (SMALL_GEMM // (fan_in * n)) // BLOCK_ALIGN * BLOCK_ALIGN)
        for j0 in range(0, fan_out, width):
            j1 = min(j0 + width, fan_out)
            status = xxgemm(
                kind,
                ord("n"),
                ord("t"),
                j1 - j0,
                fan_in,
                n,
                coef[:1].ctypes,
                delta[:, j0:].ctypes,
                fan_out,
                h_prev.ctypes,
                fan_in,
                coef[1:].ctypes,
                W[:, j0:].ctypes,
                fan_out,
            )
            if status != 0:  # SciPy's BLAS could not be loaded: W is unchanged, so stop here
                raise RuntimeError("BLAS GEMM unavailable (scipy.linalg.cython_blas)")

    return impl
