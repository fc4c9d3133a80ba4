"""fastmlp.data: built-in datasets and data files -> train/validation/test arrays for the model.

    from fastmlp.data import load_dataset
    ds = load_dataset({"name": "digits"}, seed=0)           # or {"path": "my.csv", "target": "label"}
    ds.X_train, ds.y_train, ds.X_val, ds.y_val, ds.X_test, ds.y_test

Modules, one job each: spec (the `data:` keys and defaults), source (bytes,
gunzip), idx / csvfile / files (formats), synthetic, builtin (names and where
files are found), labels, split, load (the pipeline), download.
See docs/DATA.md.
"""

from .builtin import DATASET_NAMES, list_datasets
from .dataset import Dataset
from .download import download_dataset
from .load import load_dataset
from .spec import DataSpec

__all__ = ["DATASET_NAMES", "DataSpec", "Dataset", "download_dataset", "list_datasets", "load_dataset"]
