"""Hand-derived math as compiled kernels (jit.kernel: numba.njit, cached on disk): arrays, scalars and
tuples of them in, nothing else.

activations  g and g' by code          losses   output loss + delta by code
dense        one layer, fwd/bwd        optim    optimizer units (SGD, Adam): begin_step, update
dropout      inverted dropout masks    layout   the flat buffer's offsets, computed once
network      the whole net: forward, backward, loss and gradient (minibatch, full batch)
epoch        a run of minibatches in one call
rows         minibatch rows gathered from a dense or a CSR matrix
fpmode       flush-to-zero while training (subnormal floats are slow)
jit          the one decorator, `kernel`
blas         a GEMM with free alpha and beta: plain SGD's step inside the dW product
split        the epoch on several cores: workers owning column blocks
sync         the workers' spin barrier (atomic counters)

cache        where compiled kernels come from: the user's cache, the prebuilt ones that ship

Where the compiled kernels are cached: Numba keys a cached function on its own source file only,
so after a change to a kernel another kernel calls (optim.update, called by the epoch kernel),
the caller's cache would silently keep the old code. The cache folder is therefore named after a
hash of every kernel source file here: any change to any kernel starts a fresh cache. It lives
under $NUMBA_CACHE_DIR when that is set, else the user's cache folder ($XDG_CACHE_HOME or
~/.cache)/fastmlp/numba — never inside the installed package, which may be read-only. Behind it
stand the prebuilt kernels (cache.py), read in place from the package.
"""

import os
from pathlib import Path

import numba

from .cache import sources_hash


def cache_dir(sources: Path = Path(__file__).parent) -> str:
    """The cache folder for this exact set of kernel sources (the .py files in `sources`)."""
    base = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "fastmlp",
        "numba",
    )
    return os.path.join(base, f"kernels-{sources_hash(sources)}")


# Numba picks a function's cache folder when its decorator runs: point it at ours while the kernel
# modules are imported, then give the user's setting back.
_user_cache_dir = numba.config.CACHE_DIR
numba.config.CACHE_DIR = cache_dir()
try:
    from . import (  # noqa: F401
        activations,
        blas,
        dense,
        dropout,
        epoch,
        evaluate,
        fpmode,
        layout,
        losses,
        network,
        optim,
        rows,
        sparse,
        split,
        sync,
    )
finally:
    numba.config.CACHE_DIR = _user_cache_dir

from .activations import ACTIVATION_CODES, IDENTITY, LEAKY_RELU, LEAKY_SLOPE, RELU, SIGMOID, TANH  # noqa: E402
from .losses import MSE, POISSON, SIGMOID_BCE, SOFTMAX_CE  # noqa: E402
from .optim import ADAM, OPTIMIZER_CODES, SGD  # noqa: E402

__all__ = [
    "ACTIVATION_CODES",
    "IDENTITY",
    "LEAKY_RELU",
    "LEAKY_SLOPE",
    "RELU",
    "SIGMOID",
    "TANH",
    "MSE",
    "POISSON",
    "SIGMOID_BCE",
    "SOFTMAX_CE",
    "ADAM",
    "OPTIMIZER_CODES",
    "SGD",
    "cache_dir",
]
