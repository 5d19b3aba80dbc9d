// gradcheck: compares backward()'s gradients with central finite differences.
// The output is reduced to one number L = Σ rᵢ·outᵢ with fixed random weights r (so every output
// element counts), L is summed in float64 on the JS side, and each input element is moved by
// ±h and ±2h, with h a power of two so that x ± h is exact in float32; the five-point stencil
// (−L(x+2h) + 8L(x+h) − 8L(x−h) + L(x−2h)) / 12h leaves an O(h⁴) truncation error.
import { checkFunction, checkNumber, checkOptions, describe } from "../check.js";
import { ArgumentError } from "../errors.js";
import { Random } from "../random.js";
import { Tensor, tensor } from "../tensor.js";
import { backward } from "./backward.js";
import { noGrad } from "./graph.js";

export interface GradcheckOptions {
  /** Step relative to max(1, |x|), rounded to a power of two. Default 2⁻⁶. */
  step?: number;
  /** An element passes when |analytic − numeric| ≤ atol + rtol·|numeric|. Defaults 1e-3, 1e-3. */
  atol?: number;
  rtol?: number;
  /** Seed of the weights r. Default 1. */
  seed?: number;
}

export interface GradcheckMismatch {
  /** Which input (its index in `inputs`) and which element of it, row-major. */
  input: number;
  index: number;
  analytic: number;
  numeric: number;
}

export interface GradcheckReport {
  ok: boolean;
  /** Largest |analytic − numeric|. */
  maxAbsError: number;
  /** Largest |analytic − numeric| / max(|analytic|, |numeric|) among elements whose gradient is at least atol. */
  maxRelError: number;
  /** The element furthest outside (or least inside) its tolerance. */
  worst: GradcheckMismatch | null;
  /** Elements compared. */
  checked: number;
}

/** Weights in [-1, 1) from the library's seeded generator, so reports are reproducible. */
function weights(n: number, seed: number): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: n }, () => 2 * random.uniform() - 1);
}

const isTensor = (t: unknown): t is Tensor => Tensor.isTensor(t);

export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options?: GradcheckOptions,
): GradcheckReport {
  const { step = 2 ** -6, atol = 1e-3, rtol = 1e-3, seed = 1 } = checkOptions("gradcheck", options);
  checkFunction("gradcheck", "fn", fn);
  checkNumber("gradcheck", "step", step, { above: 0 });
  checkNumber("gradcheck", "atol", atol, { min: 0 });
  checkNumber("gradcheck", "rtol", rtol, { min: 0 });
  checkNumber("gradcheck", "seed", seed, { integer: true });
  if (!Array.isArray(inputs) || !inputs.every(isTensor)) throw new ArgumentError(`gradcheck: inputs must be an array of tensors, got ${describe(inputs)}`);
  inputs.forEach((t) => t.assertLive());
  if (!inputs.some((t) => t.requiresGrad)) throw new ArgumentError("gradcheck: no input has requiresGrad, so there is nothing to check");

  // Analytic: one backward with the weights as the upstream gradient. The inputs' own .grad is
  // set aside and put back afterwards.
  const kept = inputs.map((t) => t.grad);
  let analytic: Float32Array[];
  let r: Float32Array;
  try {
    inputs.forEach((t) => (t.grad = null));
    const out = fn(...inputs);
    if (!isTensor(out) || !out.requiresGrad) {
      throw new ArgumentError("gradcheck: fn must return a tensor computed from an input that requires grad");
    }
    r = weights(out.size, seed);
    const upstream = tensor(r, { shape: out.shape, engine: out.engine });
    backward(out, { grad: upstream }, "private");
    upstream.dispose();
    analytic = inputs.map((t) => t.grad?.data() ?? new Float32Array(t.size));
    inputs.forEach((t) => t.zeroGrad());
  } finally {
    inputs.forEach((t, i) => (t.grad = kept[i]));
  }

  const loss = (): number =>
    noGrad(() => {
      const out = fn(...inputs);
      const values = out.data();
      out.dispose();
      let l = 0;
      for (let i = 0; i < values.length; i++) l += r[i] * values[i];
      return l;
    });

  let maxAbsError = 0;
  let maxRelError = 0;
  let worst: GradcheckMismatch | null = null;
  let worstRatio = -1;
  let checked = 0;
  inputs.forEach((t, input) => {
    if (!t.requiresGrad) return;
    for (let index = 0; index < t.size; index++) {
      const cell = () => t.engine.memory.f32(t.ptr + 4 * index, 1);
      const x = cell()[0];
      const h = step * 2 ** Math.ceil(Math.log2(Math.max(1, Math.abs(x))));
      const at = (d: number) => {
        cell()[0] = x + d;
        t.touched(); // copies laid out from t (an imported conv's weights) are stale now
        return loss();
      };
      let numeric: number;
      try {
        numeric = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h);
      } finally {
        cell()[0] = x;
        t.touched();
      }
      const a = analytic[input][index];
      const err = Math.abs(a - numeric);
      const ratio = err / (atol + rtol * Math.abs(numeric));
      maxAbsError = Math.max(maxAbsError, err);
      const scale = Math.max(Math.abs(a), Math.abs(numeric));
      if (scale >= atol) maxRelError = Math.max(maxRelError, err / scale);
      if (!(ratio <= worstRatio)) {
        worstRatio = ratio;
        worst = { input, index, analytic: a, numeric };
      }
      checked++;
    }
  });
  return { ok: worstRatio <= 1, maxAbsError, maxRelError, worst, checked };
}
