// Depthwise convolution over NHWC: each of x's c channels convolved with its own `mult` filters
// (W [kh, kw, c·mult], output channel i·mult + j from input channel i), by the direct kernels of
// assembly/depthwise.ts. Forward and ∂x share output (input) rows between threads; ∂W, a sum over
// images, is summed per group of images (the batch cut into at most WEIGHT_GRAD_GROUPS, as
// conv2d does) and the groups added in order, so the bits do not depend on the thread count.
// At inference the output may be clamped as it is stored (a folded BatchNorm's ReLU6).
import { PARALLEL_MIN_MACS } from "../../backend/threads.js";
import type { Call } from "../../backend/slots.js";
import { ShapeError } from "../../errors.js";
import { type Tensor, formatShape, full } from "../../tensor.js";
import { isGradEnabled, record } from "../graph.js";
import { WEIGHT_GRAD_GROUPS, paddedOutput } from "./conv.js";
import { empty, scratch } from "./util.js";
import { concat } from "./select.js";

/** Calls of a row kernel over rows [from, to) of a batch of n images of `rows` rows each, cut per image. */
function byRows(n: number, rows: number, from: number, to: number, call: (image: number, r0: number, r1: number) => Call): Call[] {
  const calls: Call[] = [];
  for (let image = Math.floor(from / rows); image < n && image * rows < to; image++) {
    calls.push(call(image, Math.max(from - image * rows, 0), Math.min(to - image * rows, rows)));
  }
  return calls;
}

/**
 * y = conv(x, W) + b, depthwise; `clamp` (inference only, no graph): the output clamped to
 * [lo, hi] as it is stored.
 */
export function depthwiseConv2d(
  x: Tensor, w: Tensor, b: Tensor | null, stride: number, [top, left, bottom, right]: readonly number[], clamp?: readonly [number, number],
): Tensor {
  const [n, h, wid, c] = x.shape;
  const [kh, kw, m] = w.shape;
  if (x.rank !== 4 || w.rank !== 3 || m % c !== 0 || (b && b.size !== m)) {
    throw new ShapeError(`depthwiseConv2d: x [n, h, w, c], W [kh, kw, c·mult] and b [c·mult], got ${formatShape(x.shape)}, ${formatShape(w.shape)}`);
  }
  if (clamp && isGradEnabled() && (x.requiresGrad || w.requiresGrad || b?.requiresGrad)) throw new Error("wasmgrad bug: a clamped depthwiseConv2d has no gradient");
  const [lo, hi] = clamp ?? [-Infinity, Infinity];
  const oh = paddedOutput("depthwiseConv2d", h, kh, stride, top, bottom).out, ow = paddedOutput("depthwiseConv2d", wid, kw, stride, left, right).out;
  const mult = m / c;
  const engine = x.engine;
  const imageX = (t: Tensor, i: number) => t.ptr + 4 * i * h * wid * c;
  const imageY = (t: Tensor, i: number) => t.ptr + 4 * i * oh * ow * m;
  const macs = n * oh * ow * m * kh * kw;
  const y = empty(x, [n, oh, ow, m]);
  // Output rows of the whole batch, cut per image: a range of rows may span images.
  engine.share(n * oh, (from, to) => byRows(n, oh, from, to, (image, r0, r1) =>
    ["depthwiseConv", imageX(x, image), 1, h, wid, c, mult, w.ptr, kh, kw, stride, top, left, oh, ow, r0, r1, b ? b.ptr : 0, lo, hi, imageY(y, image)]),
  { unit: 1, work: macs, minWork: PARALLEL_MIN_MACS });
  if (clamp) return y;

  return record(y, "depthwiseConv2d", b ? [x, w, b] : [x, w], (delta, needs) => {
    const grads: (Tensor | null)[] = [null, null, null];
    if (needs[0]) {
      const gx = empty(x);
      engine.share(n * h, (from, to) => byRows(n, h, from, to, (image, r0, r1) =>
        ["depthwiseConvInputGrad", imageY(delta, image), 1, h, wid, c, mult, w.ptr, kh, kw, stride, top, left, oh, ow, r0, r1, imageX(gx, image)]),
      { unit: 1, work: macs, minWork: PARALLEL_MIN_MACS });
      grads[0] = gx;
    }
    if (needs[1]) {
      // One partial sum per group of images, whichever thread makes it; then the groups in order.
      const group = Math.max(1, Math.ceil(n / WEIGHT_GRAD_GROUPS));
      const groups = Math.max(1, Math.ceil(n / group));
      const partials = scratch(w, [groups, kh * kw * m]);
      const partial = (g: number) => partials.ptr + 4 * g * w.size;
      engine.kernels.fill(partials.ptr, 0, partials.size);
      engine.share(n, (from, to) => {
        const calls: Call[] = [];
        for (let first = from; first < to; first += group) {
          calls.push(["depthwiseConvWeightGrad", imageX(x, first), Math.min(group, to - first), h, wid, c, mult, kh, kw, stride, top, left, oh, ow, imageY(delta, first), partial(first / group)]);
        }
        return calls;
      }, { unit: group, work: macs, minWork: PARALLEL_MIN_MACS });
      const gw = empty(w);
      engine.kernels.scale(partial(0), 1, gw.ptr, w.size);
      for (let g = 1; g < groups; g++) engine.kernels.add(gw.ptr, partial(g), gw.ptr, w.size);
      partials.dispose();
      grads[1] = gw;
    }
    if (b && needs[2]) {
      const gb = empty(b);
      engine.kernels.colSums(delta.ptr, n * oh * ow, m, gb.ptr, false);
      grads[2] = gb;
    }
    return b ? grads : grads.slice(0, 2);
  }, { stride, pads: [top, left, bottom, right] });
}

