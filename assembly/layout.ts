// Moving elements between layouts: transposes, broadcasts and reductions over axes are all a walk
// over an n-dimensional index with one stride per axis (stride 0 repeats an element).
// `shape` and `strides` point at ndim i32s each; strides are in elements.
import { transposeStore } from "./simd";

/** dst[linear i] = src[Σ idx_d · strides_d], walking `shape` (the shape of dst) in row-major order. */
export function stridedCopy(src: usize, dst: usize, ndim: i32, shape: usize, strides: usize): void {
  walk(src, dst, ndim, shape, strides, false);
}

/** dst[Σ idx_d · strides_d] += src[linear i], walking `shape` (the shape of src) in row-major order. */
export function stridedAccumulate(src: usize, dst: usize, ndim: i32, shape: usize, strides: usize): void {
  walk(src, dst, ndim, shape, strides, true);
}

// The last axis runs in the inner loop; an odometer over the others finds each row's start.
// Sums therefore happen in row-major order of the big tensor: fixed, so results are reproducible.
// @ts-ignore: decorator
@inline
function walk(src: usize, dst: usize, ndim: i32, shape: usize, strides: usize, scatter: bool): void {
  if (ndim == 0) {
    if (scatter) store<f32>(dst, load<f32>(dst) + load<f32>(src));
    else store<f32>(dst, load<f32>(src));
    return;
  }
  let total: i32 = 1;
  for (let d = 0; d < ndim; d++) total *= load<i32>(shape + (<usize>d << 2));
  if (total == 0) return;
  const last = ndim - 1;
  const inner = load<i32>(shape + (<usize>last << 2));
  const step = <usize>load<i32>(strides + (<usize>last << 2)) << 2;
  // idx[] lives in the i32s after strides: the caller reserves ndim more.
  const idx = strides + (<usize>ndim << 2);
  for (let d = 0; d < ndim; d++) store<i32>(idx + (<usize>d << 2), 0);
  let linear: usize = 0; // element offset on the walked (dense) side
  let offset: usize = 0; // element offset on the strided side
  for (let done = 0; done < total; done += inner) {
    let p = (scatter ? dst : src) + (offset << 2);
    const q = (scatter ? src : dst) + (linear << 2);
    if (scatter) {
      for (let j = 0; j < inner; j++) {
        store<f32>(p, load<f32>(p) + load<f32>(q + (<usize>j << 2)));
        p += step;
      }
    } else {
      for (let j = 0; j < inner; j++) {
        store<f32>(q + (<usize>j << 2), load<f32>(p));
        p += step;
      }
    }
    linear += <usize>inner;
    // Advance the odometer over axes last-1 … 0.
    for (let d = last - 1; d >= 0; d--) {
      const at = idx + (<usize>d << 2);
      const i = load<i32>(at) + 1;
      const stride = <usize>load<i32>(strides + (<usize>d << 2));
      if (i < load<i32>(shape + (<usize>d << 2))) {
        store<i32>(at, i);
        offset += stride;
        break;
      }
      store<i32>(at, 0);
      offset -= stride * <usize>(i - 1);
    }
  }
}

/**
 * `rows` runs of `cols` floats from src (rows srcStride floats apart) to dst (dstStride apart):
 * a concatenation's parts into their places, and a gradient's slices back out.
 */
export function copyRows(src: usize, srcStride: i32, dst: usize, dstStride: i32, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    memory.copy(dst + (<usize>r * <usize>dstStride << 2), src + (<usize>r * <usize>srcStride << 2), <usize>cols << 2);
  }
}

/**
 * dst[b, j, i, :] = src[b, i, j, :] for src [batch, rows, cols, inner]: the transposes an
 * imported CNN makes (NCHW ↔ NHWC: rows = C, cols = H·W, inner 1; a channel shuffle: inner H·W),
 * for the flattened (b, i) in [r0, r1). With inner 1, in 4×4 blocks transposed in registers.
 */
export function transposeBlocks(src: usize, batch: i32, rows: i32, cols: i32, inner: i32, dst: usize, r0: i32, r1: i32): void {
  const rowBytes = <usize>inner << 2;
  for (let r = r0; r < r1; ) {
    const b = r / rows, i0 = r % rows;
    const i1 = min(rows, i0 + (r1 - r)); // this image's rows of the range
    const from = src + (<usize>b * <usize>rows * <usize>cols * <usize>inner << 2);
    const to = dst + (<usize>b * <usize>rows * <usize>cols * <usize>inner << 2);
    if (inner == 1) {
      // 4×4 blocks transposed in registers; the rows and columns left over one by one.
      const srcRow = <usize>cols << 2, dstRow = <usize>rows << 2;
      let i = i0;
      for (; i + 4 <= i1; i += 4) {
        let j = 0;
        for (; j + 4 <= cols; j += 4) {
          const s = from + (<usize>(i * cols + j) << 2);
          transposeStore(v128.load(s), v128.load(s + srcRow), v128.load(s + 2 * srcRow), v128.load(s + 3 * srcRow), to + (<usize>(j * rows + i) << 2), dstRow);
        }
        for (; j < cols; j++) {
          for (let r = i; r < i + 4; r++) store<f32>(to + (<usize>(j * rows + r) << 2), load<f32>(from + (<usize>(r * cols + j) << 2)));
        }
      }
      for (; i < i1; i++) {
        for (let j = 0; j < cols; j++) store<f32>(to + (<usize>(j * rows + i) << 2), load<f32>(from + (<usize>(i * cols + j) << 2)));
      }
    } else {
      for (let i = i0; i < i1; i++) {
        for (let j = 0; j < cols; j++) memory.copy(to + <usize>(j * rows + i) * rowBytes, from + <usize>(i * cols + j) * rowBytes, rowBytes);
      }
    }
    r += i1 - i0;
  }
}
