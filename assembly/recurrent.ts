// One LSTM step for a batch, fused: the gates' activations, the cell update and the output in
// passes over each row of [rows, 4·units] (gates i, f, c̃, o as Keras orders them), and its backward
// rule. The matrix products around a step (x·W for every step at once, h·U per step) stay GEMMs.
// Four units at a time, with the vector exp of simd.ts (the scalar Mathf.exp/tanh cost more than
// the GEMMs did).
import { loadUpTo4, sigmoidv, storeUpTo4, tanhv } from "./simd";

/** x ← σ(x) over n floats, in place. */
function sigmoidRange(x: usize, n: i32): void {
  for (let j = 0; j < n; j += 4) storeUpTo4(x + (<usize>j << 2), n - j, sigmoidv(loadUpTo4(x + (<usize>j << 2), n - j)));
}

/** y ← tanh(x) over n floats (y may be x). */
function tanhRange(x: usize, y: usize, n: i32): void {
  for (let j = 0; j < n; j += 4) storeUpTo4(y + (<usize>j << 2), n - j, tanhv(loadUpTo4(x + (<usize>j << 2), n - j)));
}

/**
 * z holds x·W + b + h·U for this step, [rows, 4·units]; it is overwritten with the activated
 * gates i = σ(zᵢ), f = σ(z_f), c̃ = tanh(z_c), o = σ(z_o). Then c = f·cPrev + i·c̃ and h = o·tanh(c),
 * both [rows, units].
 */
export function lstmCell(z: usize, cPrev: usize, c: usize, h: usize, rows: i32, units: i32): void {
  const quarter = <usize>units << 2;
  for (let r = 0; r < rows; r++) {
    const zr = z + ((<usize>r * <usize>units * 4) << 2);
    const sr = (<usize>r * <usize>units) << 2;
    sigmoidRange(zr, 2 * units); // i and f, side by side
    tanhRange(zr + 2 * quarter, zr + 2 * quarter, units);
    sigmoidRange(zr + 3 * quarter, units);
    for (let j = 0; j < units; j += 4) {
      const n = units - j, g = zr + (<usize>j << 2), at = sr + (<usize>j << 2);
      const cell = f32x4.add(f32x4.mul(loadUpTo4(g + quarter, n), loadUpTo4(cPrev + at, n)), f32x4.mul(loadUpTo4(g, n), loadUpTo4(g + 2 * quarter, n)));
      storeUpTo4(c + at, n, cell);
    }
    tanhRange(c + sr, h + sr, units);
    for (let j = 0; j < units; j += 4) {
      const n = units - j, at = sr + (<usize>j << 2);
      storeUpTo4(h + at, n, f32x4.mul(loadUpTo4(zr + 3 * quarter + (<usize>j << 2), n), loadUpTo4(h + at, n)));
    }
  }
}

/**
 * Backward of lstmCell. In: the activated gates, cPrev and c of the step; gh = ∂L/∂h (the step's
 * own output gradient plus what the next step sent back through U); gc = ∂L/∂c from the next step.
 * Out: gz = ∂L/∂z [rows, 4·units], and gc overwritten with ∂L/∂cPrev.
 *   ∂c = gc + gh·o·(1 − tanh²c);  ∂zᵢ = ∂c·c̃·i(1 − i);  ∂z_f = ∂c·cPrev·f(1 − f);
 *   ∂z_c = ∂c·i·(1 − c̃²);  ∂z_o = gh·tanh c·o(1 − o);  ∂cPrev = ∂c·f
 */
export function lstmCellBackward(gates: usize, cPrev: usize, c: usize, gh: usize, gc: usize, gz: usize, rows: i32, units: i32): void {
  const quarter = <usize>units << 2;
  const one = f32x4.splat(1);
  for (let r = 0; r < rows; r++) {
    const gr = gates + ((<usize>r * <usize>units * 4) << 2);
    const dr = gz + ((<usize>r * <usize>units * 4) << 2);
    const sr = (<usize>r * <usize>units) << 2;
    tanhRange(c + sr, dr + 3 * quarter, units); // tanh c, parked where ∂z_o goes: each is read before it is overwritten
    for (let j = 0; j < units; j += 4) {
      const n = units - j;
      const g = gr + (<usize>j << 2), d = dr + (<usize>j << 2), at = sr + (<usize>j << 2);
      const i = loadUpTo4(g, n), f = loadUpTo4(g + quarter, n);
      const candidate = loadUpTo4(g + 2 * quarter, n), o = loadUpTo4(g + 3 * quarter, n);
      const tc = loadUpTo4(d + 3 * quarter, n);
      const dh = loadUpTo4(gh + at, n);
      const dc = f32x4.add(loadUpTo4(gc + at, n), f32x4.mul(f32x4.mul(dh, o), f32x4.sub(one, f32x4.mul(tc, tc))));
      storeUpTo4(d, n, f32x4.mul(f32x4.mul(dc, candidate), f32x4.mul(i, f32x4.sub(one, i))));
      storeUpTo4(d + quarter, n, f32x4.mul(f32x4.mul(dc, loadUpTo4(cPrev + at, n)), f32x4.mul(f, f32x4.sub(one, f))));
      storeUpTo4(d + 2 * quarter, n, f32x4.mul(f32x4.mul(dc, i), f32x4.sub(one, f32x4.mul(candidate, candidate))));
      storeUpTo4(d + 3 * quarter, n, f32x4.mul(f32x4.mul(dh, tc), f32x4.mul(o, f32x4.sub(one, o))));
      storeUpTo4(gc + at, n, f32x4.mul(dc, f));
    }
  }
}
