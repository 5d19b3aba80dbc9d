// fit({ cacheFeatures: true }): when a Sequential's leading layers are all frozen (a pretrained
// backbone), their output for a sample never changes while the head trains, so it is computed
// once per sample, in inference mode, and the rest of the layers train on those features — the
// backbone runs once instead of once per epoch. A frozen BatchNorm is on its running statistics
// in training mode too, so the cached features are exactly what the training pass would compute;
// a layer that draws randomness while training (Dropout, RandomShift) ends the cached part.
import { ArgumentError } from "../errors.js";
import type { Layer } from "../nn/layer.js";
import { Model } from "../nn/model.js";
import type { Module } from "../nn/module.js";
import { Sequential } from "../nn/sequential.js";
import type { Tensor } from "../tensor.js";

const RANDOM_IN_TRAINING = new Set(["Dropout", "RandomShift"]);

/** The layers after the cached ones, as a model whose parameters have the Sequential's names. */
export class LayerStack extends Model {
  constructor(readonly layers: readonly Layer[], engine: Sequential["engine"]) {
    super({ engine });
  }
  override namedChildren(): [string, Module][] {
    return this.layers.map((l) => [l.name, l]);
  }
  forward(x: Tensor): Tensor {
    return this.layers.reduce((h, l) => l.forward(h, { training: this.training }), x);
  }
}

/** How many leading layers of `model` are fixed (no trainable parameter, no randomness in training); a typed error where none is or all are. */
export function frozenPrefix(model: Model): { model: Sequential; cached: number } {
  if (!(model instanceof Sequential)) throw new ArgumentError("fit: cacheFeatures needs a Sequential (its leading frozen layers are what is cached)");
  let k = 0;
  while (k < model.layers.length && !RANDOM_IN_TRAINING.has(model.layers[k].kind) && model.layers[k].parameters().every((p) => p.frozen)) k++;
  const first = model.layers[k];
  if (k === model.layers.length) throw new ArgumentError("fit: cacheFeatures: every layer is frozen; nothing would train");
  if (!model.layers.slice(0, k).some((l) => l.parameters().length > 0)) {
    throw new ArgumentError(`fit: cacheFeatures: no frozen layer leads the model (${first.name || first.kind} trains or draws randomness); freeze the backbone first`);
  }
  return { model, cached: k };
}
