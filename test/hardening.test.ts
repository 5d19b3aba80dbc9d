// Every example of issue 9, each with the behaviour it must have now: a typed error (and nothing
// changed, nothing allocated), a right answer, or memory that stays flat.
import { beforeAll, describe, expect, it } from "vitest";
import {
  Adam, ArgumentError, Conv2D, Dense, DisposedError, Dropout, type Engine, Flatten, MaxPool2D, OutOfMemoryError,
  RandomShift, SGD, Sequential, ShapeError, type Tensor, WasmgradError, batches, clipGradNorm, conv2d, crossEntropy,
  gradientNorms, init, maxPool2d, noGrad, tensor, zeros,
} from "../src/index.js";
import { nodeOf } from "../src/autograd/graph.js";
import { collectGarbage } from "./helpers.js";

let engine: Engine;
beforeAll(async () => {
  engine = await init();
});

const bytes = () => engine.memory.stats().bytesInUse;

/** fn throws `type` with a message matching `message`, and allocates nothing (no GC needed). */
function refuses(fn: () => unknown, type: typeof WasmgradError, message: RegExp): void {
  const before = bytes();
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(type);
  expect((caught as Error).message).toMatch(message);
  expect(bytes()).toBe(before);
}

describe("bad input that used to escape as TypeError or RangeError is a typed error now", () => {
  it("tensor() of null, BigInt, fake array-likes and hostile nesting", () => {
    refuses(() => tensor(null as never), ArgumentError, /tensor: expected a number, nested arrays of numbers or a typed array, got null/);
    refuses(() => tensor([1n] as never), ArgumentError, /element \[0\] is 1n \(a BigInt\), not a number/);
    refuses(() => tensor(new BigInt64Array(2) as never), ArgumentError, /got a BigInt64Array/);
    refuses(() => tensor({ length: 1.5 } as never), ArgumentError, /got an object/);
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    refuses(() => tensor(deep as never), ShapeError, /nested deeper than 16 levels/);
    refuses(() => tensor([1, 2], { shape: [2, -1] }), ShapeError, /non-negative integers, got \[2, -1\]/);
    refuses(() => tensor(1, { requiresGrad: "yes" as never }), ArgumentError, /options.requiresGrad must be true or false, got "yes"/);
    refuses(() => zeros([3], { engine: {} as never }), ArgumentError, /options.engine must be an Engine, got an object/);
  });

  it("ops with operands of the wrong kind", () => {
    const x = zeros([2, 3]);
    refuses(() => x.add(undefined as never), ArgumentError, /add: the other operand must be a Tensor or a number, got undefined/);
    refuses(() => x.mul(Symbol("s") as never), ArgumentError, /got a symbol/);
    refuses(() => x.matmul(5 as never), ArgumentError, /matmul: the right operand must be a Tensor, got 5/);
    refuses(() => x.reshape(3 as never), ShapeError, /reshape: the new shape must be an array .* got 3/);
    refuses(() => x.sum(0, null as never), ArgumentError, /sum: options must be an object, got null/);
    refuses(() => x.sum("0" as never), ArgumentError, /sum: axis must be an axis index.* got "0"/);
    refuses(() => x.transpose(1 as never), ShapeError, /perm must be an array/);
    // A look-alike is not a tensor, even one made from Tensor.prototype.
    const fake = Object.create(Object.getPrototypeOf(x)) as Tensor;
    refuses(() => x.add(fake), ArgumentError, /must be a Tensor or a number, got a Tensor/);
    refuses(() => x.matmul({ shape: [3, 2], size: 6, ptr: 0 } as never), ArgumentError, /must be a Tensor, got an object/);
  });

  it("backward({ grad }) with a number, and other bad backward options", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(2);
    refuses(() => y.backward({ grad: 5 as never }), ArgumentError, /options.grad must be a Tensor, got 5/);
    refuses(() => y.backward(7 as never), ArgumentError, /backward: options must be an object, got 7/);
    const ones = tensor([1, 1]);
    refuses(() => y.backward({ grad: ones, retainGraph: 1 as never }), ArgumentError, /retainGraph must be true or false/);
    expect(x.grad).toBeNull();
    y.backward({ grad: tensor([1, 1]) }); // the graph was not released by the refusals
    expect(Array.from(x.grad!.data())).toEqual([2, 2]);
  });

  it("optimisers without options and compile without an optimiser", () => {
    const model = new Sequential([new Dense(2)], { inputShape: [2] });
    refuses(() => new SGD(model.parameters(), undefined as never), ArgumentError, /SGD: options with a learning rate are required/);
    refuses(() => new SGD(model.parameters(), {} as never), ArgumentError, /SGD: lr must be a finite number ≥ 0, got undefined/);
    refuses(() => new Adam(model.parameters(), { eps: Number.NaN }), ArgumentError, /eps must be a finite number > 0, got NaN/);
    refuses(() => new SGD([model.parameters()[0], model.parameters()[0]], { lr: 1 }), ArgumentError, /appears twice/);
    refuses(() => model.compile({ loss: "mse" } as never), ArgumentError, /compile: optimizer must be an optimiser .* got undefined/);
    refuses(() => model.compile(null as never), ArgumentError, /compile: options must be an object, got null/);
  });

  it("a model too large for the memory is an OutOfMemoryError before any JS array of its size is made", () => {
    const before = bytes();
    expect(() => new Sequential([new Dense(100_000)], { inputShape: [100_000] })).toThrow(OutOfMemoryError);
    expect(bytes()).toBe(before);
  });
});

