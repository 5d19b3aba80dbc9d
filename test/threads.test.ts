// Threads over one shared memory (backend/threads.ts): the same bits for 1, 2, 3 and 4 threads —
// GEMMs of every transpose, odd sizes and strides, and whole training runs of the MLP and LeNet —
// workers that stop with engine.dispose() and never keep a process alive, and one thread, said
// why, where threads cannot run. Runs the built package: workers load dist/worker.js.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ACTIVATIONS, Adam, ArgumentError, Random, activate, avgPool2d, concat, conv2d, convTranspose2d, init, maxPool2d, noGrad, tensor } from "../dist/index.js";
import { init as initFromSource, tensor as tensorFromSource } from "../src/index.js";
import { CLAIM, STOP_BIT, claim, hasWork, openClaim } from "../src/backend/slots.js";
import { lenet, mnistMlp } from "../examples/models.mjs";
import { fromOnnx } from "../dist/onnx.js";
import { onnxModelType } from "../src/io/onnx/proto-type.js";
import { FLOAT, floats, int, model, node, str, value } from "./onnx-builder.js";
import type { Conv2DOptions, ConvTranspose2DOptions } from "../src/index.js";

const root = resolve(import.meta.dirname, "..");
const THREADS = [1, 2, 3, 4];

async function engineWith(threads: number) {
  const engine = await init({ threads });
  await engine.threadsReady();
  expect(engine.threads).toBe(threads);
  expect(engine.threadsNote).toBeNull();
  return engine;
}

/** The same computation on 1–4 threads; every result must equal the one-thread result bit for bit. */
async function sameBits(compute: () => Float32Array[]) {
  const results: Float32Array[][] = [];
  for (const threads of THREADS) {
    const engine = await engineWith(threads);
    results.push(compute());
    engine.dispose();
  }
  for (let t = 1; t < THREADS.length; t++) {
    results[t].forEach((r, i) => expect(Buffer.from(r.buffer, r.byteOffset, r.byteLength).equals(Buffer.from(results[0][i].buffer, results[0][i].byteOffset, results[0][i].byteLength)), `${THREADS[t]} threads, result ${i}`).toBe(true));
  }
  return results[0];
}

const random = (r: Random, n: number) => Float32Array.from({ length: n }, () => r.normal());

describe("threads: the same bits for any thread count", () => {
  it("GEMM: NN, NT, TN, TT, accumulating, strided, odd and tall and wide shapes", async () => {
    const out = await sameBits(() => {
      const r = new Random(7);
      const results: Float32Array[] = [];
      for (const [m, n, k] of [[64, 128, 784], [257, 129, 300], [3, 2000, 700], [1000, 9, 77], [130, 130, 130]]) {
        for (const [transA, transB] of [[false, false], [false, true], [true, false], [true, true]]) {
          const a = tensor(random(r, m * k), { shape: transA ? [k, m] : [m, k] });
          const b = tensor(random(r, k * n), { shape: transB ? [n, k] : [k, n] });
          const c = tensor(random(r, m * n), { shape: [m, n] });
          c.engine.gemm({ transA, transB, m, n, k, a: a.ptr, b: b.ptr, c: c.ptr, accumulate: true });
          results.push(c.data());
          // With the epilogue: a bias per column (cut with C's columns when C is cut that way) and a clamp.
          const bias = tensor(random(r, n), { shape: [n] });
          c.engine.gemm({ transA, transB, m, n, k, a: a.ptr, b: b.ptr, c: c.ptr, bias: bias.ptr, clamp: [-0.5, 0.5] });
          results.push(c.data());
        }
      }
      return results;
    });
    expect(out).toHaveLength(40);
  }, 120_000);

  it("MLP training (Adam, batch 64, dropout) gives the same weights", async () => {
    await sameBits(() => {
      const r = new Random(3);
      const x = tensor(Float32Array.from({ length: 512 * 784 }, () => r.uniform()), { shape: [512, 784] });
      const y = tensor(Float32Array.from({ length: 512 }, () => r.int(10)));
      const model = mnistMlp({ seed: 1, dropout: 0.1 });
      model.compile({ loss: "crossEntropy", optimizer: new Adam(model.parameters(), { lr: 0.002 }) });
      model.fitSync(x, y, { epochs: 2, batchSize: 64, verbose: false, seed: 1 });
      return model.parameters().map((p) => p.data());
    });
  }, 120_000);

  it("LeNet-5 training (batch 64) gives the same weights", async () => {
    await sameBits(() => {
      const r = new Random(4);
      const x = tensor(Float32Array.from({ length: 128 * 784 }, () => r.uniform()), { shape: [128, 28, 28, 1] });
      const y = tensor(Float32Array.from({ length: 128 }, () => r.int(10)));
      const model = lenet({ seed: 1 });
      model.compile({ loss: "crossEntropy", optimizer: new Adam(model.parameters(), { lr: 0.001 }) });
      model.fitSync(x, y, { epochs: 1, batchSize: 64, verbose: false, seed: 1 });
      return model.parameters().map((p) => p.data());
    });
  }, 120_000);
});

