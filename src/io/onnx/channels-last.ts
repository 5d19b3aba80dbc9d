// Channels-last values: a 4-D tensor of ONNX's NCHW dims held in NHWC order, as the convolution
// kernels want it. A Conv gives one; the ops that do not care where the channel axis sits
// (elementwise maths, BatchNormalization, pooling, Concat along the channels, the global pools)
// take and give them; any other op gets its input made NCHW first, once per value (a transpose:
// an op, so gradients flow). So a CNN's activations stay NHWC from its first Conv to its head, and
// each Conv pays no transposes of its input or output.
import type { Tensor } from "../../tensor.js";
import type { ChannelsLastStep } from "./op-rule.js";
import { ChannelsLast, type Flowing, isChannelsLast, isInts } from "./values.js";

/** An NCHW tensor in NHWC order (the first Conv's input). */
export const toChannelsLast = (t: Tensor): Tensor => t.transpose([0, 2, 3, 1]);

/**
 * Operands of an elementwise op, at least one channels-last, as tensors that broadcast in NHWC
 * order as the originals do in NCHW: channels-last ones as they are (a permutation of the axes
 * commutes with broadcasting), a scalar as it is, any other float tensor of rank ≤ 4 given ones
 * on the left to rank 4 and permuted (a [C, 1, 1] constant becomes [1, 1, 1, C]). Null when an
 * operand is integers or of a higher rank, or none is channels-last.
 */
export function nhwcOperands(args: readonly (Flowing | undefined)[]): Tensor[] | null {
  if (!args.some(isChannelsLast)) return null;
  const out: Tensor[] = [];
  for (const a of args) {
    if (a === undefined || isInts(a)) return null;
    if (isChannelsLast(a)) out.push(a.nhwc);
    else if (a.size === 1 && a.rank <= 1) out.push(a);
    else if (a.rank <= 4) out.push(toChannelsLast(a.reshape([...new Array<number>(4 - a.rank).fill(1), ...a.shape])));
    else return null;
  }
  return out;
}

/** A channels-last elementwise step from a tensor op: null (planar) unless an operand is channels-last. */
export const elementwiseChannelsLast = (f: (...ts: Tensor[]) => Tensor): ChannelsLastStep => (args) => {
  const ts = nhwcOperands(args);
  if (!ts) return null;
  return [new ChannelsLast(f(...ts))]; // rank 4: a channels-last operand is
};
