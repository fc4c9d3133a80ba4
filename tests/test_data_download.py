"""download_dataset against a local HTTP server on 127.0.0.1 serving small IDX files this test writes."""

import functools
import hashlib
import http.server
import threading

import pytest
from conftest import write_mnist_files

from fastmlp.data import download_dataset, load_dataset
from fastmlp.data.download import CHECKSUMS
from fastmlp.errors import DataError

FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(tmp_path):
    """(base URL, {file: sha256}, served directory) for a server holding a tiny MNIST-style set."""
    served = tmp_path / "served"
    write_mnist_files(served, n_train=30, n_test=10)
    checksums = {f: hashlib.sha256((served / f).read_bytes()).hexdigest() for f in FILES}
    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", checksums, served
    server.shutdown()
    server.server_close()
    thread.join()


def test_download_verifies_and_loads(tmp_path, mirror):
    url, checksums, served = mirror
    dest = download_dataset("mnist", dest=tmp_path / "cache", mirrors=[url], checksums=checksums)
    assert sorted(p.name for p in dest.iterdir()) == sorted(FILES)  # no temporary files left
    for f in FILES:
        assert (dest / f).read_bytes() == (served / f).read_bytes()
    ds = load_dataset({"path": str(dest), "validation_split": 0.0})
    assert len(ds.X_train) == 30 and len(ds.X_test) == 10


def test_checksum_mismatch_leaves_no_file_behind(tmp_path, mirror):
    url, checksums, _ = mirror
    wrong = dict(checksums, **{"t10k-images-idx3-ubyte.gz": "0" * 64})
    dest = tmp_path / "cache"
    with pytest.raises(DataError) as info:
        download_dataset("mnist", dest=dest, mirrors=[url], checksums=wrong)
    message = str(info.value)
    assert "\n" not in message and "t10k-images-idx3-ubyte.gz" in message and "checksum mismatch" in message
    assert not (dest / "t10k-images-idx3-ubyte.gz").exists()
    assert not [p for p in dest.iterdir() if p.name.startswith(".") or p.suffix == ".part"]


def test_falls_back_to_the_next_mirror(tmp_path, mirror):
    url, checksums, _ = mirror
    dead = url + "missing/"  # 404 for every file
    dest = download_dataset("mnist", dest=tmp_path / "c", mirrors=[dead, url], checksums=checksums)
    assert sorted(p.name for p in dest.iterdir()) == sorted(FILES)


def test_all_mirrors_failing_names_each(tmp_path, mirror):
    url, checksums, _ = mirror
    with pytest.raises(DataError, match="HTTP Error 404") as info:
        download_dataset("mnist", dest=tmp_path / "c", mirrors=[url + "nope/"], checksums=checksums)
    assert "could not download train-images-idx3-ubyte.gz" in str(info.value)
    assert list((tmp_path / "c").iterdir()) == []


def test_present_verified_files_are_not_fetched_again(tmp_path, mirror):
    url, checksums, served = mirror
    dest = download_dataset("mnist", dest=tmp_path / "c", mirrors=[url], checksums=checksums)
    for f in FILES:
        (served / f).unlink()  # the server now has nothing; a second call must not need it
    assert download_dataset("mnist", dest=dest, mirrors=[url], checksums=checksums) == dest


def test_default_destination_is_the_cache_the_loader_searches(tmp_path, monkeypatch, mirror):
    url, checksums, _ = mirror
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("FASTMLP_DATA", raising=False)
    dest = download_dataset("mnist", mirrors=[url], checksums=checksums)
    assert dest == tmp_path / "xdg" / "fastmlp" / "mnist"
    assert load_dataset({"name": "mnist"}).source == str(dest)


def test_nothing_to_download_for_shipped_or_synthetic_sets():
    with pytest.raises(DataError, match="nothing to download"):
        download_dataset("digits")
    with pytest.raises(DataError, match="did you mean 'mnist'"):
        download_dataset("mnsit")


def test_canonical_checksums_are_sha256():
    for files in CHECKSUMS.values():
        assert sorted(files) == sorted(FILES)
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in files.values())