/**
 * A depthwise conv at stride 1 dilated by [dh, dw] (DeepLab's atrous depthwise layers), as
 * undilated ones on the image's dh·dw phases (TensorFlow's space-to-batch): output row dh·q + py
 * reads the padded input's rows dh·(q + ky) + py, which are row q + ky of phase py. So: pad the
 * image to a multiple of the dilation, split it into its phases (one image each), convolve them on
 * the direct kernel, interleave the phases' outputs and keep the conv's rows and columns. Every
 * step an op (zeros, transposes, the conv, a slice), so the gradient is theirs.
 */
export function dilatedDepthwiseConv2d(
  x: Tensor, w: Tensor, b: Tensor | null, [top, left, bottom, right]: readonly number[], [dh, dw]: readonly [number, number], clamp?: readonly [number, number],
): Tensor {
  const [n, h, wid, c] = x.shape;
  const [kh, kw, m] = w.shape;
  const oh = paddedOutput("depthwiseConv2d", h, (kh - 1) * dh + 1, 1, top, bottom).out, ow = paddedOutput("depthwiseConv2d", wid, (kw - 1) * dw + 1, 1, left, right).out;
  // The padded image, rounded up to whole phases.
  const rows = Math.ceil((h + top + bottom) / dh) * dh, cols = Math.ceil((wid + left + right) / dw) * dw;
  const zeros = (shape: number[]) => full(shape, 0, { engine: x.engine });
  /** t with `before` and `after` zero rows (axis 1) or columns (axis 2) around it: a concatenation, so gradients flow. */
  const side = (t: Tensor, axis: number, before: number, after: number) =>
    before || after ? concat([...(before ? [zeros(t.shape.map((d, i) => (i === axis ? before : d)))] : []), t, ...(after ? [zeros(t.shape.map((d, i) => (i === axis ? after : d)))] : [])], axis) : t;
  const padded = side(side(x, 1, top, rows - h - top), 2, left, cols - wid - left);
  const phases = padded.reshape([n, rows / dh, dh, cols / dw, dw, c]).transpose([0, 2, 4, 1, 3, 5]).reshape([n * dh * dw, rows / dh, cols / dw, c]);
  const y = depthwiseConv2d(phases, w, b, 1, [0, 0, 0, 0], clamp);
  const [, ph, pw] = y.shape;
  const merged = y.reshape([n, dh, dw, ph, pw, m]).transpose([0, 3, 1, 4, 2, 5]).reshape([n, ph * dh, pw * dw, m]);
  return ph * dh === oh && pw * dw === ow ? merged : merged.slice([0, 0, 0, 0], [n, oh, ow, m]);
}
