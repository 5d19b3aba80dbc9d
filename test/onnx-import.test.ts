// fromOnnx on graphs written here: the file checked before anything is built (versions, order,
// types), shape subgraphs evaluated with a dynamic batch axis, initialisers read as parameters or
// buffers, and gradients reaching every trained initialiser of an imported graph.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-web";
import { beforeAll, describe, expect, it } from "vitest";
import { Adam, ArgumentError, FormatError, gradcheck, init, tensor } from "../src/index.js";
import { fromOnnx, inspectOnnx, supportedOnnxOps, toOnnx } from "../src/onnx.js";
import { type Attr, FLOAT, INT64, floats, int, int64s, ints, model, node, str, value } from "./onnx-builder.js";

beforeAll(async () => {
  await init();
  ort.env.wasm.numThreads = 1;
});

const relu = (opts: { opset?: number; ir?: number } = {}) =>
  model({ nodes: [node("Relu", ["x"], ["y"])], inputs: [value("x", FLOAT, [2])], outputs: [value("y", FLOAT, [2])], ...opts });

describe("fromOnnx checks the file before it builds anything", () => {
  it("reads opsets 6 to 28 and IR versions 3 to 14, and refuses future ones by name", () => {
    for (const opset of [6, 9, 13, 17, 21, 28]) expect(Array.from(fromOnnx(relu({ opset })).forward(tensor([-1, 2])).data())).toEqual([0, 2]);
    expect(() => fromOnnx(relu({ opset: 99 }))).toThrow(FormatError);
    expect(() => fromOnnx(relu({ opset: 99 }))).toThrow(/default-domain opset 99; wasmgrad reads opsets 6 to 28/);
    expect(() => fromOnnx(relu({ opset: 5 }))).toThrow(/opset 5/);
    expect(() => fromOnnx(relu({ ir: 99 }))).toThrow(/IR version 99/);
  });

  it("refuses an integer input feeding a float op, naming the node and the input", () => {
    const bytes = model({
      nodes: [node("Conv", ["x", "w"], ["y"])],
      inputs: [value("x", INT64, [1, 1, 3, 3])], outputs: [value("y", FLOAT, [1, 1, 3, 3])],
      initializers: [floats("w", [1, 1, 1, 1], [2])],
    });
    expect(() => fromOnnx(bytes)).toThrow(/node y \(Conv\): input 0 \(x\) is int64; Conv takes floats there/);
  });

  it("refuses nodes out of order, a cycle, an input nothing produces, and an output defined twice", () => {
    const outOfOrder = model({ nodes: [node("Relu", ["h"], ["y"]), node("Relu", ["x"], ["h"])], inputs: [value("x", FLOAT, [2])], outputs: [value("y", FLOAT, [2])] });
    expect(() => fromOnnx(outOfOrder)).toThrow(/input h is computed by a later node \(the nodes are not in topological order, or they form a cycle\)/);
    const cycle = model({ nodes: [node("Add", ["x", "b"], ["a"]), node("Relu", ["a"], ["b"])], inputs: [value("x", FLOAT, [2])], outputs: [value("b", FLOAT, [2])] });
    expect(() => fromOnnx(cycle)).toThrow(/input b is computed by a later node/);
    const dangling = model({ nodes: [node("Add", ["x", "nowhere"], ["y"])], inputs: [value("x", FLOAT, [2])], outputs: [value("y", FLOAT, [2])] });
    expect(() => fromOnnx(dangling)).toThrow(/input nowhere is no graph input, initializer or node output/);
    const twice = model({ nodes: [node("Relu", ["x"], ["y"]), node("Neg", ["x"], ["y"])], inputs: [value("x", FLOAT, [2])], outputs: [value("y", FLOAT, [2])] });
    expect(() => fromOnnx(twice)).toThrow(/output y is already defined/);
  });

  it("refuses a ConvTranspose's bad pads and an unknown auto_pad, as a Conv's", () => {
    const convT = (attribute: Attr[]) => model({
      nodes: [node("ConvTranspose", ["x", "w"], ["y"], attribute)],
      inputs: [value("x", FLOAT, [1, 1, 3, 3])], outputs: [value("y", FLOAT, [1, 1, 5, 5])],
      initializers: [floats("w", [1, 1, 3, 3], new Array(9).fill(1))],
    });
    const run = (attribute: Attr[]) => fromOnnx(convT(attribute)).forward(tensor(new Array(9).fill(1), { shape: [1, 1, 3, 3] }));
    expect(run([]).shape).toEqual([1, 1, 5, 5]);
    expect(() => run([ints("pads", [1, -1, 1, 0])])).toThrow(/node y \(ConvTranspose\): pads \[1,-1,1,0\] for 2 spatial axes/);
    expect(() => run([ints("pads", [1, 1])])).toThrow(/pads \[1,1\] for 2 spatial axes/);
    expect(() => run([{ name: "auto_pad", type: 3, s: new TextEncoder().encode("SAME") }])).toThrow(/auto_pad SAME/);
  });

  it("refuses bad options and bad inputs by name, and cuts the graph at any named tensor", () => {
    expect(() => fromOnnx(relu(), { batchStatistics: "yes" as never })).toThrow(/options.batchStatistics/);
    expect(() => fromOnnx(relu(), { outputs: [] })).toThrow(/outputs must name at least one tensor/);
    const m = fromOnnx(relu());
    expect(() => m.run([1, 2] as never)).toThrow(/input x must be a Tensor, got an array of 2/);
    expect(() => m.run()).toThrow(/expected 1 inputs \(x\), got 0/);
    const twoSteps = model({ nodes: [node("Neg", ["x"], ["h"]), node("Relu", ["h"], ["y"])], inputs: [value("x", FLOAT, [2])], outputs: [value("y", FLOAT, [2])] });
    const cut = fromOnnx(twoSteps, { outputs: ["h"] });
    expect(cut.outputNames).toEqual(["h"]);
    expect(Array.from(cut.forward(tensor([-1, 2])).data())).toEqual([1, -2]);
  });

  it("reads opset 6's broadcast attribute: B aligned with A's axes from `axis`", () => {
    const bytes = model({
      opset: 6, ir: 3,
      nodes: [node("Add", ["a", "b"], ["y"], [int("broadcast", 1), int("axis", 1)])],
      inputs: [value("a", FLOAT, [2, 3, 4]), value("b", FLOAT, [3])], outputs: [value("y", FLOAT, [2, 3, 4])],
    });
    const y = fromOnnx(bytes).forward(tensor(new Array(24).fill(0), { shape: [2, 3, 4] }), tensor([1, 2, 3]));
    expect(Array.from(y.data())).toEqual([0, 1].flatMap(() => [1, 2, 3].flatMap((v) => [v, v, v, v])));
  });

  it("names an op it cannot run, and the attribute it cannot read", () => {
    const unknown = model({ nodes: [node("Einsum", ["x"], ["y"])], inputs: [value("x", FLOAT, [2])], outputs: [value("y", FLOAT, [2])] });
    expect(() => fromOnnx(unknown)).toThrow(/node y \(Einsum\): op Einsum is not supported/);
    const antialiased = model({
      nodes: [node("Resize", ["x", "", "s"], ["y"], [str("mode", "linear"), int("antialias", 1)])],
      inputs: [value("x", FLOAT, [1, 1, 4, 4])], outputs: [value("y", FLOAT, [1, 1, 2, 2])], initializers: [floats("s", [4], [1, 1, 0.5, 0.5])],
    });
    expect(() => fromOnnx(antialiased)).toThrow(/node y \(Resize\): antialias 1/);
  });
});

