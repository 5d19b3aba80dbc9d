// Resizing NHWC images, nearest or linear, on the kernels of assembly/resize.ts: output row oy
// reads input rows rows[0][oy] and rows[1][oy] by weights rowWeights[0][oy] and rowWeights[1][oy],
// output column ox likewise, every channel of a pixel at once. The taps follow the caller's
// coordinate rule (ONNX's Resize and Upsample: src/io/onnx/ops/shape.ts). Threads share the
// output rows; the gradient, a scatter, is shared by images (one image's sums in one order).
import { ShapeError } from "../../errors.js";
import { type Tensor, formatShape } from "../../tensor.js";
import { record } from "../graph.js";
import { checkTensor, empty, imageOf } from "./util.js";

export interface ImageTaps {
  /** Per output row its two input rows ([first taps], [second taps]) and their weights. */
  rows: readonly (readonly number[])[];
  rowWeights: readonly (readonly number[])[];
  /** Per output column likewise. */
  cols: readonly (readonly number[])[];
  colWeights: readonly (readonly number[])[];
  /** Copy each output pixel from its first taps (no arithmetic). */
  nearest: boolean;
}

/** x [n, h, w, c] resized to [n, rows, cols, c] by `taps`, a differentiable op. */
export function resizeImages(x: Tensor, taps: ImageTaps): Tensor {
  checkTensor("resizeImages", "x", x);
  const [n, h, w, c] = x.shape, oh = taps.rows[0].length, ow = taps.cols[0].length;
  const inside = (list: readonly (readonly number[])[], size: number) => list.length === 2 && list.every((l) => l.every((i) => Number.isInteger(i) && i >= 0 && i < size));
  if (x.rank !== 4 || !inside(taps.rows, h) || !inside(taps.cols, w) || taps.rows[1].length !== oh || taps.cols[1].length !== ow) {
    throw new ShapeError(`resizeImages: x [n, h, w, c] and two taps inside it per output row and column, got x ${formatShape(x.shape)}`);
  }
  const engine = x.engine;
  /** Pairs (first tap, second tap) per output index, in Wasm memory: i32 indices or f32 weights. */
  const table = (pair: readonly (readonly number[])[], ints: boolean) => {
    const t = empty(x, [2 * pair[0].length]);
    const view = ints ? engine.memory.i32(t.ptr, t.size) : engine.memory.f32(t.ptr, t.size);
    pair[0].forEach((v, i) => ((view[2 * i] = v), (view[2 * i + 1] = pair[1][i])));
    return t;
  };
  const rows = table(taps.rows, true), wr = table(taps.rowWeights, false), cols = table(taps.cols, true), wc = table(taps.colWeights, false);
  const geometry = [h, w, c, oh, ow, rows.ptr, wr.ptr, cols.ptr, wc.ptr, +taps.nearest] as const;
  const y = empty(x, [n, oh, ow, c]);
  engine.share(oh, (r0, r1) => [["resizeImages", x.ptr, n, ...geometry, r0, r1, y.ptr]], { unit: 1, work: y.size });
  return record(y, "resizeImages", [x], (gy) => {
    const gx = empty(x);
    engine.share(n, (b0, b1) => [["resizeImagesBackward", imageOf(gy, n, b0), b1 - b0, ...geometry, imageOf(gx, n, b0)]], { unit: 1, work: gy.size });
    return [gx];
  }, { nearest: taps.nearest }, [rows, wr, cols, wc]);
}
