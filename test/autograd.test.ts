import { beforeAll, describe, expect, it } from "vitest";
import {
  ArgumentError, type Engine, GraphReleasedError, ShapeError, type Tensor, init, noGrad, tensor, zeros,
} from "../src/index.js";
import { collectGarbage } from "./helpers.js";

let engine: Engine;
beforeAll(async () => {
  engine = await init();
});

const values = (t: { data(): Float32Array }) => Array.from(t.data());

describe("backward", () => {
  it("sums the gradient where a value fans out", () => {
    // f = x·x + 3x: df/dx = 2x + 3 = 7 at x = 2, reached along three edges.
    const x = tensor(2, { requiresGrad: true });
    x.mul(x).add(x.mul(3)).backward();
    expect(x.grad!.item()).toBe(7);
  });

  it("accumulates across backward() calls until zeroGrad()", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.mul(2).sum().backward();
    x.mul(2).sum().backward();
    expect(values(x.grad!)).toEqual([4, 4, 4]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
    x.square().sum().backward();
    expect(values(x.grad!)).toEqual([2, 4, 6]);
  });

  it("takes an explicit upstream gradient for a non-scalar output", () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const y = x.square();
    expect(() => y.backward()).toThrow(ShapeError);
    expect(() => y.backward()).toThrow(/needs \{ grad \} of that shape/);
    expect(() => y.backward({ grad: tensor([1, 1]) })).toThrow(/grad has shape \[2\], the tensor has \[3\]/);
    y.backward({ grad: tensor([1, 0.5, -1]) });
    expect(values(x.grad!)).toEqual([2, 2, -6]);
  });

  it("borrows the upstream gradient: it stays the caller's, unchanged and alive, also when it becomes a .grad", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const seed = tensor([3, 4]);
    const y = x.mul(1);
    y.retainGrad();
    y.backward({ grad: seed });
    expect(values(seed)).toEqual([3, 4]);
    expect(y.grad).not.toBe(seed);
    expect(values(y.grad!)).toEqual([3, 4]);
    y.grad!.dispose();
    expect(values(seed)).toEqual([3, 4]);
    x.backward({ grad: seed }); // a leaf as the root: its .grad is a copy
    expect(x.grad).not.toBe(seed);
    expect(values(x.grad!)).toEqual([6, 8]);
  });

  it("releases the graph after backward; a second backward is a clear error unless it was kept", () => {
    const x = tensor(3, { requiresGrad: true });
    const y = x.square().mul(2);
    y.backward();
    expect(() => y.backward()).toThrow(GraphReleasedError);
    expect(() => y.backward()).toThrow(/retainGraph: true/);
    expect(x.grad!.item()).toBe(12); // untouched by the failed call

    const z = x.square().mul(2);
    z.backward({ retainGraph: true });
    z.backward();
    expect(x.grad!.item()).toBe(36);
  });

  it("keeps .grad only on leaves, and on tensors that retainGrad()", () => {
    const x = tensor(3, { requiresGrad: true });
    const h = x.mul(2);
    const k = x.mul(4).retainGrad();
    h.add(k).square().backward();
    expect(h.grad).toBeNull();
    expect(k.grad!.item()).toBe(2 * 18);
    expect(x.grad!.item()).toBe(2 * 18 * 6);
  });

  it("does not track tensors that do not require grad, nor anything under noGrad or after detach", () => {
    const x = tensor(2, { requiresGrad: true });
    const c = tensor(5);
    expect(c.mul(c).requiresGrad).toBe(false);
    expect(noGrad(() => x.mul(3)).requiresGrad).toBe(false);
    const d = x.mul(3).detach();
    expect(d.requiresGrad).toBe(false);
    x.mul(d).backward();
    expect(x.grad!.item()).toBe(6);
    expect(() => c.backward()).toThrow(ArgumentError);
    expect(() => noGrad(async () => 1)).toThrow(/synchronous/);
  });

  it("returns the memory in use to its baseline after a step, with every intermediate freed", async () => {
    const w = tensor([[0.1, -0.2], [0.3, 0.4], [0.5, -0.6]], { requiresGrad: true });
    const b = tensor([0.01, 0.02], { requiresGrad: true });
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const step = () => {
      const loss = x.matmul(w).add(b).tanh().square().mean();
      loss.backward();
      w.zeroGrad();
      b.zeroGrad();
    };
    step();
    await collectGarbage();
    const baseline = engine.memory.stats().bytesInUse;
    for (let i = 0; i < 20; i++) step();
    await collectGarbage();
    expect(engine.memory.stats().bytesInUse).toBe(baseline);
  });

  it("frees intermediate gradients during backward, before any garbage collection", () => {
    const x = tensor(new Float32Array(10_000).fill(0.5), { requiresGrad: true });
    let y = x;
    for (let i = 0; i < 10; i++) y = y.mul(1.01);
    const loss = y.sum();
    const before = engine.memory.stats().bytesInUse;
    loss.backward();
    // What remains is x.grad (40 000 bytes); the ten 40 000-byte intermediate gradients are gone.
    expect(engine.memory.stats().bytesInUse - before).toBe(40_000);
  });
});

describe("bad input is refused before any kernel runs, with the op, what came and what was expected", () => {
  type Inputs = { a: Tensor; v: Tensor; r: Tensor };
  it.each<[string, (t: Inputs) => unknown, typeof ArgumentError, RegExp]>([
    ["add", (t) => t.a.add(t.v), ShapeError, /add: shapes \[2, 3\] and \[4\] do not broadcast \(axis 1: 3 vs 4\)/],
    ["matmul", (t) => t.a.matmul(t.a), ShapeError, /matmul: expected \[m, k\] and \[k, n\], got \[2, 3\] and \[2, 3\]/],
    ["reshape", (t) => t.a.reshape([4, 2]), ShapeError, /reshape: cannot view shape \[2, 3\] \(6 elements\) as \[4, 2\]/],
    ["transpose", (t) => t.a.transpose([0, 0]), ShapeError, /transpose: \[0,0\] is not a permutation of the 2 axes of shape \[2, 3\]/],
    ["sum", (t) => t.a.sum(2), ArgumentError, /sum: axis 2 is out of range for a tensor of rank 2/],
    ["softmax", (t) => t.a.softmax(0), ArgumentError, /softmax: only the last axis is supported \(got axis 0 of shape \[2, 3\]\)/],
    ["broadcastTo", (t) => t.r.broadcastTo([3, 2]), ShapeError, /broadcastTo: shapes \[3\] and \[3, 2\] do not broadcast/],
    ["mul by NaN", (t) => t.a.mul(Number.NaN), ArgumentError, /mul: expected a number, got NaN/],
    ["leakyRelu", (t) => t.a.leakyRelu(2), ArgumentError, /slope must be a number in \[0, 1\), got 2/],
  ])("%s", (_, op, type, message) => {
    const inputs = { a: zeros([2, 3]), v: zeros([4]), r: zeros([3]) };
    const fn = () => op(inputs);
    const before = engine.memory.stats().bytesInUse;
    expect(fn).toThrow(type);
    expect(fn).toThrow(message);
    expect(engine.memory.stats().bytesInUse).toBe(before);
  });
});
