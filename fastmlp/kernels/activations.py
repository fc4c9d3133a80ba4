"""Hidden-layer activations g and their derivatives g', chosen by an integer code.

Every derivative here is written in terms of h = g(z) rather than z, because h is
what the forward pass keeps anyway (z is overwritten in place by h):

    identity    g(z) = z                    g' = 1
    relu        g(z) = max(z, 0)            g' = [h > 0]
    leaky_relu  g(z) = z if z > 0 else a z  g' = 1 if h > 0 else a   (a = 0.01; h and z share a sign)
    tanh        g(z) = tanh z               g' = 1 - h^2
    sigmoid     g(z) = 1 / (1 + e^-z)       g' = h (1 - h)

Codes are plain ints so kernels stay cacheable (no functions as arguments).
"""

import numpy as np

from .jit import kernel

IDENTITY = 0
RELU = 1
LEAKY_RELU = 2
TANH = 3
SIGMOID = 4

LEAKY_SLOPE = 0.01

# The one place that maps names to codes.
ACTIVATION_CODES = {
    "identity": IDENTITY,
    "relu": RELU,
    "leaky_relu": LEAKY_RELU,
    "tanh": TANH,
    "sigmoid": SIGMOID,
}


@kernel
def add_bias_activate(z, b, code):
    """h = g(z + b), row-broadcast bias, written over z in place (one pass over memory)."""
    n, m = z.shape
    zero = z.dtype.type(0.0)
    one = z.dtype.type(1.0)
    slope = z.dtype.type(LEAKY_SLOPE)
    if code == IDENTITY:
        for i in range(n):
            for j in range(m):
                z[i, j] = z[i, j] + b[j]
    elif code == RELU:
        for i in range(n):
            for j in range(m):
                v = z[i, j] + b[j]
                z[i, j] = v if v > zero else zero
    elif code == LEAKY_RELU:
        for i in range(n):
            for j in range(m):
                v = z[i, j] + b[j]
                z[i, j] = v if v > zero else slope * v
    elif code == TANH:
        for i in range(n):
            for j in range(m):
                z[i, j] = np.tanh(z[i, j] + b[j])
    else:  # SIGMOID, split by sign so exp never overflows
        for i in range(n):
            for j in range(m):
                v = z[i, j] + b[j]
                if v >= zero:
                    z[i, j] = one / (one + np.exp(-v))
                else:
                    e = np.exp(v)
                    z[i, j] = e / (one + e)


@kernel
def mul_derivative(delta, h, code):
    """delta = delta * g'(z), with g' written in terms of h = g(z), in place."""
    n, m = delta.shape
    zero = delta.dtype.type(0.0)
    one = delta.dtype.type(1.0)
    slope = delta.dtype.type(LEAKY_SLOPE)
    if code == IDENTITY:
        return
    elif code == RELU:
        for i in range(n):
            for j in range(m):
                if h[i, j] <= zero:
                    delta[i, j] = zero
    elif code == LEAKY_RELU:
        for i in range(n):
            for j in range(m):
                if h[i, j] <= zero:
                    delta[i, j] = slope * delta[i, j]
    elif code == TANH:
        for i in range(n):
            for j in range(m):
                delta[i, j] = delta[i, j] * (one - h[i, j] * h[i, j])
    else:  # SIGMOID
        for i in range(n):
            for j in range(m):
                delta[i, j] = delta[i, j] * h[i, j] * (one - h[i, j])
