"""DataSpec: the config's `data:` section as one typed object, with every default here.

Each key is documented in docs/DATA.md. Unknown keys are rejected with the
closest known key suggested, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from ..errors import DataError
from ..preprocessing import KINDS, TARGET_SCALINGS
from .labels import MAX_CLASSES


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
    x_key: str = "X"  # .npz keys
    y_key: str = "y"
    n_samples: int = 1000  # synthetic sets
    n_classes: int | None = None  # synthetic: how many (default 3); files: labels must be below it
    n_features: int = 2  # synthetic blobs / regression inputs
    noise: float = 0.1  # synthetic noise level
    limit: int | None = None  # keep only the first N training rows

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
        """Self, after checking each value's type and range (DataError naming the key)."""
        for key in ("name", "path", "y_path", "test_path", "test_y_path"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, (str, os.PathLike)):
                raise DataError(f"data.{key}: expected a string, got {value!r}")
        _fraction("validation_split", self.validation_split)
        _fraction("test_split", self.test_split)
        if self.preprocessing not in KINDS:
            close = difflib.get_close_matches(str(self.preprocessing), KINDS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise DataError(
                f"data.preprocessing: unknown kind {self.preprocessing!r}; "
                f"expected one of {', '.join(KINDS)}{hint}"
            )
        if self.target_scaling not in TARGET_SCALINGS:
            raise DataError(
                "data.target_scaling: expected one of "
                f"{', '.join(TARGET_SCALINGS)}, got {self.target_scaling!r}"
            )
        _number("scale", self.scale, nonzero=True)
        _number("noise", self.noise, minimum=0.0)
        targets = self.target if isinstance(self.target, (list, tuple)) else [self.target]
        if not targets or any(isinstance(t, bool) or not isinstance(t, (str, int)) for t in targets):
            raise DataError(
                f"data.target: expected a column name or index (or a list of them), got {self.target!r}"
            )
        if self.header is not None and not isinstance(self.header, bool):
            raise DataError(f"data.header: expected true, false or null, got {self.header!r}")
        for key in ("x_key", "y_key"):
            if not isinstance(getattr(self, key), str):
                raise DataError(f"data.{key}: expected a string, got {getattr(self, key)!r}")
        _integer("data_seed", self.data_seed, 0)
        _integer("n_samples", self.n_samples, 1)
        _integer("n_features", self.n_features, 1)
        if self.n_classes is not None:
            _integer("n_classes", self.n_classes, 2)
            if self.n_classes > MAX_CLASSES:
                raise DataError(
                    f"data.n_classes: at most {MAX_CLASSES} classes are supported, got {self.n_classes}"
                )
        if self.limit is not None:
            _integer("limit", self.limit, 1)
        return self


def _fraction(key: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0.0 <= value < 1.0):
        raise DataError(f"data.{key}: must be a fraction in [0, 1) (0 = none), got {value!r}")


def _number(key: str, value, minimum: float | None = None, nonzero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DataError(f"data.{key}: expected a finite number, got {value!r}")
    if minimum is not None and value < minimum:
        raise DataError(f"data.{key}: must be >= {minimum}, got {value!r}")
    if nonzero and value == 0:
        raise DataError(f"data.{key}: must not be 0")


def _integer(key: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DataError(f"data.{key}: expected an integer >= {minimum}, got {value!r}")
