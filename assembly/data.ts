// Moving training data: gathering a shuffled batch, and dropout's seeded mask.

/** dst row r = src row idx[r], for `count` rows of `cols` floats. */
export function gatherRows(src: usize, idx: usize, count: i32, cols: i32, dst: usize): void {
  const bytes = <usize>cols << 2;
  for (let r = 0; r < count; r++) {
    const from = src + <usize>load<i32>(idx + (<usize>r << 2)) * bytes;
    memory.copy(dst + <usize>r * bytes, from, bytes);
  }
}

/** y = x·mask / keep, mask[i] ∈ {0, 1} drawn with P(1) = keep from the xorshift128 state at `state`. */
export function dropout(x: usize, y: usize, mask: usize, n: i32, keep: f32, state: usize): void {
  let s0 = load<u32>(state), s1 = load<u32>(state, 4), s2 = load<u32>(state, 8), s3 = load<u32>(state, 12);
  const inv: f32 = 1 / keep;
  const threshold = <u32>(<f64>keep * 4294967296.0 > 4294967295.0 ? 4294967295.0 : <f64>keep * 4294967296.0);
  for (let i = 0; i < n; i++) {
    let t = s3;
    t ^= t << 11;
    t ^= t >> 8;
    s3 = s2;
    s2 = s1;
    s1 = s0;
    t ^= s0 ^ (s0 >> 19);
    s0 = t;
    const at = <usize>i << 2;
    const kept: f32 = t < threshold ? 1 : 0;
    store<f32>(mask + at, kept);
    store<f32>(y + at, load<f32>(x + at) * kept * inv);
  }
  store<u32>(state, s0);
  store<u32>(state, s1, 4);
  store<u32>(state, s2, 8);
  store<u32>(state, s3, 12);
}
