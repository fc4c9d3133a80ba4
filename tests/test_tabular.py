"""Tables through Arrow: CSV dialects, Parquet, Feather, DataFrames; missing values filled and text
columns one-hot encoded, fitted on training rows only and carried inside the model.

Every expected array here is built independently with NumPy (or pandas) from the raw values."""

import gzip
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from fastmlp import api
from fastmlp.cli import app
from fastmlp.data import load_dataset, prepare
from fastmlp.errors import DataError, ModelFileError
from fastmlp.model import MLP

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
feather = pytest.importorskip("pyarrow.feather")

RAW = {"validation_split": 0.0, "test_split": 0.0, "preprocessing": "none"}
COLORS = ["red", "green", "blue"]


def people(n=60, seed=0):
    """Columns of a small table: a number with gaps, a category with gaps, a number, a label."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n).astype(float)
    age[::7] = np.nan
    color = np.array([COLORS[i] for i in rng.integers(0, 3, n)], dtype=object)
    color[3::11] = None
    income = np.round(rng.normal(size=n), 3)
    label = np.where(income + (color == "red") > 0.3, "yes", "no")
    return {"age": age, "color": color, "income": income, "label": label}


def csv_text(cols, delimiter=",", missing=""):
    names = list(cols)
    lines = [delimiter.join(names)]
    for i in range(len(cols["label"])):
        cells = []
        for k in names:
            v = cols[k][i]
            if v is None or (isinstance(v, float) and np.isnan(v)):
                cells.append(missing)
            elif isinstance(v, float):
                cells.append(str(float(v)))
            else:
                cells.append(str(v))
        lines.append(delimiter.join(cells))
    return "\n".join(lines) + "\n"


def expected_inputs(cols, missing):
    """The encoded inputs as the encoder should make them, computed by hand (all rows training)."""
    age = cols["age"].copy()
    present = age[~np.isnan(age)]
    fill = {"mean": present.mean(), "median": np.median(present)}[missing]
    age[np.isnan(age)] = fill
    color = cols["color"].copy()
    seen = [c for c in color if c is not None]
    counts = {c: seen.count(c) for c in sorted(set(seen))}
    color[[c is None for c in color]] = max(counts, key=lambda c: (counts[c], -sorted(counts).index(c)))
    onehot = np.array([[c == k for k in sorted(counts)] for c in color], dtype=float)
    return np.column_stack([age, onehot, cols["income"]]), ["age"] + [
        f"color={k}" for k in sorted(counts)
    ] + ["income"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("missing", ["mean", "median"])
def test_csv_dialects_fill_and_one_hot_equal_a_hand_encoding(tmp_path, delimiter, missing):
    cols = people()
    path = tmp_path / "people.csv.gz"
    path.write_bytes(gzip.compress(csv_text(cols, delimiter, "NA").encode()))
    ds = load_dataset({"path": str(path), "target": "label", "missing": missing, **RAW})
    X, names = expected_inputs(cols, missing)
    assert ds.X_train.dtype == np.float32
    assert ds.feature_names == names
    np.testing.assert_allclose(ds.X_train, X.astype(np.float32), rtol=1e-6)
    assert list(ds.classes[ds.y_train]) == list(cols["label"])


def test_quoted_cells_hold_the_delimiter_and_newlines(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('name;x;label\n"a;b";1;0\n"multi\nline";2;1\nc;3;0\nd;4;1\n')
    ds = load_dataset({"path": str(path), "target": "label", **RAW})
    assert ds.feature_names == ["name=a;b", "name=c", "name=d", "name=multi\nline", "x"]
    np.testing.assert_array_equal(ds.X_train[:, -1], [1, 2, 3, 4])


def test_delimiter_key_overrides_detection(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,y;z\n1,2;3\n4,5;6\n1,2;7\n")  # , and ; both split every line in two
    assert load_dataset({"path": str(path), **RAW}, task="classification").feature_names == ["x"]
    ds = load_dataset({"path": str(path), "delimiter": ";", **RAW}, task="regression")
    assert ds.feature_names == ["x,y=1,2", "x,y=4,5"]


def test_fills_are_fitted_on_training_rows_only(tmp_path):
    train = {"x": np.array([1.0, np.nan, 3.0, 5.0]), "label": np.array(["a", "b", "a", "b"])}
    test = {"x": np.array([np.nan, 100.0]), "label": np.array(["a", "b"])}
    for name, cols in (("train.csv", train), ("test.csv", test)):
        (tmp_path / name).write_text(
            "x,label\n"
            + "".join(f"{'' if np.isnan(v) else v},{y}\n" for v, y in zip(*cols.values(), strict=True))
        )
    spec = {"path": str(tmp_path / "train.csv"), "test_path": str(tmp_path / "test.csv"), **RAW}
    ds = load_dataset({**spec, "missing": "mean"}, task="classification")
    assert ds.X_test[0, 0] == pytest.approx(3.0)  # the mean of 1, 3, 5: the test rows play no part
    assert ds.encoder.columns[0].fill == pytest.approx(3.0)
    ds = load_dataset({**spec, "missing": "most_frequent"}, task="classification")
    assert ds.X_train[1, 0] == 1.0  # ties go to the smallest value


def test_categories_come_from_training_rows_and_others_encode_as_zeros(tmp_path):
    (tmp_path / "train.csv").write_text("c,x,y\nred,1,0\nblue,2,1\nred,3,0\nblue,4,1\n")
    (tmp_path / "test.csv").write_text("c,x,y\nblue,1,0\nmauve,2,1\n")
    ds = load_dataset(
        {"path": str(tmp_path / "train.csv"), "test_path": str(tmp_path / "test.csv"), **RAW},
        task="classification",
    )
    assert ds.feature_names == ["c=blue", "c=red", "x"]
    np.testing.assert_array_equal(ds.X_test, [[1, 0, 1], [0, 0, 2]])


def test_parquet_feather_and_csv_give_the_same_dataset(tmp_path):
    cols = people(80)
    (tmp_path / "p.csv").write_text(csv_text(cols))
    table = pa.table({k: pa.array(list(v)) for k, v in cols.items()})
    pq.write_table(table, tmp_path / "p.parquet")
    feather.write_feather(table, tmp_path / "p.feather")
    spec = {"target": "label", "missing": "median", "validation_split": 0.2, "test_split": 0.2}
    sets = [
        load_dataset({"path": str(tmp_path / f"p.{ext}"), **spec}) for ext in ("csv", "parquet", "feather")
    ]
    for ds in sets[1:]:
        assert ds.feature_names == sets[0].feature_names
        for split in ("train", "val", "test"):
            np.testing.assert_array_equal(ds.split(split)[0], sets[0].split(split)[0])
            np.testing.assert_array_equal(ds.split(split)[1], sets[0].split(split)[1])


def test_features_keep_and_drop(tmp_path):
    (tmp_path / "f.csv").write_text(csv_text(people(20)))
    base = {"path": str(tmp_path / "f.csv"), "target": "label", "missing": "mean", **RAW}
    assert load_dataset({**base, "features": ["income", "age"]}).feature_names == ["income", "age"]
    assert load_dataset({**base, "features": {"drop": ["color"]}}).feature_names == ["age", "income"]
    with pytest.raises(DataError, match="data.features: no input column named 'agee'"):
        load_dataset({**base, "features": ["agee"]})


@pytest.mark.parametrize(
    ("text", "spec", "fragments"),
    [
        ("a,b,y\n1,,0\n2,3,1\n", {}, ["line 2, column 1 ('b'): missing value", "data.missing"]),
        (
            "a,c,y\n1,red,0\n2,blue,1\n",
            {"categorical": "none"},
            ["line 2, column 1 ('c'): not a number: 'red'"],
        ),
        (
            "a,b,y\n1,2,0\n2,3x,1\n3,4,0\n",
            {},
            ["line 3, column 1 ('b'): not a number: '3x'", "data.categorical"],
        ),
        ("a,b,y\n1,2,0\n2,3,1\n", {"target": "why"}, ["no column named 'why'"]),
        ("a,b,y\n1,2,0\n2,3,1\n", {"categorical": ["z"]}, ["data.categorical: no input column named 'z'"]),
        ("a,b,y\n1,2,0\n2,3\n", {}, ["line 3 has 2 columns, expected 3"]),
        ("a,a,y\n1,2,0\n", {}, ["names column 'a' more than once"]),
    ],
)
def test_bad_tables_get_one_line(tmp_path, text, spec, fragments):
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(DataError) as info:
        load_dataset({"path": str(tmp_path / "bad.csv"), "target": "y", **RAW, **spec}, task="classification")
    message = str(info.value)
    assert "\n" not in message and "bad.csv" in message
    for fragment in fragments:
        assert fragment in message, message


def test_auto_refuses_an_id_column(tmp_path):
    rows = "".join(f"user{i},{i % 2}\n" for i in range(200))
    (tmp_path / "ids.csv").write_text("name,y\n" + rows)
    with pytest.raises(DataError, match="200 distinct text values in 200 rows"):
        load_dataset({"path": str(tmp_path / "ids.csv"), "target": "y", **RAW})
    ds = load_dataset({"path": str(tmp_path / "ids.csv"), "target": "y", "categorical": ["name"], **RAW})
    assert ds.n_inputs == 200


def test_empty_parquet_is_refused(tmp_path):
    pq.write_table(
        pa.table({"x": pa.array([], pa.float64()), "y": pa.array([], pa.int64())}), tmp_path / "e.parquet"
    )
    with pytest.raises(DataError, match="empty"):
        load_dataset({"path": str(tmp_path / "e.parquet")})


# ---------------------------------------------------------------- the model carries the encoder


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run trained from a semicolon CSV with gaps and a text column, through the CLI's API."""
    folder = tmp_path_factory.mktemp("tab")
    (folder / "people.csv").write_text(csv_text(people(300, seed=1), ";"))
    config = {
        "data": {"path": str(folder / "people.csv"), "target": "label", "missing": "median"},
        "model": {"hidden": [8]},
        "train": {"epochs": 3, "batch_size": 16},
    }
    result = api.train(config, out=folder / "run")
    return folder, result


