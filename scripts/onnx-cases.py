"""Writes ONNX test cases for the importer's conformance test (test/onnx-conformance.test.ts).

Three sources, all shipped by the onnx package:
  node:      the backend node test cases (onnx.backend.test.case.node.collect_testcases(),
             generated offline) of every op in wasmgrad's op table: each case whose nodes all
             use ops of the table, listed by `node scripts/onnx-ops.mjs` from the built package;
  pytorch-converted, pytorch-operator: the models PyTorch exported, with their stored data sets.
Each case goes to test/.onnx-cases/<name>/: model.onnx, and case.json with its tolerances and
every data set's inputs and expected outputs (name, dtype, shape, little-endian bytes in base64).
Run with the project's venv, after the build: .venv/bin/python scripts/onnx-cases.py
"""
import base64
import glob
import json
import os
import shutil
import subprocess
import warnings

import numpy as np

warnings.filterwarnings("ignore")  # the case generators compute some infinities on purpose
import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402
from onnx.backend.test.case.node import collect_testcases  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", ".onnx-cases")
DATA = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")


def tensor(name, array):
    array = np.asarray(array)
    return {"name": name, "dtype": str(array.dtype), "shape": list(array.shape),
            "data": base64.b64encode(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()).decode()}


def write(name, source, model, data_sets, rtol, atol):
    folder = os.path.join(OUT, name)
    os.makedirs(folder)
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    graph = model.graph
    initialized = {i.name for i in graph.initializer}
    feeds = [i for i in graph.input if i.name not in initialized]
    sets = [{"inputs": [tensor(feeds[i].name, x) for i, x in enumerate(inputs)],
             "outputs": [tensor(graph.output[i].name, y) for i, y in enumerate(outputs)]} for inputs, outputs in data_sets]
    with open(os.path.join(folder, "case.json"), "w") as f:
        json.dump({"name": name, "family": source, "rtol": rtol, "atol": atol, "dataSets": sets}, f)


ops = {entry["op"] for entry in json.loads(subprocess.check_output(["node", os.path.join(HERE, "onnx-ops.mjs")]))}
shutil.rmtree(OUT, ignore_errors=True)
os.makedirs(OUT)
count = {"node": 0, "pytorch-converted": 0, "pytorch-operator": 0}
for case in collect_testcases(None):
    used = {n.op_type for n in case.model.graph.node}
    if not used or not used <= ops or any(n.domain not in ("", "ai.onnx") for n in case.model.graph.node):
        continue
    write(case.name, "node", case.model, case.data_sets, case.rtol, case.atol)
    count["node"] += 1
for source in ("pytorch-converted", "pytorch-operator"):
    for folder in sorted(glob.glob(os.path.join(DATA, source, "test_*"))):
        model = onnx.load(os.path.join(folder, "model.onnx"))
        sets = []
        for data in sorted(glob.glob(os.path.join(folder, "test_data_set_*"))):
            # input_10.pb after input_9.pb: in the order of their numbers, not of their names
            number = lambda p: int(os.path.basename(p).split("_")[1].split(".")[0])
            read = lambda pattern: [numpy_helper.to_array(onnx.load_tensor(p)) for p in sorted(glob.glob(os.path.join(data, pattern)), key=number)]
            sets.append((read("input_*.pb"), read("output_*.pb")))
        write(os.path.basename(folder), source, model, sets, 1e-3, 1e-7)
        count[source] += 1
print(f"wrote {sum(count.values())} cases to {os.path.normpath(OUT)}: {count}")
