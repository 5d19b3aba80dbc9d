"""The cnn bench's PyTorch half: MobileNetV2 (1.0) and ResNet-18 written out (torchvision is not
available), with seeded weights, exported to ONNX for the bench (an inference file of MobileNetV2
at 224×224; files keeping BatchNorm and every parameter for the fine-tuning step: MobileNetV2 at
128×128, ResNet-18 at 112×112), and PyTorch CPU eager's own fine-tuning step timed on one thread:
batch 16, every layer training but BatchNorm (eval mode, its scale and shift frozen), SGD with
momentum, cross-entropy on seeded data. And the model zoo's CNNs (scripts/model-zoo.py's files) with
a free batch axis: their graph inputs and outputs, and the leading 1 of every Reshape's constant
shape, made the batch (0: copy the input's first axis). Writes bench/.models/*.onnx and
torch-finetune.json.
Usage: .venv/bin/python bench/cnn-models.py
"""
import importlib.util
import io
import json
import logging
import os
import resource
import time
import warnings

import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".models")
# ResNet's BasicBlock as the CI's PyTorch models write it (scripts/torch-models.py).
_spec = importlib.util.spec_from_file_location("torch_models", os.path.join(os.path.dirname(OUT), "..", "scripts", "torch-models.py"))
_torch_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_torch_models)
BasicBlock = _torch_models.BasicBlock
warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)


def conv_bn(cin, cout, k, stride=1, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, nn.ReLU6()) if act else nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.residual = stride == 1 and cin == cout
        layers = [conv_bn(cin, hidden, 1)] if expand != 1 else []
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden), conv_bn(hidden, cout, 1, act=False)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


class MobileNetV2(nn.Module):
    """Sandler et al. 2018, width 1.0: 3.5M parameters, 300M multiply-adds at 224×224."""

    def __init__(self, classes=1000):
        super().__init__()
        layers, cin = [conv_bn(3, 32, 3, 2)], 32
        for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(conv_bn(cin, 1280, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(1280, classes)

    def forward(self, x):
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


class ResNet18(nn.Module):
    """He et al. 2016: 11.7M parameters, 1.8G multiply-adds at 224×224."""

    def __init__(self, classes=1000):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        blocks, cin = [], 64
        for cout, stride in [(64, 1), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1)]:
            blocks.append(BasicBlock(cin, cout, stride))
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1), 1))


