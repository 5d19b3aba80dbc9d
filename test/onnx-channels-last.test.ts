// An imported CNN runs channels-last: its activations stay NHWC from the first Conv to the head
// (no transposes between layers), and its conv weights are laid out for the kernel once, then
// again only when they change — never stale after set(), an optimiser's step or gradcheck's nudges.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Conv2D, SGD, Sequential, conv2d, gradcheck, init, tensor } from "../src/index.js";
import { fromOnnx, toOnnx } from "../src/onnx.js";
import { randomArray, rng } from "./helpers.js";
import { agreesWithOrt, opsBehind, runsOn, transposes } from "./onnx-compare.js";
import { type Attr, FLOAT, floats, int, ints, model, node, str, value } from "./onnx-builder.js";

const FILE = new Uint8Array(readFileSync(join(__dirname, "../examples/transfer/backbone.onnx"))); // PyTorch: Conv, BatchNorm, Relu, MaxPool ×3, GAP, Gemm
const images = (n: number, seed: number) => tensor(randomArray(n * 784, rng(seed)), { shape: [n, 1, 28, 28] });

beforeAll(async () => {
  await init();
});

describe("channels-last through an imported CNN", () => {
  it("transposes only the input: nothing between its convolutions, and the pooled features flatten as they are held", () => {
    const model = fromOnnx(FILE);
    const x = images(2, 1);
    model.predict(x).dispose(); // the weights are laid out on the first run
    const transposed = transposes(() => model.predict(x).dispose());
    // The image in. The [2, 64, 1, 1] pooled features, held as [2, 1, 1, 64], are already
    // [2, 64] row by row: Flatten moves nothing. Gemm's transB weight was laid out on the first run.
    expect(transposed).toEqual(["2×1×28×28"]);
  });

  it("an imported conv's weight gradient matches finite differences taken through the laid-out weights (gradcheck marks each nudge)", () => {
    // Smooth (tanh), so that central differences are exact enough to compare.
    const source = new Sequential([new Conv2D(4, 3, { padding: "same", activation: "tanh" }), new Conv2D(2, 3, { stride: 2, activation: "tanh" })], { inputShape: [6, 6, 2], seed: 3 });
    const model = fromOnnx(toOnnx(source));
    const x = tensor(randomArray(2 * 72, rng(2)), { shape: [2, 6, 6, 2] });
    const weights = model.parameters().filter((p) => p.rank === 4);
    model.predict(x).dispose(); // lays the weights out: the numeric side must not read them stale
    const report = gradcheck(() => model.call(x).sum(), weights);
    expect(report.ok).toBe(true);
    expect(report.checked).toBe(weights.reduce((s, p) => s + p.size, 0));
    model.dispose();
  });
});

describe("weights laid out once, never stale", () => {
  const same = (a: Float32Array, b: Float32Array) => expect(Array.from(a)).toEqual(Array.from(b));

  it("after set(), loadStateDict() and an optimiser's step, predict() gives what a fresh import of the same weights gives", () => {
    const model = fromOnnx(FILE);
    const x = images(2, 4);
    const first = model.predict(x).data();
    const w = model.stateDict()["features.0.weight"];
    w.set(randomArray(w.size, rng(5)));
    const fresh = () => {
      const m = fromOnnx(FILE);
      m.loadStateDict(model.stateDict());
      const out = m.predict(x).data();
      m.dispose();
      return out;
    };
    const afterSet = model.predict(x).data();
    expect(Array.from(afterSet)).not.toEqual(Array.from(first));
    same(afterSet, fresh());
    // An optimiser's step writes in place, through the kernels.
    const optimizer = new SGD(model.parameters(), { lr: 0.5 });
    model.train();
    model.call(x).sum().backward();
    optimizer.step();
    model.eval();
    const afterStep = model.predict(x).data();
    expect(Array.from(afterStep)).not.toEqual(Array.from(afterSet));
    same(afterStep, fresh());
    model.dispose();
  });

  it("a frozen backbone in training mode uses the laid-out weights too, and its head still learns", () => {
    const model = fromOnnx(FILE);
    model.freeze("features.*");
    const x = images(4, 6);
    model.train();
    const before = model.stateDict()["fc.weight"].data();
    const optimizer = new SGD(model.trainableParameters(), { lr: 0.1 });
    for (let i = 0; i < 2; i++) {
      optimizer.zeroGrad();
      model.call(x).sum().backward();
      optimizer.step();
    }
    expect(Array.from(model.stateDict()["fc.weight"].data())).not.toEqual(Array.from(before));
    expect(model.stateDict()["features.0.weight"].grad).toBeNull();
    model.dispose();
  });
});

