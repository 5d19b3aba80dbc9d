// Local response normalisation across channels (AlexNet's, GoogLeNet's; ONNX's LRN), on the
// kernels of assembly/lrn.ts: y = x · (bias + α/size · Σ x² over the `size` channels around
// each)^−β, the channels along any axis (the last for channels-last images, 1 for planar ones).
// Threads share the positions before the channel axis; each position's sums run on one thread.
import { checkNumber, checkOptions } from "../../check.js";
import type { Tensor } from "../../tensor.js";
import { record } from "../graph.js";
import { checkTensor, empty, normaliseAxis, scratch } from "./util.js";

export interface LrnOptions {
  /** Channels in the window (ONNX's size). */
  size: number;
  /** Default 1e-4. */
  alpha?: number;
  /** Default 0.75. */
  beta?: number;
  /** Default 1. */
  bias?: number;
  /** The channel axis. Default 1 (NCHW). */
  axis?: number;
}

/** y = x · (bias + α/size · Σ_window x²)^−β, a differentiable op. */
export function lrn(x: Tensor, options: LrnOptions): Tensor {
  checkTensor("lrn", "x", x);
  const { size, alpha = 1e-4, beta = 0.75, bias = 1, axis = 1 } = checkOptions("lrn", options);
  checkNumber("lrn", "size", size, { integer: true, min: 1 });
  checkNumber("lrn", "alpha", alpha, {});
  checkNumber("lrn", "beta", beta, {});
  checkNumber("lrn", "bias", bias, {});
  const a = normaliseAxis("lrn", axis, x.rank);
  const outer = x.shape.slice(0, a).reduce((p, q) => p * q, 1), c = x.shape[a], inner = x.shape.slice(a + 1).reduce((p, q) => p * q, 1);
  const engine = x.engine;
  const at = (t: Tensor, o: number) => t.ptr + 4 * o * c * inner;
  const d = empty(x), y = empty(x);
  const share = { unit: 1, work: x.size * size };
  engine.share(outer, (o0, o1) => [["lrn", at(x, o0), o1 - o0, c, inner, size, alpha, beta, bias, at(d, o0), at(y, o0)]], share);
  return record(y, "lrn", [x], (gy) => {
    const gx = empty(x), t = scratch(x);
    engine.share(outer, (o0, o1) => [["lrnBackward", at(x, o0), at(y, o0), at(d, o0), at(gy, o0), o1 - o0, c, inner, size, alpha, beta, at(t, o0), at(gx, o0)]], share);
    t.dispose();
    return [gx];
  }, { size, alpha, beta, bias, axis: a }, [d]);
}
