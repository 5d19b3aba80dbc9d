// Normalisation layers, over the last axis (features of a dense layer, channels of NHWC images),
// with Keras's conventions: ε = 1e-3, biased batch variance, a learned scale γ (gamma) and shift
// β (beta). Both are composed of ops (mean, subtraction, square, sqrt, division), so their
// gradients come from those ops' rules, gradchecked one by one.
import { noGrad } from "../autograd/graph.js";
import { checkBoolean, checkNumber, checkOptions } from "../check.js";
import { ShapeError } from "../errors.js";
import { type Shape, type Tensor, formatShape } from "../tensor.js";
import { stateTensor } from "./init.js";
import { type BuildContext, type ForwardOptions, Layer } from "./layer.js";
import { type Config, type TfjsHelpers, codec } from "./codec.js";

export interface NormOptions {
  /** Added to the variance before its square root. Default 1e-3 (Keras). */
  epsilon?: number;
  /** Learn a shift β. Default true. */
  center?: boolean;
  /** Learn a scale γ. Default true. */
  scale?: boolean;
}

abstract class Norm extends Layer {
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  gamma: Tensor | null = null;
  beta: Tensor | null = null;

  constructor(kind: string, options: NormOptions | undefined) {
    super();
    const { epsilon = 1e-3, center = true, scale = true } = checkOptions(kind, options);
    this.epsilon = checkNumber(kind, "epsilon", epsilon, { above: 0 });
    this.center = checkBoolean(kind, "center", center);
    this.scale = checkBoolean(kind, "scale", scale);
  }

  build(inputShape: Shape, context: BuildContext): Shape {
    if (inputShape.length < 1) throw new ShapeError(`${this.kind}: needs at least one axis per sample, got ${formatShape(inputShape)}`);
    const features = inputShape[inputShape.length - 1];
    if (this.scale) this.gamma = stateTensor(context.engine, [features], `${this.name}.gamma`, (v) => v.fill(1));
    if (this.center) this.beta = stateTensor(context.engine, [features], `${this.name}.beta`, () => {});
    return inputShape;
  }

  /** centred / √(variance + ε) · γ + β, for centred = x − mean */
  protected normalise(centred: Tensor, variance: Tensor): Tensor {
    let y = centred.div(variance.add(this.epsilon).sqrt());
    if (this.gamma) y = y.mul(this.gamma);
    if (this.beta) y = y.add(this.beta);
    return y;
  }

  override config(): Record<string, unknown> {
    return { epsilon: this.epsilon, center: this.center, scale: this.scale };
  }
}

/** Normalises each sample over its last axis (Ba et al. 2016): the same in training and inference. */
export class LayerNorm extends Norm {
  readonly kind = "LayerNorm";

  constructor(options?: NormOptions) {
    super("LayerNorm", options);
  }

  forward(x: Tensor, _options: ForwardOptions): Tensor {
    const centred = x.sub(x.mean(-1, { keepDims: true }));
    return this.normalise(centred, centred.square().mean(-1, { keepDims: true }));
  }
}

export interface BatchNormOptions extends NormOptions {
  /** moving = moving·momentum + batch·(1 − momentum). Default 0.99 (Keras). */
  momentum?: number;
}

/**
 * Normalises each feature over the batch (and the image's pixels) while training (Ioffe &
 * Szegedy 2015), keeping moving averages of the mean and variance (buffers, saved with the
 * model) that inference uses instead.
 */
export class BatchNorm extends Norm {
  readonly kind = "BatchNorm";
  readonly momentum: number;
  movingMean: Tensor | null = null;
  movingVariance: Tensor | null = null;

  constructor(options?: BatchNormOptions) {
    super("BatchNorm", options);
    this.momentum = checkNumber("BatchNorm", "momentum", checkOptions("BatchNorm", options).momentum ?? 0.99, { min: 0, max: 1 });
  }

  override build(inputShape: Shape, context: BuildContext): Shape {
    const out = super.build(inputShape, context);
    const features = inputShape[inputShape.length - 1];
    this.movingMean = stateTensor(context.engine, [features], `${this.name}.movingMean`, () => {}, false);
    this.movingVariance = stateTensor(context.engine, [features], `${this.name}.movingVariance`, (v) => v.fill(1), false);
    return out;
  }

  forward(x: Tensor, { training = false }: ForwardOptions): Tensor {
    const [movingMean, movingVariance] = [this.movingMean!, this.movingVariance!];
    // Frozen (its scale and shift not training), it stays on its running statistics, as a fine-tune wants.
    const frozen = (this.gamma ?? this.beta)?.frozen === true && (this.beta ?? this.gamma)!.frozen;
    if (!training || frozen) return this.normalise(x.sub(movingMean), movingVariance);
    if (x.shape[0] === 0) throw new ShapeError(`${this.name || this.kind}: batch statistics of an empty batch are undefined`);
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const mean = x.mean(axes);
    const centred = x.sub(mean);
    const variance = centred.square().mean(axes); // biased, as Keras
    noGrad(() => {
      const memory = x.engine.memory;
      const m = this.momentum;
      for (const [moving, batch] of [[movingMean, mean], [movingVariance, variance]] as const) {
        const target = memory.f32(moving.ptr, moving.size);
        const source = memory.f32(batch.ptr, batch.size);
        for (let i = 0; i < target.length; i++) target[i] = target[i] * m + source[i] * (1 - m);
      }
    });
    return this.normalise(centred, variance);
  }

