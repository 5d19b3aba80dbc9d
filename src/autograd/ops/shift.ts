// Whole-pixel translation of NHWC images, each by its own offset: the augmentation that teaches a
// network a digit moved by a pixel or two is the same digit. Pixels moved out are dropped and the
// ones moved in are zero, so the gradient is the same move backwards.
import { ArgumentError, ShapeError } from "../../errors.js";
import { type Tensor, formatShape } from "../../tensor.js";
import { record } from "../graph.js";
import { empty } from "./util.js";

/** y[i, r, q] = x[i, r − dy_i, q − dx_i] (0 outside x), for x [n, h, w, c] and shifts [dy_0, dx_0, dy_1, dx_1, …]. */
export function shift2d(x: Tensor, shifts: ArrayLike<number>): Tensor {
  if (x.rank !== 4) throw new ShapeError(`shift2d: expected x [batch, height, width, channels], got ${formatShape(x.shape)}`);
  const n = x.shape[0];
  if (shifts.length !== 2 * n) throw new ArgumentError(`shift2d: expected ${2 * n} shifts (dy, dx for each of ${n} images), got ${shifts.length}`);
  for (let i = 0; i < shifts.length; i++) {
    if (!Number.isInteger(shifts[i])) throw new ArgumentError(`shift2d: shifts must be whole pixels, got ${shifts[i]} at ${i}`);
  }
  const k = x.engine.kernels;
  const [, h, w, c] = x.shape;
  const offsets = empty(x, [2 * n]); // i32s, stored in a float tensor's memory
  x.engine.memory.i32(offsets.ptr, 2 * n).set(shifts);
  const y = empty(x);
  k.shiftImages(x.ptr, n, h, w, c, offsets.ptr, 1, y.ptr);
  return record(y, "shift2d", [x], (gy) => {
    const gx = empty(x);
    k.shiftImages(gy.ptr, n, h, w, c, offsets.ptr, -1, gx.ptr);
    return [gx];
  }, {}, [offsets]);
}
