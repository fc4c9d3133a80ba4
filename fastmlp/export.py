"""ONNX export: a trained model as one ONNX graph, its preprocessing included, for any runtime.

    fastmlp export RUN_OR_MODEL --onnx model.onnx        model.to_onnx("model.onnx")

The graph takes raw feature rows, as `predict` does, and computes what the model computes:

    X  --(x - offset) / scale-->  h^0  --MatMul W^k, Add b^k, g-->  ...  -->  z^L  ("logits")

    classification  probabilities = Softmax(z), label = classes[ArgMax(z)], label_index
    multilabel      probabilities = Sigmoid(z), labels = (z >= 0) as int64
    regression      prediction = z * scale + offset (the target scaling undone)
    poisson         prediction = Exp(z)

Hidden activations map to ONNX operators (relu Relu, tanh Tanh, sigmoid Sigmoid, leaky_relu
LeakyRelu with alpha 0.01, identity nothing). Weights keep the model's dtype. Written with the
`onnx` package (the `onnx` extra); opset 17, which every current runtime reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .atomic import write_atomic
from .errors import FastMLPError
from .kernels.activations import LEAKY_SLOPE

OPSET = 17
IR_VERSION = 8  # the IR of opset 17: runtimes older than the onnx package still read it
ACTIVATION_OPS = {
    "relu": "Relu",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "leaky_relu": "LeakyRelu",
    "identity": None,
}


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
    dtype = model.dtype
    elem = helper.np_dtype_to_tensor_dtype(dtype)
    nodes, inits = [], []

    def const(name, value):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op, inputs, output, **attrs):
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    h = "X"
    p = model.preprocessing
    if p.kind != "none":
        h = node("Sub", [h, const("offset", p.offset.astype(dtype))], "centred")
        h = node("Div", [h, const("scale", p.scale.astype(dtype))], "inputs")
    last = len(model.weights) - 1
    for k, (W, b) in enumerate(zip(model.weights, model.biases, strict=True)):
        h = node("MatMul", [h, const(f"W{k + 1}", W)], f"hW{k + 1}")
        h = node("Add", [h, const(f"b{k + 1}", b)], f"z{k + 1}" if k < last else "logits")
        op = ACTIVATION_OPS[model.activation]
        if k < last and op is not None:
            attrs = {"alpha": LEAKY_SLOPE} if op == "LeakyRelu" else {}
            h = node(op, [h], f"h{k + 1}", **attrs)

    n_out = model.n_outputs
    outputs = [helper.make_tensor_value_info("logits", elem, [None, n_out])]
    spec = model.task_spec
    if spec.output == "softmax":
        node("Softmax", ["logits"], "probabilities", axis=1)
        node("ArgMax", ["logits"], "label_index", axis=1, keepdims=0)
        classes = model.classes if model.classes is not None else np.arange(n_out)
        classes = np.asarray(classes)
        if classes.dtype.kind in "iu":
            table, kind = classes.astype(np.int64), onnx.TensorProto.INT64
        else:
            table, kind = np.array([str(c) for c in classes], dtype=object), onnx.TensorProto.STRING
        inits.append(numpy_helper.from_array(table, "classes"))
        node("Gather", ["classes", "label_index"], "label", axis=0)
        outputs += [
            helper.make_tensor_value_info("probabilities", elem, [None, n_out]),
            helper.make_tensor_value_info("label", kind, [None]),
            helper.make_tensor_value_info("label_index", onnx.TensorProto.INT64, [None]),
        ]
    elif spec.output == "sigmoid":
        node("Sigmoid", ["logits"], "probabilities")
        positive = node("GreaterOrEqual", ["logits", const("zero", np.zeros(1, dtype))], "positive")
        node("Cast", [positive], "labels", to=onnx.TensorProto.INT64)
        outputs += [
            helper.make_tensor_value_info("probabilities", elem, [None, n_out]),
            helper.make_tensor_value_info("labels", onnx.TensorProto.INT64, [None, n_out]),
        ]
    else:
        if spec.link == "exp":
            node("Exp", ["logits"], "prediction")
        elif model.target_scaler.kind != "none":
            t = model.target_scaler
            scaled = node("Mul", ["logits", const("target_scale", t.scale.astype(dtype))], "scaled")
            node("Add", [scaled, const("target_offset", t.offset.astype(dtype))], "prediction")
        else:
            node("Identity", ["logits"], "prediction")
        outputs.append(helper.make_tensor_value_info("prediction", elem, [None, n_out]))

    graph = helper.make_graph(
        nodes,
        "fastmlp",
        [helper.make_tensor_value_info("X", elem, [None, model.n_inputs])],
        outputs,
        initializer=inits,
    )
    onnx_model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="fastmlp"
    )
    onnx_model.ir_version = IR_VERSION
    if model.feature_names is not None:
        helper.set_model_props(onnx_model, {"feature_names": ",".join(model.feature_names)})
    onnx.checker.check_model(onnx_model)
    return write_atomic(path, onnx_model.SerializeToString())
