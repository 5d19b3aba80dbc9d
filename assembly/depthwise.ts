// Depthwise convolution over NHWC (MobileNet's and ShuffleNet's 3×3 and 5×5 layers): every input
// channel has its own kh×kw filters, `mult` of them (output channel o = i·mult + j reads input
// channel i). A direct kernel: there is no product to hand to a GEMM, only kh·kw taps per output,
// so each output pixel's channels are summed in registers, 16 at a time, tap by tap, from
// contiguous runs of the input pixel's channels.
//   y[b, oy, ox, o] = bias[o] + Σ_{ky, kx} x[b, oy·s − pt + ky, ox·s − pl + kx, o / mult] · W[ky, kx, o]
// W is [kh, kw, c·mult]; taps outside the input read as zero. Each output is then clamped to
// [lo, hi] (a folded BatchNorm's ReLU6; −∞ and ∞ for none). Output rows [row0, row1) of each of
// the n images (so threads can share one image by rows, or a batch by images).
import { clampV, loadUpTo4, madd, storeUpTo4 } from "./simd";

/** Address of input pixel (iy, ix) of image b: its c channels follow. */
@inline function pixelAt(x: usize, b: i32, h: i32, w: i32, c: i32, iy: i32, ix: i32): usize {
  return x + (<usize>(((b * h + iy) * w + ix) * c) << 2);
}

/**
 * Channels [from, c) of output pixel `out` (mult 1): 16, then 4, at a time, each sum starting at
 * the bias and taking the taps in (ky, kx) order.
 */
@inline function pixelChannels(
  from: i32, x: usize, b: i32, h: i32, w: i32, c: i32, weights: usize, kw: i32, top: i32, left: i32,
  ky0: i32, ky1: i32, kx0: i32, kx1: i32, bias: usize, loV: v128, hiV: v128, out: usize,
): void {
  let ch = from;
  for (; ch + 16 <= c; ch += 16) {
    const at = <usize>ch << 2;
    let a0 = bias ? v128.load(bias + at) : f32x4.splat(0), a1 = bias ? v128.load(bias + at, 16) : f32x4.splat(0);
    let a2 = bias ? v128.load(bias + at, 32) : f32x4.splat(0), a3 = bias ? v128.load(bias + at, 48) : f32x4.splat(0);
    for (let ky = ky0; ky < ky1; ky++) {
      for (let kx = kx0; kx < kx1; kx++) {
        const px = pixelAt(x, b, h, w, c, top + ky, left + kx) + at, wp = weights + (<usize>((ky * kw + kx) * c) << 2) + at;
        a0 = madd(v128.load(px), v128.load(wp), a0);
        a1 = madd(v128.load(px, 16), v128.load(wp, 16), a1);
        a2 = madd(v128.load(px, 32), v128.load(wp, 32), a2);
        a3 = madd(v128.load(px, 48), v128.load(wp, 48), a3);
      }
    }
    v128.store(out + at, clampV(a0, loV, hiV));
    v128.store(out + at, clampV(a1, loV, hiV), 16);
    v128.store(out + at, clampV(a2, loV, hiV), 32);
    v128.store(out + at, clampV(a3, loV, hiV), 48);
  }
  for (; ch < c; ch += 4) {
    const count = min(4, c - ch), at = <usize>ch << 2;
    let a = bias ? loadUpTo4(bias + at, count) : f32x4.splat(0);
    for (let ky = ky0; ky < ky1; ky++) {
      for (let kx = kx0; kx < kx1; kx++) {
        a = madd(loadUpTo4(pixelAt(x, b, h, w, c, top + ky, left + kx) + at, count), loadUpTo4(weights + (<usize>((ky * kw + kx) * c) << 2) + at, count), a);
      }
    }
    storeUpTo4(out + at, count, clampV(a, loV, hiV));
  }
}

/**
 * Four neighbouring output pixels whose windows lie inside the input's columns (mult 1), eight
 * channels at a time: each tap's weights are loaded once for the four (the sums, and their
 * order, are pixelChannels'). Returns the first channel left to pixelChannels.
 */
