import { type Conv2DOptions, conv2d, convOutput } from "../autograd/ops/conv.js";
import { checkCount, checkOneOf } from "../check.js";
import { ShapeError } from "../errors.js";
import { type Shape, type Tensor, formatShape } from "../tensor.js";
import { type WeightOptions, checkWeightOptions, initialWeights } from "./init.js";
import { type BuildContext, type ForwardOptions, WeightedLayer } from "./layer.js";

/** The Conv2D layer takes conv2d()'s options and the initialisers (which see fan-in kh·kw·channels, fan-out kh·kw·filters). */
export type Conv2DLayerOptions = Conv2DOptions & WeightOptions;

/** 2-D convolution over NHWC inputs with `filters` kernels of kernelSize × kernelSize. */
export class Conv2D extends WeightedLayer {
  readonly kind = "Conv2D";

  constructor(
    readonly filters: number,
    readonly kernelSize: number,
    private readonly options: Conv2DLayerOptions = {},
  ) {
    super("Conv2D", options);
    checkCount("Conv2D", "filters", filters);
    checkCount("Conv2D", "kernelSize", kernelSize);
    checkCount("Conv2D", "stride", options.stride ?? 1);
    checkOneOf("Conv2D", "padding", options.padding ?? "valid", ["valid", "same"]);
    checkWeightOptions("Conv2D", options);
  }

  build(inputShape: Shape, context: BuildContext): Shape {
    if (inputShape.length !== 3) {
      throw new ShapeError(`Conv2D: expects inputs of shape [height, width, channels] per sample, got ${formatShape(inputShape)}`);
    }
    const [h, w, c] = inputShape;
    const { stride = 1, padding = "valid" } = this.options;
    const k = this.kernelSize;
    const oh = convOutput(this.name, h, k, stride, padding).out;
    const ow = convOutput(this.name, w, k, stride, padding).out;
    ({ weight: this.weight, bias: this.bias } = initialWeights(
      this.name, [k, k, c, this.filters], k * k * c, k * k * this.filters, this.activation, this.options, context,
    ));
    return [oh, ow, this.filters];
  }

  forward(x: Tensor, _options: ForwardOptions): Tensor {
    return conv2d(x, this.built(), this.bias, { ...this.options, activation: this.activation, slope: this.slope });
  }

  override config(): Record<string, unknown> {
    const { stride = 1, padding = "valid", useBias = true } = this.options;
    return { filters: this.filters, kernelSize: this.kernelSize, stride, padding, activation: this.activation, slope: this.slope, useBias };
  }

  override describe(): string {
    const { stride = 1, padding = "valid" } = this.options;
    return `${this.kernelSize}×${this.kernelSize}${stride > 1 ? `/${stride}` : ""} ${padding} ${this.activation}`;
  }
}
