// Layers that only move or pool values: Reshape, Permute, GlobalAveragePooling. Each is one op
// (a view, a transpose, a mean), so its backward is that op's.
import { checkCount } from "../check.js";
import { ArgumentError, ShapeError } from "../errors.js";
import { type Shape, type Tensor, formatShape, sizeOf } from "../tensor.js";
import { type ForwardOptions, Layer } from "./layer.js";
import { codec } from "./codec.js";

/** Each sample to `shape` (one axis may be -1), the batch axis kept. */
export class Reshape extends Layer {
  readonly kind = "Reshape";
  readonly targetShape: number[];
  constructor(targetShape: readonly number[]) {
    super();
    if (!Array.isArray(targetShape) || !targetShape.every((d) => d === -1 || (Number.isInteger(d) && d > 0)) || targetShape.filter((d) => d === -1).length > 1) {
      throw new ArgumentError(`Reshape: targetShape must be positive sizes (one may be -1), got ${JSON.stringify(targetShape)}`);
    }
    this.targetShape = [...targetShape];
  }
  build(inputShape: Shape): Shape {
    const size = sizeOf(inputShape);
    const known = sizeOf(this.targetShape.filter((d) => d !== -1));
    const out = this.targetShape.map((d) => (d === -1 ? size / known : d));
    if (!out.every(Number.isInteger) || sizeOf(out) !== size) throw new ShapeError(`Reshape: ${formatShape(inputShape)} cannot become ${formatShape(this.targetShape)}`);
    return out;
  }
  forward(x: Tensor, _options: ForwardOptions): Tensor {
    return x.reshape([x.shape[0], ...this.build(x.shape.slice(1))]);
  }
  override config(): Record<string, unknown> {
    return { targetShape: this.targetShape };
  }
}

/** Reorders each sample's axes: dims lists them from 1 (the batch axis stays first), as Keras. */
export class Permute extends Layer {
  readonly kind = "Permute";
  readonly dims: number[];
  constructor(dims: readonly number[]) {
    super();
    const sorted = Array.isArray(dims) ? [...dims].sort((a, b) => a - b) : [];
    if (!Array.isArray(dims) || dims.length === 0 || !sorted.every((d, i) => d === i + 1)) {
      throw new ArgumentError(`Permute: dims must be a permutation of 1 … ${Array.isArray(dims) ? dims.length : "n"}, got ${JSON.stringify(dims)}`);
    }
    this.dims = [...dims];
  }
  build(inputShape: Shape): Shape {
    if (inputShape.length !== this.dims.length) throw new ShapeError(`Permute: dims ${JSON.stringify(this.dims)} for samples of shape ${formatShape(inputShape)}`);
    return this.dims.map((d) => inputShape[d - 1]);
  }
  forward(x: Tensor, _options: ForwardOptions): Tensor {
    return x.transpose([0, ...this.dims]);
  }
  override config(): Record<string, unknown> {
    return { dims: this.dims };
  }
}

/** The mean over every axis but the batch's and the last: [batch, …, features] → [batch, features] (images' pixels, a sequence's steps). */
export class GlobalAveragePooling extends Layer {
  readonly kind = "GlobalAveragePooling";
  build(inputShape: Shape): Shape {
    if (inputShape.length < 2) throw new ShapeError(`GlobalAveragePooling: expects samples of shape [..., features] with at least one axis to pool, got ${formatShape(inputShape)}`);
    checkCount("GlobalAveragePooling", "features", inputShape[inputShape.length - 1]);
    return [inputShape[inputShape.length - 1]];
  }
  forward(x: Tensor, _options: ForwardOptions): Tensor {
    return x.mean(x.shape.slice(1, -1).map((_, i) => i + 1));
  }
}

export const reshapeCodec = codec<Reshape>({
  kind: "Reshape",
  fromConfig: (c) => new Reshape(c.targetShape as number[]),
  tfjs: {
    classNames: ["Reshape"],
    read: (_, c) => new Reshape(c.target_shape as number[]),
    write: (l, base) => ({ class_name: "Reshape", config: { ...base, target_shape: l.targetShape } }),
  },
  // The batch axis kept (0: copied from the input), the rest as built.
  onnx: (l, input, w) => w.node("Reshape", [input, w.int64s("shape", [0, ...l.build(w.shape)])])[0],
  torch: () => ({}),
});

export const permuteCodec = codec<Permute>({
  kind: "Permute",
  fromConfig: (c) => new Permute(c.dims as number[]),
  tfjs: {
    classNames: ["Permute"],
    read: (_, c) => new Permute(c.dims as number[]),
    write: (l, base) => ({ class_name: "Permute", config: { ...base, dims: l.dims } }),
  },
  onnx: (l, input, w) => w.node("Transpose", [input], [{ name: "perm", ints: [0, ...l.dims] }])[0],
  torch: () => ({}),
});

export const globalAveragePoolingCodec = codec<GlobalAveragePooling>({
  kind: "GlobalAveragePooling",
  fromConfig: () => new GlobalAveragePooling(),
  tfjs: {
    // Keras's 1D pools a sequence's steps, 2D an image's pixels (channels_last): ours, for rank 2 and 3.
    classNames: ["GlobalAveragePooling1D", "GlobalAveragePooling2D"],
    read: (_, c, h) => (h.channelsLast(c), new GlobalAveragePooling()),
    write(l, base, h) {
      const rank = l.builtFor?.length ?? 0;
      if (rank !== 2 && rank !== 3) h.fail(`pools samples of rank ${rank}; tfjs has 1-D and 2-D global pooling`);
      return { class_name: `GlobalAveragePooling${rank - 1}D`, config: { ...base, data_format: "channels_last" } };
    },
  },
  onnx(_, input, w) {
    const axes = w.shape.slice(0, -1).map((__, i) => i + 1);
    // ReduceMean's axes are an attribute before opset 18, an input from it.
    return w.opset < 18
      ? w.node("ReduceMean", [input], [{ name: "axes", ints: axes }, { name: "keepdims", i: 0 }])[0]
      : w.node("ReduceMean", [input, w.int64s("axes", axes)], [{ name: "keepdims", i: 0 }])[0];
  },
  torch: () => ({}),
});
