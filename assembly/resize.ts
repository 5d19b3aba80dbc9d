// Resizing NHWC images (ONNX's Resize and Upsample, nearest and linear), every channel of a pixel
// at once. Where each output row and column reads from is worked out once per shape by the caller
// (src/autograd/ops/resize.ts): output row oy reads input rows rows[2·oy] and rows[2·oy + 1] with
// weights wr[2·oy] and wr[2·oy + 1], output column ox likewise from cols and wc, so
//   y[oy, ox] = wr₀·(wc₀·x[r₀, c₀] + wc₁·x[r₀, c₁]) + wr₁·(wc₀·x[r₁, c₀] + wc₁·x[r₁, c₁])
// and nearest copies x[r₀, c₀] (no arithmetic: an infinity next to it cannot turn it into NaN).

/** y [n, oh, ow, c] from x [n, h, w, c], output rows [r0, r1) of each image (threads share them). */
export function resizeImages(
  x: usize, n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32,
  rows: usize, wr: usize, cols: usize, wc: usize, nearest: bool, r0: i32, r1: i32, y: usize,
): void {
  const pixel = <usize>c << 2;
  for (let b = 0; b < n; b++) {
    const image = x + <usize>b * <usize>h * <usize>w * pixel;
    for (let oy = r0; oy < r1; oy++) {
      const row0 = image + <usize>load<i32>(rows + (<usize>oy << 3)) * <usize>w * pixel;
      const row1 = image + <usize>load<i32>(rows + (<usize>oy << 3), 4) * <usize>w * pixel;
      const a0 = load<f32>(wr + (<usize>oy << 3)), a1 = load<f32>(wr + (<usize>oy << 3), 4);
      let out = y + ((<usize>b * <usize>oh + <usize>oy) * <usize>ow) * pixel;
      for (let ox = 0; ox < ow; ox++, out += pixel) {
        const c0 = <usize>load<i32>(cols + (<usize>ox << 3)) * pixel, c1 = <usize>load<i32>(cols + (<usize>ox << 3), 4) * pixel;
        if (nearest) {
          memory.copy(out, row0 + c0, pixel);
          continue;
        }
        const b0 = load<f32>(wc + (<usize>ox << 3)), b1 = load<f32>(wc + (<usize>ox << 3), 4);
        const va0 = f32x4.splat(a0), va1 = f32x4.splat(a1), vb0 = f32x4.splat(b0), vb1 = f32x4.splat(b1);
        let i = 0;
        for (; i + 4 <= c; i += 4) {
          const at = <usize>i << 2;
          const top = f32x4.add(f32x4.mul(vb0, v128.load(row0 + c0 + at)), f32x4.mul(vb1, v128.load(row0 + c1 + at)));
          const bottom = f32x4.add(f32x4.mul(vb0, v128.load(row1 + c0 + at)), f32x4.mul(vb1, v128.load(row1 + c1 + at)));
          v128.store(out + at, f32x4.add(f32x4.mul(va0, top), f32x4.mul(va1, bottom)));
        }
        for (; i < c; i++) {
          const at = <usize>i << 2;
          const top = b0 * load<f32>(row0 + c0 + at) + b1 * load<f32>(row0 + c1 + at);
          const bottom = b0 * load<f32>(row1 + c0 + at) + b1 * load<f32>(row1 + c1 + at);
          store<f32>(out + at, a0 * top + a1 * bottom);
        }
      }
    }
  }
}

/** gx [n, h, w, c] (zeroed first) += each output pixel's gradient back at its taps, by their weights, output pixels in order. */
export function resizeImagesBackward(
  gy: usize, n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32,
  rows: usize, wr: usize, cols: usize, wc: usize, nearest: bool, gx: usize,
): void {
  const pixel = <usize>c << 2;
  memory.fill(gx, 0, <usize>n * <usize>h * <usize>w * pixel);
  let from = gy;
  for (let b = 0; b < n; b++) {
    const image = gx + <usize>b * <usize>h * <usize>w * pixel;
    for (let oy = 0; oy < oh; oy++) {
      const row0 = image + <usize>load<i32>(rows + (<usize>oy << 3)) * <usize>w * pixel;
      const row1 = image + <usize>load<i32>(rows + (<usize>oy << 3), 4) * <usize>w * pixel;
      const a0 = load<f32>(wr + (<usize>oy << 3)), a1 = load<f32>(wr + (<usize>oy << 3), 4);
      for (let ox = 0; ox < ow; ox++, from += pixel) {
        const c0 = <usize>load<i32>(cols + (<usize>ox << 3)) * pixel, c1 = <usize>load<i32>(cols + (<usize>ox << 3), 4) * pixel;
        if (nearest) {
          addScaled(row0 + c0, from, 1, c);
          continue;
        }
        const b0 = load<f32>(wc + (<usize>ox << 3)), b1 = load<f32>(wc + (<usize>ox << 3), 4);
        addScaled(row0 + c0, from, a0 * b0, c);
        addScaled(row0 + c1, from, a0 * b1, c);
        addScaled(row1 + c0, from, a1 * b0, c);
        addScaled(row1 + c1, from, a1 * b1, c);
      }
    }
  }
}

/** dst[0..count) += s·src[0..count). */
// @ts-ignore: decorator
@inline
function addScaled(dst: usize, src: usize, s: f32, count: i32): void {
  const vs = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const at = <usize>i << 2;
    v128.store(dst + at, f32x4.add(v128.load(dst + at), f32x4.mul(vs, v128.load(src + at))));
  }
  for (; i < count; i++) {
    const at = <usize>i << 2;
    store<f32>(dst + at, load<f32>(dst + at) + s * load<f32>(src + at));
  }
}
