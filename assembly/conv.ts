// Convolution by lowering to GEMM, and pooling. Tensors are NHWC (channels last): one patch of
// the input, kernel row by kernel row, is kh·kw·c contiguous-in-c runs, and the GEMM's output
// [n·oh·ow, filters] is already the NHWC output, so no transposes are needed anywhere.
//
// Geometry: output pixel (oy, ox) reads input rows oy·stride − padTop + ky·dh and columns
// ox·stride − padLeft + kx·dw (dh = dw = 1 but in im2col and col2im); positions outside the
// input read as zero.
import { fill } from "./elementwise";
import { windowCount } from "./pool-window";
import { loadLanes, madd, storeLanes, storeRowPart } from "./simd";

/** The first of a kernel row's taps (at p0 + k·d) at or after position 0. */
// @ts-ignore: decorator
@inline
function firstTap(p0: i32, d: i32): i32 {
  return p0 >= 0 ? 0 : (d - 1 - p0) / d;
}
/** One past the last of the `k` taps (at p0 + k·d) before position `size`. */
// @ts-ignore: decorator
@inline
function endTap(p0: i32, d: i32, k: i32, size: i32): i32 {
  return size <= p0 ? 0 : min(k, (size - p0 + d - 1) / d);
}

/**
 * cols[(b·oh + oy)·ow + ox, (ky·kw + kx)·c + ch] = x[b, iy, ix, ch] (0 outside the input).
 * cols is [n·oh·ow, kh·kw·c]. For each kernel row the taps inside the input are copied (at
 * dilation 1 one contiguous run of the input row, at once); the rest is zeros.
 */
export function im2col(
  x: usize, n: i32, h: i32, w: i32, c: i32,
  kh: i32, kw: i32, stride: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32, oh: i32, ow: i32, cols: usize,
): void {
  let out = cols;
  const tap = <usize>(dw * c) << 2;
  for (let b = 0; b < n; b++) {
    const image = x + (<usize>(b * h * w * c) << 2);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * stride - padLeft;
        const first = firstTap(ix0, dw); // kx range [first, last) lies inside the input
        const last = endTap(ix0, dw, kw, w);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * stride - padTop + ky * dh;
          if (iy < 0 || iy >= h || first >= last) {
            fill(out, 0, kw * c);
          } else {
            if (first > 0) fill(out, 0, first * c);
            const from = image + (<usize>((iy * w + ix0 + first * dw) * c) << 2);
            if (dw === 1) {
              copyRun(out + (<usize>(first * c) << 2), from, (last - first) * c);
            } else {
              for (let kx = first; kx < last; kx++) copyRun(out + (<usize>(kx * c) << 2), from + <usize>(kx - first) * tap, c);
            }
            if (last < kw) fill(out + (<usize>(last * c) << 2), 0, (kw - last) * c);
          }
          out += <usize>(kw * c) << 2;
        }
      }
    }
  }
}

/** The adjoint of im2col: dx (zeroed first) += every patch of dcols at the place it was read from. */
export function col2im(
  dcols: usize, n: i32, h: i32, w: i32, c: i32,
  kh: i32, kw: i32, stride: i32, dh: i32, dw: i32, padTop: i32, padLeft: i32, oh: i32, ow: i32, dx: usize,
): void {
  memory.fill(dx, 0, <usize>(n * h * w * c) << 2);
  let src = dcols;
  const tap = <usize>(dw * c) << 2;
  for (let b = 0; b < n; b++) {
    const image = dx + (<usize>(b * h * w * c) << 2);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * stride - padLeft;
        const first = firstTap(ix0, dw);
        const last = endTap(ix0, dw, kw, w);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * stride - padTop + ky * dh;
          if (iy >= 0 && iy < h && first < last) {
            const to = image + (<usize>((iy * w + ix0 + first * dw) * c) << 2);
            if (dw === 1) {
              addRun(to, src + (<usize>(first * c) << 2), (last - first) * c);
            } else {
              for (let kx = first; kx < last; kx++) addRun(to + <usize>(kx - first) * tap, src + (<usize>(kx * c) << 2), c);
            }
          }
          src += <usize>(kw * c) << 2;
        }
      }
    }
  }
}

