import { ACTIVATIONS, type Activation } from "../autograd/ops/activate.js";
import { type Padding, conv2d, convOutput } from "../autograd/ops/conv.js";
import { ArgumentError, ShapeError } from "../errors.js";
import { type Shape, type Tensor, formatShape, tensor } from "../tensor.js";
import { type Initializer, type InitializerName, resolveInitializer } from "./init.js";
import { type BuildContext, type ForwardOptions, Layer } from "./layer.js";

export interface Conv2DOptions {
  /** Default 1. */
  stride?: number;
  /** Default "valid". */
  padding?: Padding;
  /** Default "linear". */
  activation?: Activation;
  slope?: number;
  /** Default true. */
  useBias?: boolean;
  /** Default: "heNormal" for relu and leakyRelu, "xavierUniform" otherwise (fan-in kh·kw·channels). */
  kernelInitializer?: InitializerName | Initializer;
  biasInitializer?: InitializerName | Initializer;
}

/** 2-D convolution over NHWC inputs with `filters` kernels of kernelSize × kernelSize. */
export class Conv2D extends Layer {
  readonly kind = "Conv2D";
  readonly activation: Activation;
  weight: Tensor | null = null;
  bias: Tensor | null = null;

  constructor(
    readonly filters: number,
    readonly kernelSize: number,
    private readonly options: Conv2DOptions = {},
  ) {
    super();
    for (const [name, v] of [["filters", filters], ["kernelSize", kernelSize]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`Conv2D: ${name} must be a positive integer, got ${v}`);
    }
    this.activation = options.activation ?? "linear";
    if (!ACTIVATIONS.includes(this.activation)) throw new ArgumentError(`Conv2D: unknown activation ${JSON.stringify(this.activation)}`);
  }

  build(inputShape: Shape, { random, engine }: BuildContext): Shape {
    if (inputShape.length !== 3) {
      throw new ShapeError(`Conv2D: expects inputs of shape [height, width, channels] per sample, got ${formatShape(inputShape)}`);
    }
    const [h, w, c] = inputShape;
    const { stride = 1, padding = "valid" } = this.options;
    const k = this.kernelSize;
    const oh = convOutput(this.name, h, k, stride, padding).out;
    const ow = convOutput(this.name, w, k, stride, padding).out;
    const fanIn = k * k * c;
    const fanOut = k * k * this.filters;
    const relu = this.activation === "relu" || this.activation === "leakyRelu";
    const values = new Float32Array(fanIn * this.filters);
    resolveInitializer(this.options.kernelInitializer ?? (relu ? "heNormal" : "xavierUniform"), `${this.name}.kernelInitializer`)(values, fanIn, fanOut, random);
    this.weight = tensor(values, { shape: [k, k, c, this.filters], requiresGrad: true, name: `${this.name}.weight`, engine });
    if (this.options.useBias ?? true) {
      const b = new Float32Array(this.filters);
      resolveInitializer(this.options.biasInitializer ?? "zeros", `${this.name}.biasInitializer`)(b, fanIn, fanOut, random);
      this.bias = tensor(b, { requiresGrad: true, name: `${this.name}.bias`, engine });
    }
    return [oh, ow, this.filters];
  }

  forward(x: Tensor, _options: ForwardOptions): Tensor {
    if (!this.weight) throw new ArgumentError(`${this.name || "Conv2D"}: not built; put it in a Sequential with an inputShape`);
    return conv2d(x, this.weight, this.bias, this.options);
  }

  override parameters(): Tensor[] {
    return [this.weight, this.bias].filter((t): t is Tensor => t !== null);
  }

  override describe(): string {
    const { stride = 1, padding = "valid" } = this.options;
    return `${this.kernelSize}×${this.kernelSize}${stride > 1 ? `/${stride}` : ""} ${padding} ${this.activation}`;
  }
}
