// Activations and their derivatives. Each backward kernel computes gx = gy ⊙ f'(·) from what the
// forward pass saved: the output y where f' is cheapest in y (sigmoid, tanh, softmax), the input x
// where it is not (relu, leaky relu).

import { expv, loadLanes, loadUpTo4, storeUpTo4 } from "./simd";

/** y = σ(x) = 1 / (1 + e^-x) */
export function sigmoid(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(y + at, 1 / (1 + Mathf.exp(-load<f32>(x + at))));
  }
}

/** gx = gy · y(1 − y) */
export function sigmoidBackward(y: usize, gy: usize, gx: usize, n: i32): void {
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    const v = v128.load(y + at);
    v128.store(gx + at, f32x4.mul(v128.load(gy + at), f32x4.mul(v, f32x4.sub(one, v))));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const v = load<f32>(y + at);
    store<f32>(gx + at, load<f32>(gy + at) * (v * (1 - v)));
  }
}

/** y = tanh x */
export function tanh(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(y + at, Mathf.tanh(load<f32>(x + at)));
  }
}

/** gx = gy · (1 − y²) */
export function tanhBackward(y: usize, gy: usize, gx: usize, n: i32): void {
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    const v = v128.load(y + at);
    v128.store(gx + at, f32x4.mul(v128.load(gy + at), f32x4.sub(one, f32x4.mul(v, v))));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const v = load<f32>(y + at);
    store<f32>(gx + at, load<f32>(gy + at) * (1 - v * v));
  }
}

/**
 * y = max(x, slope·x): relu when slope = 0, leaky relu otherwise (0 ≤ slope < 1). Written as a
 * max, not a select with a multiply, so that relu(−∞) = 0 (−∞·0 would be NaN) and NaN stays NaN.
 */
export function leakyRelu(x: usize, slope: f32, y: usize, n: i32): void {
  const s = f32x4.splat(slope);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    const v = v128.load(x + at);
    v128.store(y + at, f32x4.max(v, slope == 0 ? zero : f32x4.mul(v, s)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const v = load<f32>(x + at);
    store<f32>(y + at, max(v, slope == 0 ? 0 : v * slope));
  }
}

/**
 * gx = gy where x > 0, slope·gy where x ≤ 0 (the derivative at 0 is taken as slope; relu gives
 * exactly 0 there, even for an infinite gy), NaN where x is NaN.
 */
export function leakyReluBackward(x: usize, slope: f32, gy: usize, gx: usize, n: i32): void {
  const s = f32x4.splat(slope);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    const g = v128.load(gy + at);
    const v = v128.load(x + at);
    const below = v128.bitselect(slope == 0 ? zero : f32x4.mul(g, s), v, f32x4.le(v, zero)); // v itself is NaN where neither
    v128.store(gx + at, v128.bitselect(g, below, f32x4.gt(v, zero)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const g = load<f32>(gy + at);
    const v = load<f32>(x + at);
    store<f32>(gx + at, v > 0 ? g : v <= 0 ? (slope == 0 ? 0 : g * slope) : v);
  }
}

/** Row-wise softmax of a rows×cols matrix, shifted by the row maximum so exp cannot overflow. */
export function softmaxRows(x: usize, y: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * cols) << 2);
    const yr = y + (<usize>(r * cols) << 2);
    const m = f32x4.splat(rowMax(xr, cols));
    // Four lanes of partial sums, added in a fixed order: the same bits every run.
    let sums = f32x4.splat(0);
    for (let j = 0; j < cols; j += 4) {
      const n = cols - j, at = <usize>j << 2;
      const e = expv(f32x4.sub(loadUpTo4(xr + at, n), m));
      storeUpTo4(yr + at, n, e);
      sums = f32x4.add(sums, n >= 4 ? e : loadLanes(yr + at, n)); // lanes past the row's end add 0
    }
    const sum = f32x4.extract_lane(sums, 0) + f32x4.extract_lane(sums, 1) + f32x4.extract_lane(sums, 2) + f32x4.extract_lane(sums, 3);
    const inv = f32x4.splat(1 / sum);
    for (let j = 0; j < cols; j += 4) {
      const n = cols - j, at = <usize>j << 2;
      storeUpTo4(yr + at, n, f32x4.mul(loadUpTo4(yr + at, n), inv));
    }
  }
}

/** gx = y ⊙ (gy − Σⱼ gyⱼ·yⱼ), row by row. */
export function softmaxBackward(y: usize, gy: usize, gx: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const off = <usize>(r * cols) << 2;
    let dot: f32 = 0;
    for (let j = 0; j < cols; j++) {
      const at = off + (<usize>j << 2);
      dot += load<f32>(gy + at) * load<f32>(y + at);
    }
    for (let j = 0; j < cols; j++) {
      const at = off + (<usize>j << 2);
      store<f32>(gx + at, load<f32>(y + at) * (load<f32>(gy + at) - dot));
    }
  }
}

