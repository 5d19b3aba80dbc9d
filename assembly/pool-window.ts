// What a pooling window counts, shared by the NCHW (conv-planes.ts) and NHWC (conv.ts) average pools
// so both divide by the same number. Not a kernel: index.ts does not export it.

/**
 * How many of a window's taps count in its mean: those inside the input, or with `includePad`
 * those inside the padded input [−pt, h + pb) × [−pl, w + pr) (ceil_mode's overhang never counts).
 */
// @ts-ignore: decorator
@inline
export function windowCount(
  oy: i32, ox: i32, h: i32, w: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dw: i32,
  pt: i32, pl: i32, pb: i32, pr: i32, includePad: bool,
): i32 {
  const y0 = includePad ? -pt : 0, y1 = includePad ? h + pb : h;
  const x0 = includePad ? -pl : 0, x1 = includePad ? w + pr : w;
  let rows = 0, cols = 0;
  for (let ky = 0; ky < kh; ky++) {
    const iy = oy * sh - pt + ky * dh;
    if (iy >= y0 && iy < y1) rows++;
  }
  for (let kx = 0; kx < kw; kx++) {
    const ix = ox * sw - pl + kx * dw;
    if (ix >= x0 && ix < x1) cols++;
  }
  return rows * cols;
}
