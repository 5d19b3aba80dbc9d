// A convolution lowered to GEMMs by im2col: the three passes every im2col convolution and every
// transposed convolution is made of, over NHWC images. For the convolution x [n, h, w, c] →
// y [n, oh, ow, m] by W [kh·kw·c, m] (taps `dilation` apart):
//   forward        y = im2col(x)·W           (a 1×1 window at stride 1: x is its own patch matrix)
//   input grad    ∂x = col2im(∂y·Wᵀ)
//   weight grad   ∂W = Σ im2col(x)ᵀ·∂y
// A transposed convolution is the same three passes of the convolution it is the adjoint of:
// its forward is that convolution's input gradient, its ∂x that convolution's forward, its ∂W
// that convolution's weight gradient with the roles of its input and output gradient swapped.
// Passes go a few images at a time, so that a chunk's patch matrix stays in L2 (its GEMMs run
// from cache, not memory) and scratch does not grow with the batch. Threads share a batch by
// images (each image's rows summed on one thread, in one order); the weight gradient is split by
// its rows instead, each thread summing the chunks in batch order: the same bits on any number
// of threads.
import { PARALLEL_MIN_MACS } from "../../backend/threads.js";
import type { Call } from "../../backend/slots.js";
import type { Tensor } from "../../tensor.js";
import { imageOf, scratch } from "./util.js";

/** Floats of patch matrix per chunk of images (128 KiB: it, its δ rows and its ∂cols fit in L2). */
export const CHUNK_FLOATS = 32768;

/**
 * Fewest pixels in a chunk of ∂W's GEMM (its depth): below this the GEMM runs far under its rate
 * (ResNet's 4×4×512 layer at batch 16: 37 GFLOP/s a image at a time, 51 at 16 images).
 */
export const WEIGHT_GRAD_MIN_PIXELS = 256;

/** A convolution's shape, as the kernels take it: input [n, h, w, c], window, padding before, output [n, oh, ow, m]. */
export interface Lowering {
  n: number; h: number; w: number; c: number;
  kh: number; kw: number; stride: number; dh: number; dw: number;
  top: number; left: number;
  oh: number; ow: number; m: number;
}

/** im2col's and col2im's arguments after the images: the geometry. */
const geometryOf = (g: Lowering) => [g.h, g.w, g.c, g.kh, g.kw, g.stride, g.dh, g.dw, g.top, g.left, g.oh, g.ow] as const;
const patchOf = (g: Lowering) => g.kh * g.kw * g.c;
/** A 1×1 window at stride 1, no padding: the input is its own patch matrix. */
export const isPointwise = (g: Lowering) => g.kh === 1 && g.kw === 1 && g.stride === 1 && g.oh === g.h && g.ow === g.w && g.top === 0 && g.left === 0;
/** Images per chunk: as many as keep one chunk's patch matrix CHUNK_FLOATS. */
const chunkOf = (g: Lowering) => Math.min(g.n, Math.max(1, Math.floor(CHUNK_FLOATS / (g.oh * g.ow * patchOf(g)))));
const macsOf = (g: Lowering) => g.n * g.oh * g.ow * patchOf(g) * g.m;


/**
 * The pass over the batch by images: a range of images a thread, each range with its own patch
 * matrix, chunk by chunk; `calls(first, count, patches)` are one chunk's kernel calls.
 */
function byImageChunks(g: Lowering, like: Tensor, calls: (first: number, count: number, patches: number) => Call[]): void {
  const chunk = chunkOf(g);
  const buffers: Tensor[] = [];
  like.engine.share(g.n, (from, to) => {
    const patches = scratch(like, [Math.min(chunk, to - from) * g.oh * g.ow, patchOf(g)]);
    buffers.push(patches);
    const range: Call[] = [];
    for (let first = from; first < to; first += chunk) range.push(...calls(first, Math.min(chunk, to - first), patches.ptr));
    return range;
  }, { unit: 1, work: macsOf(g), minWork: PARALLEL_MIN_MACS });
  for (const t of buffers) t.dispose();
}