/** Row-wise log-softmax: y = x − max − ln Σ e^(x − max). */
export function logSoftmaxRows(x: usize, y: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * cols) << 2);
    const yr = y + (<usize>(r * cols) << 2);
    const m = rowMax(xr, cols);
    let sum: f32 = 0;
    for (let j = 0; j < cols; j++) sum += Mathf.exp(load<f32>(xr + (<usize>j << 2)) - m);
    const shift = m + Mathf.log(sum);
    for (let j = 0; j < cols; j++) store<f32>(yr + (<usize>j << 2), load<f32>(xr + (<usize>j << 2)) - shift);
  }
}

/** gx = gy − softmax(x) · Σⱼ gyⱼ, with softmax(x) = e^y. */
export function logSoftmaxBackward(y: usize, gy: usize, gx: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const off = <usize>(r * cols) << 2;
    let total: f32 = 0;
    for (let j = 0; j < cols; j++) total += load<f32>(gy + off + (<usize>j << 2));
    for (let j = 0; j < cols; j++) {
      const at = off + (<usize>j << 2);
      store<f32>(gx + at, load<f32>(gy + at) - Mathf.exp(load<f32>(y + at)) * total);
    }
  }
}

function rowMax(row: usize, cols: i32): f32 {
  let m = -Infinity as f32;
  for (let j = 0; j < cols; j++) m = max(m, load<f32>(row + (<usize>j << 2)));
  return m;
}

// Activations added through the one table (src/autograd/ops/activate.ts). Those whose derivative
// follows from the output y take y (elu, softplus, hardSigmoid); gelu, silu and hardSwish are
// not invertible, so their backward takes the input x.

/**
 * erf(x/√2) by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), odd-extended, in every lane, given
 * g = e^(−x²/2), which gelu's backward needs too (φ(x) = g/√(2π)): one exp for both.
 */
// @ts-ignore: decorator
@inline
function erfOverRoot2(x: v128, g: v128): v128 {
  const a = f32x4.mul(f32x4.abs(x), f32x4.splat(0.70710678));
  const t = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(0.3275911), a)));
  let p = f32x4.sub(f32x4.mul(f32x4.splat(1.061405429), t), f32x4.splat(1.453152027));
  p = f32x4.add(f32x4.mul(p, t), f32x4.splat(1.421413741));
  p = f32x4.sub(f32x4.mul(p, t), f32x4.splat(0.284496736));
  p = f32x4.mul(f32x4.add(f32x4.mul(p, t), f32x4.splat(0.254829592)), t);
  const e = f32x4.sub(f32x4.splat(1), f32x4.mul(p, g));
  return v128.or(e, v128.and(x, f32x4.splat(-0.0))); // the sign of x
}

/** e^(−x²/2) in every lane. */
// @ts-ignore: decorator
@inline
function gaussian(x: v128): v128 {
  return expv(f32x4.mul(f32x4.mul(f32x4.splat(-0.5), x), x));
}

/** y = x·Φ(x) = x(1 + erf(x/√2))/2 (the exact gelu, as tfjs-layers' "gelu"). */
export function gelu(x: usize, y: usize, n: i32): void {
  const half = f32x4.splat(0.5), one = f32x4.splat(1);
  for (let i = 0; i < n; i += 4) {
    const at = <usize>i << 2;
    const v = loadUpTo4(x + at, n - i);
    storeUpTo4(y + at, n - i, f32x4.mul(f32x4.mul(half, v), f32x4.add(one, erfOverRoot2(v, gaussian(v)))));
  }
}

/** gx = gy·(Φ(x) + x·φ(x)) */
export function geluBackward(x: usize, gy: usize, gx: usize, n: i32): void {
  const half = f32x4.splat(0.5), one = f32x4.splat(1), norm = f32x4.splat(0.39894228);
  for (let i = 0; i < n; i += 4) {
    const at = <usize>i << 2;
    const v = loadUpTo4(x + at, n - i);
    const g = gaussian(v);
    const cdf = f32x4.mul(half, f32x4.add(one, erfOverRoot2(v, g)));
    storeUpTo4(gx + at, n - i, f32x4.mul(loadUpTo4(gy + at, n - i), f32x4.add(cdf, f32x4.mul(f32x4.mul(v, norm), g))));
  }
}

/** y = erf(x), as erf((x·√2)/√2): the helper above, also what ONNX's Erf computes. */
export function erf(x: usize, y: usize, n: i32): void {
  const root2 = f32x4.splat(1.41421356);
  for (let i = 0; i < n; i += 4) {
    const at = <usize>i << 2;
    const v = f32x4.mul(loadUpTo4(x + at, n - i), root2);
    storeUpTo4(y + at, n - i, erfOverRoot2(v, gaussian(v)));
  }
}