describe("threads: convolutions, pooling and activations, shared by images and ranges", () => {
  // Each big enough to be shared (≥ 2^20 multiply-adds, ≥ 2^15 elements), with batches that do
  // not divide evenly: values and every gradient, bit for bit.
  const convolutions: [string, number[], number[], Conv2DOptions][] = [
    ["direct, one channel (LeNet's first layer)", [13, 28, 28, 1], [5, 5, 1, 6], { padding: "same", activation: "relu" }],
    ["direct, three channels, stride 2", [17, 33, 33, 3], [3, 3, 3, 12], { stride: 2, activation: "tanh" }],
    ["im2col, odd batch", [13, 16, 16, 8], [3, 3, 8, 16], { padding: "same", activation: "relu" }],
    ["im2col, one image (its GEMM shared instead)", [1, 64, 64, 8], [3, 3, 8, 32], { padding: "same" }],
    // ∂W's GEMM split by its 63 rows (not a multiple of 4), over chunks of 5 and 4 images.
    ["im2col, ∂W over two chunks", [9, 10, 10, 7], [3, 3, 7, 40], { padding: "same", activation: "tanh" }],
    ["pointwise (x its own patch matrix), ∂W over chunks of 6 and 1 images", [7, 14, 14, 24], [1, 1, 24, 48], {}],
    ["im2col, dilated [2, 3], uneven padding", [11, 14, 15, 6], [3, 3, 6, 24], { padding: [2, 3, 1, 2], dilation: [2, 3], activation: "tanh" }],
    ["one image, dilated, its im2col by output rows", [1, 48, 40, 8], [3, 3, 8, 32], { padding: "same", dilation: 2 }],
  ];
  for (const [name, xShape, wShape, options] of convolutions) {
    it(`conv2d ${name}: output, ∂x, ∂W, ∂b`, async () => {
      await sameBits(() => {
        const r = new Random(11);
        const x = tensor(random(r, xShape.reduce((a, b) => a * b)), { shape: xShape, requiresGrad: true });
        const w = tensor(random(r, wShape.reduce((a, b) => a * b)), { shape: wShape, requiresGrad: true });
        const b = tensor(random(r, wShape[3]), { requiresGrad: true });
        const y = conv2d(x, w, b, options);
        y.mul(y).sum().backward();
        return [y.data(), x.grad!.data(), w.grad!.data(), b.grad!.data()];
      });
    }, 60_000);
  }

  // Ops on channels-last images after a Conv (1×1, 8 channels in), each on kernels of its own: [name, the node, its extra initialisers, x's and y's dims].
  const afterConv: [string, object, object[], number[], number[]][] = [
    ["LRN across the channels (GoogLeNet's)", node("LRN", ["c"], ["y"], [int("size", 5), { name: "alpha", type: 1, f: 1e-3 }]), [], [5, 8, 28, 28], [5, 64, 28, 28]],
    ["bilinear Resize ×2", node("Resize", ["c", "", "s"], ["y"], [str("mode", "linear")]), [floats("s", [4], [1, 1, 2, 2])], [5, 8, 30, 30], [5, 32, 60, 60]],
  ];
  for (const [name, op, extra, xDims, yDims] of afterConv) {
    it(`an imported ${name} of channels-last images: output and ∂x`, async () => {
      const bytes = model({
        nodes: [node("Conv", ["x", "w"], ["c"]), op],
        inputs: [value("x", FLOAT, xDims)], outputs: [value("y", FLOAT, yDims)],
        initializers: [floats("w", [yDims[1], 8, 1, 1], Array.from(random(new Random(21), yDims[1] * 8))), ...extra],
        opset: 13,
      });
      await sameBits(() => {
        const m = fromOnnx(bytes);
        const x = tensor(random(new Random(22), xDims.reduce((a, b) => a * b)), { shape: xDims, requiresGrad: true });
        const y = m.forward(x);
        y.mul(y).sum().backward();
        return [y.data(), x.grad!.data()];
      });
    }, 60_000);
  }

  // The input-gradient path run forward: a batch by chunks of images, and one image (its GEMM shared).
  for (const [name, xShape, wShape, options] of [
    ["a batch of 11, 3×3 stride 2 with output padding", [11, 12, 12, 16], [3, 3, 8, 16], { stride: 2, padding: [1, 1, 1, 1], outputPadding: [1, 1] }],
    ["one image, 2×2 stride 2", [1, 32, 32, 32], [2, 2, 16, 32], { stride: 2 }],
  ] as [string, number[], number[], ConvTranspose2DOptions][]) {
    it(`convTranspose2d, ${name}: output, ∂x, ∂W, ∂b`, async () => {
      await sameBits(() => {
        const r = new Random(13);
        const x = tensor(random(r, xShape.reduce((a, b) => a * b)), { shape: xShape, requiresGrad: true });
        const w = tensor(random(r, wShape.reduce((a, b) => a * b)), { shape: wShape, requiresGrad: true });
        const b = tensor(random(r, wShape[2]), { requiresGrad: true });
        const y = convTranspose2d(x, w, b, options);
        y.mul(y).sum().backward();
        return [y.data(), x.grad!.data(), w.grad!.data(), b.grad!.data()];
      });
    }, 60_000);
  }

  it("an imported depthwise conv (stride 1 and 2, its own kernels): output, ∂x, ∂W, ∂b", async () => {
    // Conv with a group per channel, written as an ONNX file: the importer runs it on the depthwise kernels.
    const conv = (name: string, stride: number) => ({ op_type: "Conv", input: ["x", `${name}.w`, `${name}.b`], output: [name], name,
      attribute: [{ name: "group", type: 2, i: 32 }, { name: "pads", type: 7, ints: [1, 1, 1, 1] }, { name: "strides", type: 7, ints: [stride, stride] }] });
    const r0 = new Random(15);
    const init = (name: string, dims: number[]) => ({ name, dims, data_type: 1, float_data: Array.from(random(r0, dims.reduce((a, b) => a * b))) });
    const value = (name: string, dims: number[]) => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } });
    const bytes = onnxModelType().encode({
      ir_version: 8, opset_import: [{ domain: "", version: 13 }],
      graph: {
        name: "depthwise", node: [conv("s1", 1), conv("s2", 2)],
        initializer: [init("s1.w", [32, 1, 3, 3]), init("s1.b", [32]), init("s2.w", [32, 1, 3, 3]), init("s2.b", [32])],
        input: [value("x", [13, 32, 20, 20])], output: [value("s1", [13, 32, 20, 20]), value("s2", [13, 32, 10, 10])],
      },
    }).finish();
    await sameBits(() => {
      const model = fromOnnx(bytes);
      const x = tensor(random(new Random(16), 13 * 32 * 20 * 20), { shape: [13, 32, 20, 20], requiresGrad: true });
      const { s1, s2 } = model.run(x);
      s1.mul(s1).sum().add(s2.mul(s2).sum()).backward();
      return [s1.data(), s2.data(), x.grad!.data(), ...model.parameters().map((p) => p.grad!.data())];
    });
  }, 60_000);

  it("conv2d on Winograd's F(2×2, 3×3), without a graph: output", async () => {
    await sameBits(() => {
      const r = new Random(18);
      const x = tensor(random(r, 3 * 30 * 29 * 24), { shape: [3, 30, 29, 24] });
      const w = tensor(random(r, 9 * 24 * 40), { shape: [3, 3, 24, 40] });
      const b = tensor(random(r, 40));
      return [noGrad(() => conv2d(x, w, b, { padding: "same", activation: "relu", algorithm: "winograd" })).data()];
    });
  }, 60_000);

  it("conv2d on Winograd's with a gradient, small images in groups (8 and 3): output, ∂x, ∂W, ∂b", async () => {
    await sameBits(() => {
      const r = new Random(19);
      const x = tensor(random(r, 11 * 7 * 7 * 16), { shape: [11, 7, 7, 16], requiresGrad: true });
      const w = tensor(random(r, 9 * 16 * 32), { shape: [3, 3, 16, 32], requiresGrad: true });
      const b = tensor(random(r, 32), { requiresGrad: true });
      const y = conv2d(x, w, b, { padding: "same", activation: "relu", algorithm: "winograd" });
      y.mul(y).sum().backward();
      return [y.data(), x.grad!.data(), w.grad!.data(), b.grad!.data()];
    });
  }, 60_000);

  it("batched matmul (attention's heads), broadcast either way: output and both gradients", async () => {
    await sameBits(() => {
      const r = new Random(14);
      const results: Float32Array[] = [];
      // a's gradient blocks each sum 5 products, b's 3; then one block summing all of them.
      for (const [aShape, bShape] of [[[3, 1, 40, 33], [5, 33, 70]], [[1, 64, 48], [6, 48, 64]], [[4, 2, 50, 40], [4, 2, 40, 60]]]) {
        const a = tensor(random(r, aShape.reduce((p, q) => p * q)), { shape: aShape, requiresGrad: true });
        const b = tensor(random(r, bShape.reduce((p, q) => p * q)), { shape: bShape, requiresGrad: true });
        const y = a.matmul(b);
        y.mul(y).sum().backward();
        results.push(y.data(), a.grad!.data(), b.grad!.data());
      }
      // No products at all: a broadcast operand's gradient is zeros.
      const a = tensor(random(r, 6), { shape: [1, 2, 3], requiresGrad: true });
      a.matmul(tensor(new Float32Array(0), { shape: [0, 3, 4] })).sum().backward();
      expect(Array.from(a.grad!.data())).toEqual([0, 0, 0, 0, 0, 0]);
      return results;
    });
  }, 60_000);

  it("maxPool2d (overlapping windows, ties and NaN) and avgPool2d: output and ∂x", async () => {
    await sameBits(() => {
      const r = new Random(12);
      const values = random(r, 13 * 30 * 30 * 12).map((v, i) => (i % 97 === 0 ? Math.round(v) : i === 5000 ? NaN : v));
      const results: Float32Array[] = [];
      for (const pool of [(x: never) => maxPool2d(x, { size: 3, stride: 2 }), (x: never) => maxPool2d(x, { size: 2 }), (x: never) => avgPool2d(x, { size: 2 })]) {
        const x = tensor(values, { shape: [13, 30, 30, 12], requiresGrad: true });
        const y = pool(x as never);
        y.sum().backward();
        results.push(y.data(), x.grad!.data());
      }
      return results;
    });
  }, 60_000);

  it("maxPool2d and avgPool2d of one image, padded, by output rows: output and ∂x", async () => {
    await sameBits(() => {
      const values = random(new Random(16), 1 * 57 * 56 * 24);
      const results: Float32Array[] = [];
      for (const pool of [
        (x: never) => maxPool2d(x, { size: 3, stride: 1, pads: [1, 1, 1, 1] }),
        (x: never) => maxPool2d(x, { size: 3, stride: 2, pads: [0, 1, 1, 0], ceilMode: true }),
        (x: never) => avgPool2d(x, { size: 3, stride: 2, pads: [1, 1, 1, 1], countIncludePad: true }),
      ]) {
        const x = tensor(values, { shape: [1, 57, 56, 24], requiresGrad: true });
        const y = pool(x as never);
        y.mul(y).sum().backward();
        results.push(y.data(), x.grad!.data());
      }
      return results;
    });
  }, 60_000);

  it("every activation over 401 rows of 101 (softmax by rows, the rest by element ranges): values and gradients", async () => {
    await sameBits(() => {
      const r = new Random(13);
      const values = random(r, 401 * 101).map((v) => 4 * v);
      return ACTIVATIONS.filter((a) => a !== "linear").flatMap((activation) => {
        const x = tensor(values, { shape: [401, 101], requiresGrad: true });
        const y = activate(x, activation);
        y.mul(y).sum().backward();
        return [y.data(), x.grad!.data()];
      });
    });
  }, 60_000);
});

