"""ONNX export: the file, run by ONNX Runtime on raw rows, gives what the model gives."""

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from typer.testing import CliRunner  # noqa: E402

import fastmlp  # noqa: E402
from fastmlp import MLP  # noqa: E402
from fastmlp.cli import app  # noqa: E402
from fastmlp.model import ACTIVATIONS  # noqa: E402
from fastmlp.preprocessing import Preprocessing  # noqa: E402


def run_onnx(path, X):
    session = ort.InferenceSession(str(path))
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": X}), strict=True))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("task", ["classification", "multilabel", "regression", "poisson"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_onnx_outputs_equal_the_model_on_raw_rows(tmp_path, activation, task, dtype):
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(50, 6)) * 4 + 2).astype(dtype)
    model = MLP([6, 9, 7, 3], activation=activation, task=task, dtype=dtype, seed=2)
    for b in model.biases:
        b[...] = rng.normal(scale=0.3, size=b.shape)
    model.preprocessing = Preprocessing.fit("standardize", X)  # the graph must apply it
    if task == "classification":
        model.classes = np.array(["cat", "dog", "emu"])
    if task == "regression":
        offset, scale = np.array([1, 2, 3], dtype), np.array([2, 3, 4], dtype)
        model.target_scaler = Preprocessing("standardize", offset, scale)
    out = run_onnx(model.to_onnx(tmp_path / "m.onnx"), X)
    if task in ("classification", "multilabel"):
        np.testing.assert_allclose(out["probabilities"], model.predict_proba(X), rtol=1e-5, atol=1e-6)
        labels = out["label" if task == "classification" else "labels"]
        np.testing.assert_array_equal(labels, model.predict(X))
    else:
        np.testing.assert_allclose(out["prediction"], model.predict(X), rtol=1e-5, atol=1e-6)


def test_export_command_on_a_run_folder(tmp_path):
    result = fastmlp.train({"model": {"hidden": [16]}, "train": {"epochs": 2}}, out=tmp_path / "run")
    target = tmp_path / "model.onnx"
    cli = CliRunner().invoke(app, ["export", str(result.run_dir), "--onnx", str(target)])
    assert cli.exit_code == 0, cli.output
    from fastmlp.data import load_dataset

    X, _ = load_dataset({"name": "digits", "preprocessing": "none"}).split("test")
    out = run_onnx(target, X.astype(np.float32))
    np.testing.assert_allclose(out["probabilities"], result.model.predict_proba(X), rtol=1e-5, atol=1e-6)
    assert list(out["label"]) == list(result.model.predict(X))


def test_export_of_a_broken_model_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    cli = CliRunner().invoke(app, ["export", str(bad), "--onnx", str(tmp_path / "x.onnx")])
    assert cli.exit_code == 2 and len(cli.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.onnx").exists()
