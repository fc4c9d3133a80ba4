"""download_dataset: fetch the IDX files of fashion-mnist / mnist into the cache, verified.

Each file is streamed into a hidden temporary file in the destination
directory while its SHA-256 is computed; only a file whose checksum matches is
renamed into place (os.replace, atomic on one file system). On a mismatch or
any error the temporary file is removed, and the next mirror is tried.
Files already present with the right checksum are not fetched again.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import DataError
from .builtin import builtin, cache_dir

MIRRORS = {
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ],
}

# SHA-256 of the files the mirrors above serve.
CHECKSUMS = {
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
        "train-labels-idx1-ubyte.gz": "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
        "t10k-images-idx3-ubyte.gz": "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
        "t10k-labels-idx1-ubyte.gz": "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
    },
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
}

BLOCK = 1 << 20


def download_dataset(
    name: str,
    dest=None,
    mirrors: list[str] | None = None,
    checksums: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download dataset name's files into dest (default ~/.cache/fastmlp/<name>); return dest.

    mirrors: base URLs tried in order (default MIRRORS[name]); checksums:
    {file name: sha256} (default CHECKSUMS[name]). DataError when a file cannot
    be fetched with the right checksum from any mirror.
    """
    b = builtin(name)
    if b.name not in CHECKSUMS:
        raise DataError(f"dataset {name!r} is {b.kind}; there is nothing to download")
    dest = Path(dest).expanduser() if dest is not None else cache_dir(b.name)
    mirrors = list(mirrors) if mirrors is not None else MIRRORS[b.name]
    checksums = checksums if checksums is not None else CHECKSUMS[b.name]
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"{dest}: cannot create the download directory ({e.strerror or e})") from None
    for filename, sha256 in checksums.items():
        target = dest / filename
        if target.is_file() and file_sha256(target) == sha256:
            continue
        failures = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + filename
            try:
                fetch(url, target, sha256, timeout)
                break
            except DataError as e:
                failures.append(str(e))
        else:
            raise DataError(f"{b.name}: could not download {filename}: {'; '.join(failures)}")
    return dest


def fetch(url: str, target: Path, sha256: str, timeout: float) -> None:
    """Stream url into target via a temporary file, renamed into place only if its SHA-256 matches."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as e:
        raise DataError(f"{target.parent}: cannot write ({e.strerror or e})") from None
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            while block := response.read(BLOCK):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != sha256:
            raise DataError(f"{url}: checksum mismatch (SHA-256 {digest.hexdigest()}, expected {sha256})")
        os.replace(tmp, target)
    except DataError:
        _remove(tmp)
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as e:
        _remove(tmp)
        if isinstance(e, urllib.error.HTTPError):
            e.close()  # it holds the open response
        reason = e if isinstance(e, urllib.error.HTTPError) else getattr(e, "reason", None) or e
        raise DataError(f"{url}: {reason}") from None
    except BaseException:
        _remove(tmp)
        raise


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _remove(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
