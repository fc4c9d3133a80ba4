"""DataSpec: the config's `data:` section as one typed object, with every default here.

Each key is documented in docs/DATA.md. Unknown keys are rejected with the
closest known key suggested, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from ..errors import DataError
from ..preprocessing import KINDS, TARGET_SCALINGS
from ..schema import choice, echo, integer, kind_of, number, text
from .labels import MAX_CLASSES
from .table import MISSING


@dataclass(frozen=True)
class DataSpec:
    name: str | None = None  # built-in dataset (see DATASET_NAMES)
    path: str | None = None  # a file (.npz/.npy/.csv/IDX) or an IDX directory
    y_path: str | None = None  # labels for .npy / IDX inputs (default: by naming convention)
    test_path: str | None = None  # a separate test file, same format as path
    test_y_path: str | None = None  # its labels, as y_path
    validation_split: float = 0.1  # fraction of training rows held out; 0 = none
    test_split: float = 0.2  # fraction held out as test when the source has no test set
    data_seed: int = 0  # seeds synthetic data and the test split (same for every run)
    preprocessing: str = "standardize"  # standardize | minmax | scale | none
    scale: float = 255.0  # the constant for preprocessing: scale
    target_scaling: str = "standardize"  # regression targets: standardize | none (undone at predict)
    target: str | int | list = -1  # CSV target column: name or index (a list: several columns)
    header: bool | None = None  # CSV header row: None = detect
    delimiter: str | None = None  # CSV cell separator: None = detect (, ; tab |)
    features: list | dict | None = None  # input columns by name: [keep...] or {drop: [...]}
    missing: str = "error"  # a missing input value: error | mean | median | most_frequent
    categorical: str | list = "auto"  # text columns as one-hot categories: auto | none | [names]
    zero_based: str | bool = "auto"  # svmlight indices: auto (0 seen: zero-based) | true | false
    width: int | None = None  # svmlight: the number of input columns (None: the highest index + 1)
    x_key: str = "X"  # .npz keys
    y_key: str = "y"
    n_samples: int = 1000  # synthetic sets
    n_classes: int | None = None  # synthetic: how many (default 3); files: labels must be below it
    n_features: int = 2  # synthetic blobs / regression inputs
    noise: float = 0.1  # synthetic noise level
    limit: int | None = None  # keep only the first N training rows
    fold: list | None = None  # [k, i]: cross-validation, fold i of k is the validation set (split.py)

    @classmethod
    def from_mapping(cls, spec: DataSpec | Mapping[str, Any] | None) -> DataSpec:
        """A DataSpec from a mapping of config keys (or a DataSpec, returned as is)."""
        if spec is None:
            return cls()
        if isinstance(spec, cls):
            return spec.checked()
        if not isinstance(spec, Mapping):
            raise DataError(f"data: expected a mapping of keys, got {type(spec).__name__}")
        known = [f.name for f in fields(cls)]
        for key in spec:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
                raise DataError(f"data: unknown key {key!r}{hint}")
        return cls(**dict(spec)).checked()

    def replace(self, **changes) -> DataSpec:
        return replace(self, **changes).checked()

    def checked(self) -> DataSpec:
        """Self, after checking each value against FIELDS (DataError naming the key)."""
        for key, (check, options) in FIELDS.items():
            value = getattr(self, key)
            if value is not None or not options.get("optional"):
                check(
                    value,
                    f"data.{key}",
                    error=DataError,
                    **{k: v for k, v in options.items() if k != "optional"},
                )
        targets = self.target if isinstance(self.target, (list, tuple)) else [self.target]
        if not targets or any(isinstance(t, bool) or not isinstance(t, (str, int)) for t in targets):
            raise DataError(
                f"data.target: expected a column name or index (or a list of them), got {echo(self.target)}"
            )
        if self.header is not None and not isinstance(self.header, bool):
            raise DataError(f"data.header: expected true, false or null, got {echo(self.header)}")
        if self.zero_based not in ("auto", True, False):
            raise DataError(f"data.zero_based: expected auto, true or false, got {echo(self.zero_based)}")
        if self.scale == 0:
            raise DataError("data.scale: must not be 0")
        _check_tabular(self)
        return self


def _names(value, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or not value:
        raise DataError(f"{key}: expected a list of column names, got {echo(value)}")
    doubled = sorted({v for v in value if value.count(v) > 1})
    if doubled:
        raise DataError(f"{key}: names column {doubled[0]!r} twice")
    return value


def _check_tabular(spec: DataSpec) -> None:
    """The keys for tables (delimiter, features, categorical), each named in its message."""
    d = spec.delimiter
    if d is not None and (not isinstance(d, str) or len(d) != 1 or d in '"\r\n'):
        raise DataError(f"data.delimiter: expected one character such as ',' ';' or a tab, got {echo(d)}")
    f = spec.features
    if isinstance(f, dict):
        if set(f) != {"drop"}:
            raise DataError(f"data.features: expected a list of columns or {{drop: [...]}}, got {echo(f)}")
        _names(f["drop"], "data.features.drop")
    elif f is not None:
        _names(f, "data.features")
    c = spec.categorical
    if isinstance(c, list):
        _names(c, "data.categorical")
    elif c not in ("auto", "none"):
        raise DataError(f"data.categorical: expected auto, none or a list of column names, got {echo(c)}")


def _path(value, path, error):
    """A file path: a string or an os.PathLike."""
    if not isinstance(value, (str, os.PathLike)):
        raise error(f"{path}: expected a string, got {kind_of(value)}")
    return value


OPTIONAL = {"optional": True}
# Every data key with a check beyond its type's default: (checker, its options). The checkers are
# fastmlp.schema's, the one validator config keys use too.
FIELDS: dict[str, tuple] = {
    **{key: (_path, OPTIONAL) for key in ("name", "path", "y_path", "test_path", "test_y_path")},
    "validation_split": (number, {"low": 0.0, "high": 1.0, "high_open": True}),
    "test_split": (number, {"low": 0.0, "high": 1.0, "high_open": True}),
    "data_seed": (integer, {"low": 0}),
    "preprocessing": (choice, {"choices": KINDS}),
    "scale": (number, {}),
    "target_scaling": (choice, {"choices": TARGET_SCALINGS}),
    "missing": (choice, {"choices": MISSING}),
    "x_key": (text, {}),
    "y_key": (text, {}),
    "n_samples": (integer, {"low": 1}),
    "n_classes": (integer, {"low": 2, "high": MAX_CLASSES, **OPTIONAL}),
    "n_features": (integer, {"low": 1}),
    "noise": (number, {"low": 0.0}),
    "limit": (integer, {"low": 1, **OPTIONAL}),
    "width": (integer, {"low": 1, **OPTIONAL}),
}