/** x [n, h, w, c] into the middle of out [n, hp, wp, c], zeros around it (top rows, left columns first). */
export function padImage(x: usize, n: i32, h: i32, w: i32, c: i32, top: i32, left: i32, hp: i32, wp: i32, out: usize): void {
  fill(out, 0, n * hp * wp * c);
  const row = <usize>(w * c) << 2;
  for (let b = 0; b < n; b++) {
    for (let iy = 0; iy < h; iy++) {
      memory.copy(out + (<usize>(((b * hp + iy + top) * wp + left) * c) << 2), x + <usize>(b * h + iy) * row, row);
    }
  }
}

// Direct convolution, for patches too small to be worth an im2col (a first layer on grey images):
// on an already padded image every window is inside, and a window's kernel row (kx, ch) is kw·c
// contiguous floats. Four output pixels of a row and eight filters are computed together, in
// eight vector accumulators; W is read as [kh·kw·c, filters] rows padded with zeros to `wStride`
// (a multiple of 8). Pixels left over at the end of a row go one at a time.

/** y[p, 0..filters) = b + Σ over p's window of x·W, for x already padded ("valid" on it); bias 0: none. */
export function convDirect(
  x: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32, stride: i32, oh: i32, ow: i32,
  weights: usize, wStride: i32, filters: i32, bias: usize, y: usize,
): void {
  const run = kw * c;
  const wRow = <usize>wStride << 2;
  const step = <usize>(stride * c) << 2; // from one output pixel's window to the next
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const rowBase = x + (<usize>((b * h + oy * stride) * w * c) << 2);
      const out = y + (<usize>((b * oh + oy) * ow * filters) << 2);
      let ox = 0;
      for (; ox + 4 <= ow; ox += 4) {
        for (let f0 = 0; f0 < filters; f0 += 8) {
          const count = min(8, filters - f0);
          const start0 = bias ? loadLanes(bias + (<usize>f0 << 2), min(count, 4)) : f32x4.splat(0);
          const start1 = bias && count > 4 ? loadLanes(bias + (<usize>f0 << 2) + 16, count - 4) : f32x4.splat(0);
          let a0 = start0, a1 = start1, b0 = start0, b1 = start1;
          let c0 = start0, c1 = start1, d0 = start0, d1 = start1;
          for (let ky = 0; ky < kh; ky++) {
            let px = rowBase + (<usize>((ky * w + ox * stride) * c) << 2);
            let wr = weights + <usize>(ky * run) * wRow + (<usize>f0 << 2);
            for (let t = 0; t < run; t++) {
              const w0 = v128.load(wr), w1 = v128.load(wr, 16);
              let v = v128.load32_splat(px);
              a0 = madd(v, w0, a0); a1 = madd(v, w1, a1);
              v = v128.load32_splat(px + step);
              b0 = madd(v, w0, b0); b1 = madd(v, w1, b1);
              v = v128.load32_splat(px + 2 * step);
              c0 = madd(v, w0, c0); c1 = madd(v, w1, c1);
              v = v128.load32_splat(px + 3 * step);
              d0 = madd(v, w0, d0); d1 = madd(v, w1, d1);
              px += 4;
              wr += wRow;
            }
          }
          const at = out + (<usize>(ox * filters + f0) << 2);
          const pixel = <usize>filters << 2;
          storeRowPart(at, a0, a1, count, false);
          storeRowPart(at + pixel, b0, b1, count, false);
          storeRowPart(at + 2 * pixel, c0, c1, count, false);
          storeRowPart(at + 3 * pixel, d0, d1, count, false);
        }
      }
      for (; ox < ow; ox++) {
        for (let f0 = 0; f0 < filters; f0 += 8) {
          const count = min(8, filters - f0);
          let a0 = bias ? loadLanes(bias + (<usize>f0 << 2), min(count, 4)) : f32x4.splat(0);
          let a1 = bias && count > 4 ? loadLanes(bias + (<usize>f0 << 2) + 16, count - 4) : f32x4.splat(0);
          for (let ky = 0; ky < kh; ky++) {
            let px = rowBase + (<usize>((ky * w + ox * stride) * c) << 2);
            let wr = weights + <usize>(ky * run) * wRow + (<usize>f0 << 2);
            for (let t = 0; t < run; t++) {
              const v = v128.load32_splat(px);
              a0 = madd(v, v128.load(wr), a0);
              a1 = madd(v, v128.load(wr, 16), a1);
              px += 4;
              wr += wRow;
            }
          }
          storeRowPart(out + (<usize>(ox * filters + f0) << 2), a0, a1, count, false);
        }
      }
    }
  }
}

