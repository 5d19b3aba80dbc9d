import { beforeAll, describe, expect, it } from "vitest";
import { ArgumentError, DisposedError, ShapeError, full, init, ones, tensor, zeros } from "../src/index.js";
import { collectGarbage } from "./helpers.js";

beforeAll(async () => {
  await init();
});

describe("tensor creation", () => {
  it("infers the shape of numbers and nested arrays", () => {
    expect(tensor(3).shape).toEqual([]);
    expect(tensor(3).item()).toBe(3);
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.size).toBe(6);
    expect(Array.from(t.data())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[[1], [2]]]).shape).toEqual([1, 2, 1]);
  });

  it("takes flat values with a shape, and rounds to float32", () => {
    const t = tensor(new Float64Array([0.1, 0.2, 0.3, 0.4]), { shape: [2, 2] });
    expect(t.shape).toEqual([2, 2]);
    expect(Array.from(t.data())).toEqual([0.1, 0.2, 0.3, 0.4].map(Math.fround));
    expect(tensor([1, 2, 3, 4], { shape: [4, 1] }).shape).toEqual([4, 1]);
  });

  it("fills zeros, ones and constants", () => {
    expect(Array.from(zeros([2, 3]).data())).toEqual(new Array(6).fill(0));
    expect(Array.from(ones([5]).data())).toEqual(new Array(5).fill(1));
    expect(Array.from(full([3], -2.5).data())).toEqual([-2.5, -2.5, -2.5]);
    expect(zeros([0, 4]).size).toBe(0);
  });

  it("rejects ragged arrays, non-numbers and shapes that do not fit, naming the problem", () => {
    expect(() => tensor([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged nested array: \[1\] should be an array of 2, got 1 elements/);
    expect(() => tensor([1, "2" as never])).toThrow(ArgumentError);
    expect(() => tensor([1, "2" as never])).toThrow(/element \[1\] is "2", not a number/);
    expect(() => tensor([1, 2, 3], { shape: [2, 2] })).toThrow(/3 values do not fill shape \[2, 2\]/);
    expect(() => zeros([2, -1])).toThrow(/non-negative integers/);
    expect(() => zeros([1.5])).toThrow(ShapeError);
  });

  it("item() needs exactly one element", () => {
    expect(() => tensor([1, 2]).item()).toThrow(/one element, got shape \[2\]/);
  });

  it("data() is a copy: changing it leaves the tensor alone", () => {
    const t = tensor([1, 2, 3]);
    const d = t.data();
    d[0] = 99;
    expect(t.data()[0]).toBe(1);
  });
});

describe("tensor memory", () => {
  it("dispose() frees the memory at once; using the tensor afterwards is a typed error", async () => {
    const engine = await init();
    const before = engine.memory.stats().bytesInUse;
    const t = zeros([1000]);
    expect(engine.memory.stats().bytesInUse).toBe(before + 4000);
    t.dispose();
    expect(engine.memory.stats().bytesInUse).toBe(before);
    expect(t.isDisposed).toBe(true);
    expect(() => t.data()).toThrow(DisposedError);
    t.dispose(); // twice is harmless
  });

  it("views share memory, which lives until the last of them is disposed", async () => {
    const engine = await init();
    const before = engine.memory.stats().bytesInUse;
    const t = tensor([1, 2, 3, 4, 5, 6]);
    const v = t.reshape([2, 3]);
    const d = t.detach();
    expect(engine.memory.stats().bytesInUse).toBe(before); // data from JS stays in JS until an op reads it
    expect(v.ptr).toBe(t.ptr); // read: one Wasm copy, shared by the views
    expect(engine.memory.stats().bytesInUse).toBe(before + 32); // 24 bytes, rounded to 16
    t.dispose();
    expect(Array.from(v.data())).toEqual([1, 2, 3, 4, 5, 6]);
    v.dispose();
    expect(Array.from(d.data())).toEqual([1, 2, 3, 4, 5, 6]);
    d.dispose();
    expect(engine.memory.stats().bytesInUse).toBe(before);
  });

  it("memory of unreachable tensors is freed by the garbage collector", async () => {
    const engine = await init();
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, "vitest runs node with --expose-gc").toBeTypeOf("function");
    const before = engine.memory.stats().bytesInUse;
    for (let i = 0; i < 100; i++) zeros([1000]);
    expect(engine.memory.stats().bytesInUse).toBeGreaterThan(before);
    await collectGarbage();
    expect(engine.memory.stats().bytesInUse).toBe(before);
  });
});
