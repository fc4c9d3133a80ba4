"""From a trained model to answers: evaluate a saved model on a dataset split, predict on raw
rows (arrays, DataFrames or files), and write predictions as CSV or .npy. What `fastmlp evaluate`
and `fastmlp predict` call."""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import checkpoint, runs
from .config import ConfigError, load_config, parse_yaml, read_yaml_file
from .data.features import align_features, read_features
from .errors import DataError, FastMLPError
from .kernels.losses import sigmoid_inplace, softmax_inplace
from .model import MLP
from .scores import precision_recall_f1, residual_summary, roc_auc_ovr
from .tasks import SPLITS

# evaluate's splits: a run's, and every row of the data's file.
EVALUATION_SPLITS = (*SPLITS, "all")


def resolve_model(source: str | Path) -> tuple[Path, Path | None]:
    """(model.npz, run folder or None) for a run folder or a model file."""
    source = Path(source)
    if source.is_dir():
        model_path = source / runs.MODEL
        if not model_path.is_file():
            if (source / checkpoint.FILE).is_file():
                at = checkpoint.load(source / checkpoint.FILE).describe()
                raise FastMLPError(
                    f"{source}: an unfinished run (its checkpoint is {at}); "
                    f"finish it with: fastmlp train --resume {source}"
                )
            raise FastMLPError(f"{source}: no {runs.MODEL} in this folder; is it a finished fastmlp run?")
        return model_path, source
    if not source.exists():
        raise FastMLPError(f"{source}: no such run folder or model file")
    return source, None


def data_spec(text: str | Mapping | None, run_dir: Path | None) -> tuple[dict, int]:
    """(data spec, seed) for evaluate: from --data, else from the run's config.yaml. A bare data
    file's spec is {"path": ...} alone (is_data_file tells it apart).

    --data may be a config YAML (its data: section), a data-spec YAML, an inline YAML
    mapping ("{name: digits, test_split: 0.3}"), a data file (.npz/.npy/.csv/IDX) or a
    built-in dataset name.
    """
    if text is None:
        if run_dir is None:
            raise FastMLPError("evaluate MODEL.npz needs --data (a config, a data file or a dataset name)")
        config = load_config(run_dir / runs.CONFIG)
        return dict(config.data), config.seed
    if isinstance(text, Mapping):
        return dict(text), 0
    path = Path(text)
    if path.suffix in (".yaml", ".yml"):
        raw = read_yaml_file(path)
        if isinstance(raw, Mapping) and ("data" in raw or not raw):
            config = load_config(path)
            return dict(config.data), config.seed
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{path}: expected a config or a data spec mapping")
        return dict(raw), 0
    if text.lstrip().startswith("{"):
        raw = parse_yaml(text, "--data")
        if not isinstance(raw, Mapping):
            raise ConfigError("--data: expected a mapping like {name: digits}")
        return dict(raw), 0
    if path.exists():
        return {"path": str(path)}, 0
    return {"name": text}, 0


def is_data_file(spec: Mapping) -> bool:
    """Whether evaluate's data spec is a bare data file (--data FILE): its rows are all held out."""
    return set(spec) == {"path"}


