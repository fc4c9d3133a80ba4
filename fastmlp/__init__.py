"""fastmlp: multilayer perceptrons on the CPU, fast, with every gradient derived by hand."""

__version__ = "0.1.0"

from .errors import ConfigError, DataError, FastMLPError, ModelFileError
from .model import MLP
from .trainer import History, fit

__all__ = ["MLP", "fit", "History", "FastMLPError", "ConfigError", "DataError", "ModelFileError",
           "__version__"]