describe("threads: elementwise arithmetic, clipping and concatenation, by ranges", () => {
  it("add, sub, mul, div (tensor and scalar), clip and concat along the last and a middle axis: values and gradients", async () => {
    await sameBits(() => {
      const r = new Random(17);
      const shape = [9, 31, 37, 5]; // 51,615 elements: shared, in ranges that do not divide evenly
      const size = shape.reduce((a, b) => a * b);
      const a = tensor(random(r, size), { shape, requiresGrad: true });
      const b = tensor(random(r, size).map((v) => 1.5 + Math.abs(v)), { shape, requiresGrad: true });
      const c = tensor(random(r, size / 5 * 3), { shape: [9, 31, 37, 3], requiresGrad: true });
      const y = a.add(b).mul(a.sub(b)).div(b).add(0.25).mul(1.5).clip(-0.8, 0.9);
      const joined = concat([y, c], 3);
      const middle = concat([a, b], 1);
      joined.mul(joined).sum().add(middle.mul(middle).sum()).backward();
      return [y.data(), joined.data(), middle.data(), a.grad!.data(), b.grad!.data(), c.grad!.data()];
    });
  }, 60_000);
});

describe("threads: claiming blocks", () => {
  it("each thread takes its own block first, then the lowest left; none once all are taken or the pool stops", () => {
    const control = new Int32Array(new SharedArrayBuffer(64));
    control[CLAIM] = openClaim(4);
    expect(hasWork(control[CLAIM])).toBe(true);
    expect(claim(control, 2)).toBe(2); // its own
    expect(claim(control, 2)).toBe(0); // its own is gone: the lowest left
    expect(claim(control, 0)).toBe(1); // block 0 was taken by the other: steal
    expect(claim(control, 3)).toBe(3);
    expect(claim(control, 1)).toBe(-1); // all four taken
    expect(hasWork(control[CLAIM])).toBe(false);
    control[CLAIM] = openClaim(3);
    expect(claim(control, 33)).toBe(0); // an index past the blocks (a 34th thread, 33 ≡ 1 as a shift) steals
    expect(claim(control, 40)).toBe(1);
    control[CLAIM] |= STOP_BIT;
    expect(claim(control, 1)).toBe(-1);
    expect(hasWork(control[CLAIM])).toBe(false);
  });
});

