"""IDX files (the MNIST format), raw or gzip: read into an array without copying the pixels.

Layout: two zero bytes, a type code, the number of dimensions n, then n
big-endian uint32 sizes, then the values in C order, big-endian.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ..errors import DataError
from .source import read_bytes

# IDX type code -> big-endian dtype
TYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
CODES = {dtype.newbyteorder("="): code for code, dtype in TYPES.items()}


def read_idx(path) -> np.ndarray:
    """The array in an IDX file (gzip or not); DataError for a bad magic number or sizes."""
    data = read_bytes(path)
    return parse_idx(data, path)


def parse_idx(data: bytes, path) -> np.ndarray:
    """The array in IDX bytes; uint8 data is a read-only view of data, no copy."""
    if len(data) < 4:
        raise DataError(f"{path}: too short for an IDX file ({len(data)} bytes)")
    if data[0] != 0 or data[1] != 0 or data[2] not in TYPES or data[3] == 0:
        raise DataError(f"{path}: bad IDX magic number 0x{data[:4].hex()} (not an IDX file?)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated IDX header ({len(data)} bytes, need {header} for {ndim} sizes)")
    shape = tuple(int(s) for s in np.frombuffer(data, ">u4", count=ndim, offset=4))
    dtype = TYPES[data[2]]
    count = int(np.prod(shape, dtype=object))
    expected = header + count * dtype.itemsize
    if len(data) != expected:
        dims = "x".join(map(str, shape))
        raise DataError(
            f"{path}: IDX header says {dims} values of {dtype.newbyteorder('=').name} "
            f"({expected} bytes) but the file has {len(data)} bytes"
        )
    array = np.frombuffer(data, dtype, count=count, offset=header).reshape(shape)
    if dtype.itemsize > 1:
        array = array.astype(dtype.newbyteorder("="))
    return array


def write_idx(path, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write array as an IDX file (gzip when compress, or when path ends in .gz)."""
    path = Path(path)
    array = np.asarray(array)
    code = CODES.get(array.dtype)
    if code is None:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    body = header + np.ascontiguousarray(array, TYPES[code]).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    path.write_bytes(gzip.compress(body, compresslevel=6) if compress else body)
    return path
