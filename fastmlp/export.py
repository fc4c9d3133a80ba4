"""ONNX export: a trained model as one ONNX graph, its preprocessing included, for any runtime.

    fastmlp export RUN_OR_MODEL --onnx model.onnx        model.to_onnx("model.onnx")

The graph takes raw feature rows, as `predict` does, and computes what the model computes:

    X  --(x - offset) / scale-->  h^0  --MatMul W^k, Add b^k, g-->  ...  -->  z^L  ("logits")

    classification  probabilities = Softmax(z), label = classes[ArgMax(z)], label_index
    multilabel      probabilities = Sigmoid(z), labels = (z >= 0) as int64
    regression      prediction = z * scale + offset (the target scaling undone)
    poisson         prediction = Exp(z)

Hidden activations map to ONNX operators (relu Relu, tanh Tanh, sigmoid Sigmoid, leaky_relu
LeakyRelu with alpha 0.01, identity nothing). Weights keep the model's dtype. A model trained on
a table (with an encoder) takes one input per column instead of X: numbers as (n, 1) floats
(NaN = missing, filled as in training), categories as (n, 1) strings, one-hot encoded in the
graph; the graph cannot refuse a row, so an unseen category encodes as all zeros there. Written with the
`onnx` package (the `onnx` extra); opset 17, which every current runtime reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .atomic import write_atomic
from .data.table import NUMBER
from .errors import FastMLPError
from .kernels.activations import LEAKY_SLOPE

OPSET = 17
ML_OPSET = 2  # ai.onnx.ml: LabelEncoder with string keys, for category columns
IR_VERSION = 8  # the IR of opset 17: runtimes older than the onnx package still read it
ACTIVATION_OPS = {
    "relu": "Relu",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "leaky_relu": "LeakyRelu",
    "identity": None,
}


def _encoder_nodes(encoder, dtype, node, const, helper, onnx):
    """Nodes that encode one input per table column, as TableEncoder.encode does: a number column
    (n, 1) with NaN for a missing value, filled; a category column (n, 1) of strings, "" for a
    missing value, one-hot through ai.onnx.ml's LabelEncoder and OneHot. A graph cannot refuse a
    row: an unseen category encodes as all zeros, and a gap with no fill stays NaN (a number) or
    all zeros (a category). Returns (the encoded inputs' name, the graph inputs)."""
    elem = helper.np_dtype_to_tensor_dtype(dtype)
    inputs, parts = [], []
    for j, c in enumerate(encoder.columns):
        name = c.name
        if c.kind == NUMBER:
            inputs.append(helper.make_tensor_value_info(name, elem, [None, 1]))
            part = name
            if not np.isnan(c.fill):
                gap = node("IsNaN", [name], f"gap{j}")
                part = node("Where", [gap, const(f"fill{j}", np.array([c.fill], dtype)), name], f"filled{j}")
            parts.append(part)
            continue
        inputs.append(helper.make_tensor_value_info(name, onnx.TensorProto.STRING, [None, 1]))
        k = len(c.categories)
        keys = [str(v) for v in c.categories] + ([""] if c.fill_index >= 0 else [])
        values = list(range(k)) + ([c.fill_index] if c.fill_index >= 0 else [])
        # An unseen string maps to k, out of OneHot's range [-k, k-1]: a row of zeros.
        index = node(
            "LabelEncoder",
            [name],
            f"index{j}",
            domain="ai.onnx.ml",
            keys_strings=keys,
            values_int64s=values,
            default_int64=k,
        )
        hot = node(
            "OneHot",
            [index, const(f"depth{j}", np.array(k, np.int64)), const(f"off_on{j}", np.array([0, 1], dtype))],
            f"hot{j}",
        )
        parts.append(node("Reshape", [hot, const(f"shape{j}", np.array([-1, k], np.int64))], f"onehot{j}"))
    return node("Concat", parts, "encoded", axis=1), inputs


def _onnx():
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:
        raise FastMLPError("ONNX export needs the onnx package: pip install 'fastmlp[onnx]'") from None
    return onnx, helper, numpy_helper


def to_onnx(model, path) -> Path:
    """Write model (an MLP) as an ONNX file at path, atomically; returns the path."""
    onnx, helper, numpy_helper = _onnx()
    g = _Graph(onnx, helper, numpy_helper, model.dtype)
    if model.encoder is not None:
        h, graph_inputs = _encoder_nodes(model.encoder, model.dtype, g.node, g.const, helper, onnx)
    else:
        h, graph_inputs = "X", [helper.make_tensor_value_info("X", g.elem, [None, model.n_inputs])]
    _network_nodes(g, model, h)
    graph = helper.make_graph(g.nodes, "fastmlp", graph_inputs, _output_nodes(g, model), initializer=g.inits)
    opsets = [helper.make_opsetid("", OPSET)]
    if model.encoder is not None:
        opsets.append(helper.make_opsetid("ai.onnx.ml", ML_OPSET))
    onnx_model = helper.make_model(graph, opset_imports=opsets, producer_name="fastmlp")
    onnx_model.ir_version = IR_VERSION
    if model.feature_names is not None:
        helper.set_model_props(onnx_model, {"feature_names": ",".join(model.feature_names)})
    onnx.checker.check_model(onnx_model)
    return write_atomic(path, onnx_model.SerializeToString())


class _Graph:
    """The nodes and initializers of the graph being written, in the model's dtype."""

    def __init__(self, onnx, helper, numpy_helper, dtype):
        self.onnx, self.helper, self.numpy_helper, self.dtype = onnx, helper, numpy_helper, dtype
        self.elem = helper.np_dtype_to_tensor_dtype(dtype)
        self.nodes, self.inits = [], []

    def const(self, name, value):
        self.inits.append(self.numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op, inputs, output, **attrs):
        self.nodes.append(self.helper.make_node(op, inputs, [output], **attrs))
        return output

    def output(self, name, kind, shape):
        return self.helper.make_tensor_value_info(name, kind, shape)


def _network_nodes(g, model, h):
    """The preprocessing and the layers, from the input `h` to "logits"."""
    p = model.preprocessing
    if p.kind != "none":
        h = g.node("Sub", [h, g.const("offset", p.offset.astype(g.dtype))], "centred")
        h = g.node("Div", [h, g.const("scale", p.scale.astype(g.dtype))], "inputs")
    last = len(model.weights) - 1
    for k, (W, b) in enumerate(zip(model.weights, model.biases, strict=True)):
        h = g.node("MatMul", [h, g.const(f"W{k + 1}", W)], f"hW{k + 1}")
        h = g.node("Add", [h, g.const(f"b{k + 1}", b)], f"z{k + 1}" if k < last else "logits")
        op = ACTIVATION_OPS[model.activation]
        if k < last and op is not None:
            attrs = {"alpha": LEAKY_SLOPE} if op == "LeakyRelu" else {}
            h = g.node(op, [h], f"h{k + 1}", **attrs)


def _output_nodes(g, model):
    """What the task makes of the logits (the task table's output and link), and the graph's
    outputs: logits always; probabilities and labels, or the prediction in the targets' units."""
    onnx, n_out, spec = g.onnx, model.n_outputs, model.task_spec
    outputs = [g.output("logits", g.elem, [None, n_out])]
    if spec.output == "softmax":
        g.node("Softmax", ["logits"], "probabilities", axis=1)
        g.node("ArgMax", ["logits"], "label_index", axis=1, keepdims=0)
        classes = np.asarray(model.classes if model.classes is not None else np.arange(n_out))
        if classes.dtype.kind in "iu":
            table, kind = classes.astype(np.int64), onnx.TensorProto.INT64
        else:
            table, kind = np.array([str(c) for c in classes], dtype=object), onnx.TensorProto.STRING
        g.inits.append(g.numpy_helper.from_array(table, "classes"))
        g.node("Gather", ["classes", "label_index"], "label", axis=0)
        return outputs + [
            g.output("probabilities", g.elem, [None, n_out]),
            g.output("label", kind, [None]),
            g.output("label_index", onnx.TensorProto.INT64, [None]),
        ]
    if spec.output == "sigmoid":
        g.node("Sigmoid", ["logits"], "probabilities")
        positive = g.node("GreaterOrEqual", ["logits", g.const("zero", np.zeros(1, g.dtype))], "positive")
        g.node("Cast", [positive], "labels", to=onnx.TensorProto.INT64)
        return outputs + [
            g.output("probabilities", g.elem, [None, n_out]),
            g.output("labels", onnx.TensorProto.INT64, [None, n_out]),
        ]
    t = model.target_scaler
    if spec.counts:
        g.node("Exp", ["logits"], "prediction")
    elif t.kind != "none":
        scaled = g.node("Mul", ["logits", g.const("target_scale", t.scale.astype(g.dtype))], "scaled")
        g.node("Add", [scaled, g.const("target_offset", t.offset.astype(g.dtype))], "prediction")
    else:
        g.node("Identity", ["logits"], "prediction")
    return outputs + [g.output("prediction", g.elem, [None, n_out])]