def evaluate(
    source: str | Path, data: str | Mapping | None = None, split: str | None = None, values: bool = False
) -> dict[str, Any]:
    """Metrics of a saved model on one split of a dataset: "test", "val", "train", or "all" (every
    row of the data's file, no separate test file); None: "all" for a bare data file given as data
    (held-out rows), else "test".

    The data is loaded raw (no preprocessing, no target scaling) and the model's own saved
    transforms are applied, and labels are matched to the model's classes by value, so a model
    is judged on exactly what it was trained with.
    Returns {"split", "n", "task", "metrics", and for classification "classes",
    "per_class_accuracy", "confusion" (rows: true class, columns: predicted), "per_class"
    (precision, recall, f1, support, their macro and weighted averages) and "roc_auc"
    (one-vs-rest per class and macro; see scores.py); metrics gain log_loss, f1_macro and
    roc_auc_macro. Multilabel: the same per label. Regression: "residuals" (y - prediction in
    the targets' units: mean, std, min, quartiles, max), and with values=True "values": the
    arrays "true" and "predicted" (n, k) that the summary describes (for a plot; not JSON).}
    """
    model, model_path, name, split, X, (y_class, y_target) = _evaluation_set(source, data, split)
    result = {
        "model": str(model_path),
        "dataset": name,
        "split": split,
        "n": int(X.shape[0]),
        "task": model.task,
        "metrics": model.metrics(X, y_class, y_target),
    }
    z = model.forward(X)
    spec = model.task_spec
    if spec.labels == "values":
        y_own, predicted = model.target_units(y_target), model.values(z)
        result["residuals"] = residual_summary(y_own, predicted)
        if values:
            result["values"] = {"true": y_own, "predicted": predicted}
        return result
    k = model.n_outputs
    result["classes"] = [str(c) for c in (model.classes if model.classes is not None else range(k))]
    result["metrics"]["log_loss"] = result["metrics"]["loss"]  # the cross-entropy, from the logits
    if spec.indices:
        truth = _class_scores(result, z.argmax(axis=1), y_class, k)
    else:
        truth = _label_scores(result, z, y_target)
    (softmax_inplace if spec.output == "softmax" else sigmoid_inplace)(z)
    result["roc_auc"] = roc_auc_ovr(truth, z)
    result["metrics"]["f1_macro"] = result["per_class"]["macro"]["f1"]
    result["metrics"]["roc_auc_macro"] = result["roc_auc"]["macro"]
    return result


def _evaluation_set(source, data, split):
    """(model, its path, the dataset's name, network inputs, encoded labels) for evaluate: the
    data loaded raw and put through the model's own saved transforms."""
    from .data import load_dataset

    model_path, run_dir = resolve_model(source)
    spec, seed = data_spec(data, run_dir)
    split = split or ("all" if is_data_file(spec) else "test")
    if split not in EVALUATION_SPLITS:
        raise FastMLPError(f"--split: expected one of {', '.join(EVALUATION_SPLITS)}, got {split!r}")
    if split == "all":  # every row of the data's file: no splits, no separate test file
        spec.update(validation_split=0.0, test_split=0.0, test_path=None, test_y_path=None)
    model = MLP.load(model_path)
    spec["preprocessing"] = "none"
    spec["target_scaling"] = "none"
    if spec.get("width") is None:
        spec["width"] = model.n_inputs  # an svmlight file is as wide as the model's inputs
    if spec.get("zero_based", "auto") == "auto":
        spec["zero_based"] = _zero_based(model)  # and indexed as its training file
    ds = load_dataset(spec, seed=seed, dtype=model.dtype.name, task=model.task, encoder=model.encoder)
    X, y = ds.split("train" if split == "all" else split)
    if X is None:
        others = " or ".join(f"--split {s}" for s in EVALUATION_SPLITS if s != split)
        raise DataError(f"{ds.name}: has no {split} split (try {others})")
    if ds.n_inputs != model.n_inputs:
        raise DataError(f"{ds.name}: has {ds.n_inputs} features but the model takes {model.n_inputs}")
    if model.task_spec.indices and ds.classes is not None:
        y = ds.classes[y]  # back to the labels as spelled, so they meet the model's classes by value
    X = model.transform(X, ds.name, encoded=True)
    return model, model_path, ds.name, split, X, model.encode_labels(y, X.shape[0], ds.name)


def _class_scores(result, predicted, y_class, k):
    """Per-class accuracy, the confusion matrix and precision/recall/F1 into result; returns the
    one-hot truth for ROC-AUC."""
    confusion = np.bincount(y_class * k + predicted, minlength=k * k).reshape(k, k)
    totals = confusion.sum(axis=1)
    result["per_class_accuracy"] = [
        float(confusion[i, i] / totals[i]) if totals[i] else None for i in range(k)
    ]
    result["confusion"] = confusion.tolist()
    result["per_class"] = precision_recall_f1(confusion)
    return np.eye(k, dtype=bool)[y_class]


def _label_scores(result, z, y_target):
    """Each label as its own two-class problem, scored as its positive class, into result;
    returns the truth for ROC-AUC."""
    truth, predicted = y_target >= 0.5, z >= 0
    per_label = [
        precision_recall_f1(np.bincount(2 * truth[:, j] + predicted[:, j], minlength=4).reshape(2, 2))
        for j in range(z.shape[1])
    ]
    per_class = {key: [p[key][1] for p in per_label] for key in ("precision", "recall", "f1", "support")}
    per_class["macro"] = {key: float(np.mean(per_class[key])) for key in ("precision", "recall", "f1")}
    result["per_class"] = per_class
    return truth