describe("conv2d: explicit padding and the 1×1 GEMM path", () => {
  const x = () => tensor(randomArray(2 * 5 * 6 * 3, rng(7)), { shape: [2, 5, 6, 3], requiresGrad: true });

  it("[top, left, bottom, right] pads as a zero-padded input does, values and gradients", () => {
    const w = tensor(randomArray(3 * 3 * 3 * 4, rng(8)), { shape: [3, 3, 3, 4], requiresGrad: true });
    const xs = x();
    const y = conv2d(xs, w, null, { stride: 2, padding: [1, 0, 2, 1] });
    // The same input with the zeros written out, "valid".
    const [n, h, wid, c] = xs.shape;
    const padded = new Float32Array(n * (h + 3) * (wid + 1) * c);
    const src = xs.data();
    for (let b = 0; b < n; b++) for (let i = 0; i < h; i++) for (let j = 0; j < wid; j++) for (let k = 0; k < c; k++) {
      padded[((b * (h + 3) + i + 1) * (wid + 1) + j) * c + k] = src[((b * h + i) * wid + j) * c + k];
    }
    const reference = conv2d(tensor(padded, { shape: [n, h + 3, wid + 1, c] }), w, null, { stride: 2 });
    expect(y.shape).toEqual(reference.shape);
    same(y.data(), reference.data());
    expect(gradcheck((a, b) => conv2d(a, b, null, { stride: 2, padding: [1, 0, 2, 1] }), [xs, w]).ok).toBe(true);
    expect(() => conv2d(xs, w, null, { padding: [1, 1, 1] as never })).toThrow(/padding must be "valid", "same" or \[top, left, bottom, right\]/);
    expect(() => conv2d(xs, w, null, { padding: [0, 0, -1, 0] as never })).toThrow(/whole numbers ≥ 0/);
  });

  it("a 1×1 window at stride 1 (one GEMM, no im2col) gives x·W + b, and its gradients", () => {
    const xs = x();
    const w = tensor(randomArray(3 * 5, rng(9)), { shape: [1, 1, 3, 5], requiresGrad: true });
    const b = tensor(randomArray(5, rng(10)), { requiresGrad: true });
    const y = conv2d(xs, w, b);
    const rows = xs.reshape([60, 3]).matmul(w.reshape([3, 5])).add(b);
    const err = Math.max(...Array.from(y.data(), (v, i) => Math.abs(v - rows.data()[i])));
    expect(err).toBeLessThan(1e-6);
    expect(gradcheck((a, k, c) => conv2d(a, k, c, { activation: "tanh" }), [xs, w, b]).ok).toBe(true);
  });

  function same(a: Float32Array, b: Float32Array) {
    expect(Array.from(a)).toEqual(Array.from(b));
  }
});

describe("inference frees each value after its last reader", () => {
  it("a deep imported CNN's predict peaks at a few activations, not at all of them, and leaves nothing behind", async () => {
    const engine = await init({ threads: 1 }); // a fresh engine: its peak is this test's
    const layers = Array.from({ length: 12 }, () => new Conv2D(8, 3, { padding: "same", activation: "relu" }));
    const model = fromOnnx(toOnnx(new Sequential(layers, { inputShape: [32, 32, 8], seed: 4, engine })), { engine });
    const x = tensor(randomArray(8 * 32 * 32 * 8, rng(11)), { shape: [8, 32, 32, 8], engine });
    model.predict(x).dispose(); // lays the weights out
    const before = engine.memory.stats();
    const y = model.predict(x);
    const activation = x.size * 4;
    // 12 convs, each with a ReLU after it: 24 activations if nothing were freed before the end.
    expect(engine.memory.stats().peakBytes - before.bytesInUse).toBeLessThan(6 * activation);
    y.dispose();
    expect(engine.memory.stats().bytesInUse).toBe(before.bytesInUse);
    model.dispose();
  });
});

