// Losses: each forward kernel returns the summed loss (accumulated in f64, in row order) and keeps
// what its backward needs; each backward kernel writes ∂L/∂input already multiplied by `scale`
// (1/batch for a mean, times the upstream gradient). Class labels arrive as f32 class indices;
// a forward kernel returns NaN when a label is not an integer in [0, cols), so the caller can
// report it instead of reading out of bounds.

const PROB_FLOOR: f32 = 1e-7; // probabilities are clipped here before log, as Keras does

// @ts-ignore: decorator
@inline
function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

// @ts-ignore: decorator
@inline
function labelOf(labels: usize, r: i32, cols: i32): i32 {
  const v = load<f32>(at(labels, r));
  const k = <i32>v;
  return <f32>k == v && k >= 0 && k < cols ? k : -1;
}

/** Softmax of each row of logits into probs; returns Σ over rows of −log p[label]. */
export function softmaxCrossEntropy(logits: usize, labels: usize, probs: usize, rows: i32, cols: i32): f64 {
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const k = labelOf(labels, r, cols);
    if (k < 0) return NaN;
    total += <f64>softmaxRow(at(logits, r * cols), at(probs, r * cols), cols, k);
  }
  return total;
}

/** g = (p − onehot(label))·scale: the seeds' δ = ŷ − y. */
export function softmaxCrossEntropyBackward(probs: usize, labels: usize, g: usize, rows: i32, cols: i32, scale: f32): void {
  for (let r = 0; r < rows; r++) {
    const k = labelOf(labels, r, cols);
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      store<f32>(at(g, i), (load<f32>(at(probs, i)) - (j == k ? <f32>1 : <f32>0)) * scale);
    }
  }
}

/** As softmaxCrossEntropy with a target distribution per row (one-hot or soft): −Σ t·log p. */
export function softmaxCrossEntropyDense(logits: usize, targets: usize, probs: usize, rows: i32, cols: i32): f64 {
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    softmaxRow(at(logits, off), at(probs, off), cols, -1);
    for (let j = 0; j < cols; j++) {
      const t = load<f32>(at(targets, off + j));
      if (t != 0) total -= <f64>t * <f64>Mathf.log(max(load<f32>(at(probs, off + j)), PROB_FLOOR));
    }
  }
  return total;
}

/** g = (p·Σt − t)·scale, which is (p − t)·scale for a distribution t. */
export function softmaxCrossEntropyDenseBackward(probs: usize, targets: usize, g: usize, rows: i32, cols: i32, scale: f32): void {
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    let mass: f32 = 0;
    for (let j = 0; j < cols; j++) mass += load<f32>(at(targets, off + j));
    for (let j = 0; j < cols; j++) {
      const i = off + j;
      store<f32>(at(g, i), (load<f32>(at(probs, i)) * mass - load<f32>(at(targets, i))) * scale);
    }
  }
}

/** Cross-entropy of probabilities (a softmax layer's output): Σ −log max(p[label], 1e-7). */
export function crossEntropy(probs: usize, labels: usize, rows: i32, cols: i32): f64 {
  let total: f64 = 0;
  for (let r = 0; r < rows; r++) {
    const k = labelOf(labels, r, cols);
    if (k < 0) return NaN;
    total -= <f64>Mathf.log(max(load<f32>(at(probs, r * cols + k)), PROB_FLOOR));
  }
  return total;
}

/** g = −1/p at the label (0 where p was clipped, as the clip's derivative is 0), 0 elsewhere. */
export function crossEntropyBackward(probs: usize, labels: usize, g: usize, rows: i32, cols: i32, scale: f32): void {
  memory.fill(g, 0, <usize>(rows * cols) << 2);
  for (let r = 0; r < rows; r++) {
    const i = r * cols + labelOf(labels, r, cols);
    const p = load<f32>(at(probs, i));
    store<f32>(at(g, i), p > PROB_FLOOR ? -scale / p : 0);
  }
}