@inline function fourPixels(
  x: usize, b: i32, h: i32, w: i32, c: i32, weights: usize, kw: i32, stride: i32, top: i32, left: i32,
  ky0: i32, ky1: i32, bias: usize, loV: v128, hiV: v128, out: usize,
): i32 {
  const step = <usize>(stride * c) << 2, next = <usize>c << 2; // one output pixel on, in x and in y
  let ch = 0;
  for (; ch + 8 <= c; ch += 8) {
    const at = <usize>ch << 2;
    const b0 = bias ? v128.load(bias + at) : f32x4.splat(0), b1 = bias ? v128.load(bias + at, 16) : f32x4.splat(0);
    let p00 = b0, p01 = b1, p10 = b0, p11 = b1, p20 = b0, p21 = b1, p30 = b0, p31 = b1;
    for (let ky = ky0; ky < ky1; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const wp = weights + (<usize>((ky * kw + kx) * c) << 2) + at;
        const w0 = v128.load(wp), w1 = v128.load(wp, 16);
        const px = pixelAt(x, b, h, w, c, top + ky, left + kx) + at;
        p00 = madd(v128.load(px), w0, p00); p01 = madd(v128.load(px, 16), w1, p01);
        p10 = madd(v128.load(px + step), w0, p10); p11 = madd(v128.load(px + step, 16), w1, p11);
        p20 = madd(v128.load(px + 2 * step), w0, p20); p21 = madd(v128.load(px + 2 * step, 16), w1, p21);
        p30 = madd(v128.load(px + 3 * step), w0, p30); p31 = madd(v128.load(px + 3 * step, 16), w1, p31);
      }
    }
    const o = out + at;
    v128.store(o, clampV(p00, loV, hiV)); v128.store(o, clampV(p01, loV, hiV), 16);
    v128.store(o + next, clampV(p10, loV, hiV)); v128.store(o + next, clampV(p11, loV, hiV), 16);
    v128.store(o + 2 * next, clampV(p20, loV, hiV)); v128.store(o + 2 * next, clampV(p21, loV, hiV), 16);
    v128.store(o + 3 * next, clampV(p30, loV, hiV)); v128.store(o + 3 * next, clampV(p31, loV, hiV), 16);
  }
  return ch;
}

export function depthwiseConv(
  x: usize, n: i32, h: i32, w: i32, c: i32, mult: i32, weights: usize, kh: i32, kw: i32, stride: i32, pt: i32, pl: i32,
  oh: i32, ow: i32, row0: i32, row1: i32, bias: usize, lo: f32, hi: f32, y: usize,
): void {
  const m = c * mult;
  const loV = f32x4.splat(lo), hiV = f32x4.splat(hi);
  for (let b = 0; b < n; b++) {
    for (let oy = row0; oy < row1; oy++) {
      const top = oy * stride - pt;
      const ky0 = max(0, -top), ky1 = min(kh, h - top);
      for (let ox = 0; ox < ow; ) {
        const left = ox * stride - pl;
        const out = y + (<usize>(((b * oh + oy) * ow + ox) * m) << 2);
        if (mult === 1 && ox + 4 <= ow && left >= 0 && left + 3 * stride + kw <= w) {
          // Four pixels inside the input's columns: eight channels at a time, then the rest one by one.
          const from = fourPixels(x, b, h, w, c, weights, kw, stride, top, left, ky0, ky1, bias, loV, hiV, out);
          if (from < c) {
            for (let p = 0; p < 4; p++) {
              pixelChannels(from, x, b, h, w, c, weights, kw, top, left + p * stride, ky0, ky1, 0, kw, bias, loV, hiV, out + (<usize>(p * c) << 2));
            }
          }
          ox += 4;
          continue;
        }
        const kx0 = max(0, -left), kx1 = min(kw, w - left);
        if (mult === 1) {
          pixelChannels(0, x, b, h, w, c, weights, kw, top, left, ky0, ky1, kx0, kx1, bias, loV, hiV, out);
        } else {
          // A channel multiplier: each input channel's value meets `mult` filters, one after another.
          for (let o = 0; o < m; o++) {
            let sum: f32 = bias ? load<f32>(bias + (<usize>o << 2)) : 0;
            const i = o / mult;
            for (let ky = ky0; ky < ky1; ky++) {
              for (let kx = kx0; kx < kx1; kx++) {
                sum += load<f32>(pixelAt(x, b, h, w, c, top + ky, left + kx) + (<usize>i << 2)) * load<f32>(weights + (<usize>((ky * kw + kx) * m + o) << 2));
              }
            }
            store<f32>(out + (<usize>o << 2), sum < lo ? lo : sum > hi ? hi : sum);
          }
        }
        ox++;
      }
    }
  }
}

