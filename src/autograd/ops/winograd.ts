// A 3×3 convolution at stride 1 by Winograd's F(2×2, 3×3) (assembly/winograd.ts), for inference:
// the weights transformed once to U [16, c, m], then image by image the input transform, 16
// GEMMs M[ξ] = V[ξ]·U[ξ] and the output transform with the bias and clamp: a batch shared by
// groups of images (each thread with V and M of its own) where the groups share evenly, else a
// group at a time by tile rows (and each GEMM as any GEMM is). An image at a time, because V and M are each 4× its input or output: a batch's
// would outweigh everything else inference holds; images with few tiles go a few at a time, so
// that the GEMMs have rows enough. 2.25× fewer multiplications than im2col's GEMM, for three
// passes over V and M; which layers gain is measured by the cnn bench. No graph here: conv2d
// records it (its forward, and its input gradient as the flipped convolution of δ).
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

/**
 * Images whose tiles go through the 16 products together: enough for WINOGRAD_ROWS rows a GEMM
 * (a 7×7 output is 16 tiles: sixteen GEMMs of 16 rows each waste the kernel), one where an image
 * has as many.
 */
export const WINOGRAD_ROWS = 128;

/** Images a group of winogradConv3x3 (and so its GEMMs' rows: `group · tiles`). */
export const winogradGroup = (n: number, tiles: number) => Math.max(1, Math.min(n, Math.ceil(WINOGRAD_ROWS / tiles)));

/**
 * clamp(conv(x, W) + b) for x [n, h, w, c], U = winogradWeights(W) [16, c, m], 3×3 at stride 1,
 * zero padding [top, left, bottom, right]. With `flipped`, the convolution by W turned 180° with
 * its channels swapped, W'[ky, kx, o, ci] = W[2 − ky, 2 − kx, ci, o] — a conv's input gradient —
 * from the same U: (G·rev(g))'s rows are (G·g)'s in the order 3, 1, 2, 0, so U'[ξ] is U at ξ's
 * rows and columns so permuted, transposed (the GEMM reads it as Bᵀ); x then has m channels and
 * the output c.
 */
