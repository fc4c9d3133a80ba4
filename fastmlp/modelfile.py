"""model.npz: a model (network and predictor) as a plain .npz, no pickle, written whole or refused
on reading (npzfile.py's manifest of every array's dtype, shape and SHA-256).

Arrays: format_version, layer_sizes, activation, task, init, dtype, seed, params; the
preprocessing's and target scaling's arrays (Preprocessing.to_arrays); classes and feature_names
when known; the table encoder's arrays (encoding.TableEncoder) when it has one; svmlight_zero_based
(the training svmlight file's indexing) when it was trained on one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import npzfile
from .errors import FastMLPError, ModelFileError
from .kernels.layout import make_layout, n_params
from .preprocessing import Preprocessing

# 3: the file carries a manifest (npzfile.py); files of version 2 and before load without one.
FORMAT_VERSION = 3
MANIFEST_SINCE = 3
TARGET_PREFIX = "target_scaling"
ZERO_BASED = "svmlight_zero_based"
REQUIRED = ("layer_sizes", "activation", "task", "dtype", "params")


def save_model(model, path) -> Path:
    """Write `model` (an MLP) to path atomically: a temp file in the same folder, then rename."""
    arrays = {
        "format_version": np.array(FORMAT_VERSION),
        "layer_sizes": model.sizes,
        "activation": np.array(model.activation),
        "task": np.array(model.task),
        "init": np.array(model.init),
        "dtype": np.array(model.dtype.name),
        "seed": np.array(model.seed if model.seed is not None else -1),
        "params": model.params,
        **model.preprocessing.to_arrays(),
        **model.target_scaler.to_arrays(prefix=TARGET_PREFIX),
    }
    if model.classes is not None:
        arrays["classes"] = _plain_array(model.classes)
    if model.feature_names is not None:
        arrays["feature_names"] = np.array([str(c) for c in model.feature_names])
    if model.encoder is not None:
        arrays.update(model.encoder.to_arrays())
    if model.svmlight_zero_based is not None:
        arrays[ZERO_BASED] = np.array(bool(model.svmlight_zero_based))
    return npzfile.save(Path(path), arrays)


def load_model(cls, path):
    """A `cls` (MLP) read from path; every inconsistency is a ModelFileError naming the file."""
    path = Path(path)
    arrays = _read_arrays(path)
    model = _network(cls, arrays, path)
    _attach_labels(model, arrays, path)
    _attach_preprocessing(model, arrays, path)
    return model


def _read_arrays(path):
    """The file's arrays, whole (manifest checked from format 3 on), with the required ones there
    and a parameter count that matches the declared layers."""
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        arrays, checked = npzfile.load(path, require_manifest=False)
    except npzfile.NotWhole as e:
        raise ModelFileError(
            f"{path}: not a fastmlp model file ({e}; expected a model.npz or a run folder)"
        ) from None
    # format_version is the first array and the manifest the last: a central directory cut
    # short (the damage that drops arrays silently) loses the manifest first.
    try:
        version = int(arrays.get("format_version", 0))
    except (TypeError, ValueError):
        raise ModelFileError(f"{path}: not a fastmlp model file (format_version damaged)") from None
    if version >= MANIFEST_SINCE and not checked:
        raise ModelFileError(f"{path}: not a fastmlp model file (its manifest is missing)")
    missing = [k for k in REQUIRED if k not in arrays]
    if missing:
        raise ModelFileError(f"{path}: not a fastmlp model file (missing {', '.join(missing)})")
    try:
        # The declared layers must account for the stored parameters before anything that size
        # is allocated: a damaged header must not make a huge network.
        sizes = [int(v) for v in np.asarray(arrays["layer_sizes"]).ravel()]
        declared = n_params(make_layout(sizes)) if len(sizes) >= 2 and min(sizes) >= 1 else -1
    except (TypeError, ValueError, OverflowError):
        declared = -1
    if declared != arrays["params"].size:
        raise ModelFileError(
            f"{path}: params has {arrays['params'].size} values, layer_sizes "
            f"{np.asarray(arrays['layer_sizes']).ravel()[:10].tolist()} need {declared}"
        )
    return arrays


def _network(cls, arrays, path):
    """The network the arrays describe, its parameters filled in."""
    try:
        model = cls(
            [int(s) for s in arrays["layer_sizes"]],
            activation=str(arrays["activation"]),
            task=str(arrays["task"]),
            dtype=str(arrays["dtype"]),
            seed=None,
            init=str(arrays.get("init", "glorot_uniform")),
        )
        seed = int(arrays.get("seed", -1))
        model.seed = seed if seed >= 0 else None
    except (FastMLPError, TypeError, ValueError) as e:
        raise ModelFileError(f"{path}: {e}") from None
    params = arrays["params"]
    if params.shape != model.params.shape:
        raise ModelFileError(
            f"{path}: params has {params.size} values, layer_sizes "
            f"{model.layer_sizes} need {model.params.size}"
        )
    if params.dtype != model.dtype:
        raise ModelFileError(f"{path}: params are {params.dtype} but dtype says {model.dtype}")
    model.params[...] = params
    return model


def _attach_labels(model, arrays, path):
    """Class names and feature names, one per output and per input."""
    for key, width, what in (
        ("classes", model.n_outputs, "outputs"),
        ("feature_names", model.n_inputs, "inputs"),
    ):
        if key in arrays and (arrays[key].ndim != 1 or arrays[key].shape[0] != width):
            raise ModelFileError(
                f"{path}: {key} holds {arrays[key].shape} values; {width} {what} need {width} names"
            )
    if "classes" in arrays:
        model.classes = arrays["classes"]
    if "feature_names" in arrays:
        model.feature_names = [str(c) for c in arrays["feature_names"]]
    if ZERO_BASED in arrays:
        if arrays[ZERO_BASED].shape != () or arrays[ZERO_BASED].dtype != bool:
            raise ModelFileError(f"{path}: {ZERO_BASED} must be one true/false value")
        model.svmlight_zero_based = bool(arrays[ZERO_BASED])


def _attach_preprocessing(model, arrays, path):
    """The fitted preprocessing, target scaling and table encoder, each the network's width."""
    try:
        model.preprocessing = Preprocessing.from_arrays(arrays)
        model.target_scaler = Preprocessing.from_arrays(arrays, prefix=TARGET_PREFIX)
    except FastMLPError as e:
        raise ModelFileError(f"{path}: {e}") from None
    except (TypeError, ValueError, IndexError) as e:  # arrays of the wrong kind or shape
        raise ModelFileError(f"{path}: its preprocessing is malformed ({type(e).__name__})") from None
    for what, p, width in (
        ("preprocessing", model.preprocessing, model.n_inputs),
        (TARGET_PREFIX, model.target_scaler, model.n_outputs),
    ):
        if p.kind != "none" and p.offset.shape != (width,):
            raise ModelFileError(f"{path}: {what} has {p.offset.shape} values for {width} columns")
    if "encoder_columns" in arrays:
        from .encoding import TableEncoder

        try:
            model.encoder = TableEncoder.from_arrays(arrays)
        except FastMLPError as e:
            raise ModelFileError(f"{path}: {e}") from None
        if model.encoder.n_outputs != model.n_inputs:
            raise ModelFileError(
                f"{path}: its encoder makes {model.encoder.n_outputs} inputs; the network takes "
                f"{model.n_inputs}"
            )


def _plain_array(values) -> np.ndarray:
    """Class labels as an array .npz stores without pickle: numbers as they are, anything else as str."""
    a = np.asarray(values)
    return a if a.dtype.kind in "biuU" else np.array([str(v) for v in values])
