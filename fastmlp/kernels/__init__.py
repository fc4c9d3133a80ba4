"""Hand-derived math as @njit(cache=True) kernels: arrays and scalars in, nothing else."""

from .activations import ACTIVATION_CODES, IDENTITY, LEAKY_RELU, LEAKY_SLOPE, RELU, SIGMOID, TANH
from .losses import CLASSIFICATION, REGRESSION, TASK_CODES