// Backward. ∂x gathers, for each input pixel, the taps of every output pixel whose window covers
// it (iy = oy·s − pt + ky): each ∂x element is written once, so threads share input rows.
//   ∂x[b, iy, ix, i] = Σ_{j < mult} Σ_{ky, kx} δ[b, oy, ox, i·mult + j] · W[ky, kx, i·mult + j]
// ∂W sums, per output row and tap, the row's products in registers, then adds them to dW:
//   ∂W[ky, kx, o] += Σ_{b, oy, ox} x[b, oy·s − pt + ky, ox·s − pl + kx, o / mult] · δ[b, oy, ox, o]
// in image, row, tap order (so a group of images always gives the same bits).

/** The first output column whose window's tap kx lands inside the input, and one past the last. */
@inline function columnsFor(kx: i32, w: i32, stride: i32, pl: i32, ow: i32): i64 {
  const lo = pl - kx <= 0 ? 0 : (pl - kx + stride - 1) / stride;
  const hi = w - 1 + pl - kx < 0 ? 0 : min(ow, (w - 1 + pl - kx) / stride + 1);
  return (<i64>lo << 32) | <i64>max(hi, lo);
}

export function depthwiseConvInputGrad(
  delta: usize, n: i32, h: i32, w: i32, c: i32, mult: i32, weights: usize, kh: i32, kw: i32, stride: i32, pt: i32, pl: i32,
  oh: i32, ow: i32, row0: i32, row1: i32, gx: usize,
): void {
  const m = c * mult;
  for (let b = 0; b < n; b++) {
    for (let iy = row0; iy < row1; iy++) {
      // The taps ky that reach row iy from an output row: ky ≡ iy + pt (mod stride), oy = (iy + pt − ky) / stride in [0, oh).
      let ky0 = (iy + pt) % stride;
      while (ky0 < kh && (iy + pt - ky0) / stride >= oh) ky0 += stride;
      for (let ix = 0; ix < w; ix++) {
        let kx0 = (ix + pl) % stride;
        while (kx0 < kw && (ix + pl - kx0) / stride >= ow) kx0 += stride;
        const out = pixelAt(gx, b, h, w, c, iy, ix);
        if (mult === 1) {
          let ch = 0;
          for (; ch + 16 <= c; ch += 16) {
            const at = <usize>ch << 2;
            let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
            for (let ky = ky0; ky < kh && iy + pt - ky >= 0; ky += stride) {
              const oy = (iy + pt - ky) / stride;
              for (let kx = kx0; kx < kw && ix + pl - kx >= 0; kx += stride) {
                const dp = pixelAt(delta, b, oh, ow, m, oy, (ix + pl - kx) / stride) + at, wp = weights + (<usize>((ky * kw + kx) * m) << 2) + at;
                a0 = madd(v128.load(dp), v128.load(wp), a0);
                a1 = madd(v128.load(dp, 16), v128.load(wp, 16), a1);
                a2 = madd(v128.load(dp, 32), v128.load(wp, 32), a2);
                a3 = madd(v128.load(dp, 48), v128.load(wp, 48), a3);
              }
            }
            v128.store(out + at, a0);
            v128.store(out + at, a1, 16);
            v128.store(out + at, a2, 32);
            v128.store(out + at, a3, 48);
          }
          for (; ch < c; ch += 4) {
            const count = min(4, c - ch), at = <usize>ch << 2;
            let a = f32x4.splat(0);
            for (let ky = ky0; ky < kh && iy + pt - ky >= 0; ky += stride) {
              const oy = (iy + pt - ky) / stride;
              for (let kx = kx0; kx < kw && ix + pl - kx >= 0; kx += stride) {
                a = madd(loadUpTo4(pixelAt(delta, b, oh, ow, m, oy, (ix + pl - kx) / stride) + at, count), loadUpTo4(weights + (<usize>((ky * kw + kx) * m) << 2) + at, count), a);
              }
            }
            storeUpTo4(out + at, count, a);
          }
        } else {
          for (let i = 0; i < c; i++) {
            let sum: f32 = 0;
            for (let ky = ky0; ky < kh && iy + pt - ky >= 0; ky += stride) {
              const oy = (iy + pt - ky) / stride;
              for (let kx = kx0; kx < kw && ix + pl - kx >= 0; kx += stride) {
                const dp = pixelAt(delta, b, oh, ow, m, oy, (ix + pl - kx) / stride), wp = weights + (<usize>((ky * kw + kx) * m) << 2);
                for (let j = 0; j < mult; j++) {
                  const o = <usize>(i * mult + j) << 2;
                  sum += load<f32>(dp + o) * load<f32>(wp + o);
                }
              }
            }
            store<f32>(out + (<usize>i << 2), sum);
          }
        }
      }
    }
  }
}

