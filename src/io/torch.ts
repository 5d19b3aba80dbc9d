// A model's state as PyTorch holds it, to send a model trained here back: each layer's codec
// gives its PyTorch module's tensors (nn.Linear's weight [out, in], nn.Conv2d's [cout, cin, kh, kw],
// BatchNorm's running_mean and running_var, …) under the layer's name, and a model used as a
// layer (an imported PyTorch model) gives its own tensors by their own names — so
// model.load_state_dict(safetensors.torch.load_file(path), strict=False) takes them back.
import { describe } from "../check.js";
import { ArgumentError, FormatError } from "../errors.js";
import type { TorchTensor } from "../nn/codec.js";
import { codecOf } from "../nn/codecs.js";
import { Layer } from "../nn/layer.js";
import { Module, joinPath } from "../nn/module.js";
import { writeSafetensors } from "./safetensors.js";

/** Every tensor by its PyTorch name, in PyTorch's layouts. A layer with no PyTorch form (recurrent, attention) is a FormatError naming it. */
export function toTorchStateDict(model: Module): Record<string, TorchTensor> {
  if (!(model instanceof Module)) throw new ArgumentError(`toTorchStateDict: expected a model, got ${describe(model)}`);
  const out: Record<string, TorchTensor> = {};
  const add = (name: string, t: TorchTensor) => {
    if (Object.hasOwn(out, name)) throw new FormatError(`toTorchStateDict: ${name} is named twice; give the layers names`);
    out[name] = t;
  };
  const visit = (m: Module, prefix: string) => {
    if (m instanceof Layer) {
      const torch = codecOf(m.kind)?.torch;
      if (!torch) throw new FormatError(`toTorchStateDict: layer ${m.name || prefix} (${m.kind}) has no PyTorch form here`);
      for (const [n, t] of Object.entries(torch(m))) add(joinPath(prefix, n), t);
      return;
    }
    const children = m.namedChildren();
    if (children.length === 0) for (const [n, t] of Object.entries(m.stateDict())) add(joinPath(prefix, n), { shape: [...t.shape], data: t.data() });
    for (const [n, child] of children) visit(child, joinPath(prefix, n));
  };
  visit(model, "");
  return out;
}

/** toTorchStateDict() as a .safetensors file (safetensors.torch.load_file reads it). */
export function toTorchSafetensors(model: Module): Uint8Array {
  return writeSafetensors(Object.entries(toTorchStateDict(model)), { format: "pt" });
}
