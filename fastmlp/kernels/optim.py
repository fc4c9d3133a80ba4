"""Parameter updates, with the L2 term fused in.

For weights g = dW + lambda W; for biases g = db (biases are not regularised).
    plain SGD:   theta <- theta - alpha g
    momentum:    v <- mu v - alpha g;  theta <- theta + v
    Nesterov:    v <- mu v - alpha g;  theta <- theta + mu v - alpha g
"""

from numba import njit


@njit(cache=True)
def sgd_step(theta, grad, velocity, lr, l2, mu, nesterov):
    """The update above on a 1-D run of parameters, with g = grad + l2 theta (l2 = 0 for biases)."""
    if mu == 0:
        for i in range(theta.shape[0]):
            theta[i] -= lr * (grad[i] + l2 * theta[i])
    elif nesterov:
        for i in range(theta.shape[0]):
            g = grad[i] + l2 * theta[i]
            v = mu * velocity[i] - lr * g
            velocity[i] = v
            theta[i] += mu * v - lr * g
    else:
        for i in range(theta.shape[0]):
            v = mu * velocity[i] - lr * (grad[i] + l2 * theta[i])
            velocity[i] = v
            theta[i] += v


@njit(cache=True)
def sgd_update(params, grad, velocity, sizes, lr, l2, mu, nesterov):
    """One SGD step over every layer of the flat buffer: weights with L2, biases without."""
    zero = params.dtype.type(0.0)
    off = 0
    for k in range(sizes.shape[0] - 1):
        n_w = sizes[k] * sizes[k + 1]
        end = off + n_w
        sgd_step(params[off:end], grad[off:end], velocity[off:end], lr, l2, mu, nesterov)
        off, end = end, end + sizes[k + 1]
        sgd_step(params[off:end], grad[off:end], velocity[off:end], lr, zero, mu, nesterov)
        off = end
