// Elementwise arithmetic and reductions over f32 arrays. Each loop runs four lanes at a time
// and finishes the last n % 4 elements one by one. Output may alias an input.
import { storeRowPart } from "./simd";

/** out[i] = a[i] + b[i] */
export function add(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    v128.store(out + at, f32x4.add(v128.load(a + at), v128.load(b + at)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, load<f32>(a + at) + load<f32>(b + at));
  }
}

/** out[i] = a[i] - b[i] */
export function sub(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    v128.store(out + at, f32x4.sub(v128.load(a + at), v128.load(b + at)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, load<f32>(a + at) - load<f32>(b + at));
  }
}

/** out[i] = a[i] · b[i] */
export function mul(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    v128.store(out + at, f32x4.mul(v128.load(a + at), v128.load(b + at)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, load<f32>(a + at) * load<f32>(b + at));
  }
}

/** out[i] = s · a[i] */
export function scale(a: usize, s: f32, out: usize, n: i32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    v128.store(out + at, f32x4.mul(v128.load(a + at), sv));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, load<f32>(a + at) * s);
  }
}

/** out[i] (=|+=) Σ_j x[i, j] for a rows×cols row-major x. Sums left to right. */
export function rowSums(x: usize, rows: i32, cols: i32, out: usize, accumulate: bool): void {
  for (let i = 0; i < rows; i++) {
    const row = x + (<usize>(i * cols) << 2);
    let s: f32 = 0;
    for (let j = 0; j < cols; j++) s += load<f32>(row + (<usize>j << 2));
    const at = out + (<usize>i << 2);
    store<f32>(at, accumulate ? load<f32>(at) + s : s);
  }
}

/** out[j] (=|+=) Σ_i x[i, j] for a rows×cols row-major x (the bias gradient). Sums top to bottom. */
export function colSums(x: usize, rows: i32, cols: i32, out: usize, accumulate: bool): void {
  // Sixteen columns (one cache line) at a time, summed down the rows in four registers. A partial
  // last vector reads past its row (at most three floats past x, which the allocator allows); those
  // lanes are never stored.
  const rowBytes = <usize>cols << 2;
  for (let j = 0; j < cols; j += 16) {
    const lanes = min(16, cols - j);
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let p = x + (<usize>j << 2);
    for (let i = 0; i < rows; i++) {
      s0 = f32x4.add(s0, v128.load(p));
      if (lanes > 4) s1 = f32x4.add(s1, v128.load(p, 16));
      if (lanes > 8) s2 = f32x4.add(s2, v128.load(p, 32));
      if (lanes > 12) s3 = f32x4.add(s3, v128.load(p, 48));
      p += rowBytes;
    }
    const at = out + (<usize>j << 2);
    storeRowPart(at, s0, s1, min(lanes, 8), accumulate);
    if (lanes > 8) storeRowPart(at + 32, s2, s3, lanes - 8, accumulate);
  }
}

/** out[i] = a[i] / b[i] */
export function div(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    v128.store(out + at, f32x4.div(v128.load(a + at), v128.load(b + at)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, load<f32>(a + at) / load<f32>(b + at));
  }
}

/** out[i] = a[i] + s */
export function addScalar(a: usize, s: f32, out: usize, n: i32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    v128.store(out + at, f32x4.add(v128.load(a + at), sv));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, load<f32>(a + at) + s);
  }
}

/** out[i] = value */
export function fill(out: usize, value: f32, n: i32): void {
  const v = f32x4.splat(value);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), value);
}

/** out[i] = a[i] ^ p */
export function powScalar(a: usize, p: f32, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, Mathf.pow(load<f32>(a + at), p));
  }
}

/** out[i] = e ^ a[i] */
export function exp(a: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, Mathf.exp(load<f32>(a + at)));
  }
}

/** out[i] = ln a[i] */
export function log(a: usize, out: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, Mathf.log(load<f32>(a + at)));
  }
}

/** out[i] = √a[i] */
export function sqrt(a: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    v128.store(out + at, f32x4.sqrt(v128.load(a + at)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(out + at, Mathf.sqrt(load<f32>(a + at)));
  }
}

/** out[i, j] = x[i, j] · v[j] for a rows×cols x (a per-channel scale over NHWC). Output may alias x. */
export function mulRows(x: usize, v: usize, out: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const off = <usize>(r * cols) << 2;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const at = <usize>j << 2;
      v128.store(out + off + at, f32x4.mul(v128.load(x + off + at), v128.load(v + at)));
    }
    for (; j < cols; j++) {
      const at = <usize>j << 2;
      store<f32>(out + off + at, load<f32>(x + off + at) * load<f32>(v + at));
    }
  }
}

/** out[i, j] = x[i, j] + b[j] for a rows×cols x (the bias of a dense layer). Output may alias x. */
export function addBias(x: usize, b: usize, out: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const off = <usize>(r * cols) << 2;
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const at = <usize>j << 2;
      v128.store(out + off + at, f32x4.add(v128.load(x + off + at), v128.load(b + at)));
    }
    for (; j < cols; j++) {
      const at = <usize>j << 2;
      store<f32>(out + off + at, load<f32>(x + off + at) + load<f32>(b + at));
    }
  }
}
