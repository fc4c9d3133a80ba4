"""Parameter updates over the flat buffer, with the L2 term fused in.

For weights g = dW + lambda W; for biases g = db (biases are not regularised).
    plain SGD:   theta <- theta - alpha g
    momentum:    v <- mu v - alpha g;  theta <- theta + v
    Nesterov:    v <- mu v - alpha g;  theta <- theta + mu v - alpha g
"""

from numba import njit


@njit(cache=True)
def _update_segment(theta, grad, velocity, start, stop, lr, l2, mu, nesterov):
    """The update above on theta[start:stop], with L2 coefficient l2 (0 for biases)."""
    if mu == 0:
        for i in range(start, stop):
            theta[i] -= lr * (grad[i] + l2 * theta[i])
    elif nesterov:
        for i in range(start, stop):
            g = grad[i] + l2 * theta[i]
            v = mu * velocity[i] - lr * g
            velocity[i] = v
            theta[i] += mu * v - lr * g
    else:
        for i in range(start, stop):
            v = mu * velocity[i] - lr * (grad[i] + l2 * theta[i])
            velocity[i] = v
            theta[i] += v


@njit(cache=True)
def sgd_update(params, grad, velocity, sizes, lr, l2, mu, nesterov):
    """One SGD step over every layer: weights get g = dW + l2 W, biases g = db."""
    zero = params.dtype.type(0.0)
    off = 0
    for k in range(sizes.shape[0] - 1):
        n_w = sizes[k] * sizes[k + 1]
        _update_segment(params, grad, velocity, off, off + n_w, lr, l2, mu, nesterov)
        off += n_w
        _update_segment(params, grad, velocity, off, off + sizes[k + 1], lr, zero, mu, nesterov)
        off += sizes[k + 1]
