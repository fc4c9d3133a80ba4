"""fastmlp: multilayer perceptrons on the CPU, fast, with every gradient derived by hand."""

from . import sweep  # callable: fastmlp.sweep(spec) runs fastmlp.sweep.sweep(spec)
from ._version import __version__
from .api import TrainResult, evaluate, predict, train
from .config import load_config
from .data import Dataset, load_dataset
from .errors import ConfigError, DataError, FastMLPError, ModelFileError
from .model import MLP
from .trainer import History, fit
from .warmup import warm_up

__all__ = [
    "MLP",
    "fit",
    "History",
    "load_config",
    "train",
    "TrainResult",
    "evaluate",
    "predict",
    "load_dataset",
    "Dataset",
    "sweep",
    "FastMLPError",
    "ConfigError",
    "DataError",
    "ModelFileError",
    "warm_up",
    "__version__",
]


def __getattr__(name):
    """MLPClassifier and MLPRegressor come from fastmlp.sklearn, imported on first use: scikit-learn
    is an optional extra, and `import fastmlp` (or `from fastmlp import *`) must not need it."""
    if name in ("MLPClassifier", "MLPRegressor"):
        from . import sklearn

        return getattr(sklearn, name)
    raise AttributeError(f"module 'fastmlp' has no attribute {name!r}")