/**
 * convDirect for one input channel and stride 1, with pixels in the lanes instead of filters: the
 * windows of 16 neighbouring output pixels start at 16 neighbouring floats of an input row, so a
 * tap is four plain vector loads, and two filters at a time fill every lane whatever the filter
 * count. x must be padded to at least ⌈ow/16⌉·16 + kw − 1 columns: pixels past ow are computed
 * from that padding and never stored.
 */
export function convOneChannel(
  x: usize, n: i32, h: i32, w: i32, kh: i32, kw: i32, oh: i32, ow: i32,
  weights: usize, wStride: i32, filters: i32, bias: usize, y: usize,
): void {
  const wRow = <usize>wStride << 2;
  const pixel = <usize>filters << 2;
  const taps = kh * kw;
  const nextRow = <usize>(w - kw) << 2;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const rowBase = x + (<usize>((b * h + oy) * w) << 2);
      const out = y + (<usize>((b * oh + oy) * ow * filters) << 2);
      for (let ox = 0; ox < ow; ox += 16) {
        const count = min(16, ow - ox);
        for (let f = 0; f < filters; f += 2) {
          const pair = f + 1 < filters;
          const s0 = bias ? f32x4.splat(load<f32>(bias + (<usize>f << 2))) : f32x4.splat(0);
          const s1 = bias && pair ? f32x4.splat(load<f32>(bias + (<usize>f << 2), 4)) : f32x4.splat(0);
          let a0 = s0, a1 = s0, a2 = s0, a3 = s0;
          let b0 = s1, b1 = s1, b2 = s1, b3 = s1;
          // One loop over the kh·kw taps (kernel rows are short): step to the next input row after kw.
          let px = rowBase + (<usize>ox << 2);
          let wr = weights + (<usize>f << 2);
          for (let tap = 0, kx = 0; tap < taps; tap++) {
            const u = v128.load32_splat(wr), v = v128.load32_splat(wr, 4); // W[tap, f], W[tap, f + 1]
            let xv = v128.load(px);
            a0 = madd(xv, u, a0); b0 = madd(xv, v, b0);
            xv = v128.load(px, 16);
            a1 = madd(xv, u, a1); b1 = madd(xv, v, b1);
            xv = v128.load(px, 32);
            a2 = madd(xv, u, a2); b2 = madd(xv, v, b2);
            xv = v128.load(px, 48);
            a3 = madd(xv, u, a3); b3 = madd(xv, v, b3);
            px += 4;
            wr += wRow;
            if (++kx == kw) {
              kx = 0;
              px += nextRow;
            }
          }
          const at = out + (<usize>(ox * filters + f) << 2);
          storePixels(at, a0, b0, count, pixel, pair);
          if (count > 4) storePixels(at + 4 * pixel, a1, b1, count - 4, pixel, pair);
          if (count > 8) storePixels(at + 8 * pixel, a2, b2, count - 8, pixel, pair);
          if (count > 12) storePixels(at + 12 * pixel, a3, b3, count - 12, pixel, pair);
        }
      }
    }
  }
}

/** Up to four pixels' (f, f + 1) outputs, lane i of a and b, to at + i·pixel; with `pair` false, f only. */
// @ts-ignore: decorator
@inline
function storePixels(at: usize, a: v128, b: v128, count: i32, pixel: usize, pair: bool): void {
  if (!pair) {
    storeStrided(at, a, count, pixel);
    return;
  }
  const lo = f32x4.shuffle(a, b, 0, 4, 1, 5), hi = f32x4.shuffle(a, b, 2, 6, 3, 7);
  v128.store64_lane(at, lo, 0);
  if (count > 1) v128.store64_lane(at + pixel, lo, 1);
  if (count > 2) v128.store64_lane(at + 2 * pixel, hi, 0);
  if (count > 3) v128.store64_lane(at + 3 * pixel, hi, 1);
}

