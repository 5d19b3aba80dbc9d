import type { Activation } from "../autograd/ops/activate.js";
import { dense } from "../autograd/ops/dense.js";
import { checkCount } from "../check.js";
import { ShapeError } from "../errors.js";
import { type Shape, type Tensor, formatShape } from "../tensor.js";
import { type WeightOptions, checkWeightOptions, initialWeights } from "./init.js";
import { type BuildContext, type ForwardOptions, WeightedLayer } from "./layer.js";
import { codec, transposed } from "./codec.js";

export interface DenseOptions extends WeightOptions {
  /** Default "linear". */
  activation?: Activation;
  /** Slope for x < 0 with "leakyRelu". Default 0.01. */
  slope?: number;
}

/** A fully connected layer: y = f(x·W + b), W of shape [in, units]. */
export class Dense extends WeightedLayer {
  readonly kind = "Dense";

  constructor(
    readonly units: number,
    private readonly options: DenseOptions = {},
  ) {
    super("Dense", options);
    checkCount("Dense", "units", units);
    checkWeightOptions("Dense", options);
  }

  build(inputShape: Shape, context: BuildContext): Shape {
    if (inputShape.length < 1) throw new ShapeError(`Dense: expects inputs of shape [..., features] per sample, got ${formatShape(inputShape)}`);
    const fanIn = inputShape[inputShape.length - 1];
    ({ weight: this.weight, bias: this.bias } = initialWeights(
      this.name, [fanIn, this.units], fanIn, this.units, this.activation, this.options, context,
    ));
    return [...inputShape.slice(0, -1), this.units];
  }

  /** Over the last axis: [batch, …, features] → [batch, …, units] (a sequence's every step, say). */
  forward(x: Tensor, _options: ForwardOptions): Tensor {
    if (x.rank <= 2) return dense(x, this.built(), this.bias, this.activation, this.slope);
    const rows = x.reshape([-1, x.shape[x.rank - 1]]);
    return dense(rows, this.built(), this.bias, this.activation, this.slope).reshape([...x.shape.slice(0, -1), this.units]);
  }

  override describe(): string {
    return this.activation;
  }

  override config(): Record<string, unknown> {
    return { units: this.units, activation: this.activation, slope: this.slope, useBias: this.options.useBias ?? true };
  }
}

export const denseCodec = codec<Dense>({
  kind: "Dense",
  fromConfig: (c) => new Dense(c.units as number, { activation: c.activation as never, slope: c.slope as number, useBias: c.useBias as boolean }),
  tfjs: {
    classNames: ["Dense"],
    read: (_, c, h) => new Dense(c.units as number, { activation: h.activation(c.activation), useBias: c.use_bias !== false }),
    write: (l, base, h) => ({ class_name: "Dense", config: { ...base, units: l.units, activation: h.tfjsActivation(l.activation), use_bias: l.bias !== null } }),
  },
  onnx(l, input, w) {
    const W = l.weight!;
    const inputs = [input, w.weight("weight", [...W.shape], W.data())];
    const bias = l.bias ? w.weight("bias", [...l.bias.shape], l.bias.data()) : null;
    // Gemm is for matrices; over the last axis of a sequence it is MatMul and a broadcast Add.
    let [y] = w.shape.length === 1 ? w.node("Gemm", bias ? [...inputs, bias] : inputs) : w.node("MatMul", inputs);
    if (bias && w.shape.length > 1) [y] = w.node("Add", [y, bias]);
    return w.activation(l.activation, l.slope, y);
  },
  // torch.nn.Linear: weight [out, in].
  torch: (l) => {
    const [fanIn, units] = l.weight!.shape;
    return { weight: { shape: [units, fanIn], data: transposed(l.weight!.data(), fanIn, units) }, ...(l.bias ? { bias: { shape: [units], data: l.bias.data() } } : {}) };
  },
});