# ---------------------------------------------------------------- predict


def predict(model: MLP | str | Path, X: np.ndarray | str | Path, proba: bool = False) -> np.ndarray:
    """Predictions on raw inputs (the model's saved preprocessing is applied).

    model: an MLP, a model.npz, or a run folder; X: an array, a DataFrame, or a .npy/.npz/.csv
    file. A CSV header or a DataFrame's columns are matched to the model's feature names.
    Classification: class labels (probabilities per class with proba=True); multilabel: 0/1 per
    label; regression: predictions in the targets' own units.
    """
    if not isinstance(model, MLP):
        model = load_model(model)
    name = "X"
    if isinstance(X, (str, Path)) and model.encoder is not None:
        name = str(X)
        X = _table_rows(model, X)
    elif isinstance(X, (str, Path)):
        name = str(X)
        X, names = read_features(X, model.feature_names, width=model.n_inputs, zero_based=_zero_based(model))
        if names is not None and model.feature_names is not None:
            X = align_features(X, names, model.feature_names, name)
        elif names is not None:
            warnings.warn(
                f"{name}: has a header but the model was trained without feature names; "
                "its columns are taken in file order",
                stacklevel=2,
            )
    if proba and not model.task_spec.output:
        raise FastMLPError(f"--proba is for classification models; this one does {model.task}")
    return model.predict(X, name=name) if not proba else model.predict_proba(X, name=name)


def _zero_based(model: MLP):
    """How an svmlight file to predict on is indexed: as the model's training file, else decided
    by the file ("auto")."""
    return "auto" if model.svmlight_zero_based is None else model.svmlight_zero_based


def _table_rows(model: MLP, path):
    """A table file's rows (CSV, Parquet, Feather) as the columns the model's encoder takes."""
    from .data.formats import TABLES, describe, format_of
    from .data.table import read_table

    if format_of(path) not in TABLES:
        raise DataError(f"{path}: this model encodes table columns; give a {describe(TABLES)} file")
    table, _, row = read_table(path, header=True if model.encoder.named else None)
    return model.encoder.table_columns(table, str(path), row)


def load_model(source: str | Path) -> MLP:
    """The MLP of a run folder or a model.npz."""
    return MLP.load(resolve_model(source)[0])


def predictions_csv(
    predictions: np.ndarray, proba: bool = False, classes: Sequence[str] | None = None
) -> str:
    """CSV text with a header: class | prob_<class>... | <class>... (multilabel 0/1) | y (or
    y_0..y_k). Class predictions are the class labels themselves."""
    p = predictions if predictions.ndim == 2 else predictions[:, None]
    names = [str(c) for c in classes] if classes is not None else None
    if predictions.ndim == 1:
        return "class\n" + "".join(f"{_csv_cell(str(v))}\n" for v in predictions)
    elif proba:
        header = [f"prob_{names[i] if names else i}" for i in range(p.shape[1])]
    elif p.dtype.kind in "iu" and p.shape[1] > 1:  # multilabel indicators
        header = [_csv_cell(names[i]) if names else f"label_{i}" for i in range(p.shape[1])]
    else:
        header = ["y"] if p.shape[1] == 1 else [f"y_{i}" for i in range(p.shape[1])]
    out = io.StringIO()
    fmt = "%d" if p.dtype.kind in "iu" else "%.9g"
    np.savetxt(out, p, fmt=fmt, delimiter=",", header=",".join(header), comments="")
    return out.getvalue()


def _csv_cell(text: str) -> str:
    """A CSV field: quoted when it holds a comma, a quote or a newline."""
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\n') else text


def write_predictions(
    predictions: np.ndarray, path: str | Path, proba: bool = False, classes: Sequence[str] | None = None
) -> Path:
    """Write predictions atomically: .npy by extension (class indices), otherwise CSV. The folder
    must exist (a typo in it should not silently create a tree of folders)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise FastMLPError(f"--out {path}: the folder {path.parent} does not exist; create it first")
    if path.suffix.lower() == ".npy":
        buffer = io.BytesIO()
        np.save(buffer, predictions)
        return runs.write_atomic(path, buffer.getvalue())
    return runs.write_atomic(path, predictions_csv(predictions, proba, classes))
