"""Built-in datasets: digits (shipped), Fashion-MNIST/MNIST lookup, synthetic sets, list_datasets."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
from conftest import write_mnist_files

from fastmlp.data import DATASET_NAMES, list_datasets, load_dataset
from fastmlp.data.builtin import DIGITS_FILE, FASHION_CLASSES, search_dirs

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def test_digits_is_the_real_uci_set_shipped_with_its_licence():
    assert hashlib.sha256(DIGITS_FILE.read_bytes()).hexdigest() == (
        "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
    )
    readme = (DIGITS_FILE.parent / "README.md").read_text()
    assert "CC BY 4.0" in readme and "Alpaydin" in readme and "Kaynak" in readme


def test_digits_splits_1797_rows_with_a_fixed_stratified_test_set():
    ds = load_dataset({"name": "digits"}, seed=0)
    assert len(ds.X_train) + len(ds.X_val) + len(ds.X_test) == 1797
    assert len(ds.X_test) == 359  # round(0.2 * 1797)
    assert ds.n_inputs == 64 and ds.n_outputs == 10 and list(ds.classes) == [str(d) for d in range(10)]
    assert ds.X_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    # stratified: every class has its share (within one row) in the test set
    counts = np.bincount(np.concatenate([ds.y_train, ds.y_val, ds.y_test]), minlength=10)
    assert np.all(np.abs(np.bincount(ds.y_test, minlength=10) - 0.2 * counts) <= 1)
    # the test set does not move with the run seed; the validation split does
    other = load_dataset({"name": "digits"}, seed=1)
    np.testing.assert_array_equal(other.y_test, ds.y_test)
    assert not np.array_equal(other.y_val, ds.y_val)


def test_dataset_names_and_list_rows():
    assert set(DATASET_NAMES) == {"digits", "fashion-mnist", "mnist", "spirals", "blobs", "regression"}
    rows = {name: (kind, status) for name, kind, status in list_datasets()}
    assert set(rows) == set(DATASET_NAMES)
    assert rows["digits"][1].startswith("shipped: ")
    assert rows["spirals"][0] == "synthetic"
    for name in ("fashion-mnist", "mnist"):
        assert rows[name][1].startswith(("found: ", "missing: looked in "))


def test_idx_lookup_order_prefers_fastmlp_data(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTMLP_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    d = tmp_path / "mnist"
    write_mnist_files(d, n_train=50, n_test=20)
    assert search_dirs("mnist")[:2] == [d, tmp_path / "cache" / "fastmlp" / "mnist"]
    assert {n: s for n, _, s in list_datasets()}["mnist"] == f"found: {d}"
    ds = load_dataset({"name": "mnist", "validation_split": 0.2})
    assert (len(ds.X_train), len(ds.X_val), len(ds.X_test)) == (40, 10, 20)
    assert ds.source == str(d) and ds.n_inputs == 784


@pytest.mark.skipif(
    not FASHION_DIR.is_dir(), reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)"
)
def test_fashion_mnist_from_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.delenv("FASTMLP_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # so a cached copy cannot stand in for it
    ds = load_dataset({"name": "fashion-mnist", "validation_split": 0.0})
    assert ds.X_train.shape == (60000, 784) and ds.X_test.shape == (10000, 784)
    assert ds.n_outputs == 10 and list(ds.classes) == FASHION_CLASSES and ds.classes[0] == "T-shirt/top"
    assert np.array_equal(np.bincount(ds.y_train), np.full(10, 6000))
    assert ds.X_train.dtype == np.float32 and ds.X_train.flags.c_contiguous
    assert ds.source == str(FASHION_DIR)


@pytest.mark.parametrize("name", ["spirals", "blobs"])
def test_synthetic_classification_is_seeded_and_sized(name):
    spec = {"name": name, "n_samples": 300, "n_classes": 4, "validation_split": 0.0, "test_split": 0.0}
    a, b = load_dataset(spec), load_dataset(spec)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert a.X_train.shape == (300, 2) and a.n_outputs == 4 and np.all(np.bincount(a.y_train) == 75)
    c = load_dataset({**spec, "data_seed": 1})
    assert not np.array_equal(a.X_train, c.X_train)


def test_synthetic_regression_shapes_and_noise():
    ds = load_dataset(
        {
            "name": "regression",
            "n_samples": 500,
            "n_features": 3,
            "noise": 0.0,
            "preprocessing": "none",
            "target_scaling": "none",
            "test_split": 0.0,
            "validation_split": 0.0,
        }
    )
    assert ds.task == "regression" and ds.X_train.shape == (500, 3) and ds.y_train.shape == (500, 1)
    assert np.all(np.abs(ds.y_train) <= 1.0)  # sin, no noise


def test_spirals_arms_interleave():
    """Each arm winds 1.75 turns: the classes are not linearly separable (a line misses many points)."""
    ds = load_dataset(
        {
            "name": "spirals",
            "n_samples": 600,
            "n_classes": 2,
            "noise": 0.0,
            "preprocessing": "none",
            "test_split": 0.0,
            "validation_split": 0.0,
        }
    )
    X, y = ds.X_train.astype(np.float64), ds.y_train
    A = np.c_[X, np.ones(len(X))]
    w = np.linalg.lstsq(A, 2.0 * y - 1, rcond=None)[0]
    assert np.mean((A @ w > 0) == (y == 1)) < 0.8