describe("silent wrong answers are right answers or typed errors now", () => {
  it("relu and leakyRelu at ±Infinity, and NaN stays NaN", () => {
    const x = tensor([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NaN, -2, 0, 3, -1, 1]);
    expect(Array.from(x.relu().data())).toEqual([0, Number.POSITIVE_INFINITY, Number.NaN, 0, 0, 3, 0, 1]);
    expect(Array.from(x.leakyRelu(0.5).data())).toEqual([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NaN, -1, 0, 3, -0.5, 1]);
    // The gradient: 1 above zero, the slope (0 for relu) at and below, NaN at NaN, even for an infinite upstream.
    const v = tensor([Number.NEGATIVE_INFINITY, -1, 0, 2, Number.NaN], { requiresGrad: true });
    v.relu().backward({ grad: tensor([Number.POSITIVE_INFINITY, 1, 1, 1, 1]) });
    expect(Array.from(v.grad!.data())).toEqual([0, 0, 0, 1, Number.NaN]);
  });

  it("relu through Dense and Conv2D at -Infinity", () => {
    const dense = new Sequential([new Dense(1, { activation: "relu", kernelInitializer: (o) => o.fill(1) })], { inputShape: [1] });
    expect(Array.from(dense.forward(tensor([[Number.NEGATIVE_INFINITY]])).data())).toEqual([0]);
    const conv = new Sequential([new Conv2D(1, 1, { activation: "relu", kernelInitializer: (o) => o.fill(1) })], { inputShape: [1, 1, 1] });
    expect(Array.from(conv.forward(tensor([Number.NEGATIVE_INFINITY], { shape: [1, 1, 1, 1] })).data())).toEqual([0]);
  });

  it("a NaN anywhere in a max-pool window gives NaN, on every channel lane", () => {
    for (let at = 0; at < 4; at++) {
      const values = new Float32Array(2 * 2 * 5).map((_, i) => i); // 2×2 window, 5 channels (a full vector and one lane)
      values[at * 5 + 4] = Number.NaN;
      values[at * 5 + 1] = Number.NaN;
      const y = maxPool2d(tensor(values, { shape: [1, 2, 2, 5] }), { size: 2 }).data();
      expect(Array.from(y)).toEqual([15, Number.NaN, 17, 18, Number.NaN]);
    }
  });

  it("convolutions and pooling over an empty batch: empty outputs, zero ∂W and ∂b, memory untouched", () => {
    for (const [patch, filters] of [[[5, 5, 1], 6], [[3, 3, 8], 16]] as const) { // the direct path and the im2col path
      const canary = tensor([1, 2, 3, 4]);
      const x = zeros([0, 12, 12, patch[2]], { requiresGrad: true });
      const w = tensor(Float32Array.from({ length: patch[0] * patch[1] * patch[2] * filters }, (_, i) => Math.sin(i)), { shape: [...patch, filters], requiresGrad: true });
      const b = tensor(new Float32Array(filters).fill(0.5), { requiresGrad: true });
      const y = maxPool2d(conv2d(x, w, b, { padding: "same", activation: "relu" }), { size: 2 });
      expect(y.shape).toEqual([0, 6, 6, filters]);
      y.sum().backward();
      expect(Array.from(w.grad!.data()).every((v) => v === 0)).toBe(true);
      expect(Array.from(b.grad!.data()).every((v) => v === 0)).toBe(true);
      expect(x.grad!.shape).toEqual([0, 12, 12, patch[2]]);
      expect(Array.from(canary.data())).toEqual([1, 2, 3, 4]);
    }
  });

  it("empty batches: fit and evaluate refuse them, Flatten keeps the width", () => {
    const model = new Sequential([new Flatten(), new Dense(2)], { inputShape: [2, 3] });
    model.compile({ loss: "crossEntropy", optimizer: new SGD(model.parameters(), { lr: 0.1 }) });
    const none = zeros([0, 2, 3]);
    expect(model.forward(none).shape).toEqual([0, 2]);
    expect(new Flatten().forward(none, {}).shape).toEqual([0, 6]);
    const noLabels = zeros([0]);
    refuses(() => model.fitSync(none, noLabels, { verbose: false }), ArgumentError, /fit: there are no samples/);
    refuses(() => model.evaluate(none, noLabels), ArgumentError, /evaluate: there are no samples/);
    expect(model.predict(none).shape).toEqual([0, 2]);
    const noLogits = zeros([0, 3]);
    refuses(() => crossEntropy(noLogits, noLabels), ShapeError, /at least one sample/);
  });

  it("layer options: slope NaN, Infinity or 2; 0×0 conv kernels", () => {
    for (const slope of [Number.NaN, Number.POSITIVE_INFINITY, 2]) {
      refuses(() => new Dense(2, { activation: "leakyRelu", slope }), ArgumentError, /Dense: slope must be a number in \[0, 1\)/);
      refuses(() => new Conv2D(2, 3, { slope }), ArgumentError, /Conv2D: slope must be a number in \[0, 1\)/);
    }
    const [image, empty] = [zeros([1, 3, 3, 1]), zeros([0, 0, 1, 2])];
    refuses(() => conv2d(image, empty, null), ShapeError, /at least 1×1 taps/);
    refuses(() => new MaxPool2D(2, 0), ArgumentError, /stride must be a positive integer, got 0/);
    refuses(() => new Dropout(Number.NaN), ArgumentError, /rate must be a number in \[0, 1\), got NaN/);
  });
});