def seeded(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.normal_(0, 0.1)
    return model.eval()


def export(model, size, keep):
    """An ONNX file with a free batch axis; `keep`: BatchNorm and every parameter as they are (to train)."""
    f = io.BytesIO()
    extra = {"training": torch.onnx.TrainingMode.PRESERVE, "do_constant_folding": False} if keep else {}
    torch.onnx.export(model, (torch.zeros(1, 3, size, size),), f, dynamo=False, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=17, **extra)
    return f.getvalue()


def batchnorm_parameters(model):
    return [f"{name}.{p}" for name, m in model.named_modules() if isinstance(m, nn.BatchNorm2d) for p in ("weight", "bias")]


def finetune_step(model, size, batch):
    """The fine-tuning step on one thread: every layer training but BatchNorm (frozen: running
    statistics, scale and shift not trained), SGD with momentum, on seeded images and labels."""
    torch.set_num_threads(1)
    frozen = set(batchnorm_parameters(model))
    for name, p in model.named_parameters():
        p.requires_grad = name not in frozen
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
    g = torch.Generator().manual_seed(7)
    x = torch.rand(batch, 3, size, size, generator=g) * 2 - 1
    y = torch.randint(0, 1000, (batch,), generator=g)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    return step


def finetune_rate(model, size, batch=16, steps=6):
    """PyTorch eager's samples/s for the fine-tuning step, one thread (the median step of `steps`, after two to warm up)."""
    step = finetune_step(model, size, batch)
    times = []
    for i in range(steps + 2):
        started = time.perf_counter()
        step()
        if i >= 2:
            times.append(time.perf_counter() - started)
    times.sort()
    return {"samplesPerSecond": batch / times[len(times) // 2], "min": batch / times[-1], "max": batch / times[0], "steps": steps}


def finetune_memory(make, size, batch=16, steps=4):
    """The growth of peak RSS over `steps` fine-tuning steps (the first included) of the model
    make() builds, in a child forked before this script has run any model (so no memory freed by
    another is there to reuse): PyTorch's working memory for the step, with what its allocator keeps."""
    read, write = os.pipe()
    if os.fork() == 0:
        os.close(read)
        step = finetune_step(seeded(make()), size, batch)
        with open("/proc/self/statm") as f:
            before = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        for _ in range(steps):
            step()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        os.write(write, json.dumps({"peakStepBytes": max(peak - before, 0)}).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        result = json.loads(f.read())
    os.wait()
    return result


ZOO = os.path.join(os.path.dirname(OUT), "..", "test", ".onnx-cases")


def batch_free(name):
    """A zoo file whose batch of 1 is written into it, made to take any batch."""
    model = onnx.load(os.path.join(ZOO, f"zoo_{name}_opset17", "model.onnx"))
    for v in list(model.graph.input) + list(model.graph.output):
        dims = v.type.tensor_type.shape.dim
        if len(dims) > 0:
            dims[0].dim_param = "batch"
    del model.graph.value_info[:]  # shapes inferred for a batch of 1, which ONNX Runtime would fold in
    shapes = {n.input[1] for n in model.graph.node if n.op_type == "Reshape"}
    for i, init in enumerate(model.graph.initializer):
        if init.name in shapes:
            a = numpy_helper.to_array(init).copy()
            if a.size > 0 and a[0] == 1:
                a[0] = 0
                model.graph.initializer[i].CopyFrom(numpy_helper.from_array(a, init.name))
    for node in model.graph.node:  # or a Constant node's value
        if node.op_type == "Constant" and node.output[0] in shapes:
            a = numpy_helper.to_array(node.attribute[0].t).copy()
            if a.size > 0 and a[0] == 1:
                a[0] = 0
                node.attribute[0].t.CopyFrom(numpy_helper.from_array(a))
    with open(os.path.join(OUT, f"zoo-{name}.onnx"), "wb") as f:
        f.write(model.SerializeToString())


# MobileNetV2's depthwise layers at 224×224 (channels, size, stride): one Conv each, for the per-layer comparison.
DEPTHWISE = [(32, 112, 1), (96, 112, 2), (144, 56, 1), (144, 56, 2), (192, 28, 1), (384, 14, 1), (576, 14, 2), (960, 7, 1)]


def export_layer(layer, shape, name):
    """A layer (its weights seeded before it was made) with a free batch axis, as `name`.onnx."""
    f = io.BytesIO()
    torch.onnx.export(layer.eval(), (torch.zeros(1, *shape),), f, dynamo=False, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=17)
    with open(os.path.join(OUT, f"{name}.onnx"), "wb") as out:
        out.write(f.getvalue())


def export_depthwise(c, size, stride):
    """One depthwise 3×3 Conv (a group per channel, bias, padding 1)."""
    torch.manual_seed(c + stride)
    export_layer(nn.Conv2d(c, c, 3, stride, 1, groups=c), (c, size, size), f"dw-{c}-{size}-{stride}")


class DilatedStack1d(nn.Module):
    """WaveNet's shape: 1-D convolutions of 64 channels, kernel 3, dilations 1, 2, 4 and 8, ReLU between."""

    def __init__(self, c=64):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv1d(c, c, 3, padding=d, dilation=d) for d in (1, 2, 4, 8))

    def forward(self, x):
        for conv in self.convs:
            x = torch.relu(conv(x))
        return x


def export_conv_kinds():
    """The 1-D stack over 16,000 samples, DeepLab's atrous 3×3 (dilation 2) at 28×28×256,
    U-Net's up-convolution (ConvTranspose 2×2, stride 2) from 56×56×128 to 112×112×64, and an
    up block with Resize (Conv 1×1, ×2 nearest or bilinear, Conv 3×3) from 28×28×128."""
    torch.manual_seed(2)
    export_layer(DilatedStack1d(), (64, 16000), "conv1d-stack")
    export_layer(nn.Conv2d(256, 256, 3, padding=2, dilation=2), (256, 28, 28), "atrous-256-28")
    export_layer(nn.ConvTranspose2d(128, 64, 2, stride=2), (128, 56, 56), "upconv-128-56")
    for mode in ("nearest", "bilinear"):
        export_layer(nn.Sequential(nn.Conv2d(128, 64, 1), nn.Upsample(scale_factor=2, mode=mode), nn.Conv2d(64, 64, 3, padding=1)),
                     (128, 28, 28), f"upsample-{mode}-128-28")


def main():
    os.makedirs(OUT, exist_ok=True)
    for c, size, stride in DEPTHWISE:
        export_depthwise(c, size, stride)
    export_conv_kinds()
    torch.manual_seed(1)
    memory = {name: finetune_memory(make, size) for name, make, size in [("mobilenetv2-train", MobileNetV2, 128), ("resnet18-train", ResNet18, 112)]}
    for name in ["resnet50", "squeezenet", "shufflenet", "densenet121", "inception_v1"]:
        batch_free(name)
    torch.manual_seed(1)
    results = {"torch": torch.__version__}
    files = [("mobilenetv2", MobileNetV2, 224, False), ("mobilenetv2-train", MobileNetV2, 128, True), ("resnet18-train", ResNet18, 112, True)]
    for name, make, size, keep in files:
        model = seeded(make())
        with open(os.path.join(OUT, f"{name}.onnx"), "wb") as f:
            f.write(export(model, size, keep))
        if keep:
            results[name] = {"size": size, "frozen": batchnorm_parameters(model), **memory[name], **finetune_rate(model, size)}
        print(f"wrote {name}.onnx" + (f"; PyTorch fine-tuning step {results[name]['samplesPerSecond']:.1f} samples/s" if keep else ""))
    with open(os.path.join(OUT, "torch-finetune.json"), "w") as f:
        json.dump(results, f, indent=1)


main()
