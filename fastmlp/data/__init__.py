"""fastmlp.data: built-in datasets, data files and in-memory arrays -> train/validation/test arrays.

    from fastmlp.data import load_dataset, prepare
    ds = load_dataset({"name": "digits"}, seed=0)           # or {"path": "my.csv", "target": "label"}
    ds = prepare(X, y, validation_split=0.1)                # the same steps on arrays (or a DataFrame)
    ds.X_train, ds.y_train, ds.X_val, ds.y_val, ds.X_test, ds.y_test

Modules, one job each: spec (the `data:` keys and defaults), source (bytes,
gunzip), idx / csvfile / files (formats), synthetic, builtin (names and where
files are found), labels (task inference, label encoding), split, prepare
(encode, split, gather, preprocess), load (read, then prepare), features
(feature rows for prediction, lined up by name), download.
See docs/DATA.md.
"""

from .builtin import DATASET_NAMES, list_datasets
from .dataset import Dataset
from .download import download_dataset
from .features import align_features, frame_to_array, read_features
from .labels import class_indices, infer_task
from .load import load_dataset
from .prepare import prepare
from .spec import DataSpec

__all__ = [
    "DATASET_NAMES",
    "DataSpec",
    "Dataset",
    "align_features",
    "class_indices",
    "download_dataset",
    "frame_to_array",
    "infer_task",
    "list_datasets",
    "load_dataset",
    "prepare",
    "read_features",
]
