// One multiply-add for every kernel. The relaxed build fuses it (one rounding, ~1.4x the
// throughput where the host has FMA); the baseline build rounds twice. Same build, same bits.
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
