"""Hand-derived math as @njit(cache=True) kernels: arrays, scalars and tuples of them in, nothing else.

activations  g and g' by code          losses   output loss + delta by code
dense        one layer, fwd/bwd        optim    optimizer units (SGD, Adam): begin_step, update
dropout      inverted dropout masks    layout   the flat buffer's offsets, computed once
network      the whole net: forward, backward, train_step, full-batch loss and gradient
epoch        a run of minibatches in one call
"""

from .activations import ACTIVATION_CODES, IDENTITY, LEAKY_RELU, LEAKY_SLOPE, RELU, SIGMOID, TANH
from .losses import MSE, SIGMOID_BCE, SOFTMAX_CE
from .optim import ADAM, OPTIMIZER_CODES, SGD

__all__ = [
    "ACTIVATION_CODES",
    "IDENTITY",
    "LEAKY_RELU",
    "LEAKY_SLOPE",
    "RELU",
    "SIGMOID",
    "TANH",
    "MSE",
    "SIGMOID_BCE",
    "SOFTMAX_CE",
    "ADAM",
    "OPTIMIZER_CODES",
    "SGD",
]
