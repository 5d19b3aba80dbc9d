"""PyTorch takes back what wasmgrad fine-tuned (test/transfer.test.ts): the example's
finetuned.safetensors loaded into the backbone script's own Net(5) by
load_state_dict(..., strict=False), then its logits for the first `count` held-out images of the
fine-tune's digits, printed as JSON with the keys load_state_dict reported missing and unexpected.
Usage: .venv/bin/python scripts/torch-load-check.py <finetuned.safetensors> <count>
"""
import importlib.util
import json
import os
import sys

import torch
from safetensors.torch import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("transfer_backbone", os.path.join(HERE, "transfer-backbone.py"))
backbone = importlib.util.module_from_spec(spec)
spec.loader.exec_module(backbone)

path, count = sys.argv[1], int(sys.argv[2])
model = backbone.Net(5)
result = model.load_state_dict(load_file(path), strict=False)
model.eval()
x, _ = backbone.stack(range(5, 10), 1)
with torch.no_grad():
    logits = model(x[:count])
print(json.dumps({"missing": result.missing_keys, "unexpected": result.unexpected_keys, "logits": logits.flatten().tolist()}))