describe("threads: starting and stopping", () => {
  it("workers start with the first job worth sharing, not with init() or a small product", async () => {
    const one = await init({ threads: 1 });
    const baseline = one.memory.stats().bytesInUse;
    const engine = await init({ threads: 2 });
    expect(engine.threads).toBe(2);
    const small = tensor(new Float32Array(16 * 16).fill(1), { shape: [16, 16] });
    small.matmul(small).dispose();
    small.dispose();
    // The pool's job table and the worker's scratch are not there yet: nothing was started.
    expect(engine.memory.stats().bytesInUse).toBe(baseline);
    const a = tensor(new Float32Array(256 * 256).fill(1), { shape: [256, 256] }); // 2^24 multiply-adds: shared
    expect(a.matmul(a).data()[0]).toBe(256); // right even before the worker is up: the caller claims every block
    expect(engine.memory.stats().bytesInUse).toBeGreaterThan(baseline + 2 * 256 * 256 * 4);
    await engine.threadsReady();
    expect(engine.threads).toBe(2);
    engine.dispose();
  });

  it("no memory left for the workers' scratch: one thread, said why, the product right", async () => {
    // 4 MiB holds the engine's own GEMM workspace and the operands, not a worker's too.
    const engine = await initFromSource({ threads: 2, maxBytes: 4 << 20 });
    const a = tensorFromSource(new Float32Array(256 * 256).fill(1), { shape: [256, 256] });
    expect(a.matmul(a).data()[0]).toBe(256);
    expect(engine.threads).toBe(1);
    expect(engine.threadsNote).toMatch(/no memory left for the workers' job table and scratch .*: one thread/);
  });

  it("a worker that cannot start (its file missing) leaves one thread, says why, and every result right", async () => {
    // From the TypeScript sources there is no worker.js beside threads.ts to start.
    const engine = await initFromSource({ threads: 2 });
    const a = tensorFromSource(new Float32Array(256 * 256).fill(1), { shape: [256, 256] });
    expect(a.matmul(a).data()[0]).toBe(256);
    await engine.threadsReady();
    expect(engine.threads).toBe(1);
    expect(engine.threadsNote).toMatch(/a worker thread did not start \(.*worker\.js.*\): 1 thread/);
    expect(a.matmul(a).data()[255]).toBe(256);
    engine.dispose();
  });

  it("a process using 3 threads ends without engine.dispose()", () => {
    const script = `import { init, tensor } from ${JSON.stringify(`${root}/dist/index.js`)};
const engine = await init({ threads: 3 });
await engine.threadsReady();
const a = tensor(new Float32Array(300 * 300).fill(1), { shape: [300, 300] });
console.log(engine.threads, a.matmul(a).data()[0]);`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
    expect(out.trim()).toBe("3 300");
  });

  it("the shared memory grows while workers run: they see the new size, results stay exact", async () => {
    const engine = await init({ threads: 2, initialBytes: 1 << 16 });
    await engine.threadsReady();
    const before = engine.memory.capacityBytes;
    const r = new Random(9);
    const sizes = [200, 400, 800]; // each product's operands land above what the memory had
    for (const size of sizes) {
      const a = tensor(random(r, size * size), { shape: [size, size] });
      const ones = tensor(new Float32Array(size * 64).fill(1), { shape: [size, 64] }); // ≥ 2^21 multiply-adds: shared
      const rowSums = a.matmul(ones).data(); // every column holds the rows' sums
      const values = a.data();
      for (const i of [0, size >> 1, size - 1]) {
        let sum = 0;
        for (let j = 0; j < size; j++) sum += values[i * size + j];
        for (const col of [0, 63]) expect(Math.abs(rowSums[i * 64 + col] - sum)).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(sum)));
      }
    }
    expect(engine.memory.capacityBytes).toBeGreaterThan(before);
    engine.dispose();
    await init();
  });

  it("dispose() stops the workers; the engine goes on with one thread", async () => {
    const engine = await engineWith(2);
    engine.dispose();
    expect(engine.threads).toBe(1);
    const a = tensor(new Float32Array(200 * 200).fill(1), { shape: [200, 200] });
    expect(a.matmul(a).data()[0]).toBe(200);
  });

  it("a precompiled module runs one thread and says why; bad counts are typed errors", async () => {
    const module = new WebAssembly.Module(readFileSync(`${root}/build/simd.wasm`));
    const engine = await init({ threads: 2, wasm: module });
    expect(engine.threads).toBe(1);
    expect(engine.threadsNote).toMatch(/compiled module: threads need its bytes/);
    for (const bad of [0, 1.5, -1, "many", 1000]) await expect(init({ threads: bad as never })).rejects.toThrow(ArgumentError);
    await init();
  });
});
