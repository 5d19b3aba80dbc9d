// Multi-head scaled dot-product attention (Vaswani et al. 2017) with Keras's weight shapes:
// query/key/value kernels [features, heads, keyDim] and biases [heads, keyDim], output kernel
// [heads, keyDim, features] and bias [features]. Composed of ops — batched matmuls over
// [batch, heads, time, keyDim], a softmax over the last axis — so its backward is theirs.
// A causal mask (−∞ above the diagonal) keeps each position from seeing later ones.
import { checkBoolean, checkCount, checkOptions } from "../check.js";
import { ShapeError } from "../errors.js";
import { type Shape, Tensor, formatShape, tensor } from "../tensor.js";
import { initializers, stateTensor } from "./init.js";
import { type BuildContext, type ForwardOptions, Layer } from "./layer.js";
import { codec } from "./codec.js";

export interface AttentionOptions {
  /** Each position attends only to itself and earlier ones (a language model's). Default false. */
  causal?: boolean;
  /** Default true. */
  useBias?: boolean;
}

export class MultiHeadAttention extends Layer {
  readonly kind = "MultiHeadAttention";
  readonly causal: boolean;
  readonly useBias: boolean;
  queryKernel: Tensor | null = null;
  queryBias: Tensor | null = null;
  keyKernel: Tensor | null = null;
  keyBias: Tensor | null = null;
  valueKernel: Tensor | null = null;
  valueBias: Tensor | null = null;
  outputKernel: Tensor | null = null;
  outputBias: Tensor | null = null;
  private masks = new Map<string, Tensor>();

  constructor(readonly numHeads: number, readonly keyDim: number, options?: AttentionOptions) {
    super();
    checkCount("MultiHeadAttention", "numHeads", numHeads);
    checkCount("MultiHeadAttention", "keyDim", keyDim);
    const o = checkOptions("MultiHeadAttention", options);
    this.causal = checkBoolean("MultiHeadAttention", "causal", o.causal ?? false);
    this.useBias = checkBoolean("MultiHeadAttention", "useBias", o.useBias ?? true);
  }

  build(inputShape: Shape, { random, engine }: BuildContext): Shape {
    if (inputShape.length !== 2) throw new ShapeError(`MultiHeadAttention: expects inputs of shape [time, features] per sample, got ${formatShape(inputShape)}`);
    const d = inputShape[1], h = this.numHeads, k = this.keyDim;
    const make = (shape: number[], fanIn: number, fanOut: number, name: string, zero = false) =>
      stateTensor(engine, shape, `${this.name}.${name}`, (v) => zero || initializers.xavierUniform(v, fanIn, fanOut, random));
    for (const which of ["query", "key", "value"] as const) {
      this[`${which}Kernel`] = make([d, h, k], d, h * k, `${which}Kernel`);
      if (this.useBias) this[`${which}Bias`] = make([h, k], 0, 0, `${which}Bias`, true);
    }
    this.outputKernel = make([h, k, d], h * k, d, "outputKernel");
    if (this.useBias) this.outputBias = make([d], 0, 0, "outputBias", true);
    return inputShape;
  }

  /** Self-attention: the sequence attends to itself. */
  forward(x: Tensor, _options: ForwardOptions): Tensor {
    return this.attend(x, x, x);
  }

