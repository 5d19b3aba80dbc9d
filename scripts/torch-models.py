"""Writes common architectures, written out in PyTorch and exported by both torch.onnx exporters,
with PyTorch's own outputs, loss and gradients, for test/pytorch.test.ts.

torchvision is not installed here, so the architectures are written out below, small (32×32
images, a 12-token text): a ResNet with basic blocks, a MobileNetV2 (inverted residuals,
depthwise convolutions, ReLU6), a MobileNetV3-style net (squeeze-and-excitation, Hardswish,
Hardsigmoid), a U-Net (max pooling, ConvTranspose, Concat, nearest and bilinear upsampling), a
VGG-style net (adaptive average pooling, dropout), a 1-D dilated conv net, a Transformer
encoder over token ids (Embedding, TransformerEncoderLayer with GELU, LayerNorm), and a
recurrent text model (a bidirectional LSTM, a GRU and an RNN over embedded ids). BatchNorm's
running statistics and affine parameters, and LayerNorm's, are seeded away from their initial
values, as a trained model's are (a fresh one's ones and zeros also let the exporters merge them
into one initialiser, whose gradient is then the sum of all their uses).

Each model is exported four ways, in eval mode:
  torchscript  torch.onnx.export(dynamo=False): its defaults, which fold BatchNorm into the Conv;
  torchscript-params  the same with training=PRESERVE and do_constant_folding=False, which keep
               every parameter an initialiser under its own name;
  dynamo       torch.onnx.export(dynamo=True, external_data=False): its defaults, optimised;
  dynamo-params  the same with optimize=False.
The references: onnxruntime's output for a seeded input, on each file; and PyTorch's own output,
the loss sum(output · r) for a seeded r, and the gradient of that loss for every parameter. The test compares the gradients of the
*-params exports, where every parameter is an initialiser of its own name and values (a folding
export's graph is another function of its weights).
Usage: .venv/bin/python scripts/torch-models.py [model ...]
"""
import base64
import io
import json
import logging
import os
import sys
import warnings

import numpy as np
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", ".torch-models")
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)


def conv_bn(cin, cout, k=3, stride=1, groups=1, act=nn.ReLU):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), act())


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None if stride == 1 and cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 8)
        self.layer1 = BasicBlock(8, 8, 1)
        self.layer2 = BasicBlock(8, 16, 2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.residual = stride == 1 and cin == cout
        self.conv = nn.Sequential(
            conv_bn(cin, hidden, 1, act=nn.ReLU6), conv_bn(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6),
            nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(conv_bn(3, 8, 3, 2, act=nn.ReLU6), InvertedResidual(8, 8, 1, 1), InvertedResidual(8, 12, 2, 4),
                                      InvertedResidual(12, 12, 1, 4), conv_bn(12, 32, 1, act=nn.ReLU6))
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, 10))

    def forward(self, x):
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