export function depthwiseConvWeightGrad(
  x: usize, n: i32, h: i32, w: i32, c: i32, mult: i32, kh: i32, kw: i32, stride: i32, pt: i32, pl: i32,
  oh: i32, ow: i32, delta: usize, dw: usize,
): void {
  const m = c * mult;
  const xStep = <usize>(stride * c) << 2, dStep = <usize>m << 2; // one output column on, in x and in δ
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * stride - pt + ky;
        if (iy < 0 || iy >= h) continue;
        for (let kx = 0; kx < kw; kx++) {
          const span = columnsFor(kx, w, stride, pl, ow);
          const ox0 = <i32>(span >> 32), ox1 = <i32>span;
          if (ox0 >= ox1) continue;
          const xRow = pixelAt(x, b, h, w, c, iy, ox0 * stride - pl + kx), dRow = pixelAt(delta, b, oh, ow, m, oy, ox0);
          const tap = dw + (<usize>((ky * kw + kx) * m) << 2);
          if (mult === 1) {
            let ch = 0;
            for (; ch + 16 <= c; ch += 16) {
              const at = <usize>ch << 2;
              let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
              let xp = xRow + at, dp = dRow + at;
              for (let ox = ox0; ox < ox1; ox++) {
                a0 = madd(v128.load(xp), v128.load(dp), a0);
                a1 = madd(v128.load(xp, 16), v128.load(dp, 16), a1);
                a2 = madd(v128.load(xp, 32), v128.load(dp, 32), a2);
                a3 = madd(v128.load(xp, 48), v128.load(dp, 48), a3);
                xp += xStep;
                dp += dStep;
              }
              v128.store(tap + at, f32x4.add(v128.load(tap + at), a0));
              v128.store(tap + at, f32x4.add(v128.load(tap + at, 16), a1), 16);
              v128.store(tap + at, f32x4.add(v128.load(tap + at, 32), a2), 32);
              v128.store(tap + at, f32x4.add(v128.load(tap + at, 48), a3), 48);
            }
            for (; ch < c; ch += 4) {
              const count = min(4, c - ch), at = <usize>ch << 2;
              let a = f32x4.splat(0);
              let xp = xRow + at, dp = dRow + at;
              for (let ox = ox0; ox < ox1; ox++) {
                a = madd(loadUpTo4(xp, count), loadUpTo4(dp, count), a);
                xp += xStep;
                dp += dStep;
              }
              storeUpTo4(tap + at, count, f32x4.add(loadUpTo4(tap + at, count), a));
            }
          } else {
            for (let o = 0; o < m; o++) {
              let sum: f32 = 0;
              let xp = xRow + (<usize>(o / mult) << 2), dp = dRow + (<usize>o << 2);
              for (let ox = ox0; ox < ox1; ox++) {
                sum += load<f32>(xp) * load<f32>(dp);
                xp += xStep;
                dp += dStep;
              }
              store<f32>(tap + (<usize>o << 2), load<f32>(tap + (<usize>o << 2)) + sum);
            }
          }
        }
      }
    }
  }
}