def hand_predict_proba(model, cols):
    """The model's probabilities from a hand encoding (the stored fills and categories), its
    preprocessing and a NumPy forward pass: independent of the encoder and the kernels."""
    enc = model.encoder
    parts = []
    for c in enc.columns:
        v = cols[c.name]
        if c.kind == "number":
            v = np.array([c.fill if x is None or np.isnan(x) else x for x in v], float)
            parts.append(v[:, None])
        else:
            v = [c.categories[c.fill_index] if x is None else x for x in v]
            parts.append(np.array([[x == k for k in c.categories] for x in v], float))
    h = (np.hstack(parts) - model.preprocessing.offset) / model.preprocessing.scale
    for k, (W, b) in enumerate(zip(model.weights, model.biases, strict=True)):
        h = h @ W + b
        if k < len(model.weights) - 1:
            h = np.maximum(h, 0) if model.activation == "relu" else np.tanh(h)
    e = np.exp(h - h.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_model_predicts_raw_rows_from_csv_parquet_and_dataframes(run):
    import pandas as pd

    folder, result = run
    model = MLP.load(result.run_dir / "model.npz")
    assert model.encoder is not None and model.feature_names[1:4] == [
        "color=blue",
        "color=green",
        "color=red",
    ]
    new = people(25, seed=7)
    new.pop("label")
    expected = hand_predict_proba(model, new)
    frame = pd.DataFrame({"income": new["income"], "color": new["color"], "age": new["age"]})  # other order
    np.testing.assert_allclose(model.predict_proba(frame), expected, rtol=1e-4, atol=1e-5)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), folder / "new.parquet")
    (folder / "new.csv").write_text(csv_text({**new, "label": new["income"]}).replace(",label", ",extra"))
    for name in ("new.parquet", "new.csv"):
        from fastmlp.inference import predict

        np.testing.assert_allclose(predict(model, folder / name, proba=True), expected, rtol=1e-4, atol=1e-5)
    assert model.predict_proba(frame).dtype == np.float32


