"""Plain .npz files that are whole or refused: model.npz and checkpoint.npz.

An .npz is a zip archive of .npy arrays. Its central directory lists the arrays, and a damaged
byte there can make a reader see fewer of them without any error (Python's zipfile reads entries
until the directory's recorded size), so a file could load with some arrays silently missing.
Each file therefore carries a manifest, one more array: for every other array its dtype, shape
and SHA-256 of its bytes. Reading checks that every array the manifest names is there, whole and
unchanged, and nothing else is; a file that fails, or whose manifest is gone, is refused.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .atomic import write_atomic
from .data.features import ZIP_MAGIC

MANIFEST = "manifest"


class NotWhole(ValueError):
    """The file is not a whole .npz written by fastmlp (the message is one short phrase)."""


def _digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def save(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write arrays and their manifest to path atomically (no pickle)."""
    arrays = {name: np.asarray(a) for name, a in arrays.items()}
    manifest = {name: [a.dtype.str, list(a.shape), _digest(a)] for name, a in arrays.items()}
    manifest = {MANIFEST: np.array(json.dumps(manifest, sort_keys=True))}
    # Straight into the file: through memory first, a large model would be held twice more.
    return write_atomic(path, lambda f: np.savez(f, **arrays, **manifest))


def load(path: str | Path, require_manifest=True) -> tuple[dict[str, np.ndarray], bool]:
    """(arrays, checked) of a file written by save(); checked is False for a file without a
    manifest, which require_manifest refuses (files from before manifests have none). NotWhole for
    anything else: not a zip, unreadable, an array missing, extra, reshaped or changed."""
    with open(path, "rb") as raw:
        if raw.read(4) != ZIP_MAGIC:
            raise NotWhole("not an .npz file")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as e:  # zip, header or format errors: the same to a user
        raise NotWhole(f"unreadable ({type(e).__name__})") from None
    if MANIFEST not in arrays:
        if require_manifest:
            raise NotWhole("its manifest is missing")
        return arrays, False
    try:
        manifest = json.loads(str(arrays.pop(MANIFEST)))
        expected = {name: (str(d), tuple(s), str(h)) for name, (d, s, h) in manifest.items()}
    except (ValueError, TypeError) as e:
        raise NotWhole(f"its manifest is damaged ({type(e).__name__})") from None
    missing = sorted(set(expected) - set(arrays))
    if missing:
        raise NotWhole(f"missing {', '.join(missing[:5])}")
    extra = sorted(set(arrays) - set(expected))
    if extra:
        raise NotWhole(f"holds arrays its manifest does not name ({', '.join(extra[:5])})")
    for name, (dtype, shape, digest) in expected.items():
        a = arrays[name]
        if a.dtype.str != dtype or a.shape != shape or _digest(a) != digest:
            raise NotWhole(f"{name} is damaged")
    return arrays, True