describe("shape subgraphs", () => {
  // y = reshape(x, [batch, -1]) with the batch read from x's shape: Shape → Gather → Unsqueeze → Concat → Reshape, as PyTorch exports a flatten.
  const flatten = model({
    nodes: [
      node("Shape", ["x"], ["shape"]),
      node("Gather", ["shape", "zero"], ["batch"], [int("axis", 0)]),
      node("Unsqueeze", ["batch", "axes"], ["batch1"]),
      node("Concat", ["batch1", "minus1"], ["target"], [int("axis", 0)]),
      node("Reshape", ["x", "target"], ["flat"]),
      node("MatMul", ["flat", "w"], ["y"]),
    ],
    inputs: [value("x", FLOAT, ["batch", 2, 3])], outputs: [value("y", FLOAT, ["batch", 1])],
    initializers: [{ name: "zero", dims: [], data_type: INT64, int64_data: [0] }, int64s("axes", [0]), int64s("minus1", [-1]), floats("w", [6, 1], [1, 2, 3, 4, 5, 6])],
  });

  it("keep a dynamic batch axis working, batch after batch", () => {
    const m = fromOnnx(flatten);
    expect(m.namedParameters().map(([n]) => n)).toEqual(["w"]);
    for (const batch of [1, 3, 1, 5]) {
      const x = tensor(Array.from({ length: batch * 6 }, (_, i) => i % 6), { shape: [batch, 2, 3] });
      const y = m.forward(x);
      expect(y.shape).toEqual([batch, 1]);
      expect(Array.from(y.data())).toEqual(new Array(batch).fill(0 * 1 + 1 * 2 + 2 * 3 + 3 * 4 + 4 * 5 + 5 * 6));
    }
  });

  it("take integer ids as input (an embedding lookup by Gather)", () => {
    const bytes = model({
      nodes: [node("Gather", ["table", "ids"], ["y"], [int("axis", 0)])],
      inputs: [value("ids", INT64, ["n"])], outputs: [value("y", FLOAT, ["n", 2])],
      initializers: [floats("table", [3, 2], [0, 1, 10, 11, 20, 21])],
    });
    const m = fromOnnx(bytes);
    expect(Array.from(m.forward(tensor([2, 0, 2])).data())).toEqual([20, 21, 0, 1, 20, 21]);
    expect(() => m.forward(tensor([0.5]))).toThrow(/the ids must hold integers/);
    const loss = m.forward(tensor([2, 0, 2])).sum();
    loss.backward();
    expect(Array.from(m.namedParameters()[0][1].grad!.data())).toEqual([1, 1, 0, 0, 2, 2]);
  });
});

