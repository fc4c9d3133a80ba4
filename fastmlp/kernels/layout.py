"""The flat parameter buffer's layout, computed once per network and passed to every kernel.

params holds, for k = 1..L, W^k (fan_in x fan_out, row-major) then b^k. Gradient, optimizer
state and the per-row activation buffers share the same layout. `layout` is an (L, 5) int64
array, one row per layer:

    W_OFF    where W^k starts in params        B_OFF    where b^k starts (W_OFF + fan_in fan_out)
    FAN_IN   n_(k-1)                           FAN_OUT  n_k
    COL_OFF  n_1 + ... + n_(k-1): where layer k's block starts in an acts/deltas buffer, per row

Layer outputs h^1..h^L for n rows live one after another in `acts` (layer k's block at
n * COL_OFF), and the deltas delta^1..delta^L in `deltas` with the same offsets.
"""

import numpy as np

from .jit import kernel

W_OFF, B_OFF, FAN_IN, FAN_OUT, COL_OFF = range(5)


def make_layout(sizes) -> np.ndarray:
    """The (L, 5) layout of a network with layer widths sizes = [n_0, n_1, ..., n_L]."""
    sizes = [int(s) for s in sizes]
    layout = np.zeros((len(sizes) - 1, 5), np.int64)
    off = col = 0
    for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        layout[k] = (off, off + fan_in * fan_out, fan_in, fan_out, col)
        off += fan_in * fan_out + fan_out
        col += fan_out
    return layout


# Bytes in a cache line: buffers that several workers write (kernels/split.py) start on one, so
# that a worker's block of columns, a whole number of lines long, shares no line with another's.
CACHE_LINE = 64


def zeros_aligned(n: int, dtype) -> np.ndarray:
    """np.zeros(n, dtype) starting on a cache-line boundary (NumPy aligns to 16 bytes only)."""
    dtype = np.dtype(dtype)
    raw = np.zeros(n * dtype.itemsize + CACHE_LINE, np.uint8)
    skip = -raw.ctypes.data % CACHE_LINE
    return raw[skip : skip + n * dtype.itemsize].view(dtype)


def n_params(layout: np.ndarray) -> int:
    """Length of the flat buffer."""
    return int(layout[-1, B_OFF] + layout[-1, FAN_OUT])


def row_width(layout: np.ndarray) -> int:
    """n_1 + ... + n_L: the per-row size of an acts or deltas buffer."""
    return int(layout[-1, COL_OFF] + layout[-1, FAN_OUT])


@kernel(inline="always")
def layer_params(params, layout, k):
    """Views W^(k+1), b^(k+1) (0-based k) into the flat buffer."""
    w0, b0, fan_in, fan_out = layout[k, W_OFF], layout[k, B_OFF], layout[k, FAN_IN], layout[k, FAN_OUT]
    return params[w0:b0].reshape(fan_in, fan_out), params[b0 : b0 + fan_out]


@kernel(inline="always")
def layer_rows(buf, layout, n, k):
    """View of layer k+1's (n x n_(k+1)) block in an acts/deltas buffer."""
    start = n * layout[k, COL_OFF]
    fan_out = layout[k, FAN_OUT]
    return buf[start : start + n * fan_out].reshape(n, fan_out)
