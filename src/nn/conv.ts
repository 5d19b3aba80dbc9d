import { type Conv2DOptions, type Padding, conv2d, convOutput } from "../autograd/ops/conv.js";
import { checkCount, checkOneOf } from "../check.js";
import { ShapeError } from "../errors.js";
import { type Shape, type Tensor, formatShape } from "../tensor.js";
import { type WeightOptions, checkWeightOptions, initialWeights } from "./init.js";
import { type BuildContext, type ForwardOptions, WeightedLayer } from "./layer.js";
import { codec } from "./codec.js";

/**
 * The Conv2D layer takes conv2d()'s options, its padding named ("valid" or "same": what Keras and
 * tfjs files say) and its dilation one number (square, as its window), and the initialisers
 * (which see fan-in kh·kw·channels, fan-out kh·kw·filters).
 */
export type Conv2DLayerOptions = Omit<Conv2DOptions, "padding" | "dilation"> & { padding?: Padding; dilation?: number } & WeightOptions;

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
    checkCount("Conv2D", "dilation", options.dilation ?? 1);
    checkOneOf("Conv2D", "padding", options.padding ?? "valid", ["valid", "same"]);
    checkWeightOptions("Conv2D", options);
  }

  build(inputShape: Shape, context: BuildContext): Shape {
    if (inputShape.length !== 3) {
      throw new ShapeError(`Conv2D: expects inputs of shape [height, width, channels] per sample, got ${formatShape(inputShape)}`);
    }
    const [h, w, c] = inputShape;
    const { stride = 1, padding = "valid" } = this.options;
    const k = this.kernelSize, span = this.span;
    const oh = convOutput(this.name, h, span, stride, padding).out;
    const ow = convOutput(this.name, w, span, stride, padding).out;
    ({ weight: this.weight, bias: this.bias } = initialWeights(
      this.name, [k, k, c, this.filters], k * k * c, k * k * this.filters, this.activation, this.options, context,
    ));
    return [oh, ow, this.filters];
  }

  /** Rows (and columns) one window covers: its taps spread by the dilation. */
  get span(): number {
    return (this.kernelSize - 1) * (this.options.dilation ?? 1) + 1;
  }

  forward(x: Tensor, _options: ForwardOptions): Tensor {
    return conv2d(x, this.built(), this.bias, { ...this.options, activation: this.activation, slope: this.slope });
  }

  override config(): Record<string, unknown> {
    const { stride = 1, padding = "valid", dilation = 1, useBias = true } = this.options;
    return { filters: this.filters, kernelSize: this.kernelSize, stride, padding, dilation, activation: this.activation, slope: this.slope, useBias };
  }

  override describe(): string {
    const { stride = 1, padding = "valid", dilation = 1 } = this.options;
    return `${this.kernelSize}×${this.kernelSize}${stride > 1 ? `/${stride}` : ""}${dilation > 1 ? ` dilated ${dilation}` : ""} ${padding} ${this.activation}`;
  }
}

/** A kernel [kh, kw, cin, cout] (ours, Keras's) as [cout, cin, kh, kw] (ONNX's and PyTorch's). */
function channelsFirst(weight: Tensor): Float32Array {
  const [k, , cin, filters] = weight.shape, src = weight.data(), dst = new Float32Array(src.length);
  for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) for (let i = 0; i < cin; i++) for (let o = 0; o < filters; o++) {
    dst[((o * cin + i) * k + y) * k + x] = src[((y * k + x) * cin + i) * filters + o];
  }
  return dst;
}

export const conv2dCodec = codec<Conv2D>({
  kind: "Conv2D",
  fromConfig: (c) => new Conv2D(c.filters as number, c.kernelSize as number, {
    stride: c.stride as number, padding: c.padding as never, dilation: (c.dilation ?? 1) as number, activation: c.activation as never, slope: c.slope as number, useBias: c.useBias as boolean,
  }),
  tfjs: {
    classNames: ["Conv2D"],
    read(_, c, h) {
      h.channelsLast(c);
      return new Conv2D(c.filters as number, h.square("kernel_size", c.kernel_size), {
        stride: h.square("strides", c.strides ?? 1), dilation: h.square("dilation_rate", c.dilation_rate ?? 1), padding: c.padding as never, activation: h.activation(c.activation), useBias: c.use_bias !== false,
      });
    },
    write(l, base, h) {
      const c = l.config();
      return {
        class_name: "Conv2D",
        config: {
          ...base, filters: c.filters, kernel_size: [c.kernelSize, c.kernelSize], strides: [c.stride, c.stride], padding: c.padding,
          data_format: "channels_last", dilation_rate: [c.dilation, c.dilation], activation: h.tfjsActivation(l.activation), use_bias: c.useBias,
        },
      };
    },
  },
  // NCHW in ONNX: between two Transposes (which runtimes fold away), weights [kh, kw, cin, cout] → [cout, cin, kh, kw].
  onnx(l, input, w) {
    const [h, wid, cin] = w.shape;
    const c = l.config(), k = l.kernelSize, span = l.span, stride = c.stride as number, filters = l.filters;
    const rows = convOutput(l.name, h, span, stride, c.padding as never), cols = convOutput(l.name, wid, span, stride, c.padding as never);
    const pad = (o: { out: number; before: number }, size: number) => [o.before, Math.max((o.out - 1) * stride + span - size - o.before, 0)];
    const [top, bottom] = pad(rows, h), [left, right] = pad(cols, wid);
    const [nchw] = w.node("Transpose", [input], [{ name: "perm", ints: [0, 3, 1, 2] }]);
    const inputs = [nchw, w.weight("weight", [filters, cin, k, k], channelsFirst(l.weight!))];
    if (l.bias) inputs.push(w.weight("bias", [filters], l.bias.data()));
    const [conv] = w.node("Conv", inputs, [
      { name: "kernel_shape", ints: [k, k] }, { name: "strides", ints: [stride, stride] }, { name: "pads", ints: [top, left, bottom, right] },
      { name: "dilations", ints: [c.dilation as number, c.dilation as number] }, { name: "group", i: 1 },
    ]);
    const [nhwc] = w.node("Transpose", [conv], [{ name: "perm", ints: [0, 2, 3, 1] }]);
    return w.activation(l.activation, l.slope, nhwc);
  },
  // torch.nn.Conv2d: weight [cout, cin, kh, kw] (PyTorch is NCHW: the model around it must be too).
  torch: (l) => {
    const [k, , cin, filters] = l.weight!.shape;
    return { weight: { shape: [filters, cin, k, k], data: channelsFirst(l.weight!) }, ...(l.bias ? { bias: { shape: [filters], data: l.bias.data() } } : {}) };
  },
});
