"""One dense layer, forward next to backward (batch as rows).

forward:   h = g(h_prev W + b)                      (GEMM, then one fused pass)
backward:  dW = h_prev^T delta                      (GEMM: the sum over the batch of outer products h delta^T)
           db = sum_i delta_i                       (column sums)
           delta_prev = (delta W^T) * g'(z_prev)    (GEMM, then one pass; g' from h_prev)

The L2 term lambda W is not added here: the optimizer fuses it into the update,
and MLP.loss_and_gradients adds it for callers who want dW itself.
"""

import numpy as np
from numba import njit

from .activations import add_bias_activate, mul_derivative


@njit(cache=True)
def dense_forward(h_prev, W, b, code, h):
    """h = g(h_prev W + b), written into h."""
    np.dot(h_prev, W, h)
    add_bias_activate(h, b, code)


@njit(cache=True)
def dense_backward(h_prev, delta, dW, db):
    """dW = h_prev^T delta; db = column sums of delta."""
    np.dot(h_prev.T, delta, dW)
    n, m = delta.shape
    for j in range(m):
        db[j] = 0
    for i in range(n):
        for j in range(m):
            db[j] += delta[i, j]


@njit(cache=True)
def delta_backward(delta, W, h_prev, code, delta_prev):
    """delta_prev = (delta W^T) * g'(z_prev), with g' taken from h_prev = g(z_prev)."""
    np.dot(delta, W.T, delta_prev)
    mul_derivative(delta_prev, h_prev, code)
