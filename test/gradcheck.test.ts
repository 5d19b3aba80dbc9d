// Every op's backward rule against central finite differences (gradcheck), on random shapes,
// with broadcasting and fan-out. The table printed at the end is the per-op report.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Tensor, gradcheck, init, tensor } from "../src/index.js";
import { record } from "../src/autograd/graph.js";
import { erf } from "../src/autograd/ops/arithmetic.js";
import { avgPoolPlanes, convPlanes, convTransposePlanes, maxPoolPlanes } from "../src/autograd/ops/planes.js";
import { rng } from "./helpers.js";

beforeAll(async () => {
  await init();
});

type Range = "any" | "positive" | "awayFromZero";

/** Random inputs: `positive` in [0.5, 2), `awayFromZero` with |x| in [0.1, 1) (no kinks within 2h). */
function input(shape: number[], range: Range, random: () => number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, () => {
    const u = random();
    if (range === "positive") return 0.5 + 1.5 * u;
    if (range === "awayFromZero") return (random() < 0.5 ? -1 : 1) * (0.1 + 0.9 * u);
    return 2 * u - 1;
  });
  return tensor(values, { shape, requiresGrad: true });
}

type Case = [name: string, fn: (...xs: Tensor[]) => Tensor, shapes: number[][], range?: Range];

const CASES: Case[] = [
  ["add", (a, b) => a.add(b), [[3, 4], [3, 4]]],
  ["add (row broadcast, bias)", (a, b) => a.add(b), [[5, 4], [4]]],
  ["add (column broadcast)", (a, b) => a.add(b), [[2, 3, 4], [3, 1]]],
  ["add (number)", (a) => a.add(2.5), [[3, 2]]],
  ["sub", (a, b) => a.sub(b), [[3, 4], [3, 4]]],
  ["sub (left operand broadcast)", (a, b) => a.sub(b), [[4], [3, 4]]],
  ["sub (number)", (a) => a.sub(0.5), [[2, 2]]],
  ["mul", (a, b) => a.mul(b), [[3, 4], [3, 4]]],
  ["mul (row broadcast)", (a, b) => a.mul(b), [[3, 4], [1, 4]]],
  ["mul (number)", (a) => a.mul(-3), [[4]]],
  ["mul (fan-out: x·x + x)", (a) => a.mul(a).add(a), [[2, 3]]],
  ["div", (a, b) => a.div(b), [[3, 4], [3, 4]], "positive"],
  ["div (broadcast)", (a, b) => a.div(b), [[3, 4], [4]], "positive"],
  ["div (number)", (a) => a.div(3), [[5]]],
  ["neg", (a) => a.neg(), [[3, 3]]],
  ["square", (a) => a.square(), [[4, 2]]],
  ["pow 3", (a) => a.pow(3), [[3, 2]]],
  ["pow 0.5", (a) => a.pow(0.5), [[3, 2]], "positive"],
  ["exp", (a) => a.exp(), [[2, 5]]],
  ["log", (a) => a.log(), [[2, 5]], "positive"],
  ["sqrt", (a) => a.sqrt(), [[2, 5]], "positive"],
  ["matmul", (a, b) => a.matmul(b), [[3, 5], [5, 4]]],
  ["matmul (vectors)", (a, b) => a.matmul(b), [[1, 7], [7, 1]]],
  ["matmul (fan-out: A·Aᵀ)", (a) => a.matmul(a.transpose()), [[3, 4]]],
  ["sum", (a) => a.sum(), [[3, 4]]],
  ["sum axis 0", (a) => a.sum(0), [[3, 4]]],
  ["sum axes [0, 2], keepDims", (a) => a.sum([0, 2], { keepDims: true }), [[2, 3, 4]]],
  ["mean", (a) => a.mean(), [[3, 4]]],
  ["mean axis -1", (a) => a.mean(-1), [[3, 4]]],
  ["reshape", (a, b) => a.reshape([3, 4]).mul(b), [[2, 6], [3, 4]]],
  ["reshape (-1)", (a) => a.reshape([-1]).square(), [[2, 3]]],
  ["transpose", (a) => a.transpose(), [[3, 5]]],
  ["transpose [2, 0, 1]", (a) => a.transpose([2, 0, 1]), [[2, 3, 4]]],
  ["broadcastTo", (a) => a.broadcastTo([2, 3]), [[3]]],
  ["sigmoid", (a) => a.sigmoid(), [[3, 4]]],
  ["tanh", (a) => a.tanh(), [[3, 4]]],
  ["relu", (a) => a.relu(), [[3, 4]], "awayFromZero"],
  ["leakyRelu 0.1", (a) => a.leakyRelu(0.1), [[3, 4]], "awayFromZero"],
  ["softmax", (a) => a.softmax(), [[3, 5]]],
  ["logSoftmax", (a) => a.logSoftmax(), [[3, 5]]],
  ["erf", (a) => erf(a), [[3, 5]]],
  ["convPlanes (grouped 2 of 4 → 6, stride 2, dilation 2, asymmetric pads)", (x, w) => convPlanes(x, w, { groups: 2, strides: [2, 1], dilations: [2, 1], pads: [1, 2, 0, 1] }), [[2, 4, 7, 6], [6, 2, 2, 3]]],
  ["convPlanes (depthwise, channel multiplier 2)", (x, w) => convPlanes(x, w, { groups: 3, pads: [1, 1, 1, 1] }), [[1, 3, 5, 5], [6, 1, 3, 3]]],
  ["convPlanes (1-D: one row)", (x, w) => convPlanes(x, w, { strides: [1, 2], pads: [0, 1, 0, 1] }), [[2, 3, 1, 9], [4, 3, 1, 3]]],
  ["convTransposePlanes (stride 2, output padding, groups 2)", (x, w) => convTransposePlanes(x, w, { groups: 2, strides: [2, 2], pads: [1, 0, 0, 1], outputPadding: [1, 1] }), [[2, 4, 3, 3], [4, 3, 3, 2]]],
  ["maxPoolPlanes (ceil mode, padding, dilation)", (x) => maxPoolPlanes(x, { kernel: [3, 2], strides: [2, 2], dilations: [1, 2], pads: [1, 1, 1, 0], ceilMode: true }), [[2, 2, 7, 7]]],
  ["avgPoolPlanes (count_include_pad, ceil mode)", (x) => avgPoolPlanes(x, { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: true }), [[1, 3, 6, 6]]],
  ["avgPoolPlanes (padding left out of the mean)", (x) => avgPoolPlanes(x, { kernel: [2, 3], strides: [1, 2], pads: [0, 1, 1, 1] }), [[2, 2, 4, 5]]],
  [
    "two-layer network (all ops together)",
    (x, w1, b1, w2, b2) => x.matmul(w1).add(b1).sigmoid().matmul(w2).add(b2).logSoftmax().mean(),
    [[4, 3], [3, 5], [5], [5, 2], [2]],
  ],
];