export function winogradConv3x3(
  x: Tensor, u: Tensor, b: Tensor | null, [top, left, bottom, right]: readonly number[], [lo, hi]: readonly [number, number], flipped = false,
): Tensor {
  const [n, h, wid, c] = x.shape;
  const [inC, m] = flipped ? [u.shape[2], u.shape[1]] : [u.shape[1], u.shape[2]];
  if (x.rank !== 4 || u.rank !== 3 || u.shape[0] !== 16 || inC !== c || (b && b.size !== m)) {
    throw new ShapeError(`winogradConv3x3: x [n, h, w, c], U [16, c, m]${flipped ? " (flipped: [16, m, c])" : ""} and b [m], got ${formatShape(x.shape)}, ${formatShape(u.shape)}`);
  }
  if (isGradEnabled() && (x.requiresGrad || u.requiresGrad || b?.requiresGrad)) throw new Error("wasmgrad bug: winogradConv3x3 has no graph; conv2d records it");
  const oh = h + top + bottom - 2, ow = wid + left + right - 2;
  if (oh < 1 || ow < 1) throw new ShapeError(`winogradConv3x3: a 3×3 window does not fit in ${h}×${wid} padded by [${top}, ${left}, ${bottom}, ${right}]`);
  const th = Math.ceil(oh / 2), tw = Math.ceil(ow / 2), tiles = th * tw;
  const engine = x.engine;
  const y = empty(x, [n, oh, ow, m]);
  const xAt = (i: number) => x.ptr + 4 * i * h * wid * c, yAt = (i: number) => y.ptr + 4 * i * oh * ow * m;
  // Image j of a group: its tiles at rows j·tiles of each plane, the planes `rows` rows apart.
  const input = (i: number, j: number, rows: number, v: Tensor, ty0: number, ty1: number): Call =>
    ["winogradInput", xAt(i), h, wid, c, top, left, tw, ty0, ty1, v.ptr + 4 * j * tiles * c, rows];
  const output = (i: number, j: number, rows: number, mm: Tensor, ty0: number, ty1: number): Call =>
    ["winogradOutput", mm.ptr + 4 * j * tiles * m, rows, m, oh, ow, tw, ty0, ty1, b ? b.ptr : 0, lo, hi, yAt(i)];
  const P = [3, 1, 2, 0];
  const uAt = (xi: number) => u.ptr + 4 * (flipped ? 4 * P[xi >> 2] + P[xi & 3] : xi) * c * m;
  const product = (xi: number, rows: number, v: Tensor, mm: Tensor): Call =>
    ["sgemm", 0, +flipped, rows, m, c, v.ptr + 4 * xi * rows * c, c, uAt(xi), flipped ? c : m, mm.ptr + 4 * xi * rows * m, m, 0, 0, -Infinity, Infinity];
  const group = winogradGroup(n, tiles), groups = Math.ceil(n / group);
  if (n > 1 && groups % engine.threads === 0) {
    // Groups enough for the threads: they share the batch by groups of images (the same groups on
    // any thread count), each group's transforms and 16 products on one thread with scratch of its own.
    const buffers: Tensor[] = [];
    engine.share(n, (from, to) => {
      const v = scratch(x, [16, group * tiles, c]), mm = scratch(x, [16, group * tiles, m]);
      buffers.push(v, mm);
      const calls: Call[] = [];
      for (let first = from; first < to; first += group) {
        const count = Math.min(group, to - first), rows = count * tiles;
        for (let j = 0; j < count; j++) calls.push(input(first + j, j, rows, v, 0, th));
        for (let xi = 0; xi < 16; xi++) calls.push(product(xi, rows, v, mm));
        for (let j = 0; j < count; j++) calls.push(output(first + j, j, rows, mm, 0, th));
      }
      return calls;
    }, { unit: group, work: 16 * n * tiles * c * m, minWork: PARALLEL_MIN_MACS });
    for (const t of buffers) t.dispose();
    return y;
  }
  // Fewer groups than would share evenly (one image; a 7×7 layer's batch, one group): group by
  // group, its transforms shared by tile rows and each of its 16 products as any GEMM is. The same
  // calls as above, so the same bits.
  const v = scratch(x, [16, group * tiles, c]), mm = scratch(x, [16, group * tiles, m]);
  for (let first = 0; first < n; first += group) {
    const count = Math.min(group, n - first), rows = count * tiles;
    const byTileRows = { unit: 1, work: 16 * rows * (c + m) * 4, minWork: PARALLEL_MIN_MACS / 8 };
    /** A transform's calls for tile rows [r0, r1) of the group's count·th, cut per image. */
    const tileRows = (r0: number, r1: number, call: (j: number, ty0: number, ty1: number) => Call): Call[] => {
      const calls: Call[] = [];
      for (let j = Math.floor(r0 / th); j < count && j * th < r1; j++) calls.push(call(j, Math.max(r0 - j * th, 0), Math.min(r1 - j * th, th)));
      return calls;
    };
    engine.share(count * th, (r0, r1) => tileRows(r0, r1, (j, ty0, ty1) => input(first + j, j, rows, v, ty0, ty1)), byTileRows);
    for (let xi = 0; xi < 16; xi++) {
      engine.gemm({ transB: flipped, m: rows, n: m, k: c, a: v.ptr + 4 * xi * rows * c, b: uAt(xi), ldb: flipped ? c : m, c: mm.ptr + 4 * xi * rows * m });
    }
    engine.share(count * th, (r0, r1) => tileRows(r0, r1, (j, ty0, ty1) => output(first + j, j, rows, mm, ty0, ty1)), byTileRows);
  }
  v.dispose();
  mm.dispose();
  return y;
}
