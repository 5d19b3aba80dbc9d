// Convolution by lowering to GEMM, and pooling. Tensors are NHWC (channels last): one patch of
// the input, kernel row by kernel row, is kh·kw·c contiguous-in-c runs, and the GEMM's output
// [n·oh·ow, filters] is already the NHWC output, so no transposes are needed anywhere.
//
// Geometry: output pixel (oy, ox) reads input rows oy·stride − padTop + ky and columns
// ox·stride − padLeft + kx; positions outside the input read as zero.
import { add, fill } from "./elementwise";

/**
 * cols[(b·oh + oy)·ow + ox, (ky·kw + kx)·c + ch] = x[b, iy, ix, ch] (0 outside the input).
 * cols is [n·oh·ow, kh·kw·c]. For each kernel row the kx that fall inside the input are one
 * contiguous run of the input row, copied at once; the rest is zeros.
 */
export function im2col(
  x: usize, n: i32, h: i32, w: i32, c: i32,
  kh: i32, kw: i32, stride: i32, padTop: i32, padLeft: i32, oh: i32, ow: i32, cols: usize,
): void {
  let out = cols;
  for (let b = 0; b < n; b++) {
    const image = x + (<usize>(b * h * w * c) << 2);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * stride - padLeft;
        const first = max(0, -ix0); // kx range [first, last) lies inside the input
        const last = min(kw, w - ix0);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * stride - padTop + ky;
          if (iy < 0 || iy >= h || first >= last) {
            fill(out, 0, kw * c);
          } else {
            fill(out, 0, first * c);
            copyRun(out + (<usize>(first * c) << 2), image + (<usize>((iy * w + ix0 + first) * c) << 2), (last - first) * c);
            fill(out + (<usize>(last * c) << 2), 0, (kw - last) * c);
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
  kh: i32, kw: i32, stride: i32, padTop: i32, padLeft: i32, oh: i32, ow: i32, dx: usize,
): void {
  memory.fill(dx, 0, <usize>(n * h * w * c) << 2);
  let src = dcols;
  for (let b = 0; b < n; b++) {
    const image = dx + (<usize>(b * h * w * c) << 2);
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * stride - padLeft;
        const first = max(0, -ix0);
        const last = min(kw, w - ix0);
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * stride - padTop + ky;
          if (iy >= 0 && iy < h && first < last) {
            const dst = image + (<usize>((iy * w + ix0 + first) * c) << 2);
            add(dst, src + (<usize>(first * c) << 2), dst, (last - first) * c);
          }
          src += <usize>(kw * c) << 2;
        }
      }
    }
  }
}

function copyRun(dst: usize, src: usize, count: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < count; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

/**
 * Max over each kh×kw window (no padding); `argmax` (i32) records which input element won, as an
 * index into x, for the backward pass. Ties go to the first in row-major window order.
 */
export function maxPool(
  x: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32, stride: i32, oh: i32, ow: i32,
  y: usize, argmax: usize,
): void {
  let out = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity as f32;
          let where = -1;
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const i = ((b * h + oy * stride + ky) * w + ox * stride + kx) * c + ch;
              const v = load<f32>(x + (<usize>i << 2));
              if (v > best || where < 0) {
                best = v;
                where = i;
              }
            }
          }
          store<f32>(y + (<usize>out << 2), best);
          store<i32>(argmax + (<usize>out << 2), where);
          out++;
        }
      }
    }
  }
}

/** dx (zeroed first) += gy at each window's argmax. */
export function maxPoolBackward(gy: usize, argmax: usize, count: i32, dx: usize, inputSize: i32): void {
  memory.fill(dx, 0, <usize>inputSize << 2);
  for (let o = 0; o < count; o++) {
    const at = dx + (<usize>load<i32>(argmax + (<usize>o << 2)) << 2);
    store<f32>(at, load<f32>(at) + load<f32>(gy + (<usize>o << 2)));
  }
}

/** Mean over each kh×kw window (no padding). */
export function avgPool(
  x: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32, stride: i32, oh: i32, ow: i32, y: usize,
): void {
  const inv: f32 = 1 / <f32>(kh * kw);
  let out = y;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          let s: f32 = 0;
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              s += load<f32>(x + (<usize>(((b * h + oy * stride + ky) * w + ox * stride + kx) * c + ch) << 2));
            }
          }
          store<f32>(out, s * inv);
          out += 4;
        }
      }
    }
  }
}

/** dx (zeroed first) += gy / (kh·kw) over each window. */
export function avgPoolBackward(
  gy: usize, n: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32, stride: i32, oh: i32, ow: i32, dx: usize,
): void {
  memory.fill(dx, 0, <usize>(n * h * w * c) << 2);
  const inv: f32 = 1 / <f32>(kh * kw);
  let src = gy;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          const g = load<f32>(src) * inv;
          src += 4;
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const at = dx + (<usize>(((b * h + oy * stride + ky) * w + ox * stride + kx) * c + ch) << 2);
              store<f32>(at, load<f32>(at) + g);
            }
          }
        }
      }
    }
  }
}
