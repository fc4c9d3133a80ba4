"""Splits (seeded, stratified), limit, and preprocessing fitted on the training rows only."""

import numpy as np
import pytest

from fastmlp.data import DataSpec, load_dataset
from fastmlp.data.split import split_indices


def test_stratified_split_keeps_class_shares_and_partitions_rows():
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    rows = np.arange(100)
    kept, held = split_indices(rows, 0.2, seed=3, labels=labels)
    assert len(held) == 20 and len(kept) == 80
    assert np.array_equal(np.sort(np.concatenate([kept, held])), rows)
    assert np.bincount(labels[held]).tolist() == [10, 6, 4]
    assert np.all(np.diff(kept) > 0) and np.all(np.diff(held) > 0)  # file order kept


def test_split_is_seeded():
    rows = np.arange(1000)
    a = split_indices(rows, 0.1, seed=0)[1]
    assert np.array_equal(a, split_indices(rows, 0.1, seed=0)[1])
    assert not np.array_equal(a, split_indices(rows, 0.1, seed=1)[1])


def test_tiny_fraction_still_holds_out_one_row():
    assert len(split_indices(np.arange(10), 0.01, seed=0)[1]) == 1


def test_zero_validation_split_means_none():
    ds = load_dataset({"name": "digits", "validation_split": 0.0})
    assert ds.X_val is None and ds.y_val is None and len(ds.X_train) == 1797 - 359


def test_limit_keeps_first_training_rows_and_the_same_test_set():
    full = load_dataset({"name": "digits", "validation_split": 0.0})
    small = load_dataset({"name": "digits", "validation_split": 0.0, "limit": 100})
    assert len(small.X_train) == 100
    np.testing.assert_array_equal(small.y_test, full.y_test)


def test_standardize_is_fitted_on_training_rows_only(tmp_path):
    rng = np.random.default_rng(0)
    X_train = rng.normal(5.0, 2.0, (200, 3))
    X_test = rng.normal(50.0, 9.0, (40, 3))  # wildly different: must not leak into the fit
    np.savez(tmp_path / "train.npz", X=X_train, y=np.arange(200) % 2)
    np.savez(tmp_path / "test.npz", X=X_test, y=np.arange(40) % 2)
    ds = load_dataset(
        {
            "path": str(tmp_path / "train.npz"),
            "test_path": str(tmp_path / "test.npz"),
            "validation_split": 0.25,
        }
    )
    rows, _ = split_indices(np.arange(200), 0.25, seed=0, labels=np.arange(200) % 2)
    assert len(ds.X_train) == len(rows) == 150
    # the fitted offset/scale are the mean/std of exactly the 150 training rows
    mean, std = ds.preprocessing.offset, ds.preprocessing.scale
    np.testing.assert_allclose(mean, X_train[rows].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std, X_train[rows].std(axis=0), rtol=1e-6)
    assert not np.allclose(mean, X_train.mean(axis=0))  # not the mean of train + validation
    np.testing.assert_allclose(ds.X_test, ((X_test - mean) / std).astype(np.float32), rtol=1e-5)
    assert ds.X_test.mean() > 10  # test rows were transformed, not refitted


@pytest.mark.parametrize("kind", ["minmax", "scale", "none"])
def test_other_preprocessing_kinds(kind):
    ds = load_dataset({"name": "digits", "preprocessing": kind, "scale": 16})
    X = ds.X_train
    if kind == "minmax":
        assert X.min() == 0.0 and X.max() == 1.0
    elif kind == "scale":
        assert X.min() == 0.0 and X.max() == 1.0  # digits pixels are 0..16
    else:
        assert X.max() == 16.0
    assert ds.preprocessing.kind == kind and X.dtype == np.float32


def test_spec_defaults_live_in_one_place_and_accept_instances():
    spec = DataSpec()
    assert (spec.validation_split, spec.test_split, spec.preprocessing, spec.scale) == (
        0.1,
        0.2,
        "standardize",
        255.0,
    )
    ds = load_dataset(DataSpec(name="digits", limit=50, validation_split=0.0))
    assert len(ds.X_train) == 50
