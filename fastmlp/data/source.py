"""Reading a file's bytes, gunzipped when they are gzip (told by the magic bytes, not the name).

One zlib call per gzip member decompresses the whole file into one bytes object,
which NumPy can then view without a copy (np.frombuffer).
"""

from __future__ import annotations

import zlib
from pathlib import Path

from ..errors import DataError

GZIP_MAGIC = b"\x1f\x8b"


def existing_file(path, what: str = "file") -> Path:
    """path as a Path, or a DataError when there is no such file."""
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"{p}: no such {what}")
    if p.is_dir():
        raise DataError(f"{p}: is a directory, expected {'an' if what[:1] in 'aeiou' else 'a'} {what}")
    return p


def read_bytes(path) -> bytes:
    """The file's contents, decompressed if it is gzip; DataError if missing, unreadable or corrupt."""
    p = existing_file(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise DataError(f"{p}: cannot read ({e.strerror or e})") from None
    if data[:2] == GZIP_MAGIC:
        return gunzip(data, p)
    return data


def reason(e: Exception) -> str:
    """The first line of an exception's message, for a one-line DataError."""
    if "allow_pickle" in str(e):  # an array of Python objects; loading it would run code
        return "it holds Python objects, not numbers"
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def gunzip(data: bytes, path) -> bytes:
    """All gzip members of data, decompressed and CRC-checked; DataError naming path if corrupt."""
    parts = []
    try:
        while data:
            d = zlib.decompressobj(wbits=31)
            parts.append(d.decompress(data))
            if not d.eof:
                raise DataError(f"{path}: truncated gzip file (the stream ends early)")
            data = d.unused_data.lstrip(b"\x00")  # gzip allows zero padding after a member
    except zlib.error as e:
        raise DataError(f"{path}: corrupt gzip file ({e})") from None
    return parts[0] if len(parts) == 1 else b"".join(parts)
