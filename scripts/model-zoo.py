"""Writes the ONNX model zoo's classic CNNs, with seeded weights, as conformance cases.

The onnx package ships them as test/data/light/light_<model>.onnx: the real architectures
(AlexNet, DenseNet-121, Inception v1 and v2, ResNet-50, ShuffleNet, SqueezeNet, VGG-19,
ZFNet-512, at opset 9) with every weight replaced by a ConstantOfShape. This script gives each
weight seeded values of a scale that keeps activations finite (He-like for conv and Gemm
weights; positive variances and scales for BatchNorm), makes the file once at its own opset 9 and
once converted to opset 17 by onnx's version converter, runs onnxruntime on a seeded input for
the reference outputs (the logits as well as their softmax), and writes the case as
scripts/onnx-cases.py does. Tolerance: 1e-4 relative to each element, plus 1e-4 of the output's
largest magnitude (a logit near zero is a difference of large sums).
Usage: .venv/bin/python scripts/model-zoo.py [model ...] (default: all but the three largest,
AlexNet, VGG-19 and ZFNet-512, whose weights are 240-550 MB).
"""
import base64
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper, version_converter

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", ".onnx-cases")
LIGHT = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
DEFAULT = ["squeezenet", "shufflenet", "inception_v1", "inception_v2", "densenet121", "resnet50"]


def seeded(model, seed):
    """The model with every ConstantOfShape weight, and every float initialiser, given seeded values."""
    rng = np.random.default_rng(seed)
    graph = model.graph
    shapes = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    roles = {}  # tensor name -> (op, input index) of its first consumer
    for n in graph.node:
        for k, name in enumerate(n.input):
            roles.setdefault(name, (n.op_type, k))

    def values(name, dims):
        op, k = roles.get(name, ("", 0))
        if op == "BatchNormalization" and k in (1, 4):  # scale, variance
            return rng.uniform(0.5, 1.5, dims)
        if op == "BatchNormalization":  # bias, mean
            return rng.normal(0, 0.1, dims)
        if len(dims) >= 2:
            fan_in = int(np.prod(dims[1:])) if op != "Gemm" else int(dims[-1])
            return rng.normal(0, np.sqrt(2.0 / max(fan_in, 1)), dims)
        return rng.normal(0, 0.01, dims)

    nodes, inits = [], []
    for n in graph.node:
        if n.op_type == "ConstantOfShape" and n.input[0] in shapes:
            dims = [int(d) for d in shapes[n.input[0]]]
            inits.append(numpy_helper.from_array(values(n.output[0], dims).astype(np.float32), n.output[0]))
        else:
            nodes.append(n)
    used = {name for n in nodes for name in n.input}
    for i in graph.initializer:
        if i.name not in used:
            continue
        a = numpy_helper.to_array(i)
        inits.append(numpy_helper.from_array(values(i.name, list(a.shape)).astype(np.float32), i.name) if a.dtype == np.float32 else i)
    # The logits too, not only the softmax of them: seeded weights saturate a softmax, which would
    # then compare ones with ones.
    outputs = list(graph.output)
    last = nodes[-1]
    if last.op_type == "Softmax" and last.output[0] == outputs[0].name:
        outputs.append(helper.make_tensor_value_info(last.input[0], onnx.TensorProto.FLOAT, None))
    names = {i.name for i in inits}
    inputs = [i for i in graph.input if i.name not in names and i.name in used]
    new = helper.make_model(helper.make_graph(nodes, graph.name, inputs, outputs, inits), opset_imports=list(model.opset_import))
    new.ir_version = max(model.ir_version, 4)  # IR 4: initialisers need not be listed as graph inputs
    return new


def tensor(name, array):
    array = np.asarray(array)
    return {"name": name, "dtype": str(array.dtype), "shape": list(array.shape), "data": base64.b64encode(np.ascontiguousarray(array).astype("<f4").tobytes()).decode()}


def main(models):
    os.makedirs(OUT, exist_ok=True)
    for i, name in enumerate(models):
        base = seeded(onnx.load(os.path.join(LIGHT, f"light_{name}.onnx")), 1000 + i)
        for opset, model in ((9, base), (17, version_converter.convert_version(base, 17))):
            case = f"zoo_{name}_opset{opset}"
            folder = os.path.join(OUT, case)
            os.makedirs(folder, exist_ok=True)
            data = model.SerializeToString()
            with open(os.path.join(folder, "model.onnx"), "wb") as f:
                f.write(data)
            feed = model.graph.input[0]
            dims = [d.dim_value for d in feed.type.tensor_type.shape.dim]
            x = np.random.default_rng(7).uniform(-1, 1, dims).astype(np.float32)
            session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
            outputs = session.run(None, {feed.name: x})
            sets = [{"inputs": [tensor(feed.name, x)], "outputs": [tensor(o.name, y) for o, y in zip(model.graph.output, outputs)]}]
            with open(os.path.join(folder, "case.json"), "w") as f:
                json.dump({"name": case, "family": "model-zoo", "rtol": 1e-4, "atol": "scale", "dataSets": sets}, f)
            print(f"wrote {case} ({len(data) / 1e6:.1f} MB)")


main(sys.argv[1:] or DEFAULT)
