"""Makes test/fixtures/sklearn-digits-mlp.onnx and .json for test/onnx.test.ts: a model trained by
another library. A scikit-learn MLPClassifier trained (briefly, so fine-tuning has work left) on the
digits scikit-learn bundles, converted by skl2onnx exactly as it converts (ZipMap and the label
branch included), with the digits and scikit-learn's predict_proba for them.

skl2onnx is not in the package mirror; install it from its source repository (onnx/sklearn-onnx)
into the project's venv: .venv/bin/pip install scikit-learn <path to its source>
Then: .venv/bin/python scripts/sklearn-fixture.py
"""
import json
import os
import warnings

import numpy as np
import onnx
import skl2onnx
import sklearn
from skl2onnx import to_onnx
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier

warnings.filterwarnings("ignore")  # the brief training does not converge, on purpose
pixels, labels = load_digits(return_X_y=True)
x = (pixels / 16).astype(np.float32)
train, test = slice(0, 600), slice(600, 900)
clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=15, random_state=0).fit(x[train], labels[train])
model = to_onnx(clf, x[:1], target_opset=17)
out = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures")
with open(os.path.join(out, "sklearn-digits-mlp.onnx"), "wb") as f:
    f.write(model.SerializeToString())
with open(os.path.join(out, "sklearn-digits-mlp.json"), "w") as f:
    json.dump({
        "made_by": f"scikit-learn {sklearn.__version__}, skl2onnx {skl2onnx.__version__}, onnx {onnx.__version__}",
        "ops": sorted({f"{n.domain or 'ai.onnx'}:{n.op_type}" for n in model.graph.node}),
        "outputs": [o.name for o in model.graph.output],
        "pixels": pixels[:900].astype(int).tolist(),
        "labels": labels[:900].astype(int).tolist(),
        "train": [0, 600],
        "test": [600, 900],
        "predict_proba": clf.predict_proba(x[test]).astype(float).round(9).tolist(),
        "sklearn_train_loss": float(clf.loss_),
    }, f)
print("ops:", sorted({f"{n.domain or 'ai.onnx'}:{n.op_type}" for n in model.graph.node}))
print("outputs:", [o.name for o in model.graph.output], "nodes:", [(n.op_type, list(n.input), list(n.output)) for n in model.graph.node])