/** Lane i of v to at + i·stride, for the first `count` (up to 4) lanes. */
function storeStrided(at: usize, v: v128, count: i32, stride: usize): void {
  store<f32>(at, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(at + stride, f32x4.extract_lane(v, 1));
  if (count > 2) store<f32>(at + 2 * stride, f32x4.extract_lane(v, 2));
  if (count > 3) store<f32>(at + 3 * stride, f32x4.extract_lane(v, 3));
}

/**
 * ∂W of a convolution, from x padded so that every window is inside (as convDirect's):
 * dw[(ky·kw + kx)·c + ch, ·] += Σ over pixels of x·δ[p, ·], dw's rows padded like W. Four taps
 * of the window (in dw's row order) and eight filters accumulate in eight registers over all of
 * one image's pixels, then go into dw: no dw traffic in the inner loop, and no patch matrix.
 * A last group of fewer than four taps repeats tap 0, and filters not filling eight lanes read up
 * to two vectors past δ's end (the allocator leaves room for that), into lanes never stored.
 */
export function convWeightGrad(
  x: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32, stride: i32, oh: i32, ow: i32,
  delta: usize, filters: i32, dw: usize, wStride: i32,
): void {
  const patch = kh * kw * c;
  const wRow = <usize>wStride << 2;
  const step = <usize>(stride * c) << 2; // from one output pixel's window to the next
  const pixel = <usize>filters << 2;
  for (let b = 0; b < n; b++) {
    const image = x + (<usize>(b * h * w * c) << 2);
    const dImage = delta + (<usize>(b * oh * ow * filters) << 2);
    for (let j = 0; j < patch; j += 4) {
      const o0 = tapOffset(j, patch, kw * c, w * c), o1 = tapOffset(j + 1, patch, kw * c, w * c);
      const o2 = tapOffset(j + 2, patch, kw * c, w * c), o3 = tapOffset(j + 3, patch, kw * c, w * c);
      for (let f0 = 0; f0 < filters; f0 += 8) {
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0);
        let c0 = f32x4.splat(0), c1 = f32x4.splat(0), d0 = f32x4.splat(0), d1 = f32x4.splat(0);
        for (let oy = 0; oy < oh; oy++) {
          let px = image + (<usize>(oy * stride * w * c) << 2);
          let dp = dImage + (<usize>(oy * ow * filters + f0) << 2);
          for (let ox = 0; ox < ow; ox++) {
            const g0 = v128.load(dp), g1 = v128.load(dp, 16);
            let v = v128.load32_splat(px + o0);
            a0 = madd(v, g0, a0); a1 = madd(v, g1, a1);
            v = v128.load32_splat(px + o1);
            b0 = madd(v, g0, b0); b1 = madd(v, g1, b1);
            v = v128.load32_splat(px + o2);
            c0 = madd(v, g0, c0); c1 = madd(v, g1, c1);
            v = v128.load32_splat(px + o3);
            d0 = madd(v, g0, d0); d1 = madd(v, g1, d1);
            px += step;
            dp += pixel;
          }
        }
        const taps = min(4, patch - j);
        const at = dw + <usize>j * wRow + (<usize>f0 << 2);
        addPair(at, a0, a1);
        if (taps > 1) addPair(at + wRow, b0, b1);
        if (taps > 2) addPair(at + 2 * wRow, c0, c1);
        if (taps > 3) addPair(at + 3 * wRow, d0, d1);
      }
    }
  }
}

/** Byte offset of tap j (row-major over ky, kx, ch) from its window's first element; tap 0's past the patch. */
// @ts-ignore: decorator
@inline
function tapOffset(j: i32, patch: i32, run: i32, rowFloats: i32): usize {
  if (j >= patch) return 0;
  const ky = j / run;
  return <usize>(ky * rowFloats + j - ky * run) << 2;
}

/** The eight floats at `at` += v0:v1. */
// @ts-ignore: decorator
@inline
function addPair(at: usize, v0: v128, v1: v128): void {
  v128.store(at, f32x4.add(v128.load(at), v0));
  v128.store(at, f32x4.add(v128.load(at, 16), v1), 16);
}