describe("the depthwise kernel", () => {
  it("gives the float64 sums for channel counts off the 16-lane blocks, channel multipliers, strides and uneven padding", async () => {
    const { depthwiseConv2d } = await import("../src/autograd/ops/depthwise.js");
    const { noGrad } = await import("../src/index.js");
    for (const [c, mult, k, stride, pads] of [[21, 1, 3, 1, [1, 1, 1, 1]], [8, 3, 5, 2, [2, 1, 2, 2]], [32, 1, 3, 2, [0, 0, 1, 1]], [3, 2, 3, 1, [0, 0, 0, 0]]] as const) {
      const [n, h, w] = [2, 7, 6], m = c * mult;
      const x = tensor(randomArray(n * h * w * c, rng(c)), { shape: [n, h, w, c] });
      const wt = tensor(randomArray(k * k * m, rng(m)), { shape: [k, k, m] });
      const b = tensor(randomArray(m, rng(k)), { shape: [m] });
      const y = noGrad(() => depthwiseConv2d(x, wt, b, stride, pads));
      const [oh, ow] = [Math.floor((h + pads[0] + pads[2] - k) / stride) + 1, Math.floor((w + pads[1] + pads[3] - k) / stride) + 1];
      expect(y.shape).toEqual([n, oh, ow, m]);
      const xs = x.data(), ws = wt.data(), bs = b.data(), ys = y.data();
      for (let i = 0; i < ys.length; i++) {
        const o = i % m, ox = Math.floor(i / m) % ow, oy = Math.floor(i / (m * ow)) % oh, bi = Math.floor(i / (m * ow * oh));
        let sum = bs[o];
        for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
          const iy = oy * stride - pads[0] + ky, ix = ox * stride - pads[1] + kx;
          if (iy >= 0 && iy < h && ix >= 0 && ix < w) sum += xs[((bi * h + iy) * w + ix) * c + Math.floor(o / mult)] * ws[(ky * k + kx) * m + o];
        }
        expect(Math.abs(ys[i] - sum)).toBeLessThan(1e-5);
      }
      // Clamped as it is stored (a folded BatchNorm's ReLU6): the same sums, clamped.
      const clamped = noGrad(() => depthwiseConv2d(x, wt, b, stride, pads, [-0.1, 0.2])).data();
      clamped.forEach((v, i) => expect(v).toBe(Math.fround(Math.min(Math.max(ys[i], -0.1), 0.2))));
    }
  });
});

describe("the depthwise kernels' gradients", () => {
  it("∂x, ∂W and ∂b match finite differences for channel counts off the 16-lane blocks, channel multipliers, strides and uneven padding", async () => {
    const { depthwiseConv2d } = await import("../src/autograd/ops/depthwise.js");
    for (const [c, mult, k, stride, pads] of [[21, 1, 3, 1, [1, 1, 1, 1]], [4, 3, 5, 2, [2, 1, 2, 2]], [16, 1, 3, 2, [0, 0, 1, 1]], [3, 2, 3, 1, [0, 0, 0, 0]]] as const) {
      const [n, h, w] = [2, 6, 5], m = c * mult;
      const x = tensor(randomArray(n * h * w * c, rng(c + 1)), { shape: [n, h, w, c], requiresGrad: true });
      const wt = tensor(randomArray(k * k * m, rng(m + 2)), { shape: [k, k, m], requiresGrad: true });
      const b = tensor(randomArray(m, rng(k + 3)), { shape: [m], requiresGrad: true });
      const report = gradcheck((a, f, s) => depthwiseConv2d(a, f, s, stride, pads).tanh(), [x, wt, b]);
      expect(report.ok, `c ${c}, mult ${mult}, ${k}×${k}, stride ${stride}: ${JSON.stringify(report.worst)}`).toBe(true);
    }
  });

});

