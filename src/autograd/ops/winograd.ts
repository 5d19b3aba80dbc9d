// A 3×3 convolution at stride 1 by Winograd's F(2×2, 3×3) (assembly/winograd.ts), for inference:
// the weights transformed once to U [16, c, m], then image by image the input transform, 16
// GEMMs M[ξ] = V[ξ]·U[ξ] and the output transform with the bias and clamp: a batch shared by
// images (each thread with V and M of its own), one image by tile rows (and each GEMM as any
// GEMM is). An image at a time, because V and M are each 4× its input or output: a batch's
// would outweigh everything else inference holds. 2.25× fewer multiplications than
// im2col's GEMM, for three passes over V and M; which layers gain is measured by the cnn bench.
// No graph: training runs the convolution on im2col, exactly.
import { PARALLEL_MIN_MACS } from "../../backend/threads.js";
import type { Call } from "../../backend/slots.js";
import { ShapeError } from "../../errors.js";
import { type Tensor, formatShape } from "../../tensor.js";
import { isGradEnabled } from "../graph.js";
import { empty, scratch } from "./util.js";

/** W [3, 3, c, m] as Winograd's U [16, c, m] (no graph). */
export function winogradWeights(w: Tensor): Tensor {
  if (w.rank !== 4 || w.shape[0] !== 3 || w.shape[1] !== 3) throw new ShapeError(`winogradWeights: W [3, 3, c, m], got ${formatShape(w.shape)}`);
  const [, , c, m] = w.shape;
  const u = empty(w, [16, c, m]);
  w.engine.kernels.winogradWeights(w.ptr, c, m, u.ptr);
  return u;
}

/** clamp(conv(x, W) + b) for x [n, h, w, c], U = winogradWeights(W) [16, c, m], 3×3 at stride 1, zero padding [top, left, bottom, right]. */
export function winogradConv3x3(x: Tensor, u: Tensor, b: Tensor | null, [top, left, bottom, right]: readonly number[], [lo, hi]: readonly [number, number]): Tensor {
  const [n, h, wid, c] = x.shape;
  const m = u.shape[2];
  if (x.rank !== 4 || u.rank !== 3 || u.shape[0] !== 16 || u.shape[1] !== c || (b && b.size !== m)) {
    throw new ShapeError(`winogradConv3x3: x [n, h, w, c], U [16, c, m] and b [m], got ${formatShape(x.shape)}, ${formatShape(u.shape)}`);
  }
  if (isGradEnabled() && (x.requiresGrad || u.requiresGrad || b?.requiresGrad)) throw new Error("wasmgrad bug: winogradConv3x3 has no gradient");
  const oh = h + top + bottom - 2, ow = wid + left + right - 2;
  if (oh < 1 || ow < 1) throw new ShapeError(`winogradConv3x3: a 3×3 window does not fit in ${h}×${wid} padded by [${top}, ${left}, ${bottom}, ${right}]`);
  const th = Math.ceil(oh / 2), tw = Math.ceil(ow / 2), tiles = th * tw;
  const engine = x.engine;
  const y = empty(x, [n, oh, ow, m]);
  const xAt = (i: number) => x.ptr + 4 * i * h * wid * c, yAt = (i: number) => y.ptr + 4 * i * oh * ow * m;
  const input = (i: number, v: Tensor, ty0: number, ty1: number): Call => ["winogradInput", xAt(i), h, wid, c, top, left, tw, ty0, ty1, v.ptr, tiles];
  const output = (i: number, mm: Tensor, ty0: number, ty1: number): Call => ["winogradOutput", mm.ptr, tiles, m, oh, ow, tw, ty0, ty1, b ? b.ptr : 0, lo, hi, yAt(i)];
  if (n > 1) {
    // A batch: threads share it by images, each image's transforms and 16 products on one
    // thread with scratch of its own (one image's products are too small to share well).
    const buffers: Tensor[] = [];
    engine.share(n, (from, to) => {
      const v = scratch(x, [16, tiles, c]), mm = scratch(x, [16, tiles, m]);
      buffers.push(v, mm);
      const calls: Call[] = [];
      for (let i = from; i < to; i++) {
        calls.push(input(i, v, 0, th));
        for (let xi = 0; xi < 16; xi++) {
          calls.push(["sgemm", 0, 0, tiles, m, c, v.ptr + 4 * xi * tiles * c, c, u.ptr + 4 * xi * c * m, m, mm.ptr + 4 * xi * tiles * m, m, 0, 0, -Infinity, Infinity]);
        }
        calls.push(output(i, mm, 0, th));
      }
      return calls;
    }, { unit: 1, work: 16 * n * tiles * c * m, minWork: PARALLEL_MIN_MACS });
    for (const t of buffers) t.dispose();
    return y;
  }
  // One image (or none): its transforms shared by tile rows, each product as any GEMM is.
  const v = scratch(x, [16, tiles, c]), mm = scratch(x, [16, tiles, m]);
  const byTileRows = { unit: 1, work: 16 * tiles * (c + m) * 4, minWork: PARALLEL_MIN_MACS / 8 };
  for (let i = 0; i < n; i++) {
    engine.share(th, (ty0, ty1): Call[] => [input(i, v, ty0, ty1)], byTileRows);
    for (let xi = 0; xi < 16; xi++) {
      engine.gemm({ m: tiles, n: m, k: c, a: v.ptr + 4 * xi * tiles * c, b: u.ptr + 4 * xi * c * m, c: mm.ptr + 4 * xi * tiles * m });
    }
    engine.share(th, (ty0, ty1): Call[] => [output(i, mm, ty0, ty1)], byTileRows);
  }
  v.dispose();
  mm.dispose();
  return y;
}