// Runs of a patch row, inlined: the elementwise kernels' call per short run cost more than the run.
// @ts-ignore: decorator
@inline
function copyRun(dst: usize, src: usize, count: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < count; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

/** dst[0..count) += src[0..count). */
// @ts-ignore: decorator
@inline
function addRun(dst: usize, src: usize, count: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const at = <usize>i << 2;
    v128.store(dst + at, f32x4.add(v128.load(dst + at), v128.load(src + at)));
  }
  for (; i < count; i++) store<f32>(dst + (<usize>i << 2), load<f32>(dst + (<usize>i << 2)) + load<f32>(src + (<usize>i << 2)));
}

/**
 * Max over each kh×kw window of NHWC images: output (oy, ox)'s window starts at row
 * oy·stride − pt, column ox·stride − pl, and its taps outside the input are left out (padding of
 * −∞: ONNX's pads, and ceil_mode's overhang). `argmax` (i32) records which input element won, as
 * an index into its own image (a range of images pools the same wherever it starts), for the
 * backward pass; −1 (and −∞) for a window with no tap inside. Ties go to the first in row-major
 * window order; a NaN beats every number, so a window holding one gives NaN wherever it sits.
 * Four channels at a time (NHWC keeps them together); a last partial vector reads past its pixel,
 * which the allocator allows, and stores only its own lanes. Output rows [r0, r1) of each image
 * (threads share one image's rows).
 */
export function maxPool(
  x: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32, stride: i32, pt: i32, pl: i32, oh: i32, ow: i32, r0: i32, r1: i32,
  y: usize, argmax: usize,
): void {
  const lanes = i32x4(0, 1, 2, 3); // channel ch + lane is at index i + lane
  for (let b = 0; b < n; b++, x += <usize>(h * w * c) << 2) {
    let out = (b * oh + r0) * ow * c;
    for (let oy = r0; oy < r1; oy++) {
      const iy0 = oy * stride - pt;
      const ky0 = max(0, -iy0), ky1 = min(kh, h - iy0); // the window's rows inside the input
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * stride - pl;
        const kx0 = max(0, -ix0), kx1 = min(kw, w - ix0);
        const inside = ky0 < ky1 && kx0 < kx1;
        const corner = ((iy0 + ky0) * w + ix0 + kx0) * c; // the first tap inside, as an index into image b
        for (let ch = 0; ch < c; ch += 4) {
          const first = corner + ch;
          let where = inside ? i32x4.add(i32x4.splat(first), lanes) : i32x4.splat(-1);
          let best = inside ? v128.load(x + (<usize>first << 2)) : f32x4.splat(-Infinity);
          for (let ky = ky0; ky < ky1; ky++) {
            for (let kx = ky == ky0 ? kx0 + 1 : kx0; kx < kx1; kx++) {
              const i = first + ((ky - ky0) * w + kx - kx0) * c;
              const v = v128.load(x + (<usize>i << 2));
              // A NaN anywhere in the window wins (the first one), as NaN does in max(); ties do not.
              const wins = v128.or(f32x4.gt(v, best), v128.and(f32x4.ne(v, v), f32x4.eq(best, best)));
              best = v128.bitselect(v, best, wins);
              where = v128.bitselect(i32x4.add(i32x4.splat(i), lanes), where, wins);
            }
          }
          const at = <usize>(out + ch) << 2;
          if (c - ch >= 4) {
            v128.store(y + at, best);
            v128.store(argmax + at, where);
          } else {
            storeLanes(y + at, c - ch, best);
            store<i32>(argmax + at, i32x4.extract_lane(where, 0));
            if (c - ch > 1) store<i32>(argmax + at, i32x4.extract_lane(where, 1), 4);
            if (c - ch > 2) store<i32>(argmax + at, i32x4.extract_lane(where, 2), 8);
          }
        }
        out += c;
      }
    }
  }
}

/**
 * dx (zeroed first) += gy at each window's argmax, which indexes into its own image (outSize
 * outputs and inSize inputs an image); a window with no tap inside (argmax −1) sends nothing.
 */
