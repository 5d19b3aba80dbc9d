// Winograd's F(2×2, 3×3) for a 3×3 convolution at stride 1 over NHWC (inference): each 2×2 block
// of outputs (a tile) comes from the 4×4 block of input around it as Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A,
// 16 products per channel pair where the direct sum takes 36. Summed over the input channels,
// the ⊙ becomes 16 matrix products, one per position ξ of the 4×4 transform: M[ξ] = V[ξ]·U[ξ],
// V[ξ] [tiles, c] from the input, U[ξ] [c, m] from the weights (the GEMM does those). Here are the
// three transforms, four channels (or filters) at a time:
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]   Aᵀ = [1 1 1 0; 0 1 −1 −1]
import { clampV, loadUpTo4, storeUpTo4 } from "./simd";

/** One row q of G g (three taps) as the row's four values of G g Gᵀ, at `out`, planes apart. */
@inline function storeGRow(out: usize, plane: usize, count: i32, q0: v128, q1: v128, q2: v128): void {
  const half = f32x4.splat(0.5);
  storeUpTo4(out, count, q0);
  storeUpTo4(out + plane, count, f32x4.mul(f32x4.add(f32x4.add(q0, q1), q2), half));
  storeUpTo4(out + 2 * plane, count, f32x4.mul(f32x4.add(f32x4.sub(q0, q1), q2), half));
  storeUpTo4(out + 3 * plane, count, q2);
}

/** (G g)[1] and (G g)[2] of a column g0, g1, g2: ½(g0 + g1 + g2), ½(g0 − g1 + g2). */
@inline function gSum(g0: v128, g1: v128, g2: v128): v128 {
  return f32x4.mul(f32x4.add(f32x4.add(g0, g1), g2), f32x4.splat(0.5));
}
@inline function gDiff(g0: v128, g1: v128, g2: v128): v128 {
  return f32x4.mul(f32x4.add(f32x4.sub(g0, g1), g2), f32x4.splat(0.5));
}

/** U[ξ, ci, o] = (G g Gᵀ)[ξ] for g = W[·, ·, ci, o]: W [3, 3, c, m] to U [16, c, m]. */
export function winogradWeights(w: usize, c: i32, m: i32, u: usize): void {
  const plane = <usize>(c * m) << 2; // one ξ of U, or one tap of W
  for (let at: usize = 0; at < plane; at += 16) {
    const count = min(4, <i32>((plane - at) >> 2));
    const g00 = loadUpTo4(w + at, count), g01 = loadUpTo4(w + plane + at, count), g02 = loadUpTo4(w + 2 * plane + at, count);
    const g10 = loadUpTo4(w + 3 * plane + at, count), g11 = loadUpTo4(w + 4 * plane + at, count), g12 = loadUpTo4(w + 5 * plane + at, count);
    const g20 = loadUpTo4(w + 6 * plane + at, count), g21 = loadUpTo4(w + 7 * plane + at, count), g22 = loadUpTo4(w + 8 * plane + at, count);
    // Rows of G g (per column s: g0s, ½(g0s + g1s + g2s), ½(g0s − g1s + g2s), g2s), each then times Gᵀ.
    storeGRow(u + at, plane, count, g00, g01, g02);
    storeGRow(u + 4 * plane + at, plane, count, gSum(g00, g10, g20), gSum(g01, g11, g21), gSum(g02, g12, g22));
    storeGRow(u + 8 * plane + at, plane, count, gDiff(g00, g10, g20), gDiff(g01, g11, g21), gDiff(g02, g12, g22));
    storeGRow(u + 12 * plane + at, plane, count, g20, g21, g22);
  }
}

/** Input pixel (iy, ix), channels [ch, ch + count), of one image; zero outside it. */
@inline function tap(x: usize, h: i32, w: i32, c: i32, iy: i32, ix: i32, ch: i32, count: i32): v128 {
  return iy >= 0 && iy < h && ix >= 0 && ix < w ? loadUpTo4(x + (<usize>((iy * w + ix) * c + ch) << 2), count) : f32x4.splat(0);
}