describe("index maps remembered per input shape", () => {
  it("a Resize (linear) and a Tile run on shapes taken by turns give what a fresh model gives for each", () => {
    const bytes = model({
      nodes: [node("Resize", ["x", "", "s"], ["r"], [{ name: "mode", type: 3, s: new TextEncoder().encode("linear") }]), node("Tile", ["r", "reps"], ["y"])],
      inputs: [value("x", FLOAT, [1, 1, "h", "w"])], outputs: [value("y", FLOAT, [1, 2, "H", "W"])],
      initializers: [floats("s", [4], [1, 1, 2, 1.5]), int64s("reps", [1, 2, 1, 1])],
    });
    const input = (h: number, w: number) => tensor(Array.from({ length: h * w }, (_, i) => i * i - 3 * i), { shape: [1, 1, h, w] });
    const fresh = (h: number, w: number) => Array.from(fromOnnx(bytes).forward(input(h, w)).data());
    const [small, large] = [fresh(2, 2), fresh(3, 4)];
    expect(small.length).toBe(2 * 4 * 3);
    const m = fromOnnx(bytes);
    for (const [h, w, want] of [[2, 2, small], [3, 4, large], [2, 2, small], [3, 4, large]] as const) {
      expect(Array.from(m.forward(input(h, w)).data())).toEqual(want);
    }
  });
});