def test_unseen_category_at_predict_is_one_line_exit_2(run):
    folder, result = run
    (folder / "odd.csv").write_text("age,color,income\n30,red,0.1\n40,mauve,0.2\n")
    out = CliRunner().invoke(app, ["predict", str(result.run_dir), str(folder / "odd.csv")])
    assert out.exit_code == 2, out.output
    line = out.stderr.strip()
    assert "\n" not in line and "line 3" in line and "'color'" in line and "'mauve'" in line


def test_missing_column_at_predict_names_it(run):
    folder, result = run
    (folder / "short.csv").write_text("age,income\n30,0.1\n")
    out = CliRunner().invoke(app, ["predict", str(result.run_dir), str(folder / "short.csv")])
    assert out.exit_code == 2 and "missing input column 'color'" in out.stderr


def test_evaluate_and_save_load_keep_the_encoding(run, tmp_path):
    folder, result = run
    report = CliRunner().invoke(app, ["evaluate", str(result.run_dir), "--json"])
    assert report.exit_code == 0, report.output
    metrics = json.loads(report.stdout)["metrics"]
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert metrics["accuracy"] == pytest.approx(summary["test_accuracy"], abs=1e-6)
    model = MLP.load(result.run_dir / "model.npz")
    model.save(tmp_path / "again.npz")
    again = MLP.load(tmp_path / "again.npz")
    assert again.encoder.output_names == model.encoder.output_names
    arrays = dict(np.load(tmp_path / "again.npz"))
    arrays["encoder_counts"] = arrays["encoder_counts"] + 1
    np.savez(tmp_path / "broken.npz", **arrays)
    with pytest.raises(ModelFileError, match="broken.npz"):
        MLP.load(tmp_path / "broken.npz")


