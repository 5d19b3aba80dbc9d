// All or nothing on an imported model (the PyTorch backbone of the transfer task: Conv, BatchNorm
// with running statistics, Gemm): a fromOnnx, freeze, load or fit that fails changes nothing — not
// a weight, not a running statistic, not a frozen flag, not an optimiser's state, not the bytes in
// use — and the model and the engine go on working.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  Adam, ArgumentError, FormatError, StateDictError, type Tensor, WasmgradError, getEngine, init, loadModel, readWeights, tensor,
} from "../src/index.js";
import { onnxModelType } from "../src/io/onnx/proto-type.js";
import { type OnnxModel, fromOnnx } from "../src/onnx.js";
import { randomArray, rng } from "./helpers.js";

const FILE = new Uint8Array(readFileSync(join(__dirname, "../examples/transfer/backbone.onnx")));
const bytesInUse = () => getEngine().memory.stats().bytesInUse;
const images = (n: number, seed: number) => tensor(randomArray(n * 784, rng(seed)), { shape: [n, 1, 28, 28] });
/** Every parameter and buffer (running statistics too), by name, as plain arrays. */
const state = (m: OnnxModel) => Object.fromEntries(Object.entries(m.stateDict()).map(([n, t]) => [n, Array.from(t.data())]));
const flags = (m: OnnxModel) => m.namedParameters().map(([n, t]) => [n, t.frozen, t.requiresGrad]);

/** The backbone file with its graph changed by `edit` (decoded and encoded again). */
function edited(edit: (graph: { node: { op_type: string; input: string[] }[]; initializer: { raw_data?: Uint8Array }[] }) => void): Uint8Array {
  const type = onnxModelType();
  const model = type.decode(FILE) as { graph: Parameters<typeof edit>[0] };
  edit(model.graph);
  return type.encode(model).finish();
}

beforeAll(async () => {
  await init();
});

describe("a failing fromOnnx leaves nothing behind", () => {
  it("refusals found after the weights are in Wasm memory (the last node) free them all; the good file still imports the same model", () => {
    const x = images(2, 1);
    const first = fromOnnx(FILE);
    const y0 = first.predict(x);
    const expected = Array.from(y0.data());
    y0.dispose();
    first.dispose();
    const before = bytesInUse();
    const damaged: [string, Uint8Array, RegExp][] = [
      ["an unknown op at the end", edited((g) => void (g.node.at(-1)!.op_type = "Frobnicate")), /Frobnicate/],
      ["the last node reading a tensor nothing makes", edited((g) => void (g.node.at(-1)!.input[0] = "nowhere")), /nowhere/],
      ["the last initialiser's bytes cut short", edited((g) => void (g.initializer.at(-1)!.raw_data = g.initializer.at(-1)!.raw_data!.slice(0, 6))), /bytes|elements/],
      ["the file cut at 97 %", FILE.slice(0, Math.floor(FILE.length * 0.97)), /truncated|end of|past/],
    ];
    for (const [what, bytes, message] of damaged) {
      let error: unknown;
      try {
        fromOnnx(bytes);
      } catch (e) {
        error = e;
      }
      expect(error, what).toBeInstanceOf(WasmgradError);
      expect((error as Error).message, what).toMatch(message);
      expect(bytesInUse(), what).toBe(before);
    }
    const again = fromOnnx(FILE);
    const y = again.predict(x);
    expect(Array.from(y.data())).toEqual(expected);
    y.dispose();
    again.dispose();
    expect(bytesInUse()).toBe(before);
  });
});

describe("a failing freeze freezes nothing", () => {
  it("a list with one glob that matches nothing, junk patterns and junk trainable are refused by name with every flag and gradient as it was", () => {
    const model = fromOnnx(FILE);
    model.freeze("features.0.*");
    const x = images(2, 2);
    model.train();
    model.call(x).sum().backward();
    const grads = model.namedParameters().map(([n, t]) => [n, t.grad ? Array.from(t.grad.data()) : null]);
    const before = flags(model);
    expect(() => model.freeze(["features.4.*", "featurs.5.*"])).toThrow(/"featurs\.5\.\*" matches no parameter, so nothing changed/);
    expect(() => model.unfreeze(["features.0.*", "head.*"])).toThrow(ArgumentError);
    expect(() => model.freeze([])).toThrow(ArgumentError);
    expect(() => model.freeze(["features.4.*", 3 as never])).toThrow(ArgumentError);
    expect(() => {
      model.trainable = "no" as never;
    }).toThrow(ArgumentError);
    expect(flags(model)).toEqual(before);
    expect(model.namedParameters().map(([n, t]) => [n, t.grad ? Array.from(t.grad.data()) : null])).toEqual(grads);
    model.dispose();
  });
});

