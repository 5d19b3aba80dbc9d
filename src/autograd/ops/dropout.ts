// Inverted dropout: keeps each element with probability 1 − rate and scales it by 1/(1 − rate), so
// the expected value is unchanged and evaluation needs no rescaling. The mask comes from a
// xorshift128 state in Wasm memory, seeded once: a seed fixes every mask of a training run.
import { ArgumentError } from "../../errors.js";
import type { Tensor } from "../../tensor.js";
import { record } from "../graph.js";
import { empty } from "./util.js";

/** `state` is the byte address of 16 bytes of generator state (never all zero). */
export function dropout(x: Tensor, rate: number, state: number): Tensor {
  if (!(rate >= 0 && rate < 1)) throw new ArgumentError(`dropout: rate must be in [0, 1), got ${rate}`);
  const keep = 1 - rate;
  const y = empty(x);
  const mask = empty(x);
  x.engine.kernels.dropout(x.ptr, y.ptr, mask.ptr, x.size, keep, state);
  return record(y, "dropout", [x], (gy) => {
    const gx = empty(x); // ∂y/∂x = mask / keep
    x.engine.kernels.mul(gy.ptr, mask.ptr, gx.ptr, x.size);
    x.engine.kernels.scale(gx.ptr, 1 / keep, gx.ptr, x.size);
    return [gx];
  }, { rate }, [mask]);
}
