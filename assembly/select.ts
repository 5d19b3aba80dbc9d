// Selection and comparison: |x|, clipping, choosing by a condition, the largest (or smallest) of
// each row with where it sits, and moving rows by index (gather, and its reverse, scatter-add).
// NaN propagates: |NaN| = NaN, a NaN in a row is that row's max and min.
import { clampV } from "./simd";

/** y = |x| */
export function absolute(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), Mathf.abs(load<f32>(x + (<usize>i << 2))));
}

/** gx = gy · sign(x) (0 at 0, NaN at NaN) */
export function absoluteBackward(x: usize, gy: usize, gx: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    const v = load<f32>(x + at);
    const g = load<f32>(gy + at);
    store<f32>(gx + at, v > 0 ? g : v < 0 ? -g : v == 0 ? 0 : v);
  }
}

/** y = min(max(x, lo), hi), NaN stays NaN (clampV: the same choice four lanes at a time) */
export function clamp(x: usize, lo: f32, hi: f32, y: usize, n: i32): void {
  const loV = f32x4.splat(lo), hiV = f32x4.splat(hi);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    v128.store(y + at, clampV(v128.load(x + at), loV, hiV));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const v = load<f32>(x + at);
    store<f32>(y + at, v < lo ? lo : v > hi ? hi : v);
  }
}

/** gx = gy where lo ≤ x ≤ hi (the bounds themselves pass the gradient, as PyTorch does), NaN where x is, 0 elsewhere */
export function clampBackward(x: usize, lo: f32, hi: f32, gy: usize, gx: usize, n: i32): void {
  const loV = f32x4.splat(lo), hiV = f32x4.splat(hi), zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    const v = v128.load(x + at);
    const inside = v128.and(f32x4.ge(v, loV), f32x4.le(v, hiV));
    v128.store(gx + at, v128.bitselect(v, v128.bitselect(v128.load(gy + at), zero, inside), f32x4.ne(v, v)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const v = load<f32>(x + at);
    store<f32>(gx + at, v >= lo && v <= hi ? load<f32>(gy + at) : v != v ? v : 0);
  }
}

/** y = cond ≠ 0 ? a : b */
export function select(cond: usize, a: usize, b: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(y + at, load<f32>(cond + at) != 0 ? load<f32>(a + at) : load<f32>(b + at));
  }
}

/** out = g where (cond ≠ 0) = chosen, 0 elsewhere: the gradient of select for a (chosen = 1) or b (0) */
export function selectBackward(cond: usize, g: usize, chosen: i32, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, (load<f32>(cond + at) != 0) == (chosen != 0) ? load<f32>(g + at) : 0);
  }
}

/**
 * For each row of a rows×cols matrix: its largest value (smallest if !largest) into values[r] and
 * that value's column into indices[r] (as a float); the first of equal ones; a NaN wins.
 */
export function rowExtreme(x: usize, rows: i32, cols: i32, largest: bool, values: usize, indices: usize): void {
  for (let r = 0; r < rows; r++) {
    const row = x + (<usize>(r * cols) << 2);
    let best = load<f32>(row);
    let at = 0;
    for (let j = 1; j < cols && best == best; j++) {
      const v = load<f32>(row + (<usize>j << 2));
      if (v != v || (largest ? v > best : v < best)) {
        best = v;
        at = j;
      }
    }
    if (values) store<f32>(values + (<usize>r << 2), best);
    store<f32>(indices + (<usize>r << 2), <f32>at);
  }
}

/** gx (zeroed first) gets g[r] at column indices[r] of row r: the gradient of rowExtreme. */
export function rowExtremeBackward(g: usize, indices: usize, rows: i32, cols: i32, gx: usize): void {
  memory.fill(gx, 0, <usize>(rows * cols) << 2);
  for (let r = 0; r < rows; r++) {
    const j = <i32>load<f32>(indices + (<usize>r << 2));
    store<f32>(gx + (<usize>(r * cols + j) << 2), load<f32>(g + (<usize>r << 2)));
  }
}

/** dst (zeroed first, `rows` rows of `cols`) += src row i at row indices[i] (i32), for i < count: gather's gradient. */
export function scatterAddRows(src: usize, indices: usize, count: i32, cols: i32, dst: usize, rows: i32): void {
  memory.fill(dst, 0, <usize>(rows * cols) << 2);
  for (let i = 0; i < count; i++) {
    const to = dst + (<usize>(load<i32>(indices + (<usize>i << 2)) * cols) << 2);
    const from = src + (<usize>(i * cols) << 2);
    for (let j = 0; j < cols; j++) store<f32>(to + (<usize>j << 2), load<f32>(to + (<usize>j << 2)) + load<f32>(from + (<usize>j << 2)));
  }
}