/** gx = gy · 2/√π · e^(−x²) */
export function erfBackward(x: usize, gy: usize, gx: usize, n: i32): void {
  const root2 = f32x4.splat(1.41421356), norm = f32x4.splat(1.12837917);
  for (let i = 0; i < n; i += 4) {
    const at = <usize>i << 2;
    const v = f32x4.mul(loadUpTo4(x + at, n - i), root2);
    storeUpTo4(gx + at, n - i, f32x4.mul(loadUpTo4(gy + at, n - i), f32x4.mul(norm, gaussian(v))));
  }
}

/** y = x·σ(x) (silu, also called swish) */
export function silu(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    const v = load<f32>(x + at);
    store<f32>(y + at, v / (1 + Mathf.exp(-v)));
  }
}

/** gx = gy·σ(x)(1 + x(1 − σ(x))) */
export function siluBackward(x: usize, gy: usize, gx: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    const v = load<f32>(x + at);
    const s: f32 = 1 / (1 + Mathf.exp(-v));
    store<f32>(gx + at, load<f32>(gy + at) * s * (1 + v * (1 - s)));
  }
}

/**
 * y = x·min(max(x/6 + ½, 0), 1) (hard swish: MobileNetV3's, ONNX's HardSwish, PyTorch's
 * Hardswish), four lanes at a time; min and max carry a NaN through.
 */
export function hardSwish(x: usize, y: usize, n: i32): void {
  const sixth = f32x4.splat(<f32>(1.0 / 6.0)), half = f32x4.splat(0.5), zero = f32x4.splat(0), one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    const v = v128.load(x + at);
    v128.store(y + at, f32x4.mul(v, f32x4.min(f32x4.max(f32x4.add(f32x4.mul(v, sixth), half), zero), one)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const v = load<f32>(x + at);
    store<f32>(y + at, v * min<f32>(max<f32>(v * <f32>(1.0 / 6.0) + 0.5, 0), 1));
  }
}

/** gx = gy·(0 below −3, x/3 + ½ on [−3, 3], 1 above): PyTorch's choice at the two corners. */
export function hardSwishBackward(x: usize, gy: usize, gx: usize, n: i32): void {
  const third = f32x4.splat(<f32>(1.0 / 3.0)), half = f32x4.splat(0.5), zero = f32x4.splat(0), one = f32x4.splat(1);
  const lo = f32x4.splat(-3), hi = f32x4.splat(3);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    const v = v128.load(x + at);
    const slope = v128.bitselect(zero, v128.bitselect(one, f32x4.add(f32x4.mul(v, third), half), f32x4.gt(v, hi)), f32x4.lt(v, lo));
    v128.store(gx + at, f32x4.mul(v128.load(gy + at), slope));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const v = load<f32>(x + at);
    store<f32>(gx + at, load<f32>(gy + at) * (v < -3 ? 0 : v > 3 ? 1 : v * <f32>(1.0 / 3.0) + 0.5));
  }
}

/** y = x for x > 0, α(eˣ − 1) otherwise (α = 1, as Keras) */
export function elu(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    const v = load<f32>(x + at);
    store<f32>(y + at, v > 0 ? v : Mathf.exp(v) - 1);
  }
}

/** gx = gy where y > 0, gy·(y + 1) elsewhere (αeˣ = y + α) */
export function eluBackward(y: usize, gy: usize, gx: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    const v = load<f32>(y + at);
    const g = load<f32>(gy + at);
    store<f32>(gx + at, v > 0 ? g : g * (v + 1));
  }
}

/** y = ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^−|x|) so it never overflows */
export function softplus(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    const v = load<f32>(x + at);
    store<f32>(y + at, max(v, 0) + Mathf.log(1 + Mathf.exp(-Mathf.abs(v))));
  }
}

/** gx = gy·σ(x) = gy·(1 − e^−y) */
export function softplusBackward(y: usize, gy: usize, gx: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    store<f32>(gx + at, load<f32>(gy + at) * (1 - Mathf.exp(-load<f32>(y + at))));
  }
}

/** y = clip(0.2x + 0.5, 0, 1) (tfjs-layers' and Keras 2's hard sigmoid) */
export function hardSigmoid(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    const v: f32 = 0.2 * load<f32>(x + at) + 0.5;
    store<f32>(y + at, v < 0 ? 0 : v > 1 ? 1 : v);
  }
}

/** gx = 0.2·gy where 0 < y < 1, 0 elsewhere */
export function hardSigmoidBackward(y: usize, gy: usize, gx: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    const v = load<f32>(y + at);
    store<f32>(gx + at, v > 0 && v < 1 ? 0.2 * load<f32>(gy + at) : 0);
  }
}