  override config(): Record<string, unknown> {
    return { ...super.config(), momentum: this.momentum };
  }
}

/** tfjs writes a normalisation's axis counted from the batch axis ([2] for [batch, time, features]): checked once built. */
function tfjsNorm(c: Config, h: TfjsHelpers): { axis: number; options: NormOptions } {
  const axis = Array.isArray(c.axis) ? (c.axis.length === 1 ? c.axis[0] : null) : c.axis ?? -1;
  if (!Number.isInteger(axis) || (axis < 1 && axis !== -1)) h.fail(`axis ${JSON.stringify(c.axis)}; wasmgrad normalises over the last axis`);
  return { axis, options: { epsilon: (c.epsilon as number) ?? 1e-3, center: c.center !== false, scale: c.scale !== false } };
}

export const layerNormCodec = codec<LayerNorm>({
  kind: "LayerNorm",
  fromConfig: (c) => new LayerNorm({ epsilon: c.epsilon as number, center: c.center as boolean, scale: c.scale as boolean }),
  tfjs: {
    classNames: ["LayerNormalization"],
    read(_, c, h) {
      const { axis, options } = tfjsNorm(c, h);
      const layer = new LayerNorm(options);
      if (axis !== -1) h.axisWhenBuilt(layer, axis);
      return layer;
    },
    write: (l, base) => ({ class_name: "LayerNormalization", config: { ...base, axis: -1, epsilon: l.epsilon, center: l.center, scale: l.scale } }),
  },
  onnx(l, input, w) {
    if (w.opset < 17) w.fail(`LayerNorm needs opset 17 or later (ONNX's LayerNormalization), got ${w.opset}`);
    const features = w.shape[w.shape.length - 1];
    const scale = l.gamma?.data() ?? new Float32Array(features).fill(1), shift = l.beta?.data() ?? new Float32Array(features);
    return w.node("LayerNormalization", [input, w.weight("gamma", [features], scale), w.weight("beta", [features], shift)], [
      { name: "axis", i: -1 }, { name: "epsilon", f: l.epsilon },
    ])[0];
  },
  torch: (l) => ({
    ...(l.gamma ? { weight: { shape: [...l.gamma.shape], data: l.gamma.data() } } : {}),
    ...(l.beta ? { bias: { shape: [...l.beta.shape], data: l.beta.data() } } : {}),
  }),
});

export const batchNormCodec = codec<BatchNorm>({
  kind: "BatchNorm",
  fromConfig: (c) => new BatchNorm({ epsilon: c.epsilon as number, center: c.center as boolean, scale: c.scale as boolean, momentum: c.momentum as number }),
  tfjs: {
    classNames: ["BatchNormalization"],
    read(_, c, h) {
      const { axis, options } = tfjsNorm(c, h);
      const layer = new BatchNorm({ ...options, momentum: (c.momentum as number) ?? 0.99 });
      if (axis !== -1) h.axisWhenBuilt(layer, axis);
      return layer;
    },
    write: (l, base) => ({ class_name: "BatchNormalization", config: { ...base, axis: -1, momentum: l.momentum, epsilon: l.epsilon, center: l.center, scale: l.scale } }),
  },
  // At inference a BatchNorm is x·a + b over the last axis: a = γ/√(var + ε), b = β − mean·a.
  onnx(l, input, w) {
    const features = w.shape[w.shape.length - 1];
    const mean = l.movingMean!.data(), variance = l.movingVariance!.data(), gamma = l.gamma?.data(), beta = l.beta?.data();
    const a = new Float32Array(features), b = new Float32Array(features);
    for (let i = 0; i < features; i++) {
      a[i] = (gamma ? gamma[i] : 1) / Math.sqrt(variance[i] + l.epsilon);
      b[i] = (beta ? beta[i] : 0) - mean[i] * a[i];
    }
    const [scaled] = w.node("Mul", [input, w.weight("scale", [features], a)]);
    return w.node("Add", [scaled, w.weight("shift", [features], b)])[0];
  },
  // torch.nn.BatchNorm*d: weight, bias, running_mean, running_var (Keras's biased variance, as ours).
  torch: (l) => ({
    ...(l.gamma ? { weight: { shape: [...l.gamma.shape], data: l.gamma.data() } } : {}),
    ...(l.beta ? { bias: { shape: [...l.beta.shape], data: l.beta.data() } } : {}),
    running_mean: { shape: [...l.movingMean!.shape], data: l.movingMean!.data() },
    running_var: { shape: [...l.movingVariance!.shape], data: l.movingVariance!.data() },
  }),
});