export function maxPoolBackward(gy: usize, argmax: usize, n: i32, outSize: i32, dx: usize, inSize: i32): void {
  memory.fill(dx, 0, <usize>(n * inSize) << 2);
  for (let o = 0; o < n * outSize; o++) {
    const won = load<i32>(argmax + (<usize>o << 2));
    if (won < 0) continue;
    // argmax indexes into its own image: image o / outSize of dx.
    const at = dx + (<usize>(o / outSize * inSize + won) << 2);
    store<f32>(at, load<f32>(at) + load<f32>(gy + (<usize>o << 2)));
  }
}

/**
 * Mean over each kh×kw window of NHWC images: output (oy, ox)'s window starts at row
 * oy·stride − pt, column ox·stride − pl; taps outside the input read as zero, and the mean is
 * over windowCount's taps (the input's, or with includePad the padded input's — ONNX's
 * count_include_pad). Four channels at a time: each tap's pixel added into the output pixel.
 * Output rows [r0, r1) of each image (threads share one image's rows).
 */
export function avgPool(
  x: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32, stride: i32,
  pt: i32, pl: i32, pb: i32, pr: i32, includePad: bool, oh: i32, ow: i32, r0: i32, r1: i32, y: usize,
): void {
  for (let b = 0; b < n; b++, x += <usize>(h * w * c) << 2) {
    let out = y + (<usize>((b * oh + r0) * ow * c) << 2);
    fill(out, 0, (r1 - r0) * ow * c);
    for (let oy = r0; oy < r1; oy++) {
      const top = oy * stride - pt, y0 = max(top, 0), y1 = min(top + kh, h);
      for (let ox = 0; ox < ow; ox++, out += <usize>c << 2) {
        const left = ox * stride - pl, x0 = max(left, 0), x1 = min(left + kw, w);
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) addRun(out, x + (<usize>((iy * w + ix) * c) << 2), c);
        }
        divideRun(out, c, <f32>windowCount(oy, ox, h, w, kh, kw, stride, stride, 1, 1, pt, pl, pb, pr, includePad));
      }
    }
  }
}

/** dx (zeroed first) += each window's gradient over its count (avgPool's), at every tap inside the input. */
export function avgPoolBackward(
  gy: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32, stride: i32,
  pt: i32, pl: i32, pb: i32, pr: i32, includePad: bool, oh: i32, ow: i32, dx: usize,
): void {
  fill(dx, 0, n * h * w * c);
  for (let b = 0; b < n; b++, dx += <usize>(h * w * c) << 2) {
    for (let oy = 0; oy < oh; oy++) {
      const top = oy * stride - pt, y0 = max(top, 0), y1 = min(top + kh, h);
      for (let ox = 0; ox < ow; ox++, gy += <usize>c << 2) {
        const left = ox * stride - pl, x0 = max(left, 0), x1 = min(left + kw, w);
        const count = <f32>windowCount(oy, ox, h, w, kh, kw, stride, stride, 1, 1, pt, pl, pb, pr, includePad);
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) addQuotientRun(dx + (<usize>((iy * w + ix) * c) << 2), gy, c, count);
        }
      }
    }
  }
}

/** v[0..count) /= d (NaN where d is 0: a window with no taps to count). */
// @ts-ignore: decorator
@inline
function divideRun(v: usize, count: i32, d: f32): void {
  const dv = f32x4.splat(d);
  let i = 0;
  for (; i + 4 <= count; i += 4) v128.store(v + (<usize>i << 2), f32x4.div(v128.load(v + (<usize>i << 2)), dv));
  for (; i < count; i++) store<f32>(v + (<usize>i << 2), load<f32>(v + (<usize>i << 2)) / d);
}

/** dst[0..count) += src[0..count) / d. */
// @ts-ignore: decorator
@inline
function addQuotientRun(dst: usize, src: usize, count: i32, d: f32): void {
  const dv = f32x4.splat(d);
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const at = <usize>i << 2;
    v128.store(dst + at, f32x4.add(v128.load(dst + at), f32x4.div(v128.load(src + at), dv)));
  }
  for (; i < count; i++) store<f32>(dst + (<usize>i << 2), load<f32>(dst + (<usize>i << 2)) + load<f32>(src + (<usize>i << 2)) / d);
}