describe("1-D and dilated convolutions on conv2d's kernels", () => {
  const random = rng(21);
  const weights = (dims: number[]) => Array.from({ length: dims.reduce((a, b) => a * b) }, () => random() - 0.5);
  // [label, x dims, W dims, Conv attributes, y dims]: the Conv, a Tanh (smooth, for central differences), and a pointwise Conv.
  const CASES: [string, number[], number[], Attr[], number[]][] = [
    ["1-D, dilation 2, stride 2, uneven pads, 2 groups", [2, 4, 19], [6, 2, 3], [ints("dilations", [2]), ints("strides", [2]), ints("pads", [3, 1]), int("group", 2)], [2, 6, 10]],
    ["1-D, kernel 5, SAME_UPPER", [3, 3, 12], [5, 3, 5], [str("auto_pad", "SAME_UPPER")], [3, 5, 12]],
    ["2-D, dilations [2, 3], uneven pads", [2, 3, 9, 10], [4, 3, 3, 3], [ints("dilations", [2, 3]), ints("pads", [1, 3, 2, 2])], [2, 4, 8, 9]],
    ["2-D, dilation 2, stride 2, 2 groups", [1, 4, 11, 11], [4, 2, 3, 3], [ints("dilations", [2, 2]), ints("strides", [2, 2]), ints("pads", [2, 2, 2, 2]), int("group", 2)], [1, 4, 6, 6]],
  ];
  it.each(CASES)("%s: onnxruntime's values, conv2d in the graph (no planar kernel), gradients as finite differences", async (_, xDims, wDims, attrs, yDims) => {
    const w2 = [wDims[0], wDims[0], ...wDims.slice(2).map(() => 1)]; // a pointwise Conv after the Relu
    const bytes = model({
      nodes: [node("Conv", ["x", "w", "b"], ["h"], attrs), node("Tanh", ["h"], ["r"]), node("Conv", ["r", "w2"], ["y"])],
      inputs: [value("x", FLOAT, xDims)],
      outputs: [value("y", FLOAT, yDims)],
      initializers: [floats("w", wDims, weights(wDims)), floats("b", [wDims[0]], weights([wDims[0]])), floats("w2", w2, weights(w2))],
    });
    expect(await runsOn(bytes, Float32Array.from(weights(xDims)), xDims, "conv2d", "convPlanes")).toEqual(yDims);
  });
});

describe("a dilated depthwise Conv (DeepLab's) on the direct kernel, over the image's phases", () => {
  // [label, x dims, W dims [c·mult, 1, kh, kw], dilations, pads]
  const CASES: [string, number[], number[], number[], number[]][] = [
    ["3×3, dilation 2, same size", [2, 4, 7, 6], [4, 1, 3, 3], [2, 2], [2, 2, 2, 2]],
    ["3×3, dilations [2, 3], uneven pads", [1, 3, 9, 10], [3, 1, 3, 3], [2, 3], [1, 3, 2, 0]],
    ["5×5, dilation 3, a channel multiplier of 2", [2, 3, 11, 8], [6, 1, 5, 5], [3, 3], [4, 5, 6, 7]],
  ];
  it.each(CASES)("%s: onnxruntime's values, depthwiseConv2d in the graph, gradients as finite differences", async (_, xDims, wDims, dilations, pads) => {
    const random = rng(13);
    const weights = (dims: number[]) => Array.from({ length: dims.reduce((a, b) => a * b) }, () => random() - 0.5);
    const bytes = model({
      nodes: [node("Conv", ["x", "w", "b"], ["h"], [int("group", xDims[1]), ints("dilations", dilations), ints("pads", pads)]), node("Tanh", ["h"], ["y"])],
      inputs: [value("x", FLOAT, xDims)],
      outputs: [value("y", FLOAT, ["N", wDims[0], "H", "W"])],
      initializers: [floats("w", wDims, weights(wDims)), floats("b", [wDims[0]], weights([wDims[0]]))],
    });
    await runsOn(bytes, Float32Array.from(weights(xDims)), xDims, "depthwiseConv2d", "convPlanes");
  });
});