const report: { op: string; elements: number; maxAbsError: string; maxRelError: string }[] = [];

describe("gradcheck of every op", () => {
  it.each(CASES)("%s", (name, fn, shapes, range = "any") => {
    const random = rng(name.length * 1009 + shapes.flat().reduce((a, b) => a + b, 0));
    const inputs = shapes.map((s) => input(s, range, random));
    const result = gradcheck(fn, inputs);
    report.push({
      op: name,
      elements: result.checked,
      maxAbsError: result.maxAbsError.toExponential(1),
      maxRelError: result.maxRelError.toExponential(1),
    });
    expect(result.ok, JSON.stringify(result.worst)).toBe(true);
    expect(result.checked).toBe(shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0));
  });

  afterAll(() => {
    const worst = report.reduce((m, r) => Math.max(m, Number(r.maxRelError)), 0);
    console.log(`gradcheck report (worst relative error over all ops: ${worst.toExponential(1)})`);
    console.table(report);
  });
});

describe("gradcheck itself", () => {
  it("catches a wrong backward rule, and names the element", () => {
    // y = 3x with a rule that claims ∂y/∂x = 2.
    const wrong = (x: Tensor) => record(x.mul(3).detach(), "triple", [x], (gy) => [gy.mul(2)]);
    const result = gradcheck(wrong, [tensor([0.5, -1, 2], { requiresGrad: true })]);
    expect(result.ok).toBe(false);
    // Both are scaled by the same random weight: the ratio shows the wrong factor.
    const { analytic, numeric } = result.worst!;
    expect(analytic / numeric).toBeCloseTo(2 / 3, 4);
    expect(result.worst!.input).toBe(0);
  });

  it("leaves the inputs' values and their existing gradients as they were", () => {
    const x = tensor([0.25, -0.5, 0.75], { requiresGrad: true });
    x.square().sum().backward();
    const grad = x.grad!;
    gradcheck((a) => a.exp().sum(), [x]);
    expect(x.grad).toBe(grad);
    expect(Array.from(x.grad!.data())).toEqual([0.5, -1, 1.5]);
    expect(Array.from(x.data())).toEqual([0.25, -0.5, 0.75]);
  });

  it("refuses inputs with nothing to check", () => {
    expect(() => gradcheck((a) => a, [tensor([1])])).toThrow(/no input has requiresGrad/);
    expect(() => gradcheck(() => tensor(1), [tensor([1], { requiresGrad: true })])).toThrow(/fn must return a tensor computed from an input/);
  });
});