describe("initialisers and gradients", () => {
  const bn = model({
    nodes: [
      node("Conv", ["x", "w", "b"], ["c"], [int("group", 2), ints("pads", [1, 1, 1, 1])]),
      node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["n"]),
      node("Clip", ["n", "lo", "hi"], ["y"]),
    ],
    inputs: [value("x", FLOAT, ["n", 2, 3, 3])], outputs: [value("y", FLOAT, ["n", 4, 3, 3])],
    initializers: [
      floats("w", [4, 1, 3, 3], Array.from({ length: 36 }, (_, i) => Math.sin(i))), floats("b", [4], [0.1, -0.2, 0.3, 0]),
      floats("scale", [4], [1, 2, 0.5, 1]), floats("bias", [4], [0, 0.1, 0.2, 0.3]), floats("mean", [4], [0.1, 0, -0.1, 0.2]), floats("var", [4], [1, 2, 0.5, 1.5]),
      floats("lo", [], [-50]), floats("hi", [], [50]), // no value reaches them: finite differences across a kink would not agree
    ],
  });

  it("running statistics and bounds are buffers, weights, biases and BatchNorm's scale and shift are parameters", () => {
    const m = fromOnnx(bn);
    expect(m.namedParameters().map(([n]) => n)).toEqual(["w", "b", "scale", "bias"]);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(["mean", "var", "lo", "hi"]);
  });

  it("gradients of a grouped conv → BatchNorm → Clip graph match finite differences for the input and every parameter", () => {
    const m = fromOnnx(bn);
    const x = tensor(Array.from({ length: 36 }, (_, i) => Math.cos(i) * 0.5), { shape: [2, 2, 3, 3], requiresGrad: true });
    const params = m.namedParameters().map(([, t]) => t);
    const result = gradcheck((input) => m.forward(input).square().sum(), [x, ...params]);
    expect(result.ok, JSON.stringify(result.worst)).toBe(true);
  });

  it("gradients through a cubic Resize, a tf_crop_and_resize, a float ReduceProd and Mod match finite differences", () => {
    const bytes = model({
      nodes: [
        node("Resize", ["x", "", "s"], ["r"], [str("mode", "cubic"), int("exclude_outside", 1)]),
        node("Resize", ["x", "roi", "", "sizes"], ["c"], [str("mode", "linear"), str("coordinate_transformation_mode", "tf_crop_and_resize"), { name: "extrapolation_value", type: 1, f: 0.25 }]),
        node("Mul", ["r", "w"], ["m"]),
        node("ReduceProd", ["m"], ["p"], [ints("axes", [3]), int("keepdims", 0)]),
        node("Mod", ["c", "k"], ["y"], [int("fmod", 1)]),
      ],
      inputs: [value("x", FLOAT, [1, 1, 3, 3])], outputs: [value("p", FLOAT, []), value("y", FLOAT, [])],
      initializers: [
        floats("s", [4], [1, 1, 1.5, 1.5]), floats("roi", [8], [0, 0, -0.2, 0.1, 1, 1, 0.9, 1.3]), int64s("sizes", [1, 1, 4, 3]),
        floats("w", [4], [0.9, 1.1, 1.2, 0.8]), floats("k", [], [0.7]),
      ],
      opset: 13,
    });
    const m = fromOnnx(bytes);
    const x = tensor(Array.from({ length: 9 }, (_, i) => 1 + 0.3 * Math.sin(i * 1.9)), { shape: [1, 1, 3, 3], requiresGrad: true });
    const params = m.namedParameters().map(([, t]) => t);
    expect(m.namedParameters().map(([n]) => n)).toEqual(["w", "k"]);
    const result = gradcheck((input) => { const o = m.run(input); return o.p.sum().add(o.y.square().sum()); }, [x, ...params]);
    expect(result.ok, JSON.stringify(result.worst)).toBe(true);
  });

  describe("the recurrent ops: gradients to X, W, R, B, P and the initial states match finite differences", () => {
    // seq 3, batch 2, input 3, hidden 2; layout 0 inputs are [seq, batch, ·], layout 1 [batch, seq, ·].
    const T = 3, N = 2, I = 3, H = 2;
    const wave = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 3.7 + i * 1.3) * 0.6);
    const cases: [string, string, number, Attr[], { peepholes?: boolean; cell?: boolean; layout?: number }][] = [
      ["LSTM bidirectional, on the fused kernel", "LSTM", 4, [str("direction", "bidirectional")], {}],
      ["LSTM with peepholes, clip and the last cell state", "LSTM", 4, [{ name: "clip", type: 1, f: 5 }], { peepholes: true, cell: true }],
      ["GRU reverse, reset before the product", "GRU", 3, [str("direction", "reverse")], {}],
      ["GRU, linear before reset, batch-major", "GRU", 3, [int("linear_before_reset", 1), int("layout", 1)], { layout: 1 }],
      ["RNN bidirectional", "RNN", 1, [str("direction", "bidirectional")], {}],
    ];
    for (const [title, op, G, attrs, o] of cases) {
      it(title, () => {
        const dirs = attrs.some((a) => a.name === "direction" && new TextDecoder().decode(a.s) === "bidirectional") ? 2 : 1;
        const lstm = op === "LSTM";
        const stateDims = o.layout ? [N, dirs, H] : [dirs, N, H];
        const inputs = ["x", "W", "R", "B", "", "h0", ...(lstm ? ["c0", o.peepholes ? "P" : ""] : [])];
        const outputs = ["y", "yh", ...(o.cell ? ["yc"] : [])];
        const bytes = model({
          nodes: [node(op, inputs, outputs, [int("hidden_size", H), ...attrs])],
          inputs: [value("x", FLOAT, o.layout ? [N, T, I] : [T, N, I])],
          outputs: outputs.map((name) => value(name, FLOAT, [])),
          initializers: [
            floats("W", [dirs, G * H, I], wave(dirs * G * H * I, 1)), floats("R", [dirs, G * H, H], wave(dirs * G * H * H, 2)),
            floats("B", [dirs, 2 * G * H], wave(dirs * 2 * G * H, 3)), floats("h0", stateDims, wave(dirs * N * H, 4)),
            ...(lstm ? [floats("c0", stateDims, wave(dirs * N * H, 5))] : []), ...(o.peepholes ? [floats("P", [dirs, 3 * H], wave(dirs * 3 * H, 6))] : []),
          ],
          opset: 14,
        });
        const m = fromOnnx(bytes);
        const x = tensor(wave(T * N * I, 7), { shape: o.layout ? [N, T, I] : [T, N, I], requiresGrad: true });
        const params = m.namedParameters().map(([, t]) => t);
        expect(params.length).toBe(inputs.filter((n) => n && n !== "x").length);
        const result = gradcheck((input) => {
          const out = m.run(input);
          return outputs.map((name) => out[name].square().sum()).reduce((a, b) => a.add(b));
        }, [x, ...params]);
        expect(result.ok, JSON.stringify(result.worst)).toBe(true);
        const out = m.run(x);
        expect(out.y.shape).toEqual(o.layout ? [N, T, dirs, H] : [T, dirs, N, H]);
        expect(out.yh.shape).toEqual(stateDims);
      });
    }
  });

  it("BatchNorm on batch statistics only when asked, updating its running ones", () => {
    const m = fromOnnx(bn, { batchStatistics: true });
    const x = tensor(Array.from({ length: 36 }, (_, i) => i / 10), { shape: [2, 2, 3, 3] });
    const before = Array.from(m.namedBuffers()[0][1].data());
    m.eval();
    const inference = Array.from(m.forward(x).data());
    expect(Array.from(m.namedBuffers()[0][1].data())).toEqual(before);
    m.train();
    const training = Array.from(m.forward(x).data());
    expect(training).not.toEqual(inference);
    expect(Array.from(m.namedBuffers()[0][1].data())).not.toEqual(before);
    const frozen = fromOnnx(bn); // the default: running statistics even in training mode
    frozen.train();
    expect(Array.from(frozen.forward(x).data())).toEqual(inference);
  });
});

