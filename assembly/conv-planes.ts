// Convolution and pooling in ONNX's own layout, NCHW, with everything ONNX's Conv, ConvTranspose,
// MaxPool and AveragePool carry: groups (depthwise: one input channel a group), dilations,
// strides and padding per axis. A 1-D op is the 2-D one with h = 1. These are plain loops to check
// against the maths, one weight tap at a time over a run of output pixels; the fast NHWC kernels
// of conv.ts stay the path for ungrouped, undilated 2-D convolutions.
//
// Geometry: output pixel (oy, ox) reads input row oy·sh − pt + ky·dh and column ox·sw − pl + kx·dw;
// positions outside the input read as zero (pooling skips them).

import { windowCount } from "./pool-window";

/** ⌊a / b⌋ for b > 0, also for negative a. */
@inline function floorDiv(a: i32, b: i32): i32 {
  const q = a / b;
  return q * b > a ? q - 1 : q;
}

/** The first output index whose tap `k` lands inside [0, size): ⌈(pad − k·d) / s⌉, at least 0. */
@inline function firstInside(pad: i32, k: i32, d: i32, s: i32): i32 {
  return max(0, -floorDiv(k * d - pad, s));
}

/** One past the last output index whose tap `k` lands inside [0, size), at most `out`. */
@inline function endInside(size: i32, pad: i32, k: i32, d: i32, s: i32, out: i32): i32 {
  return min(out, floorDiv(size - 1 + pad - k * d, s) + 1);
}

/**
 * y[b, o, oy, ox] = Σ_{i, ky, kx} x[b, g·cg + i, iy, ix] · W[o, i, ky, kx], o in group
 * g = o / (m / groups), cg = c / groups. W is [m, cg, kh, kw].
 */
export function convPlanes(
  x: usize, n: i32, c: i32, h: i32, w: i32, weights: usize, m: i32, kh: i32, kw: i32, groups: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32, oh: i32, ow: i32, y: usize,
): void {
  const cg = c / groups, mg = m / groups;
  memory.fill(y, 0, <usize>(n * m * oh * ow) << 2);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < m; o++) {
      const out = y + (<usize>((b * m + o) * oh * ow) << 2);
      const first = (o / mg) * cg;
      for (let i = 0; i < cg; i++) {
        const plane = x + (<usize>((b * c + first + i) * h * w) << 2);
        for (let ky = 0; ky < kh; ky++) {
          const oy0 = firstInside(pt, ky, dh, sh), oy1 = endInside(h, pt, ky, dh, sh, oh);
          for (let kx = 0; kx < kw; kx++) {
            const tap = load<f32>(weights + (<usize>(((o * cg + i) * kh + ky) * kw + kx) << 2));
            const ox0 = firstInside(pl, kx, dw, sw), ox1 = endInside(w, pl, kx, dw, sw, ow);
            for (let oy = oy0; oy < oy1; oy++) {
              const row = plane + (<usize>((oy * sh - pt + ky * dh) * w - pl + kx * dw) << 2);
              const to = out + (<usize>(oy * ow) << 2);
              for (let ox = ox0; ox < ox1; ox++) {
                const at = to + (<usize>ox << 2);
                store<f32>(at, load<f32>(at) + tap * load<f32>(row + (<usize>(ox * sw) << 2)));
              }
            }
          }
        }
      }
    }
  }
}

/** The adjoint of convPlanes in x: dx (zeroed first) = Σ W · dy at the place each tap read from. */
export function convPlanesBackwardData(
  dy: usize, n: i32, c: i32, h: i32, w: i32, weights: usize, m: i32, kh: i32, kw: i32, groups: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32, oh: i32, ow: i32, dx: usize,
): void {
  const cg = c / groups, mg = m / groups;
  memory.fill(dx, 0, <usize>(n * c * h * w) << 2);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < m; o++) {
      const from = dy + (<usize>((b * m + o) * oh * ow) << 2);
      const first = (o / mg) * cg;
      for (let i = 0; i < cg; i++) {
        const plane = dx + (<usize>((b * c + first + i) * h * w) << 2);
        for (let ky = 0; ky < kh; ky++) {
          const oy0 = firstInside(pt, ky, dh, sh), oy1 = endInside(h, pt, ky, dh, sh, oh);
          for (let kx = 0; kx < kw; kx++) {
            const tap = load<f32>(weights + (<usize>(((o * cg + i) * kh + ky) * kw + kx) << 2));
            const ox0 = firstInside(pl, kx, dw, sw), ox1 = endInside(w, pl, kx, dw, sw, ow);
            for (let oy = oy0; oy < oy1; oy++) {
              const row = plane + (<usize>((oy * sh - pt + ky * dh) * w - pl + kx * dw) << 2);
              const src = from + (<usize>(oy * ow) << 2);
              for (let ox = ox0; ox < ox1; ox++) {
                const at = row + (<usize>(ox * sw) << 2);
                store<f32>(at, load<f32>(at) + tap * load<f32>(src + (<usize>ox << 2)));
              }
            }
          }
        }
      }
    }
  }
}

