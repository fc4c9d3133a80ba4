"""The one decorator every kernel takes: numba.njit with the options they all share.

    no_cfunc_wrapper=True  Numba would also build, for every function, a C-ABI wrapper that only
                           first-class function values use; kernels are called from Python or by
                           other kernels, never through a function pointer, so that wrapper is
                           compile time for nothing
    disk cache             compiled code is kept on disk and looked up first in the user's cache,
                           then in the prebuilt kernels that ship with fastmlp (cache.py)

Per-kernel options (fastmath, error_model, inline) are passed through: `@kernel(fastmath=...)`.
Small helpers (views of the flat buffer, weight sums, hashes, row gathers) take
`inline="always"`: Numba splices them into each caller instead of compiling each into a module of
its own that every caller then links and optimises again, which makes a cold compile shorter
(docs/PERFORMANCE.md). Larger kernels stay separate: spliced in, their bodies would be typed again
at every call site, and the compile measured longer.

Specialisations: Numba compiles a kernel once per combination of argument types, and a call from
Python compiles the whole tree of kernels below it. The kernels are therefore called with the
same types whatever the run: an option that is off is an empty array, never None (no dropout
masks, no sample weights, no CSR rows, the label kind the loss does not read). A run's types then
differ only by the dtype (float32 or float64), and one compiled epoch kernel per dtype serves
every task, optimizer and option.
"""

from numba import njit

from . import cache

SHARED = {"no_cfunc_wrapper": True}


def kernel(fn=None, **options):
    """@kernel or @kernel(**options): njit with SHARED plus options, cached (cache.py)."""

    def decorate(f):
        dispatcher = njit(**SHARED, **options)(f)
        cache.enable(dispatcher)
        return dispatcher

    return decorate if fn is None else decorate(fn)
