"""Inverted dropout on hidden layers, with masks from a counter-based generator.

Forward, training only, rate p, keep probability q = 1 - p:
    r_ij ~ Bernoulli(q),  mask_ij = r_ij / q,  h~ = h * mask
so E[h~] = h and nothing changes at predict time. Backward: h~ = g(z) mask, so
    dl/dz = (dl/dh~) * mask * g'(z)
and the next layer's dW uses h~ (what it actually saw).

The mask of element e of minibatch `step` is a pure function of (seed, step, e) — a SplitMix64
hash — so a run is reproducible, a gradient check can hold the mask fixed (same seed and step),
and nothing but the step counter is state.
"""

import numpy as np

from .jit import kernel

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_2 = np.uint64(0x94D049BB133111EB)


@kernel(inline="always")
def splitmix64(x):
    """The SplitMix64 finaliser: a well-mixed 64-bit value from a counter."""
    x = x + GOLDEN
    x = (x ^ (x >> np.uint64(30))) * MIX_1
    x = (x ^ (x >> np.uint64(27))) * MIX_2
    return x ^ (x >> np.uint64(31))


@kernel(inline="always")
def dropout_key(seed, step):
    """The stream key of one minibatch."""
    return splitmix64(np.uint64(seed) * GOLDEN + np.uint64(step))


@kernel
def dropout_forward(h, mask, rate, key, first):
    """mask = Bernoulli(1 - rate) / (1 - rate) drawn from (key, first + e) for element e;
    h = h * mask in place. `first` separates the layers' streams."""
    n, m = h.shape
    key = np.uint64(key)  # a key handed in from Python arrives as int64; mixing signs would not hash
    first = np.uint64(first)
    q = 1.0 - rate
    scale = h.dtype.type(1.0 / q)
    zero = h.dtype.type(0.0)
    # Keep an element when its 53-bit uniform u < q.
    threshold = np.uint64(q * 9007199254740992.0)  # q * 2^53
    for i in range(n):
        for j in range(m):
            bits = splitmix64(key ^ (first + np.uint64(i * m + j))) >> np.uint64(11)
            if bits < threshold:
                mask[i, j] = scale
                h[i, j] = h[i, j] * scale
            else:
                mask[i, j] = zero
                h[i, j] = zero


@kernel
def undo_dropout(h, mask):
    """h = h~ / mask where an element was kept (so g' can be read off h = g(z)); dropped
    elements stay 0 (their gradient is multiplied by mask = 0 anyway)."""
    n, m = h.shape
    for i in range(n):
        for j in range(m):
            if mask[i, j] != 0:
                h[i, j] = h[i, j] / mask[i, j]


@kernel
def mul_mask(delta, mask):
    """delta = delta * mask, in place."""
    n, m = delta.shape
    for i in range(n):
        for j in range(m):
            delta[i, j] = delta[i, j] * mask[i, j]