describe("dispose", () => {
  it("frees the model's initialisers and folded constants, not a tensor bound with options.constants", () => {
    const bytes = model({
      nodes: [node("Constant", [], ["k"], [{ name: "value_float", type: 1, f: 2 }]), node("Mul", ["x", "k"], ["xk"]), node("Add", ["xk", "w"], ["a"]), node("Add", ["a", "bias"], ["y"])],
      inputs: [value("x", FLOAT, [2]), value("bias", FLOAT, [2])], outputs: [value("y", FLOAT, [2])],
      initializers: [floats("w", [2], [1, 2])],
    });
    const bias = tensor([10, 20]);
    const m = fromOnnx(bytes, { constants: { bias } });
    expect(Array.from(m.forward(tensor([1, 1])).data())).toEqual([13, 24]);
    const w = m.namedParameters()[0][1];
    m.dispose();
    expect(w.isDisposed).toBe(true);
    expect(bias.isDisposed).toBe(false);
    expect(Array.from(bias.data())).toEqual([10, 20]);
  });
});

describe("fine-tuning an imported CNN", () => {
  it("fit() trains a Conv → BatchNorm → Relu → GlobalAveragePool → Flatten → Gemm graph: its loss falls, BatchNorm's running statistics stay", async () => {
    const random = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 7.3 + i * 1.7) * 0.5);
    const bytes = model({
      nodes: [
        node("Conv", ["x", "w", "b"], ["c"], [ints("pads", [1, 1, 1, 1])]),
        node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["n"]),
        node("Relu", ["n"], ["r"]),
        node("GlobalAveragePool", ["r"], ["p"]),
        node("Flatten", ["p"], ["f"]),
        node("Gemm", ["f", "fc", "fcb"], ["y"], [int("transB", 1)]),
      ],
      inputs: [value("x", FLOAT, ["n", 1, 6, 6])], outputs: [value("y", FLOAT, ["n", 2])],
      initializers: [
        floats("w", [8, 1, 3, 3], random(72, 1)), floats("b", [8], random(8, 2)), floats("scale", [8], new Array(8).fill(1)), floats("bias", [8], random(8, 3)),
        floats("mean", [8], random(8, 4)), floats("var", [8], new Array(8).fill(1.5)), floats("fc", [2, 8], random(16, 5)), floats("fcb", [2], [0, 0]),
      ],
    });
    const m = fromOnnx(bytes);
    // Two classes: a bright left half, or a bright right half.
    const images: number[] = [], labels: number[] = [];
    for (let i = 0; i < 32; i++) {
      const right = i % 2;
      for (let p = 0; p < 36; p++) images.push(((p % 6 < 3) !== !!right ? 1 : 0) + 0.1 * Math.sin(i * 3.1 + p));
      labels.push(right);
    }
    const x = tensor(images, { shape: [32, 1, 6, 6] }), y = tensor(labels);
    const runningMean = Array.from(m.namedBuffers()[0][1].data());
    m.compile({ loss: "crossEntropy", optimizer: new Adam(m.parameters(), { lr: 0.05 }), metrics: ["accuracy"] });
    const history = await m.fit(x, y, { epochs: 30, batchSize: 8, verbose: false });
    const first = history.epochs[0].loss, last = history.epochs.at(-1)!.loss;
    expect(last).toBeLessThan(first / 4);
    expect(history.epochs.at(-1)!.accuracy).toBe(1);
    expect(Array.from(m.namedBuffers()[0][1].data())).toEqual(runningMean);

    // Sent back: the trained model's file runs in onnxruntime with wasmgrad's outputs, and imports again as the same model.
    m.eval();
    const expected = m.predict(x).data();
    const trained = toOnnx(m);
    const session = await ort.InferenceSession.create(trained);
    const out = await session.run({ x: new ort.Tensor("float32", Float32Array.from(images), [32, 1, 6, 6]) });
    expect(out.y.dims).toEqual([32, 2]);
    const got = out.y.data as Float32Array;
    for (let i = 0; i < expected.length; i++) expect(Math.abs(got[i] - expected[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected[i])));
    const again = fromOnnx(trained);
    expect(again.namedParameters().map(([n, t]) => [n, Array.from(t.data())])).toEqual(m.namedParameters().map(([n, t]) => [n, Array.from(t.data())]));
    expect(Array.from(again.predict(x).data())).toEqual(Array.from(expected));

    // A cut goes out as the cut: its outputs are the named tensor's, and only the weights it reads are in the file.
    const features = fromOnnx(trained, { outputs: ["f"] });
    const cut = await ort.InferenceSession.create(toOnnx(features));
    expect(cut.outputNames).toEqual(["f"]);
    const f = await cut.run({ x: new ort.Tensor("float32", Float32Array.from(images), [32, 1, 6, 6]) });
    expect(f.f.dims).toEqual([32, 8]);
    const mine = features.predict(x).data();
    (f.f.data as Float32Array).forEach((v, i) => expect(Math.abs(v - mine[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(mine[i]))));
    expect(fromOnnx(toOnnx(features)).namedParameters().map(([n]) => n).sort()).toEqual(["b", "bias", "scale", "w"]);
    expect(() => toOnnx(m, { opset: 13 })).toThrow(ArgumentError);
  });
});

