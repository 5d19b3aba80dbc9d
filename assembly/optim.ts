// Optimiser updates, in place over one parameter tensor and its gradient (and state) at a time,
// and the reductions that watch over training (gradient norms, non-finite values).
// Four lanes at a time, then the last n % 4 one by one with the same operations in the same
// order, so every element gets bit-identical arithmetic whichever path it takes.

/**
 * SGD, as PyTorch defines it: g = grad + wd·p; with momentum, v = μ·v + g and the step uses
 * g + μ·v (Nesterov) or v; then p −= lr·step.
 */
export function sgdStep(
  p: usize, grad: usize, velocity: usize, n: i32,
  lr: f32, momentum: f32, nesterov: bool, weightDecay: f32,
): void {
  const lrV = f32x4.splat(lr), muV = f32x4.splat(momentum), wdV = f32x4.splat(weightDecay);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    const w = v128.load(p + at);
    let g = f32x4.add(v128.load(grad + at), f32x4.mul(wdV, w));
    if (momentum != 0) {
      const v = f32x4.add(f32x4.mul(muV, v128.load(velocity + at)), g);
      v128.store(velocity + at, v);
      g = nesterov ? f32x4.add(g, f32x4.mul(muV, v)) : v;
    }
    v128.store(p + at, f32x4.sub(w, f32x4.mul(lrV, g)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const w = load<f32>(p + at);
    let g = load<f32>(grad + at) + weightDecay * w;
    if (momentum != 0) {
      const v = momentum * load<f32>(velocity + at) + g;
      store<f32>(velocity + at, v);
      g = nesterov ? g + momentum * v : v;
    }
    store<f32>(p + at, w - lr * g);
  }
}

/**
 * Adam (and AdamW when `decoupled`), as PyTorch defines them. c1 = 1 − β1ᵗ and c2 = 1 − β2ᵗ are
 * the bias corrections for step t. Adam adds wd·p to the gradient; AdamW shrinks p by lr·wd.
 */
export function adamStep(
  p: usize, grad: usize, m: usize, v: usize, n: i32,
  lr: f32, beta1: f32, beta2: f32, eps: f32, weightDecay: f32, decoupled: bool, c1: f32, c2: f32,
): void {
  const stepSize = lr / c1;
  const c2Root = Mathf.sqrt(c2);
  const shrink: f32 = decoupled ? 1 - lr * weightDecay : 1;
  const l2: f32 = decoupled ? 0 : weightDecay;
  const b1 = f32x4.splat(beta1), b1c = f32x4.splat(1 - beta1);
  const b2 = f32x4.splat(beta2), b2c = f32x4.splat(1 - beta2);
  const stepV = f32x4.splat(stepSize), rootV = f32x4.splat(c2Root), epsV = f32x4.splat(eps);
  const shrinkV = f32x4.splat(shrink), l2V = f32x4.splat(l2);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const at = <usize>i << 2;
    const w0 = v128.load(p + at);
    const g = f32x4.add(v128.load(grad + at), f32x4.mul(l2V, w0));
    const w = f32x4.mul(w0, shrinkV);
    const mi = f32x4.add(f32x4.mul(b1, v128.load(m + at)), f32x4.mul(b1c, g));
    const vi = f32x4.add(f32x4.mul(b2, v128.load(v + at)), f32x4.mul(f32x4.mul(b2c, g), g));
    v128.store(m + at, mi);
    v128.store(v + at, vi);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vi), rootV), epsV);
    v128.store(p + at, f32x4.sub(w, f32x4.div(f32x4.mul(stepV, mi), denom)));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const w0 = load<f32>(p + at);
    const g = load<f32>(grad + at) + l2 * w0;
    const w = w0 * shrink;
    const mi = beta1 * load<f32>(m + at) + (1 - beta1) * g;
    const vi = beta2 * load<f32>(v + at) + (1 - beta2) * g * g;
    store<f32>(m + at, mi);
    store<f32>(v + at, vi);
    store<f32>(p + at, w - stepSize * mi / (Mathf.sqrt(vi) / c2Root + eps));
  }
}

/** Σ x², accumulated in f64 in index order (for gradient norms and clipping). */
export function sumSquares(x: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    s += v * v;
  }
  return s;
}

/** Index of the first element that is NaN or ±Infinity, or -1. */
export function firstNonFinite(x: usize, n: i32): i32 {
  // x − x is 0 for finite x and NaN otherwise; NaN is the one value unequal to itself.
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const d = f32x4.sub(v, v);
    if (v128.any_true(f32x4.ne(d, d))) break;
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v - v != 0) return i;
  }
  return -1;
}