describe("a dilated depthwise Conv, BatchNorm and ReLU6 (DeepLab's block) at predict()", () => {
  it("is onnxruntime's output, the BatchNorm folded and the clamp in the depthwise kernel's stores", async () => {
    const random = rng(15);
    const weights = (dims: number[]) => Array.from({ length: dims.reduce((a, b) => a * b) }, () => random() - 0.5);
    const positive = (k: number) => Array.from({ length: k }, () => 0.5 + random());
    const bytes = model({
      nodes: [
        node("Conv", ["x", "w"], ["c"], [int("group", 8), ints("dilations", [2, 2]), ints("pads", [2, 2, 2, 2])]),
        node("BatchNormalization", ["c", "scale", "shift", "mean", "var"], ["n"]),
        node("Clip", ["n", "lo", "hi"], ["y"]),
      ],
      inputs: [value("x", FLOAT, [2, 8, 9, 9])],
      outputs: [value("y", FLOAT, [2, 8, 9, 9])],
      initializers: [
        floats("w", [8, 1, 3, 3], weights([8, 1, 3, 3]).map((v) => 4 * v)),
        floats("scale", [8], positive(8)), floats("shift", [8], weights([8])), floats("mean", [8], weights([8])), floats("var", [8], positive(8)),
        floats("lo", [], [0]), floats("hi", [], [6]),
      ],
    });
    await agreesWithOrt(bytes, Float32Array.from(weights([2, 8, 9, 9])), [2, 8, 9, 9]);
  });
});

describe("Dropout between convolutions (SqueezeNet's)", () => {
  it("with a mask output nothing reads: the activations stay channels-last, and no mask is made", async () => {
    const random = rng(9);
    const weights = (dims: number[]) => Array.from({ length: dims.reduce((a, b) => a * b) }, () => random() - 0.5);
    const bytes = model({
      nodes: [node("Conv", ["x", "w1"], ["a"]), node("Dropout", ["a"], ["d", "mask"]), node("Conv", ["d", "w2"], ["y"])],
      inputs: [value("x", FLOAT, [2, 3, 6, 6])],
      outputs: [value("y", FLOAT, [2, 4, 6, 6])],
      initializers: [floats("w1", [5, 3, 1, 1], weights([5, 3, 1, 1])), floats("w2", [4, 5, 1, 1], weights([4, 5, 1, 1]))],
      opset: 11,
    });
    const input = Float32Array.from(weights([2, 3, 6, 6]));
    await agreesWithOrt(bytes, input, [2, 3, 6, 6]);
    const imported = fromOnnx(bytes);
    const x = tensor(input, { shape: [2, 3, 6, 6] });
    imported.predict(x).dispose();
    // The image in, the output out: nothing around the Dropout.
    expect(transposes(() => imported.predict(x).dispose())).toEqual(["2×3×6×6", "2×6×6×4"]);
    imported.dispose();
  });
});

