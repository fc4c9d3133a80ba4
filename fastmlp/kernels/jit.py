"""The one decorator every kernel takes: numba.njit with the options they all share.

    cache=True             compiled code is kept on disk (which folder: see __init__.py)
    no_cfunc_wrapper=True  Numba would also build, for every function, a C-ABI wrapper that only
                           first-class function values use; kernels are called from Python or by
                           other kernels, never through a function pointer, so that wrapper is
                           compile time for nothing (the first `fastmlp train` on an empty cache
                           measured about 8% shorter without it)

Per-kernel options (fastmath, error_model) are passed through: `@kernel(fastmath=...)`.
"""

from numba import njit

SHARED = {"cache": True, "no_cfunc_wrapper": True}


def kernel(fn=None, **options):
    """@kernel or @kernel(**options): njit with SHARED plus options."""
    jit = njit(**SHARED, **options)
    return jit if fn is None else jit(fn)
