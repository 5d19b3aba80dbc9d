"""Writes the ONNX project's own backend node test cases for the ops wasmgrad imports.

Each case (from onnx.backend.test.case.node.collect_testcases(), generated offline by the onnx
package) goes to test/.onnx-cases/<name>/: model.onnx, and case.json with its tolerances and
every data set's inputs and expected outputs (name, dtype, shape, little-endian bytes in base64).
Run with the project's venv: .venv/bin/python scripts/onnx-cases.py
"""
import base64
import json
import os
import shutil
import warnings

import numpy as np

warnings.filterwarnings("ignore")  # the case generators compute some infinities on purpose
from onnx.backend.test.case.node import collect_testcases  # noqa: E402

FAMILIES = [
    "gemm", "matmul", "add", "sub", "mul", "div", "relu", "leakyrelu", "sigmoid", "tanh", "softmax", "logsoftmax",
    "conv", "maxpool", "averagepool", "globalaveragepool", "flatten", "reshape", "transpose", "identity", "dropout",
    "constant", "cast",
]
OUT = os.path.join(os.path.dirname(__file__), "..", "test", ".onnx-cases")


def family(name):
    """The op family a case belongs to: its name's first word after test_, as listed above (longest match)."""
    rest = name[len("test_"):]
    matches = [f for f in FAMILIES if rest == f or rest.startswith(f + "_")]
    return max(matches, key=len) if matches else None


def tensor(name, array):
    array = np.asarray(array)
    return {"name": name, "dtype": str(array.dtype), "shape": list(array.shape),
            "data": base64.b64encode(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()).decode()}


shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)
count = 0
for case in collect_testcases(None):
    fam = family(case.name)
    if fam is None:
        continue
    graph = case.model.graph
    folder = os.path.join(OUT, case.name)
    os.makedirs(folder)
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(case.model.SerializeToString())
    sets = []
    for inputs, outputs in case.data_sets:
        sets.append({
            "inputs": [tensor(graph.input[i].name, x) for i, x in enumerate(inputs)],
            "outputs": [tensor(graph.output[i].name, y) for i, y in enumerate(outputs)],
        })
    with open(os.path.join(folder, "case.json"), "w") as f:
        json.dump({"name": case.name, "family": fam, "rtol": case.rtol, "atol": case.atol, "dataSets": sets}, f)
    count += 1
print(f"wrote {count} cases to {os.path.normpath(OUT)}")