describe("Resize on channels-last activations (U-Net's and YOLO's upsampling): nearest and linear on the image kernels", () => {
  const random = rng(12);
  const weights = (dims: number[]) => Array.from({ length: dims.reduce((a, b) => a * b) }, () => random() - 0.5);
  /** Conv 1×1 → Resize → Conv 1×1 on 3 channels of 5×6; the Resize by scales or by sizes. */
  const file = (attrs: Attr[], by: { scales?: number[]; sizes?: number[] }) => model({
    nodes: [
      node("Conv", ["x", "w1"], ["a"]),
      node("Resize", ["a", "", by.scales ? "scales" : "", ...(by.sizes ? ["sizes"] : [])], ["r"], attrs),
      node("Conv", ["r", "w2"], ["y"]),
    ],
    inputs: [value("x", FLOAT, [2, 3, 5, 6])],
    outputs: [value("y", FLOAT, ["N", 4, "H", "W"])],
    initializers: [
      floats("w1", [4, 3, 1, 1], weights([4, 3, 1, 1])), floats("w2", [4, 4, 1, 1], weights([4, 4, 1, 1])),
      ...(by.scales ? [floats("scales", [4], by.scales)] : []), ...(by.sizes ? [{ name: "sizes", dims: [4], data_type: 7, int64_data: by.sizes }] : []),
    ],
    opset: 13,
  });
  const CASES: [string, Attr[], { scales?: number[]; sizes?: number[] }][] = [
    ["nearest ×2", [str("mode", "nearest")], { scales: [1, 1, 2, 2] }],
    ["nearest to 7×13, asymmetric, floor", [str("mode", "nearest"), str("coordinate_transformation_mode", "asymmetric"), str("nearest_mode", "floor")], { sizes: [2, 4, 7, 13] }],
    ["bilinear ×2, align_corners", [str("mode", "linear"), str("coordinate_transformation_mode", "align_corners")], { scales: [1, 1, 2, 2] }],
    ["bilinear to 8×9, half_pixel", [str("mode", "linear")], { sizes: [2, 4, 8, 9] }],
    ["cubic ×1.5", [str("mode", "cubic")], { scales: [1, 1, 1.5, 1.5] }],
  ];
  it.each(CASES)("%s: onnxruntime's output, no transposes around it, gradients as finite differences", async (title, attrs, by) => {
    const bytes = file(attrs, by);
    const input = Float32Array.from(weights([2, 3, 5, 6]));
    await agreesWithOrt(bytes, input, [2, 3, 5, 6]);
    const imported = fromOnnx(bytes);
    const x = tensor(input, { shape: [2, 3, 5, 6] });
    const y = imported.predict(x);
    expect(transposes(() => imported.predict(x).dispose())).toEqual(["2×3×5×6", [2, ...y.shape.slice(2), 4].join("×")]);
    y.dispose();
    const small = tensor(input.subarray(0, 90), { shape: [1, 3, 5, 6] });
    // Nearest and linear on the image kernels; cubic by the plan's gathers.
    const ops = opsBehind(imported.call(x));
    expect(ops.has("resizeImages")).toBe(!title.startsWith("cubic"));
    const report = gradcheck(() => imported.call(small).square().sum(), imported.parameters());
    expect(report.ok, JSON.stringify(report.worst)).toBe(true);
    imported.dispose();
  });
});

describe("Upsample (opsets 7–9) on channels-last activations", () => {
  it.each(["nearest", "linear"])("%s ×2 then ×3: onnxruntime's output, on the image kernels, no transposes around it", async (mode) => {
    const random = rng(14);
    const weights = (dims: number[]) => Array.from({ length: dims.reduce((a, b) => a * b) }, () => random() - 0.5);
    const bytes = model({
      nodes: [node("Conv", ["x", "w1"], ["a"]), node("Upsample", ["a", "s"], ["u"], [str("mode", mode)]), node("Conv", ["u", "w2"], ["y"])],
      inputs: [value("x", FLOAT, [2, 3, 4, 5])],
      outputs: [value("y", FLOAT, [2, 4, 8, 15])],
      initializers: [floats("w1", [4, 3, 1, 1], weights([4, 3, 1, 1])), floats("s", [4], [1, 1, 2, 3]), floats("w2", [4, 4, 1, 1], weights([4, 4, 1, 1]))],
      opset: 9,
    });
    const input = Float32Array.from(weights([2, 3, 4, 5]));
    await agreesWithOrt(bytes, input, [2, 3, 4, 5]);
    const imported = fromOnnx(bytes);
    const x = tensor(input, { shape: [2, 3, 4, 5] });
    imported.predict(x).dispose();
    expect(transposes(() => imported.predict(x).dispose())).toEqual(["2×3×4×5", "2×8×15×4"]);
    const ops = opsBehind(imported.call(x));
    expect(ops.has("resizeImages")).toBe(true);
    imported.dispose();
  });
});