def test_dataframes_train_through_prepare(run):
    import pandas as pd
    import polars as pl

    cols = people(120, seed=3)
    frame = pd.DataFrame({k: v for k, v in cols.items() if k != "label"})
    for X in (frame, pl.from_pandas(frame), pa.Table.from_pandas(frame, preserve_index=False)):
        ds = prepare(X, cols["label"], missing="mean", validation_split=0.0, preprocessing="none")
        np.testing.assert_allclose(ds.X_train, expected_inputs(cols, "mean")[0], rtol=1e-6)
    with pytest.raises(DataError, match="missing value"):
        prepare(frame, cols["label"])


def test_onnx_graph_encodes_table_columns_as_the_model_does(run, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    _, result = run
    model = MLP.load(result.run_dir / "model.npz")
    model.to_onnx(tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    assert [i.name for i in session.get_inputs()] == ["age", "color", "income"]
    new = people(40, seed=11)  # gaps in age and color: filled inside the graph
    feeds = {
        "age": new["age"].astype(np.float32)[:, None],
        "color": np.array(["" if c is None else c for c in new["color"]], dtype=object)[:, None],
        "income": new["income"].astype(np.float32)[:, None],
    }
    probabilities, labels = session.run(["probabilities", "label"], feeds)
    frame = {k: v for k, v in new.items() if k != "label"}
    import pandas as pd

    np.testing.assert_allclose(probabilities, model.predict_proba(pd.DataFrame(frame)), atol=1e-5)
    np.testing.assert_array_equal(labels, model.predict(pd.DataFrame(frame)))


def test_the_shipped_churn_config_trains_from_its_table_in_one_command(tmp_path):
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "scripts"))
    try:
        import make_churn
    finally:
        sys.path.pop(0)
    header, table = make_churn.make(6000)
    shipped = gzip.decompress((root / "configs/data/churn.csv.gz").read_bytes()).decode()
    assert shipped == "\n".join(";".join(r) for r in [header, *table]) + "\n"  # the script made it
    out = CliRunner().invoke(
        app,
        ["train", str(root / "configs/churn.yaml"), "--set", "train.epochs=4", "--out", str(tmp_path / "r")],
    )
    assert out.exit_code == 0, out.output
    summary = json.loads((tmp_path / "r/summary.json").read_text())
    assert summary["test_accuracy"] > 0.66  # the majority class is 0.58; the known model 0.71
    assert MLP.load(tmp_path / "r/model.npz").encoder.describe().startswith("8 columns (4 categorical")