describe("a failing load loads nothing", () => {
  it("a state dict with a wrong shape, a missing or unknown name, or a non-tensor changes no weight and no running statistic", () => {
    const model = fromOnnx(FILE);
    const other = fromOnnx(FILE);
    other.parameters().forEach((p, i) => p.set(randomArray(p.size, rng(i + 10))));
    const good = other.stateDict();
    const before = state(model);
    const bad: [string, Record<string, Tensor>][] = [
      ["a wrong shape last", { ...good, "fc.weight": tensor(new Float32Array(7)) }],
      ["a running statistic missing", Object.fromEntries(Object.entries(good).filter(([n]) => n !== "features.9.running_var"))],
      ["an unknown name", { ...good, "features.99.weight": tensor([1]) }],
      ["a non-tensor", { ...good, "features.1.bias": [1, 2, 3] as never }],
    ];
    for (const [what, dict] of bad) {
      expect(() => model.loadStateDict(dict), what).toThrow(what === "a non-tensor" ? WasmgradError : StateDictError);
      expect(state(model), what).toEqual(before);
    }
    model.loadStateDict(good); // and the good one loads whole
    expect(state(model)).toEqual(state(other));
    model.dispose();
    other.dispose();
  });

  it("its saved bytes are refused by loadModel with the way to load them, and that way gives the same model; damaged bytes leave no memory", async () => {
    const model = fromOnnx(FILE);
    model.parameters().forEach((p, i) => p.set(randomArray(p.size, rng(i + 20))));
    const saved = model.save();
    const before = bytesInUse();
    await expect(loadModel(saved)).rejects.toThrow(/an imported ONNX model; import its file again with fromOnnx\(\), then model\.loadStateDict\(readWeights\(bytes\)\)/);
    for (const cut of [0.1, 0.5, 0.99]) {
      expect(() => readWeights(saved.slice(0, Math.floor(saved.length * cut)))).toThrow(FormatError);
    }
    expect(bytesInUse()).toBe(before);
    const again = fromOnnx(FILE);
    again.loadStateDict(readWeights(saved));
    expect(state(again)).toEqual(state(model));
    model.dispose();
    again.dispose();
  });
});

describe("a failing fit trains nothing", () => {
  it("bad labels, bad options and bad validation data change no weight, no running statistic and no optimiser state, in training mode with BatchNorm", () => {
    const model = fromOnnx(FILE, { batchStatistics: true }); // its BatchNorms update their running statistics as they train
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    model.compile({ loss: "crossEntropy", optimizer });
    const x = images(12, 3);
    const labels = Array.from({ length: 12 }, (_, i) => i % 5);
    model.fitSync(x, tensor(labels), { epochs: 1, batchSize: 4, verbose: false }); // the optimiser has state now
    const before = state(model);
    const steps = optimizer.steps;
    const moments = () => [...(optimizer as unknown as { state: Map<Tensor, Tensor[]> }).state.values()].flat().map((t) => Array.from(t.data()));
    const momentsBefore = moments();
    const refusals: [string, () => unknown, new (...a: never[]) => Error][] = [
      ["a label out of range in the last batch", () => model.fitSync(x, tensor([...labels.slice(0, 11), 5]), { batchSize: 4, verbose: false }), ArgumentError],
      ["too few labels", () => model.fitSync(x, tensor(labels.slice(0, 11)), { verbose: false }), WasmgradError],
      ["samples of the wrong shape", () => model.fitSync(tensor(new Float32Array(12 * 2 * 784), { shape: [12, 2, 28, 28] }), tensor(labels), { verbose: false }), WasmgradError],
      ["a bad batch size", () => model.fitSync(x, tensor(labels), { batchSize: 0, verbose: false }), ArgumentError],
      ["bad validation data", () => model.fitSync(x, tensor(labels), { validationData: [x, tensor([1, 2])], verbose: false }), WasmgradError],
    ];
    for (const [what, run, type] of refusals) {
      expect(run, what).toThrow(type);
      expect(state(model), what).toEqual(before);
      expect(optimizer.steps, what).toBe(steps);
      expect(moments(), what).toEqual(momentsBefore);
    }
    // It still trains: one good epoch moves the weights and the running statistics.
    model.fitSync(x, tensor(labels), { epochs: 1, batchSize: 4, verbose: false });
    const after = state(model);
    expect(after["fc.weight"]).not.toEqual(before["fc.weight"]);
    expect(after["features.1.running_mean"]).not.toEqual(before["features.1.running_mean"]);
    model.dispose();
  });
});