/** ∂W[o, i, ky, kx] = Σ_b Σ_{oy, ox} x[b, g·cg + i, iy, ix] · dy[b, o, oy, ox], images in order. */
export function convPlanesBackwardFilter(
  x: usize, n: i32, c: i32, h: i32, w: i32, dy: usize, m: i32, kh: i32, kw: i32, groups: i32,
  sh: i32, sw: i32, dh: i32, dw: i32, pt: i32, pl: i32, oh: i32, ow: i32, dweights: usize,
): void {
  const cg = c / groups, mg = m / groups;
  memory.fill(dweights, 0, <usize>(m * cg * kh * kw) << 2);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < m; o++) {
      const from = dy + (<usize>((b * m + o) * oh * ow) << 2);
      const first = (o / mg) * cg;
      for (let i = 0; i < cg; i++) {
        const plane = x + (<usize>((b * c + first + i) * h * w) << 2);
        for (let ky = 0; ky < kh; ky++) {
          const oy0 = firstInside(pt, ky, dh, sh), oy1 = endInside(h, pt, ky, dh, sh, oh);
          for (let kx = 0; kx < kw; kx++) {
            const ox0 = firstInside(pl, kx, dw, sw), ox1 = endInside(w, pl, kx, dw, sw, ow);
            let sum: f32 = 0;
            for (let oy = oy0; oy < oy1; oy++) {
              const row = plane + (<usize>((oy * sh - pt + ky * dh) * w - pl + kx * dw) << 2);
              const src = from + (<usize>(oy * ow) << 2);
              for (let ox = ox0; ox < ox1; ox++) sum += load<f32>(row + (<usize>(ox * sw) << 2)) * load<f32>(src + (<usize>ox << 2));
            }
            const at = dweights + (<usize>(((o * cg + i) * kh + ky) * kw + kx) << 2);
            store<f32>(at, load<f32>(at) + sum);
          }
        }
      }
    }
  }
}

/**
 * The largest input in each window of each of `planes` h×w planes (taps outside the input are
 * skipped), and its index in its plane (−1, and −∞, for a window that holds no input).
 */
export function maxPoolPlanes(
  x: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32,
  pt: i32, pl: i32, oh: i32, ow: i32, y: usize, argmax: usize,
): void {
  for (let p = 0; p < planes; p++) {
    const plane = x + (<usize>(p * h * w) << 2);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best: f32 = -Infinity, at: i32 = -1;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx * dw;
            if (ix < 0 || ix >= w) continue;
            const v = load<f32>(plane + (<usize>(iy * w + ix) << 2));
            if (at < 0 || v > best || v != v) {
              best = v;
              at = iy * w + ix;
              if (v != v) break;
            }
          }
        }
        const o = <usize>((p * oh + oy) * ow + ox) << 2;
        store<f32>(y + o, best);
        store<i32>(argmax + o, at);
      }
    }
  }
}

/** ∂x of maxPoolPlanes: each window's gradient to its argmax (zeroed first; windows that overlap add). */
export function maxPoolPlanesBackward(gy: usize, argmax: usize, planes: i32, inSize: i32, outSize: i32, gx: usize): void {
  memory.fill(gx, 0, <usize>(planes * inSize) << 2);
  for (let o = 0; o < planes * outSize; o++) {
    const at = load<i32>(argmax + (<usize>o << 2));
    if (at < 0) continue;
    const to = gx + (<usize>((o / outSize) * inSize + at) << 2);
    store<f32>(to, load<f32>(to) + load<f32>(gy + (<usize>o << 2)));
  }
}

/** The mean of each window of each plane, over the taps windowCount counts (padding reads as 0). */
export function avgPoolPlanes(
  x: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32,
  pt: i32, pl: i32, pb: i32, pr: i32, includePad: bool, oh: i32, ow: i32, y: usize,
): void {
  for (let p = 0; p < planes; p++) {
    const plane = x + (<usize>(p * h * w) << 2);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let sum: f32 = 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx * dw;
            if (ix >= 0 && ix < w) sum += load<f32>(plane + (<usize>(iy * w + ix) << 2));
          }
        }
        const count = windowCount(oy, ox, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, includePad);
        store<f32>(y + (<usize>((p * oh + oy) * ow + ox) << 2), count > 0 ? sum / <f32>count : NaN);
      }
    }
  }
}

/** ∂x of avgPoolPlanes: each window's gradient shared out over the inputs it read (zeroed first). */
export function avgPoolPlanesBackward(
  gy: usize, planes: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32,
  pt: i32, pl: i32, pb: i32, pr: i32, includePad: bool, oh: i32, ow: i32, gx: usize,
): void {
  memory.fill(gx, 0, <usize>(planes * h * w) << 2);
  for (let p = 0; p < planes; p++) {
    const plane = gx + (<usize>(p * h * w) << 2);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const count = windowCount(oy, ox, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, includePad);
        if (count == 0) continue;
        const g = load<f32>(gy + (<usize>((p * oh + oy) * ow + ox) << 2)) / <f32>count;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx * dw;
            if (ix < 0 || ix >= w) continue;
            const at = plane + (<usize>(iy * w + ix) << 2);
            store<f32>(at, load<f32>(at) + g);
          }
        }
      }
    }
  }
}