/** One row t of Bᵀ d as the row's four values of Bᵀ d B (t0 − t2, t1 + t2, t2 − t1, t1 − t3), planes apart. */
@inline function storeBRow(at: usize, plane: usize, count: i32, t0: v128, t1: v128, t2: v128, t3: v128): void {
  storeUpTo4(at, count, f32x4.sub(t0, t2));
  storeUpTo4(at + plane, count, f32x4.add(t1, t2));
  storeUpTo4(at + 2 * plane, count, f32x4.sub(t2, t1));
  storeUpTo4(at + 3 * plane, count, f32x4.sub(t1, t3));
}

/**
 * V[ξ, t, ci] = (Bᵀ d B)[ξ] for the 4×4 input block d of tile t (rows 2·ty − pt …, columns
 * 2·tx − pl …; zero outside the image) of one image x [h, w, c], for tile rows [ty0, ty1) of
 * tw tiles each; V's tile index t = ty·tw + tx, its planes `tiles` rows apart.
 */
export function winogradInput(
  x: usize, h: i32, w: i32, c: i32, pt: i32, pl: i32, tw: i32, ty0: i32, ty1: i32, v: usize, tiles: i32,
): void {
  const plane = <usize>tiles * <usize>c << 2;
  for (let ty = ty0; ty < ty1; ty++) {
    const y0 = 2 * ty - pt;
    for (let tx = 0; tx < tw; tx++) {
      const x0 = 2 * tx - pl;
      const row = v + (<usize>(ty * tw + tx) * <usize>c << 2);
      for (let ch = 0; ch < c; ch += 4) {
        const count = min(4, c - ch);
        const out = row + (<usize>ch << 2);
        // Bᵀ d, column by column (t0 = d0 − d2, t1 = d1 + d2, t2 = d2 − d1, t3 = d1 − d3), then each row times B.
        const d00 = tap(x, h, w, c, y0, x0, ch, count), d01 = tap(x, h, w, c, y0, x0 + 1, ch, count), d02 = tap(x, h, w, c, y0, x0 + 2, ch, count), d03 = tap(x, h, w, c, y0, x0 + 3, ch, count);
        const d10 = tap(x, h, w, c, y0 + 1, x0, ch, count), d11 = tap(x, h, w, c, y0 + 1, x0 + 1, ch, count), d12 = tap(x, h, w, c, y0 + 1, x0 + 2, ch, count), d13 = tap(x, h, w, c, y0 + 1, x0 + 3, ch, count);
        const d20 = tap(x, h, w, c, y0 + 2, x0, ch, count), d21 = tap(x, h, w, c, y0 + 2, x0 + 1, ch, count), d22 = tap(x, h, w, c, y0 + 2, x0 + 2, ch, count), d23 = tap(x, h, w, c, y0 + 2, x0 + 3, ch, count);
        const d30 = tap(x, h, w, c, y0 + 3, x0, ch, count), d31 = tap(x, h, w, c, y0 + 3, x0 + 1, ch, count), d32 = tap(x, h, w, c, y0 + 3, x0 + 2, ch, count), d33 = tap(x, h, w, c, y0 + 3, x0 + 3, ch, count);
        storeBRow(out, plane, count, f32x4.sub(d00, d20), f32x4.sub(d01, d21), f32x4.sub(d02, d22), f32x4.sub(d03, d23));
        storeBRow(out + 4 * plane, plane, count, f32x4.add(d10, d20), f32x4.add(d11, d21), f32x4.add(d12, d22), f32x4.add(d13, d23));
        storeBRow(out + 8 * plane, plane, count, f32x4.sub(d20, d10), f32x4.sub(d21, d11), f32x4.sub(d22, d12), f32x4.sub(d23, d13));
        storeBRow(out + 12 * plane, plane, count, f32x4.sub(d10, d30), f32x4.sub(d11, d31), f32x4.sub(d12, d32), f32x4.sub(d13, d33));
      }
    }
  }
}

