"""Fuzzing what users hand to fastmlp: model files and config text. Every case either works or
fails with one line (a FastMLPError; exit 2 on the command line), never a traceback, never a
huge allocation, never a half-written output."""

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fastmlp import MLP
from fastmlp.cli import app
from fastmlp.config import load_config
from fastmlp.errors import FastMLPError, ModelFileError


@pytest.fixture(scope="module")
def good_arrays(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.npz"
    model = MLP([5, 4, 3], seed=0)
    model.classes = np.array(["a", "b", "c"])
    model.save(path)
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def npz_bytes(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def one_line_or_loads(path):
    try:
        MLP.load(path)
    except ModelFileError as e:
        assert str(e) and "\n" not in str(e) and "allow_pickle" not in str(e)
        assert len(str(e)) < 400


weird_arrays = st.one_of(
    st.sampled_from(
        [
            np.array(["x", "y"]),
            np.array([1.5, -2.0]),
            np.zeros((2, 2, 2), np.float16),
            np.array(10**9),
            np.array([10**6, 10**6, 10]),
            np.array([2**62, 2**62]),
            np.array([-3, 4]),
            np.array([], np.int64),
            np.array(True),
            np.array([object(), 1], dtype=object),  # pickled by savez; refused at load
            np.zeros(41, np.float64),
            np.zeros(41, np.float32),
        ]
    ),
    st.integers(0, 50).map(lambda n: np.arange(n, dtype=np.float32)),
)
KEYS = ["layer_sizes", "activation", "task", "dtype", "params", "classes", "feature_names", "preprocessing"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=st.dictionaries(st.sampled_from(KEYS), st.one_of(st.none(), weird_arrays), max_size=3),
)
def test_damaged_model_files_load_or_fail_in_one_line(good_arrays, tmp_path, changes):
    arrays = dict(good_arrays)
    for key, value in changes.items():
        if value is None:
            arrays.pop(key, None)
        else:
            arrays[key] = value
    path = tmp_path / "m.npz"
    path.write_bytes(npz_bytes(arrays))
    one_line_or_loads(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 4000), junk=st.binary(max_size=20))
def test_truncated_or_garbled_model_files_fail_in_one_line(good_arrays, tmp_path, cut, junk):
    data = npz_bytes(good_arrays)
    path = tmp_path / "m.npz"
    path.write_bytes(data[: cut % len(data)] + junk)
    one_line_or_loads(path)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_any_config_text_loads_or_fails_in_one_line(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path)
    except FastMLPError as e:
        assert "\n" not in str(e) and len(str(e)) < 400


def billion_laughs():
    """Nine levels of ten aliases each, in one flow sequence: 10^9 strings once expanded."""
    levels = ["&l0 [" + ", ".join(["lol"] * 10) + "]"]
    levels += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 9)]
    return "[" + ", ".join(levels) + "]"


@pytest.mark.parametrize(
    "where",
    ["data: {{name: null, path: x.csv, target: {bomb}}}", "model: {{hidden: {bomb}}}", "seed: {bomb}"],
)
def test_a_billion_laughs_config_fails_fast_in_one_line(tmp_path, where):
    path = tmp_path / "bomb.yaml"
    path.write_text(where.format(bomb=billion_laughs()) + "\n")
    result = CliRunner().invoke(app, ["train", str(path), "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert not (tmp_path / "run").exists()


def test_predict_with_a_damaged_model_is_one_line_and_writes_nothing(good_arrays, tmp_path):
    model = tmp_path / "m.npz"
    model.write_bytes(npz_bytes(good_arrays)[:300])
    rows = tmp_path / "rows.npy"
    np.save(rows, np.zeros((2, 5)))
    out = tmp_path / "p.csv"
    result = CliRunner().invoke(app, ["predict", str(model), str(rows), "--out", str(out)])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))