describe("inspectOnnx", () => {
  it("lists versions, inputs and outputs with their dims, the parameter count and every node that cannot run, without building", () => {
    const bytes = model({
      nodes: [
        node("Conv", ["x", "w"], ["c"]),
        node("Einsum", ["c"], ["e"]),
        node("Resize", ["e", "", "s"], ["y"], [str("mode", "cubic"), int("antialias", 1)]),
      ],
      inputs: [value("x", FLOAT, ["batch", 1, 4, 4])], outputs: [value("y", FLOAT, ["batch", 2, 8, 8])],
      initializers: [floats("w", [2, 1, 3, 3], new Array(18).fill(0.5)), floats("s", [4], [1, 1, 2, 2])],
    });
    const report = inspectOnnx(bytes);
    expect(report).toEqual({
      irVersion: 8, opset: 17,
      inputs: [{ name: "x", type: "float", dims: ["batch", 1, 4, 4] }],
      outputs: [{ name: "y", type: "float", dims: ["batch", 2, 8, 8] }],
      parameters: 22,
      ops: { Conv: 1, Einsum: 1, Resize: 1 },
      unsupported: [
        { node: "e", op: "Einsum", opset: 17, reason: "op Einsum is not supported" },
        { node: "y", op: "Resize", opset: 17, reason: "antialias 1" },
      ],
    });
    expect(inspectOnnx(relu()).unsupported).toEqual([]);
    expect(() => inspectOnnx(relu({ opset: 99 }))).toThrow(/inspectOnnx: default-domain opset 99/);
    expect(() => inspectOnnx("model.onnx" as never)).toThrow(/expected the model's bytes/);
  });
});

describe("the op table", () => {
  it("lists every op it reads once, with its opsets", () => {
    const ops = supportedOnnxOps();
    expect(new Set(ops.map((o) => o.op)).size).toBe(ops.length);
    for (const op of ["BatchNormalization", "Concat", "LRN", "Sum", "Clip", "HardSwish", "ReduceMean", "Unsqueeze", "Shape", "Gather", "ConvTranspose", "Resize", "Pad"]) {
      expect(ops.map((o) => o.op)).toContain(op);
    }
    expect(ops.find((o) => o.op === "Upsample")).toEqual({ op: "Upsample", since: 7, until: 9 });
  });

  it("is the README's list of supported ops", () => {
    const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8").replace(/\n/g, " ");
    const listed = readme.match(/later than 6\): (.*?)\./)![1].split(", ").map((item) => item.trim());
    const expected = supportedOnnxOps().map((o) => o.op + (o.until ? ` (${o.since}–${o.until})` : o.since > 6 ? ` (${o.since}+)` : ""));
    expect(listed).toEqual(expected);
  });
});

describe("engines", () => {
  it("the tensors a model's steps make (constants, filled shapes, converted integers) live in the model's engine, not the default one", async () => {
    const mine = await init({ build: "simd" });
    await init({ build: "simd" }); // now the default engine is another one
    const bytes = model({
      nodes: [
        node("Constant", [], ["k"], [{ name: "value_float", type: 1, f: 2 }]),
        node("Mul", ["x", "k"], ["a"]),
        node("Shape", ["x"], ["s"]),
        node("ConstantOfShape", ["s"], ["ones"], [{ name: "value", type: 4, t: floats("", [1], [1]) } as never]),
        node("Add", ["a", "ones"], ["b"]),
        node("Cast", ["s"], ["sf"], [int("to", FLOAT)]),
        node("Add", ["b", "sf"], ["y"]),
      ],
      inputs: [value("x", FLOAT, ["n"])], outputs: [value("y", FLOAT, ["n"])],
    });
    const m = fromOnnx(bytes, { engine: mine });
    const y = m.forward(tensor([1, 2], { engine: mine }));
    expect(y.engine).toBe(mine);
    expect(Array.from(y.data())).toEqual([5, 7]); // 2x + 1 + 2
  });
});