def test_float_values_reads_chunks_slices_and_gaps():
    import pyarrow as pa

    from fastmlp.data.table import float_values

    chunked = pa.chunked_array(
        [pa.array([1, None, 3]), pa.array([], pa.int64()), pa.array([7, 8, 9]).slice(1)]
    )
    values = float_values(chunked)
    np.testing.assert_array_equal(values, [1.0, np.nan, 3.0, 8.0, 9.0])
    assert values.dtype == np.float64 and values.flags.writeable
    np.testing.assert_array_equal(float_values(pa.array([0.5, 1.5, 2.5, 3.5]).slice(2, 1)), [2.5])
    assert float_values(pa.chunked_array([], pa.float64())).shape == (0,)


def test_reading_a_table_leaves_pandas_unimported():
    """pyarrow's to_numpy imports pandas when it is installed (a quarter second); the readers
    take NumPy arrays from Arrow's buffers instead."""
    import subprocess
    import sys

    pytest.importorskip("pandas")
    code = (
        "import sys; from fastmlp.data import load_dataset; "
        "load_dataset({'name': 'digits'}); print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_number_beyond_float32_is_refused_by_cell(tmp_path):
    """1e40 fits a float64 column but not the float32 model: refused with its line and column,
    not cast to inf (which standardising turns into NaN); a float64 model takes it."""
    path = tmp_path / "big.csv"
    path.write_text("0,0,0,0\n0,0,0,0\n0,0,1e40,1\n0,1,2,0\n")
    with pytest.raises(DataError, match=r"big.csv: line 3, column 2: overflows float32 \(1e\+40\)"):
        load_dataset({"path": str(path), "validation_split": 0.0, "test_split": 0.0})
    ds = load_dataset({"path": str(path), "validation_split": 0.0, "test_split": 0.0}, dtype="float64")
    assert np.isfinite(ds.X_train).all() and ds.X_train.dtype == np.float64


def test_a_range_error_names_the_value_not_a_filled_gap(tmp_path):
    """The fill (here the mean, itself beyond float32) is not what is blamed: the cell holding
    the value is; an inf written as text is 'not finite', as a typed one is."""
    path = tmp_path / "gap.csv"
    path.write_text("x,y\n1,0\n,1\n1e40,0\n3,1\n")
    with pytest.raises(DataError, match=r"gap.csv: line 4, column 0 \('x'\): overflows float32"):
        load_dataset({"path": str(path), "validation_split": 0.0, "test_split": 0.0, "missing": "mean"})
    path = tmp_path / "text.csv"
    path.write_text("x,y\n1,0\n inf ,1\n2,0\n3,1\n")
    with pytest.raises(DataError, match=r"text.csv: line 3, column 0 \('x'\): not finite \(inf\)"):
        load_dataset({"path": str(path), "validation_split": 0.0, "test_split": 0.0})