  /** query [batch, T, d] attends to value [batch, S, d] through key [batch, S, d] (default: value). */
  attend(query: Tensor, value: Tensor, key: Tensor = value): Tensor {
    const [b, t, d] = query.shape;
    const s = value.shape[1];
    const h = this.numHeads, k = this.keyDim;
    if (query.rank !== 3 || value.rank !== 3 || key.rank !== 3 || value.shape[2] !== d || key.shape[1] !== s || value.shape[0] !== b) {
      throw new ShapeError(`${this.name || this.kind}: expected query [batch, T, ${d}], value and key [batch, S, ${d}], got ${formatShape(query.shape)}, ${formatShape(value.shape)}, ${formatShape(key.shape)}`);
    }
    // [batch, length, d] · [d, heads·keyDim] → [batch, heads, length, keyDim]
    const project = (x: Tensor, kernel: Tensor, bias: Tensor | null, length: number) => {
      let y = x.reshape([b * length, d]).matmul(kernel.reshape([d, h * k]));
      if (bias) y = y.add(bias.reshape([h * k]));
      return y.reshape([b, length, h, k]).transpose([0, 2, 1, 3]);
    };
    const q = project(query, this.queryKernel!, this.queryBias, t);
    const keys = project(key, this.keyKernel!, this.keyBias, s);
    const values = project(value, this.valueKernel!, this.valueBias, s);
    let scores = q.matmul(keys.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(k)); // [batch, heads, T, S]
    if (this.causal) scores = scores.add(this.mask(t, s, query));
    const attended = scores.softmax(-1).matmul(values); // [batch, heads, T, keyDim]
    let y = attended.transpose([0, 2, 1, 3]).reshape([b * t, h * k]).matmul(this.outputKernel!.reshape([h * k, d]));
    if (this.outputBias) y = y.add(this.outputBias);
    return y.reshape([b, t, d]);
  }

  /** [T, S]: 0 where position i may see j (j ≤ i), −∞ where it may not; made once per size. */
  private mask(t: number, s: number, like: Tensor): Tensor {
    const key = `${t}x${s}`;
    let m = this.masks.get(key);
    if (!m || m.isDisposed) {
      m = tensor(Float32Array.from({ length: t * s }, (_, i) => (i % s > Math.floor(i / s) ? Number.NEGATIVE_INFINITY : 0)), { shape: [t, s], engine: like.engine });
      this.masks.set(key, m);
    }
    return m;
  }

  override config(): Record<string, unknown> {
    return { numHeads: this.numHeads, keyDim: this.keyDim, causal: this.causal, useBias: this.useBias };
  }
}

export const multiHeadAttentionCodec = codec<MultiHeadAttention>({
  kind: "MultiHeadAttention",
  fromConfig: (c) => new MultiHeadAttention(c.numHeads as number, c.keyDim as number, { causal: c.causal as boolean, useBias: c.useBias as boolean }),
  // Self-attention as the forward pass writes it: projections, [batch, heads, T, keyDim] by Reshape and Transpose, scaled scores, softmax.
  onnx(l, input, w) {
    const [t, d] = w.shape, h = l.numHeads, k = l.keyDim;
    const project = (which: "query" | "key" | "value", perm: number[]) => {
      const kernel = l[`${which}Kernel`]!, bias = l[`${which}Bias`];
      let [y] = w.node("MatMul", [input, w.weight(`${which}Kernel`, [d, h * k], kernel.data())]);
      if (bias) [y] = w.node("Add", [y, w.weight(`${which}Bias`, [h * k], bias.data())]);
      const [heads] = w.node("Reshape", [y, w.int64s(`${which}Heads`, [0, 0, h, k])]);
      return w.node("Transpose", [heads], [{ name: "perm", ints: perm }])[0];
    };
    const q = project("query", [0, 2, 1, 3]), keys = project("key", [0, 2, 3, 1]), values = project("value", [0, 2, 1, 3]);
    let [scores] = w.node("MatMul", [q, keys]);
    [scores] = w.node("Mul", [scores, w.weight("scale", [], Float32Array.of(1 / Math.sqrt(k)))]);
    if (l.causal) {
      const mask = Float32Array.from({ length: t * t }, (_, i) => (i % t > Math.floor(i / t) ? Number.NEGATIVE_INFINITY : 0));
      [scores] = w.node("Add", [scores, w.weight("mask", [t, t], mask)]);
    }
    const [p] = w.node("Softmax", [scores], [{ name: "axis", i: -1 }]);
    const [attended] = w.node("Transpose", [w.node("MatMul", [p, values])[0]], [{ name: "perm", ints: [0, 2, 1, 3] }]);
    const [joined] = w.node("Reshape", [attended, w.int64s("joined", [0, 0, h * k])]);
    let [y] = w.node("MatMul", [joined, w.weight("outputKernel", [h * k, d], l.outputKernel!.data())]);
    if (l.outputBias) [y] = w.node("Add", [y, w.weight("outputBias", [d], l.outputBias.data())]);
    return y;
  },
});
