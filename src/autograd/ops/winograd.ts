// A 3×3 convolution at stride 1 by Winograd's F(2×2, 3×3) (assembly/winograd.ts), for inference:
// the weights transformed once to U [16, c, m], then image by image the input transform
// (threads sharing tile rows), 16 GEMMs M[ξ] = V[ξ]·U[ξ] (each shared as any GEMM is), and the
// output transform with the bias and clamp (tile rows again). An image at a time, because V and
// M are each 4× its input or output: a batch's would outweigh everything else inference holds. 2.25× fewer multiplications than
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
  const v = scratch(x, [16, tiles, c]), mm = scratch(x, [16, tiles, m]);
  const byTileRows = { unit: 1, work: 16 * tiles * (c + m) * 4, minWork: PARALLEL_MIN_MACS / 8 };
  for (let image = 0; image < n; image++) {
    engine.share(th, (ty0, ty1): Call[] => [["winogradInput", x.ptr + 4 * image * h * wid * c, h, wid, c, top, left, tw, ty0, ty1, v.ptr, tiles]], byTileRows);
    for (let xi = 0; xi < 16; xi++) {
      engine.gemm({ m: tiles, n: m, k: c, a: v.ptr + 4 * xi * tiles * c, b: u.ptr + 4 * xi * c * m, c: mm.ptr + 4 * xi * tiles * m });
    }
    engine.share(th, (ty0, ty1): Call[] => [["winogradOutput", mm.ptr, tiles, m, oh, ow, tw, ty0, ty1, b ? b.ptr : 0, lo, hi, y.ptr + 4 * image * oh * ow * m]], byTileRows);
  }
  v.dispose();
  mm.dispose();
  return y;
}