/** y = im2col(x)·W, the bias (an address, or 0) added and the result clamped as the GEMM stores it. */
export function lowerForward(g: Lowering, x: Tensor, w: Tensor, y: Tensor, bias: number, clamp: readonly [number, number]): void {
  const engine = x.engine, patch = patchOf(g), geometry = geometryOf(g);
  const image = (t: Tensor, i: number) => imageOf(t, g.n, i);
  if (isPointwise(g)) {
    engine.gemm({ m: g.n * g.oh * g.ow, n: g.m, k: g.c, a: x.ptr, b: w.ptr, c: y.ptr, bias, clamp });
  } else if (g.n !== 1) {
    byImageChunks(g, x, (first, count, cols) => [
      ["im2col", image(x, first), count, ...geometry, cols],
      ["sgemm", 0, 0, count * g.oh * g.ow, g.m, patch, cols, patch, w.ptr, g.m, image(y, first), g.m, 0, bias, ...clamp],
    ]);
  } else {
    // One image: its GEMM is the work to share, and its im2col by output rows (rows [r0, r1) are
    // the rows of an image padded r0·stride rows less at the top).
    const cols = scratch(x, [g.oh * g.ow, patch]);
    engine.share(g.oh, (r0, r1) => [["im2col", x.ptr, 1, g.h, g.w, g.c, g.kh, g.kw, g.stride, g.dh, g.dw, g.top - r0 * g.stride, g.left, r1 - r0, g.ow, cols.ptr + 4 * r0 * g.ow * patch]],
      { unit: 1, work: g.oh * g.ow * patch });
    engine.gemm({ m: g.oh * g.ow, n: g.m, k: patch, a: cols.ptr, b: w.ptr, c: y.ptr, bias, clamp });
    cols.dispose();
  }
}

/** gx = col2im(δ·Wᵀ), per chunk of images while its δ is in cache. */
export function lowerInputGrad(g: Lowering, delta: Tensor, w: Tensor, gx: Tensor): void {
  const engine = delta.engine, patch = patchOf(g), geometry = geometryOf(g);
  const image = (t: Tensor, i: number) => imageOf(t, g.n, i);
  if (isPointwise(g)) {
    engine.gemm({ transB: true, m: g.n * g.oh * g.ow, n: g.c, k: g.m, a: delta.ptr, b: w.ptr, c: gx.ptr });
  } else if (g.n === 1) {
    // One image: its GEMM is the work to share.
    const dcols = scratch(delta, [g.oh * g.ow, patch]);
    engine.gemm({ transB: true, m: g.oh * g.ow, n: patch, k: g.m, a: delta.ptr, b: w.ptr, c: dcols.ptr });
    engine.kernels.col2im(dcols.ptr, 1, ...geometry, gx.ptr);
    dcols.dispose();
  } else {
    byImageChunks(g, delta, (first, count, dcols) => [
      ["sgemm", 0, 1, count * g.oh * g.ow, patch, g.m, image(delta, first), g.m, w.ptr, g.m, dcols, patch, 0, 0, -Infinity, Infinity],
      ["col2im", dcols, count, ...geometry, image(gx, first)],
    ]);
  }
}

/**
 * gw = Σ over chunks of images of im2col(x)ᵀ·δ (added to what gw holds where `accumulate`): the
 * GEMM, fed a chunk's patch matrix (remade here; a pointwise conv's x is its own). Threads split
 * gw's rows, each making the chunk's patches itself, so every element sums the chunks in batch
 * order. Chunks hold at least WEIGHT_GRAD_MIN_PIXELS pixels (a short GEMM depth wastes the
 * kernel) where the L2-sized chunk of the forward pass holds fewer.
 */
export function lowerWeightGrad(g: Lowering, x: Tensor, delta: Tensor, gw: Tensor, accumulate: boolean): void {
  const patch = patchOf(g), geometry = geometryOf(g), pointwise = isPointwise(g);
  const image = (t: Tensor, i: number) => imageOf(t, g.n, i);
  const wChunk = Math.min(g.n, Math.max(chunkOf(g), Math.ceil(WEIGHT_GRAD_MIN_PIXELS / (g.oh * g.ow))));
  const chunks = g.n === 0 ? 0 : Math.ceil(g.n / wChunk);
  if (g.n === 0 && !accumulate) x.engine.kernels.fill(gw.ptr, 0, gw.size);
  const buffers: Tensor[] = [];
  x.engine.share(patch, (r0, r1) => {
    const cols = pointwise ? null : scratch(x, [wChunk * g.oh * g.ow, patch]);
    if (cols) buffers.push(cols);
    const calls: Call[] = [];
    for (let i = 0; i < chunks; i++) {
      const first = i * wChunk, count = Math.min(wChunk, g.n - first);
      const a = cols ? cols.ptr : image(x, first);
      if (cols) calls.push(["im2col", image(x, first), count, ...geometry, cols.ptr]);
      calls.push(["sgemm", 1, 0, r1 - r0, g.m, count * g.oh * g.ow, a + 4 * r0, patch, image(delta, first), g.m, gw.ptr + 4 * r0 * g.m, g.m, +(i > 0 || accumulate), 0, -Infinity, Infinity]);
    }
    return calls;
  }, { work: macsOf(g), minWork: PARALLEL_MIN_MACS });
  for (const t of buffers) t.dispose();
}
