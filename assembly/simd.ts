// SIMD helpers every kernel shares. madd is the one multiply-add: the relaxed build fuses it (one
// rounding, ~1.4x the throughput where the host has FMA); the baseline build rounds twice. Same
// build, same bits.
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/**
 * v < lo ? lo : v > hi ? hi : v per lane, the scalar clamp's choice (NaN stays NaN, −0 stays −0;
 * a clamp to [−∞, ∞] changes nothing): pmax and pmin are those comparisons.
 */
@inline
export function clampV(v: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmin(f32x4.pmax(v, lo), hi);
}

/** The first `cols` (1 to 4) floats at `at` as the low lanes of a vector; the rest are 0. */
@inline
export function loadLanes(at: usize, cols: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(at));
  if (cols > 1) v = f32x4.replace_lane(v, 1, load<f32>(at, 4));
  if (cols > 2) v = f32x4.replace_lane(v, 2, load<f32>(at, 8));
  if (cols > 3) v = f32x4.replace_lane(v, 3, load<f32>(at, 12));
  return v;
}

/** The low `cols` (1 to 4) lanes of v to `at`. */
@inline
export function storeLanes(at: usize, cols: i32, v: v128): void {
  store<f32>(at, f32x4.extract_lane(v, 0));
  if (cols > 1) store<f32>(at, f32x4.extract_lane(v, 1), 4);
  if (cols > 2) store<f32>(at, f32x4.extract_lane(v, 2), 8);
  if (cols > 3) store<f32>(at, f32x4.extract_lane(v, 3), 12);
}

/** The first nr (1 to 8) lanes of v0:v1 to `at`, added to what is there when `into`. */
@inline
export function storeRowPart(at: usize, v0: v128, v1: v128, nr: i32, into: bool): void {
  const first = min(nr, 4);
  storeLanes(at, first, into ? f32x4.add(loadLanes(at, first), v0) : v0);
  if (nr > 4) storeLanes(at + 16, nr - 4, into ? f32x4.add(loadLanes(at + 16, nr - 4), v1) : v1);
}

/**
 * e^x in every lane (Cephes's expf: e^x = 2^n · e^r, |r| ≤ ln2/2, a degree-6 polynomial; ~2 ulp).
 * Below −87.3 it is 0 and above 88.3 it is ∞ (as Mathf.exp, nearly), so a −∞ mask gives exact
 * zeros; NaN stays NaN.
 */
@inline
export function expv(input: v128): v128 {
  const x = f32x4.min(f32x4.max(input, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const n = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504)), f32x4.splat(0.5)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23); // 2^n as float bits
  const e = f32x4.mul(p, scale);
  const big = f32x4.gt(input, f32x4.splat(88.3)), tiny = f32x4.lt(input, f32x4.splat(-87.3));
  return v128.andnot(v128.bitselect(f32x4.splat(Infinity), e, big), tiny);
}

/** σ(x) = 1 / (1 + e^-x) in every lane. */
@inline
export function sigmoidv(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, expv(f32x4.neg(x))));
}

/** tanh x = 1 − 2 / (e^2x + 1) in every lane (absolute error ~1e-7 near 0). */
@inline
export function tanhv(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.sub(one, f32x4.div(f32x4.splat(2), f32x4.add(expv(f32x4.add(x, x)), one)));
}

/** The first `count` floats at `at` (all four when count ≥ 4; the rest 0). */
@inline
export function loadUpTo4(at: usize, count: i32): v128 {
  return count >= 4 ? v128.load(at) : loadLanes(at, count);
}

/** The low `count` lanes of v to `at` (all four when count ≥ 4). */
@inline
export function storeUpTo4(at: usize, count: i32, v: v128): void {
  if (count >= 4) v128.store(at, v);
  else storeLanes(at, count, v);
}

/** The 4×4 block of rows r0..r3 transposed: its column q (lane q of every row) stored at dst + q·stride. */
@inline
export function transposeStore(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, stride: usize): void {
  const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t2 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, f32x4.shuffle(t0, t1, 0, 1, 4, 5));
  v128.store(dst + stride, f32x4.shuffle(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, f32x4.shuffle(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, f32x4.shuffle(t2, t3, 2, 3, 6, 7));
}