class SqueezeExcite(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc1 = nn.Conv2d(c, c // 4, 1)
        self.fc2 = nn.Conv2d(c // 4, c, 1)

    def forward(self, x):
        s = F.adaptive_avg_pool2d(x, 1)
        return x * F.hardsigmoid(self.fc2(F.relu(self.fc1(s))))


class MobileNetV3(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 16, 3, 2, act=nn.Hardswish)
        self.dw = conv_bn(16, 16, 5, 1, groups=16, act=nn.Hardswish)
        self.se = SqueezeExcite(16)
        self.project = conv_bn(16, 24, 1, act=nn.SiLU)
        self.head = nn.Linear(24, 10)

    def forward(self, x):
        x = self.project(self.se(self.dw(self.stem(x))))
        return self.head(x.mean((2, 3)))


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.down1 = conv_bn(3, 8)
        self.down2 = conv_bn(8, 16)
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.fuse = conv_bn(16, 8)
        self.out = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        a = self.down1(x)
        b = self.down2(F.max_pool2d(a, 2))
        u = torch.cat([self.up(b), F.interpolate(b[:, :8], scale_factor=2, mode="nearest")], 1)
        y = self.out(self.fuse(u))
        return torch.sigmoid(F.interpolate(y, scale_factor=0.5, mode="bilinear", align_corners=False))


class VGG(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Linear(16 * 4, 32), nn.ReLU(), nn.Dropout(), nn.Linear(32, 10))

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.features(x), (2, 2))
        return self.classifier(torch.flatten(x, 1))


class AudioNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(2, 8, 5, padding=2)
        self.bn1 = nn.BatchNorm1d(8)
        self.conv2 = nn.Conv1d(8, 8, 3, padding=2, dilation=2, groups=2)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = F.gelu(self.bn1(self.conv1(x)))
        x = F.elu(self.conv2(x))
        return self.fc(F.adaptive_max_pool1d(x, 1).flatten(1))


class TextTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.position = nn.Parameter(torch.randn(12, 16) * 0.1)
        self.encoder = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.1, activation="gelu", batch_first=True)
        self.norm = nn.LayerNorm(16)
        self.head = nn.Linear(16, 3)

    def forward(self, ids):
        x = self.encoder(self.embed(ids) + self.position)
        return self.head(self.norm(x).mean(1))


class TextRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.lstm = nn.LSTM(8, 6, batch_first=True, bidirectional=True)
        self.gru = nn.GRU(12, 5, batch_first=True)
        self.rnn = nn.RNN(5, 4, batch_first=True)
        self.head = nn.Linear(4, 3)

    def forward(self, ids):
        x, _ = self.lstm(self.embed(ids))
        x, _ = self.gru(x)
        x, h = self.rnn(x)
        return self.head(x[:, -1] + h[0])


MODELS = {
    "resnet": (ResNet, "image"), "mobilenet_v2": (MobileNetV2, "image"), "mobilenet_v3": (MobileNetV3, "image"), "unet": (UNet, "image"),
    "vgg": (VGG, "image"), "audio": (AudioNet, "audio"), "transformer": (TextTransformer, "text"), "rnn": (TextRNN, "text"),
}


def stored(name, array):
    array = np.ascontiguousarray(array)
    dtype = "int64" if array.dtype == np.int64 else "float32"
    return {"name": name, "dtype": dtype, "shape": list(array.shape), "data": base64.b64encode(array.astype("<i8" if dtype == "int64" else "<f4").tobytes()).decode()}


def seeded(make, seed):
    torch.manual_seed(seed)
    model = make()
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.1)
        if isinstance(m, nn.LayerNorm):  # a fresh one's ones and zeros are merged by the dynamo exporter's optimiser
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.1)
    return model.eval()


def sample(kind, seed):
    g = torch.Generator().manual_seed(seed)
    if kind == "image":
        return torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    if kind == "audio":
        return torch.randn(2, 2, 40, generator=g)
    return torch.randint(0, 50, (2, 12), generator=g)


def export(model, x, how):
    kw = {"input_names": ["x"], "output_names": ["y"]}
    if how.startswith("torchscript"):
        f = io.BytesIO()
        extra = {"training": torch.onnx.TrainingMode.PRESERVE, "do_constant_folding": False} if how.endswith("params") else {}
        torch.onnx.export(model, (x,), f, dynamo=False, **kw, **extra)
        return f.getvalue()
    program = torch.onnx.export(model, (x,), None, dynamo=True, external_data=False, optimize=not how.endswith("params"), **kw)
    return program.model_proto.SerializeToString()


def main(names):
    os.makedirs(OUT, exist_ok=True)
    for i, name in enumerate(names):
        make, kind = MODELS[name]
        model = seeded(make, 100 + i)
        x = sample(kind, 200 + i)
        y = model(x)
        r = torch.randn(y.shape, generator=torch.Generator().manual_seed(300 + i))
        loss = (y * r).sum()
        model.zero_grad()
        loss.backward()
        params = {n: p for n, p in model.named_parameters()}
        reference = {
            "family": "pytorch", "model": name, "torch": torch.__version__,
            "input": stored("x", x.numpy()), "output": stored("y", y.detach().numpy()), "r": stored("r", r.numpy()), "loss": float(loss),
            "parameters": {n: {"value": stored(n, p.detach().numpy()), "grad": stored(n, p.grad.numpy())} for n, p in params.items()},
        }
        for how in ("torchscript", "torchscript-params", "dynamo", "dynamo-params"):
            case = f"{name}-{how}"
            data = export(model, x, how)
            folder = os.path.join(OUT, case)
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, "model.onnx"), "wb") as f:
                f.write(data)
            # ONNX Runtime on the same file: the reference for the output, as for every other imported model.
            session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
            (runtime,) = session.run(["y"], {session.get_inputs()[0].name: x.numpy()})
            with open(os.path.join(folder, "case.json"), "w") as f:
                json.dump({**reference, "name": case, "exporter": how, "allParameters": how.endswith("params"), "onnxruntime": stored("y", runtime)}, f)
            print(f"wrote {case} ({len(data) / 1e3:.0f} kB)")


if __name__ == "__main__":
    main(sys.argv[1:] or list(MODELS))