/**
 * y = clamp(Aᵀ M A + bias) for tile rows [ty0, ty1) of one image's output y [oh, ow, m] (a tile's
 * outputs past the edge dropped), from M[ξ, t, o] (planes `tiles` rows apart, tile t = ty·tw +
 * tx); bias 0 for none.
 */
export function winogradOutput(
  mm: usize, tiles: i32, m: i32, oh: i32, ow: i32, tw: i32, ty0: i32, ty1: i32, bias: usize, lo: f32, hi: f32, y: usize,
): void {
  const plane = <usize>tiles * <usize>m << 2;
  const loV = f32x4.splat(lo), hiV = f32x4.splat(hi);
  for (let ty = ty0; ty < ty1; ty++) {
    const rows = min(2, oh - 2 * ty);
    for (let tx = 0; tx < tw; tx++) {
      const row = mm + (<usize>(ty * tw + tx) * <usize>m << 2);
      const cols = min(2, ow - 2 * tx);
      for (let o = 0; o < m; o += 4) {
        const count = min(4, m - o);
        const at = row + (<usize>o << 2);
        const b = bias ? loadUpTo4(bias + (<usize>o << 2), count) : f32x4.splat(0);
        // Aᵀ M, column by column (s0 = M0 + M1 + M2, s1 = M1 − M2 − M3), then each row times A.
        for (let k = 0; k < rows; k++) {
          let r0 = f32x4.splat(0), r1 = f32x4.splat(0), r2 = f32x4.splat(0), r3 = f32x4.splat(0);
          if (k == 0) {
            r0 = f32x4.add(f32x4.add(loadUpTo4(at, count), loadUpTo4(at + 4 * plane, count)), loadUpTo4(at + 8 * plane, count));
            r1 = f32x4.add(f32x4.add(loadUpTo4(at + plane, count), loadUpTo4(at + 5 * plane, count)), loadUpTo4(at + 9 * plane, count));
            r2 = f32x4.add(f32x4.add(loadUpTo4(at + 2 * plane, count), loadUpTo4(at + 6 * plane, count)), loadUpTo4(at + 10 * plane, count));
            r3 = f32x4.add(f32x4.add(loadUpTo4(at + 3 * plane, count), loadUpTo4(at + 7 * plane, count)), loadUpTo4(at + 11 * plane, count));
          } else {
            r0 = f32x4.sub(f32x4.sub(loadUpTo4(at + 4 * plane, count), loadUpTo4(at + 8 * plane, count)), loadUpTo4(at + 12 * plane, count));
            r1 = f32x4.sub(f32x4.sub(loadUpTo4(at + 5 * plane, count), loadUpTo4(at + 9 * plane, count)), loadUpTo4(at + 13 * plane, count));
            r2 = f32x4.sub(f32x4.sub(loadUpTo4(at + 6 * plane, count), loadUpTo4(at + 10 * plane, count)), loadUpTo4(at + 14 * plane, count));
            r3 = f32x4.sub(f32x4.sub(loadUpTo4(at + 7 * plane, count), loadUpTo4(at + 11 * plane, count)), loadUpTo4(at + 15 * plane, count));
          }
          const out = y + (<usize>(((2 * ty + k) * ow + 2 * tx) * m + o) << 2);
          storeUpTo4(out, count, clampV(f32x4.add(f32x4.add(f32x4.add(r0, r1), r2), b), loV, hiV));
          if (cols > 1) storeUpTo4(out + (<usize>m << 2), count, clampV(f32x4.add(f32x4.sub(f32x4.sub(r1, r2), r3), b), loV, hiV));
        }
      }
    }
  }
}
