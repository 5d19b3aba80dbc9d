// Moving training data: gathering a shuffled batch, dropout's seeded mask, shifting images.

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

/**
 * Shifts each of n NHWC images by whole pixels: y[i, r, q] = x[i, r − dy, q − dx], zero where that
 * falls outside the image. (dy, dx) for image i are the i32s at shifts + 8i, times `sign` (−1 moves
 * a gradient back to where its pixel came from).
 */
export function shiftImages(x: usize, n: i32, h: i32, w: i32, c: i32, shifts: usize, sign: i32, y: usize): void {
  const rowBytes = <usize>(w * c) << 2;
  const pixelBytes = <usize>c << 2;
  for (let i = 0; i < n; i++) {
    const dy = load<i32>(shifts + (<usize>i << 3)) * sign;
    const dx = load<i32>(shifts + (<usize>i << 3), 4) * sign;
    // Output columns [first, last) read input columns [first − dx, last − dx).
    const first = max(0, dx), last = min(w, w + dx);
    const image = <usize>i * <usize>h * rowBytes;
    for (let r = 0; r < h; r++) {
      const to = y + image + <usize>r * rowBytes;
      const from = r - dy;
      if (from < 0 || from >= h || first >= last) {
        memory.fill(to, 0, rowBytes);
        continue;
      }
      const source = x + image + <usize>from * rowBytes;
      memory.fill(to, 0, <usize>first * pixelBytes);
      memory.copy(to + <usize>first * pixelBytes, source + <usize>(first - dx) * pixelBytes, <usize>(last - first) * pixelBytes);
      memory.fill(to + <usize>last * pixelBytes, 0, <usize>(w - last) * pixelBytes);
    }
  }
}