describe("no heap corruption through .grad", () => {
  it("a .grad of the wrong size, engine or kind is refused when assigned", () => {
    const p = tensor([1, 2, 3], { requiresGrad: true });
    expect(() => (p.grad = zeros([2]))).toThrow(/must have its shape, got \[2\]/);
    expect(() => (p.grad = 5 as never)).toThrow(/must be a Tensor or null, got 5/);
    expect(() => (p.grad = p.detach())).toThrow(/must not share the tensor's own memory/);
    expect(p.grad).toBeNull();
    const canary = tensor([7, 7, 7, 7]);
    const optimizer = new SGD([p], { lr: 1 });
    optimizer.zeroGrad();
    optimizer.step();
    expect(Array.from(canary.data())).toEqual([7, 7, 7, 7]);
    expect(Array.from(p.data())).toEqual([1, 2, 3]);
  });

  it("clipGradNorm and gradientNorms check every gradient before reading one", () => {
    const a = tensor([3, 4], { requiresGrad: true });
    a.grad = tensor([3, 4]);
    const b = tensor([1], { requiresGrad: true });
    b.grad = tensor([1]);
    b.grad.dispose();
    refuses(() => clipGradNorm([a, b], 1), DisposedError, /the gradient of parameter 1 was disposed/);
    expect(Array.from(a.grad.data())).toEqual([3, 4]); // not scaled
    refuses(() => gradientNorms([a, 3 as never]), ArgumentError, /expected an array of tensors/);
  });
});

describe("all or nothing", () => {
  it("fit with a bad label in the last batch changes no weight", () => {
    const model = new Sequential([new Dense(3)], { inputShape: [2], seed: 3 });
    model.compile({ loss: "crossEntropy", optimizer: new Adam(model.parameters(), { lr: 0.1 }) });
    const before = model.parameters().map((p) => Array.from(p.data()));
    const x = zeros([100, 2]);
    const labels = new Array(100).fill(1);
    labels[99] = 3;
    expect(() => model.fitSync(x, tensor(labels), { batchSize: 10, verbose: false })).toThrow(/label 3 at row 99 is not a class index in \[0, 3\)/);
    labels[99] = 1.5;
    expect(() => model.fitSync(x, tensor(labels), { batchSize: 10, verbose: false })).toThrow(/label 1.5 at row 99/);
    expect(model.parameters().map((p) => Array.from(p.data()))).toEqual(before);
  });

  it("backward with a disposed tensor in the graph writes no gradient and keeps the graph", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const data = tensor([5, 6]);
    const loss = w.mul(data).add(b).sum();
    data.dispose();
    expect(() => loss.backward()).toThrow(DisposedError);
    expect(() => loss.backward()).toThrow(/an input of mul in the graph was disposed/);
    expect(w.grad).toBeNull();
    expect(b.grad).toBeNull();
    expect(nodeOf(loss)!.released).toBe(false);
  });

  it("an optimiser step that meets a disposed gradient updates nothing and counts no step", () => {
    const a = tensor([1, 1], { requiresGrad: true });
    const b = tensor([2, 2], { requiresGrad: true });
    const optimizer = new Adam([a, b], { lr: 0.5 });
    a.grad = tensor([1, 1]);
    b.grad = tensor([1, 1]);
    b.grad.dispose();
    expect(() => optimizer.step()).toThrow(/the gradient of parameter 1 was disposed/);
    expect(optimizer.steps).toBe(0);
    expect(Array.from(a.data())).toEqual([1, 1]);
  });
});

