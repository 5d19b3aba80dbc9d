// SIMD helpers every kernel shares. madd is the one multiply-add: the relaxed build fuses it (one
// rounding, ~1.4x the throughput where the host has FMA); the baseline build rounds twice. Same
// build, same bits.
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
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
