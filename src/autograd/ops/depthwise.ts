// Depthwise convolution over NHWC for inference: each of x's c channels convolved with its own
// `mult` filters (W [kh, kw, c·mult], output channel i·mult + j from input channel i), by the direct
// kernel of assembly/depthwise.ts, threads sharing the output rows. It records no graph: the ONNX
// importer runs it only where no gradient is wanted (inference, a frozen backbone), and the planar
// kernels, which have backward rules, everywhere else.
import { PARALLEL_MIN_MACS } from "../../backend/threads.js";
import type { Call } from "../../backend/slots.js";
import { ShapeError } from "../../errors.js";
import { type Tensor, formatShape } from "../../tensor.js";
import { isGradEnabled } from "../graph.js";
import { paddedOutput } from "./conv.js";
import { empty } from "./util.js";

export function depthwiseConv2d(x: Tensor, w: Tensor, b: Tensor | null, stride: number, [top, left, bottom, right]: readonly number[]): Tensor {
  const [n, h, wid, c] = x.shape;
  const [kh, kw, m] = w.shape;
  if (x.rank !== 4 || w.rank !== 3 || m % c !== 0 || (b && b.size !== m)) {
    throw new ShapeError(`depthwiseConv2d: x [n, h, w, c], W [kh, kw, c·mult] and b [c·mult], got ${formatShape(x.shape)}, ${formatShape(w.shape)}`);
  }
  if (isGradEnabled() && (x.requiresGrad || w.requiresGrad || b?.requiresGrad)) throw new Error("wasmgrad bug: depthwiseConv2d has no gradient");
  const oh = paddedOutput("depthwiseConv2d", h, kh, stride, top, bottom).out, ow = paddedOutput("depthwiseConv2d", wid, kw, stride, left, right).out;
  const y = empty(x, [n, oh, ow, m]);
  // Output rows of the whole batch, cut per image: a range of rows may span images.
  x.engine.share(n * oh, (from, to) => {
    const calls: Call[] = [];
    for (let image = Math.floor(from / oh); image * oh < to; image++) {
      const r0 = Math.max(from - image * oh, 0), r1 = Math.min(to - image * oh, oh);
      calls.push(["depthwiseConv", x.ptr + 4 * image * h * wid * c, 1, h, wid, c, m / c, w.ptr, kh, kw, stride, top, left, oh, ow, r0, r1, b ? b.ptr : 0, y.ptr + 4 * image * oh * ow * m]);
    }
    return calls;
  }, { unit: 1, work: n * oh * ow * m * kh * kw, minWork: PARALLEL_MIN_MACS });
  return y;
}