describe("memory that holds without dispose()", () => {
  it("a synchronous PyTorch-style loop that never calls dispose() stays flat, without any GC", () => {
    const model = new Sequential([new Dense(32, { activation: "relu" }), new Dropout(0.2), new Dense(4)], { inputShape: [8], seed: 1 });
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    const x = tensor(Float32Array.from({ length: 256 * 8 }, (_, i) => Math.sin(i)), { shape: [256, 8] });
    const y = tensor(Float32Array.from({ length: 256 }, (_, i) => i % 4));
    const samples: number[] = [];
    for (let epoch = 0; epoch < 20; epoch++) {
      for (const [xb, yb] of batches(x, y, { batchSize: 32, shuffle: true, seed: epoch })) {
        optimizer.zeroGrad();
        const out = model.forward(xb, { training: true });
        const loss = crossEntropy(out, yb);
        loss.backward();
        optimizer.step();
        loss.item(); // readable after the step, as in a PyTorch loop
        out.data();
      }
      samples.push(bytes());
    }
    // 160 steps: every epoch ends with the same bytes in use (one step's graph waits for the next).
    expect(new Set(samples.slice(1)).size).toBe(1);
  });

  it("inference and a convolutional loop with augmentation stay flat too (layer outputs made without a graph)", () => {
    const model = new Sequential(
      [new RandomShift(1), new Conv2D(2, 3, { activation: "relu" }), new MaxPool2D(2), new Flatten(), new Dense(3)],
      { inputShape: [6, 6, 1], seed: 2 },
    );
    const optimizer = new SGD(model.parameters(), { lr: 0.01 });
    const x = tensor(Float32Array.from({ length: 8 * 36 }, (_, i) => Math.cos(i)), { shape: [8, 6, 6, 1] });
    const y = tensor([0, 1, 2, 0, 1, 2, 0, 1]);
    const trained: number[] = [];
    for (let step = 0; step < 30; step++) {
      for (const [xb, yb] of batches(x, y, { batchSize: 4 })) {
        optimizer.zeroGrad();
        crossEntropy(model.forward(xb, { training: true }), yb).backward();
        optimizer.step();
      }
      trained.push(bytes());
    }
    expect(new Set(trained.slice(1)).size).toBe(1);
    // Inference: the caller owns the output (and frees it); every layer output inside is freed at once.
    const inferred: number[] = [];
    for (let step = 0; step < 30; step++) {
      noGrad(() => model.forward(x)).dispose();
      inferred.push(bytes());
    }
    expect(new Set(inferred).size).toBe(1);
  });

  it("inference through composite layers (LSTM, attention, norms) under noGrad leaves nothing behind", async () => {
    const { LSTM, LayerNorm, MultiHeadAttention, Embedding } = await import("../src/index.js");
    const model = new Sequential([new Embedding(10, 8), new LSTM(8, { returnSequences: true }), new LayerNorm(), new MultiHeadAttention(2, 4, { causal: true }), new Dense(3)], { inputShape: [5], seed: 1 });
    const x = tensor([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]]);
    noGrad(() => model.call(x)).dispose(); // builds the attention mask cache once
    const before = bytes();
    for (let i = 0; i < 20; i++) noGrad(() => model.call(x)).dispose();
    expect(bytes()).toBe(before);
    // And a training loop over them stays flat too (the LSTM's zero initial states go with the graph).
    const optimizer = new SGD(model.parameters(), { lr: 0.01 });
    const y = tensor([[0, 1, 2, 0, 1], [2, 1, 0, 2, 1]]);
    const step = () => {
      optimizer.zeroGrad();
      crossEntropy(model.call(x), y).backward();
      optimizer.step();
    };
    step();
    step();
    const during = bytes();
    for (let i = 0; i < 10; i++) step();
    expect(bytes()).toBe(during);
  });

  it("the JavaScript heap stays flat too over a synchronous loop (no WeakRef pinned until the loop ends)", async () => {
    const { LSTM, Embedding } = await import("../src/index.js");
    const gc = (globalThis as { gc?: () => void }).gc!;
    const model = new Sequential([new Embedding(20, 8), new LSTM(8, { returnSequences: true }), new Dense(20)], { inputShape: [12], seed: 1 });
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    const x = tensor(Float32Array.from({ length: 96 }, (_, i) => i % 20), { shape: [8, 12] });
    const y = tensor(Float32Array.from({ length: 96 }, (_, i) => (i + 1) % 20), { shape: [8, 12] });
    const step = () => {
      optimizer.zeroGrad();
      crossEntropy(model.call(x), y).backward();
      optimizer.step();
    };
    for (let i = 0; i < 20; i++) step();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 300; i++) step(); // never yields: no job ends in between
    gc();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(4e6); // it grew ~0.1 MB a step with WeakRefs
  });

  it("a graph's values stay readable until the next step through the same parameters, then say why they went", () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const other = tensor(3, { requiresGrad: true });
    const out = w.mul(2);
    const kept = out.detach();
    out.sum().backward();
    const unrelated = other.mul(other);
    unrelated.backward(); // another graph's leaves: out stays
    expect(Array.from(out.data())).toEqual([2, 4]);
    w.mul(3).sum().backward(); // the next step through w
    expect(() => out.data()).toThrow(/freed by the next backward\(\) through the same parameters/);
    expect(Array.from(kept.data())).toEqual([2, 4]); // a detached view keeps the values
    expect(unrelated.item()).toBe(9);
  });

  it("a Dropout layer gives its generator state back when the model is collected", async () => {
    // Earlier tests' garbage may take a few collections to go: start from a settled heap.
    let before = -1;
    while (before !== bytes()) {
      before = bytes();
      await collectGarbage();
    }
    (() => {
      const model = new Sequential([new Dense(2), new Dropout(0.5)], { inputShape: [2] });
      model.forward(tensor([[1, 2]]), { training: true }).dispose();
    })();
    expect(bytes()).toBeGreaterThan(before);
    await collectGarbage();
    expect(bytes()).toBe(before);
  });

  it("engine.strided() refuses walks that leave the memory", () => {
    const end = engine.memory.capacityBytes;
    refuses(() => engine.strided("copy", 0, end - 4, [2], [1]), ArgumentError, /the contiguous side \(2 floats/);
    refuses(() => engine.strided("accumulate", 16, end - 32, [4, 4], [0, 5]), ArgumentError, /the strided side \(16 floats/);
    refuses(() => engine.strided("copy", 0, 16, [2], [-1]), ShapeError, /non-negative stride/);
    refuses(() => engine.strided("move" as never, 0, 16, [2], [1]), ArgumentError, /kind must be/);
  });
});
