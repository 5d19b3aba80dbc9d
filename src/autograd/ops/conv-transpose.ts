// The transposed convolution (ONNX's ConvTranspose, PyTorch's ConvTranspose2d, Keras's
// Conv2DTranspose) over NHWC tensors: the input gradient of the convolution it is the adjoint of,
// run on that convolution's three passes (lowered.ts), its input and output swapped:
//   y  = col2im(x·Wᵀ)           that convolution's input gradient
//   ∂x = im2col(∂y)·W           its forward
//   ∂W = Σ im2col(∂y)ᵀ·x        its weight gradient, ∂y in its input's place, x in its output gradient's
// For x [n, h, w, c] and W [kh, kw, m, c] (the adjoint convolution's weights: m channels in, c
// out), y is [n, H, W, m] with H = (h − 1)·stride + (kh − 1)·dilation + 1 − top − bottom +
// outputPadding (and W likewise).
import { checkCount, checkOptions, describe } from "../../check.js";
import { ArgumentError, ShapeError } from "../../errors.js";
import { type Tensor, formatShape } from "../../tensor.js";
import { record } from "../graph.js";
import { checkDilation } from "./conv.js";
import { type Lowering, lowerForward, lowerInputGrad, lowerWeightGrad } from "./lowered.js";
import { checkSameEngine, checkTensor, empty } from "./util.js";

export interface ConvTranspose2DOptions {
  /** How far apart the input's pixels land in the output. Default 1. */
  stride?: number;
  /** Rows and columns taken off the full output: [top, left, bottom, right] (ONNX's pads, PyTorch's padding). Default none. */
  padding?: readonly [number, number, number, number];
  /** Rows and columns added at the bottom and right: [rows, columns] (ONNX's and PyTorch's output_padding). Default none. */
  outputPadding?: readonly [number, number];
  /** Spacing between a window's taps, one for rows and columns or [rows, columns]. Default 1. */
  dilation?: number | readonly [number, number];
}

/** `count` whole numbers ≥ 0 (the padding, the output padding). */
function sizes(name: string, v: unknown, count: number): number[] {
  if (!Array.isArray(v) || v.length !== count || !v.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ArgumentError(`convTranspose2d: ${name} must be ${count} whole numbers ≥ 0, got ${describe(v)}`);
  }
  return v;
}

/** y = W ⋆ᵀ x + b for x [n, h, w, c], W [kh, kw, m, c], b [m] (or null): a differentiable op. */
export function convTranspose2d(x: Tensor, w: Tensor, b: Tensor | null, options: ConvTranspose2DOptions = {}): Tensor {
  checkTensor("convTranspose2d", "x", x);
  checkTensor("convTranspose2d", "W", w);
  if (b !== null) checkTensor("convTranspose2d", "b (or null)", b);
  const { stride = 1, padding = [0, 0, 0, 0], outputPadding = [0, 0], dilation = 1 } = checkOptions("convTranspose2d", options);
  const s = checkCount("convTranspose2d", "stride", stride);
  const [top, left, bottom, right] = sizes("padding", padding, 4);
  const [extraH, extraW] = sizes("outputPadding", outputPadding, 2);
  const [dh, dw] = checkDilation("convTranspose2d", dilation);
  if (x.rank !== 4 || w.rank !== 4 || w.shape[3] !== x.shape[3] || (b && (b.rank !== 1 || b.shape[0] !== w.shape[2]))) {
    throw new ShapeError(
      `convTranspose2d: expected x [batch, height, width, channels], W [kh, kw, filters, channels], b [filters], got ` +
        `${formatShape(x.shape)}, ${formatShape(w.shape)}${b ? `, ${formatShape(b.shape)}` : ""}`,
    );
  }
  checkSameEngine("convTranspose2d", x, w);
  if (b) checkSameEngine("convTranspose2d", x, b);
  const [n, h, wid, c] = x.shape;
  const [kh, kw, m] = w.shape;
  const outH = (h - 1) * s + (kh - 1) * dh + 1 - top - bottom + extraH;
  const outW = (wid - 1) * s + (kw - 1) * dw + 1 - left - right + extraW;
  if (kh < 1 || kw < 1 || m < 1 || outH < 1 || outW < 1) {
    throw new ShapeError(`convTranspose2d: x ${formatShape(x.shape)} by W ${formatShape(w.shape)} at stride ${s}, padding [${padding}] gives a ${outH}×${outW} output`);
  }
  // The convolution this is the adjoint of: y's shape in, x's out.
  const lowering: Lowering = { n, h: outH, w: outW, c: m, kh, kw, stride: s, dh, dw, top, left, oh: h, ow: wid, m: c };
  const y = empty(x, [n, outH, outW, m]);
  lowerInputGrad(lowering, x, w, y);
  const raw = record(y, "convTranspose2d", [x, w], (gy, needs) => {
    const gx = needs[0] ? empty(x) : null;
    if (gx) lowerForward(lowering, gy, w, gx, 0, [-Infinity, Infinity]);
    const gw = needs[1] ? empty(w) : null;
    if (gw) lowerWeightGrad(lowering, gy, x, gw, false);
    return [gx, gw];
  }, { stride: s, padding: [top, left, bottom, right], outputPadding: [extraH, extraW], dilation: [dh, dw] });
  return b ? raw.add(b) : raw;
}