/** As crossEntropy against a target distribution per row: −Σ t·log max(p, 1e-7). */
export function crossEntropyDense(probs: usize, targets: usize, n: i32): f64 {
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const t = load<f32>(at(targets, i));
    if (t != 0) total -= <f64>t * <f64>Mathf.log(max(load<f32>(at(probs, i)), PROB_FLOOR));
  }
  return total;
}

export function crossEntropyDenseBackward(probs: usize, targets: usize, g: usize, n: i32, scale: f32): void {
  for (let i = 0; i < n; i++) {
    const p = load<f32>(at(probs, i));
    store<f32>(at(g, i), p > PROB_FLOOR ? -load<f32>(at(targets, i)) * scale / p : 0);
  }
}

/** Binary cross-entropy from logits z, stable form: max(z, 0) − z·t + log(1 + e^−|z|). */
export function bceWithLogits(z: usize, targets: usize, n: i32): f64 {
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = load<f32>(at(z, i));
    const t = load<f32>(at(targets, i));
    total += <f64>(max(v, 0) - v * t + Mathf.log(1 + Mathf.exp(-Mathf.abs(v))));
  }
  return total;
}

/** g = (σ(z) − t)·scale */
export function bceWithLogitsBackward(z: usize, targets: usize, g: usize, n: i32, scale: f32): void {
  for (let i = 0; i < n; i++) {
    const s: f32 = 1 / (1 + Mathf.exp(-load<f32>(at(z, i))));
    store<f32>(at(g, i), (s - load<f32>(at(targets, i))) * scale);
  }
}

/** Σ (y − t)² */
export function squaredError(y: usize, targets: usize, n: i32): f64 {
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const d = <f64>load<f32>(at(y, i)) - <f64>load<f32>(at(targets, i));
    total += d * d;
  }
  return total;
}

/** g = 2(y − t)·scale */
export function squaredErrorBackward(y: usize, targets: usize, g: usize, n: i32, scale: f32): void {
  const s = f32x4.splat(2 * scale);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    v128.store(at(g, i), f32x4.mul(f32x4.sub(v128.load(at(y, i)), v128.load(at(targets, i))), s));
  }
  for (; i < n; i++) store<f32>(at(g, i), (load<f32>(at(y, i)) - load<f32>(at(targets, i))) * 2 * scale);
}

/** Rows whose largest score is at the label (ties: the first maximum). */
export function countCorrect(scores: usize, labels: usize, rows: i32, cols: i32): i32 {
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    if (argmaxRow(at(scores, r * cols), cols) == labelOf(labels, r, cols)) correct++;
  }
  return correct;
}

/** Rows whose largest score is where the target row has its largest value. */
export function countCorrectDense(scores: usize, targets: usize, rows: i32, cols: i32): i32 {
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    if (argmaxRow(at(scores, r * cols), cols) == argmaxRow(at(targets, r * cols), cols)) correct++;
  }
  return correct;
}

function argmaxRow(row: usize, cols: i32): i32 {
  let best = 0;
  let top = load<f32>(row);
  for (let j = 1; j < cols; j++) {
    const v = load<f32>(at(row, j));
    if (v > top) {
      top = v;
      best = j;
    }
  }
  return best;
}

/** Softmax of one row into out (shifted by the max); returns −log p[k] when k ≥ 0. */
function softmaxRow(x: usize, out: usize, cols: i32, k: i32): f32 {
  let m = -Infinity as f32;
  for (let j = 0; j < cols; j++) m = max(m, load<f32>(at(x, j)));
  let sum: f32 = 0;
  for (let j = 0; j < cols; j++) {
    const e = Mathf.exp(load<f32>(at(x, j)) - m);
    store<f32>(at(out, j), e);
    sum += e;
  }
  const inv: f32 = 1 / sum;
  for (let j = 0; j < cols; j++) store<f32>(at(out, j), load<f32>(at(out, j)) * inv);
  return k >= 0 ? Mathf.log(sum) - (load<f32>(at(x, k)) - m) : 0;
}
