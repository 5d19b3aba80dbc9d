// The worked examples of ../shared/seed-examples.md, run by examples/seeds.mjs through the built
// package (dist/), checked here to float32 precision (exact where float32 is exact).
import { beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module without types
import * as seeds from "../examples/seeds.mjs";
// @ts-expect-error: the built package, as users get it
import { init } from "../dist/index.js";
import { F32_EPS } from "./helpers.js";

beforeAll(async () => {
  await init();
});

/** Within `ulps` float32 rounding steps of the float64 truth. */
const nearF32 = (got: number, truth: number, ulps = 4) =>
  expect(Math.abs(got - truth)).toBeLessThanOrEqual(ulps * 2 * F32_EPS * Math.abs(truth));

describe("1. buying apples", () => {
  it("B = 220 and ∂B/∂x = y·z = 2.2, ∂B/∂y = x·z = 110, ∂B/∂z = A = 200, exactly in float32", () => {
    const a = seeds.apples();
    expect(a.B).toBe(220);
    expect(a.dBdx).toBe(Math.fround(2.2));
    expect(a.dBdy).toBe(110);
    expect(a.dBdz).toBe(200);
    expect(a.dBdA).toBe(Math.fround(1.1));
  });

  it("draws the graph the way the tutorials do: x, y → × → A; A, z → × → B, with values and gradients", () => {
    const { graph } = seeds.apples();
    expect(graph).toBe(
      [
        "flowchart LR",
        '  t0["x<br/>value 100<br/>grad 2.2"]',
        '  t1["y<br/>value 2<br/>grad 110"]',
        '  t2["A<br/>value 200<br/>grad 1.1"]',
        '  t3["z<br/>value 1.1<br/>grad 200"]',
        '  t4["B<br/>value 220<br/>grad 1"]',
        '  op0(("×"))',
        "  t0 --> op0",
        "  t1 --> op0",
        "  op0 --> t2",
        '  op1(("×"))',
        "  t2 --> op1",
        "  t3 --> op1",
        "  op1 --> t4",
        "",
      ].join("\n"),
    );
  });
});

describe("2. the apple graph followed by f(t) = t²", () => {
  it("C = 48400 and ∂C/∂x = 968, ∂C/∂y = 48400, ∂C/∂z = 88000, exactly", () => {
    expect(seeds.applesSquared()).toEqual({ C: 48400, dCdx: 968, dCdy: 48400, dCdz: 88000 });
  });
});

describe("3. a squared sum and the simple derivatives", () => {
  it("z = (x + y)² gives ∂z/∂x = 2(x + y) = 14 at x = 3, y = 4", () => {
    const q = seeds.squaredSum();
    expect(q.z).toBe(49);
    expect(q.dzdx).toBe(14);
    expect(q.dzdy).toBe(14);
  });

  it("3x² → 6x, x·y → (y, x), and x + y → (1, 1): the tutorial that writes y for ∂(x+y)/∂x has a slip", () => {
    const q = seeds.squaredSum();
    expect(q.d3u2).toBe(12);
    expect([q.dpq_dp, q.dpq_dq]).toEqual([5, 3]);
    expect([q.dsum_ds, q.dsum_dt]).toEqual([1, 1]); // not y = 5
  });
});

describe("4. one sigmoid neuron with cross-entropy", () => {
  const sigma = 1 / (1 + Math.exp(-0.4));
  it("z = 0.4, ŷ ≈ 0.5987, L ≈ 0.513, ∂L/∂z = ŷ − y ≈ −0.4013, ∂L/∂w ≈ −0.2007", () => {
    const n = seeds.sigmoidNeuron();
    expect(n.z).toBe(Math.fround(0.4));
    nearF32(n.yHat, sigma);
    nearF32(n.L, -Math.log(sigma));
    nearF32(n.dLdz, sigma - 1);
    nearF32(n.dLdw, (sigma - 1) * 0.5);
    // The values as the tutorial prints them.
    expect(n.yHat.toFixed(4)).toBe("0.5987");
    expect(n.L.toFixed(3)).toBe("0.513");
    expect(n.dLdz.toFixed(4)).toBe("-0.4013");
    expect(n.dLdw.toFixed(4)).toBe("-0.2007");
  });

  it("one step w ← w − 0.1·∂L/∂w gives w ≈ 0.82007", () => {
    const n = seeds.sigmoidNeuron();
    nearF32(n.wAfterStep, 0.8 - 0.1 * (sigma - 1) * 0.5);
    expect(n.wAfterStep.toFixed(5)).toBe("0.82007");
  });
});

describe("5. a two-layer network", () => {
  /** The tutorials' layer equations, written out in float64 with no autograd: an independent implementation. */
  function byHand(d: { x: number[][]; y: number[][]; W1: number[][]; b1: number[]; W2: number[][]; b2: number[] }) {
    const batch = d.x.length;
    const matVec = (a: number[], W: number[][], b: number[]) => b.map((bj, j) => a.reduce((s, ai, i) => s + ai * W[i][j], bj));
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const grads = {
      W1: d.W1.map((r) => r.map(() => 0)), b1: d.b1.map(() => 0),
      W2: d.W2.map((r) => r.map(() => 0)), b2: d.b2.map(() => 0),
    };
    const deltas: number[] = [];
    let L = 0;
    d.x.forEach((x, n) => {
      const h = matVec(x, d.W1, d.b1).map(sig);
      const o = matVec(h, d.W2, d.b2);
      const m = Math.max(...o);
      const e = o.map((v) => Math.exp(v - m));
      const yHat = e.map((v) => v / e.reduce((a, b) => a + b));
      L -= d.y[n].reduce((s, yk, k) => s + yk * Math.log(yHat[k]), 0) / batch;
      const delta2 = yHat.map((p, k) => (p - d.y[n][k]) / batch); // δ⁽²⁾ = ŷ − y
      deltas.push(...delta2);
      // δ⁽¹⁾ = (W⁽²⁾ᵀ δ⁽²⁾) ⊙ σ'(z⁽¹⁾), σ' = h(1 − h)
      const delta1 = h.map((hj, j) => delta2.reduce((s, dk, k) => s + d.W2[j][k] * dk, 0) * hj * (1 - hj));
      // ∂L/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ δ⁽ˡ⁾ᵀ (rows are samples), ∂L/∂b⁽ˡ⁾ = δ⁽ˡ⁾, summed over the batch
      h.forEach((hj, j) => delta2.forEach((dk, k) => (grads.W2[j][k] += hj * dk)));
      delta2.forEach((dk, k) => (grads.b2[k] += dk));
      x.forEach((xi, i) => delta1.forEach((dj, j) => (grads.W1[i][j] += xi * dj)));
      delta1.forEach((dj, j) => (grads.b1[j] += dj));
    });
    return { L, deltas, grads };
  }

  it("has δ = ŷ − y at the softmax output, and gradients equal to the layer formulas computed by hand", () => {
    const t = seeds.twoLayerNetwork();
    const want = byHand(t.data);
    expect(Math.abs(t.L - want.L)).toBeLessThan(1e-6);
    t.deltaOut.forEach((v: number, i: number) => expect(Math.abs(v - want.deltas[i])).toBeLessThan(1e-6));
    t.deltaOut.forEach((v: number, i: number) => expect(Math.abs(v - t.yHatMinusY[i])).toBeLessThan(1e-7));
    for (const name of ["W1", "b1", "W2", "b2"] as const) {
      const flat = (want.grads[name] as (number | number[])[]).flat();
      expect(t.grads[name]).toHaveLength(flat.length);
      t.grads[name].forEach((v: number, i: number) => expect(Math.abs(v - flat[i]), `${name}[${i}]`).toBeLessThan(1e-6));
    }
  });

  it("has gradients that match central finite differences", () => {
    const { gradcheck } = seeds.twoLayerNetwork();
    expect(gradcheck.ok, JSON.stringify(gradcheck.worst)).toBe(true);
    expect(gradcheck.checked).toBe(12 + 4 + 12 + 3);
  });
});
