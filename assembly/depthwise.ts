// Depthwise convolution over NHWC (MobileNet's and ShuffleNet's 3×3 and 5×5 layers): every input
// channel has its own kh×kw filters, `mult` of them (output channel o = i·mult + j reads input
// channel i). A direct kernel: there is no product to hand to a GEMM, only kh·kw taps per output,
// so each output pixel's channels are summed in registers, 16 at a time, tap by tap, from
// contiguous runs of the input pixel's channels.
//   y[b, oy, ox, o] = bias[o] + Σ_{ky, kx} x[b, oy·s − pt + ky, ox·s − pl + kx, o / mult] · W[ky, kx, o]
// W is [kh, kw, c·mult]; taps outside the input read as zero. Output rows [row0, row1) of each of
// the n images (so threads can share one image by rows, or a batch by images).
import { loadUpTo4, madd, storeUpTo4 } from "./simd";

/** Address of input pixel (iy, ix) of image b: its c channels follow. */
@inline function pixelAt(x: usize, b: i32, h: i32, w: i32, c: i32, iy: i32, ix: i32): usize {
  return x + (<usize>(((b * h + iy) * w + ix) * c) << 2);
}

export function depthwiseConv(
  x: usize, n: i32, h: i32, w: i32, c: i32, mult: i32, weights: usize, kh: i32, kw: i32, stride: i32, pt: i32, pl: i32,
  oh: i32, ow: i32, row0: i32, row1: i32, bias: usize, y: usize,
): void {
  const m = c * mult;
  for (let b = 0; b < n; b++) {
    for (let oy = row0; oy < row1; oy++) {
      const top = oy * stride - pt;
      const ky0 = max(0, -top), ky1 = min(kh, h - top);
      for (let ox = 0; ox < ow; ox++) {
        const left = ox * stride - pl;
        const kx0 = max(0, -left), kx1 = min(kw, w - left);
        const out = y + (<usize>(((b * oh + oy) * ow + ox) * m) << 2);
        if (mult === 1) {
          let ch = 0;
          for (; ch + 16 <= c; ch += 16) {
            const at = <usize>ch << 2;
            let a0 = bias ? v128.load(bias + at) : f32x4.splat(0), a1 = bias ? v128.load(bias + at, 16) : f32x4.splat(0);
            let a2 = bias ? v128.load(bias + at, 32) : f32x4.splat(0), a3 = bias ? v128.load(bias + at, 48) : f32x4.splat(0);
            for (let ky = ky0; ky < ky1; ky++) {
              for (let kx = kx0; kx < kx1; kx++) {
                const px = pixelAt(x, b, h, w, c, top + ky, left + kx) + at, wp = weights + (<usize>((ky * kw + kx) * m) << 2) + at;
                a0 = madd(v128.load(px), v128.load(wp), a0);
                a1 = madd(v128.load(px, 16), v128.load(wp, 16), a1);
                a2 = madd(v128.load(px, 32), v128.load(wp, 32), a2);
                a3 = madd(v128.load(px, 48), v128.load(wp, 48), a3);
              }
            }
            v128.store(out + at, a0);
            v128.store(out + at, a1, 16);
            v128.store(out + at, a2, 32);
            v128.store(out + at, a3, 48);
          }
          for (; ch < c; ch += 4) {
            const count = min(4, c - ch), at = <usize>ch << 2;
            let a = bias ? loadUpTo4(bias + at, count) : f32x4.splat(0);
            for (let ky = ky0; ky < ky1; ky++) {
              for (let kx = kx0; kx < kx1; kx++) {
                a = madd(loadUpTo4(pixelAt(x, b, h, w, c, top + ky, left + kx) + at, count), loadUpTo4(weights + (<usize>((ky * kw + kx) * m) << 2) + at, count), a);
              }
            }
            storeUpTo4(out + at, count, a);
          }
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
            store<f32>(out + (<usize>o << 2), sum);
          }
        }
      }
    }
  }
}
