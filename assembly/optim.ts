// Optimiser updates, in place over one parameter tensor and its gradient (and state) at a time.

/**
 * SGD, as PyTorch defines it: g = grad + wd·p; with momentum, v = μ·v + g and the step uses
 * g + μ·v (Nesterov) or v; then p −= lr·step.
 */
export function sgdStep(
  p: usize, grad: usize, velocity: usize, n: i32,
  lr: f32, momentum: f32, nesterov: bool, weightDecay: f32,
): void {
  for (let i = 0; i < n; i++) {
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
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 2;
    let w = load<f32>(p + at);
    let g = load<f32>(grad + at);
    if (decoupled) w -= lr * weightDecay * w;
    else g += weightDecay * w;
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
