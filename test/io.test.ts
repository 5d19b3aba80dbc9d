// Models that travel: safetensors files any reader can open, save → load round trips with
// bit-identical predictions, training resumed from a file bit-identical to training that never
// stopped, and bad files as typed FormatErrors that leave nothing allocated.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  Adam, Conv2D, Dense, Dropout, type Engine, Flatten, FormatError, Layer, MaxPool2D, Model, RandomShift, SGD, Sequential,
  type Tensor, WasmgradError, init, loadCheckpoint, loadModel, readSafetensors, readWeights, registerLayer, saveModel, tensor,
  writeSafetensors,
} from "../src/index.js";
import { randomArray, rng } from "./helpers.js";

let engine: Engine;
beforeAll(async () => {
  engine = await init();
});

const bytesInUse = () => engine.memory.stats().bytesInUse;
const mlp = (seed = 1) => new Sequential(
  [new Dense(128, { activation: "relu" }), new Dropout(0.2), new Dense(64, { activation: "relu" }), new Dense(10)],
  { inputShape: [784], seed },
);
const lenet = (seed = 1) => new Sequential(
  [
    new RandomShift(1), new Conv2D(6, 5, { padding: "same", activation: "relu" }), new MaxPool2D(2),
    new Conv2D(16, 5, { activation: "relu" }), new MaxPool2D(2), new Flatten(),
    new Dense(120, { activation: "relu" }), new Dense(84, { activation: "relu" }), new Dense(10),
  ],
  { inputShape: [28, 28, 1], seed },
);
/** Frees a loaded model's tensors (parameters and buffers). */
const free = (m: Model) => Object.values(m.stateDict()).forEach((t) => t.dispose());

describe("safetensors", () => {
  it("writes the standard layout: u64 header length, JSON padded to 8 bytes, raw little-endian F32", () => {
    const bytes = writeSafetensors([["a", { shape: [2], data: new Float32Array([1, -2]) }], ["b", { shape: [], data: new Float32Array([0.5]) }]], { note: "hi" });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header).toEqual({ __metadata__: { note: "hi" }, a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [], data_offsets: [8, 12] } });
    expect(Array.from(new Float32Array(bytes.slice(8 + n).buffer))).toEqual([1, -2, 0.5]);
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual({ note: "hi" });
    expect(Array.from(back.tensors.get("a")!.data)).toEqual([1, -2]);
  });

  it("is read by Hugging Face's own safetensors package (Python), where it is installed", () => {
    const python = [join(process.cwd(), ".venv/bin/python")].find(existsSync);
    if (!python && process.env.CI) throw new Error("CI needs .venv with safetensors and numpy (.ci/run makes it)");
    if (!python) return console.warn("skipped: no Python venv with safetensors (.ci/run makes .venv)");
    const model = mlp(3);
    const path = join(mkdtempSync(join(tmpdir(), "wasmgrad-")), "mlp.safetensors");
    writeFileSync(path, model.save());
    const script = "import sys, json; from safetensors.numpy import load_file; from safetensors import safe_open\n" +
      "t = load_file(sys.argv[1]); m = safe_open(sys.argv[1], 'np').metadata()\n" +
      "print(json.dumps({k: [list(v.shape), str(v.dtype), float(v.sum())] for k, v in t.items()} | {'@meta': m['format']}))";
    const seen = JSON.parse(execFileSync(python, ["-c", script, path], { encoding: "utf8" }));
    expect(seen["@meta"]).toBe("wasmgrad");
    for (const [name, t] of Object.entries(model.stateDict())) {
      expect(seen[name][0]).toEqual(t.shape);
      expect(seen[name][1]).toBe("float32");
      expect(seen[name][2]).toBeCloseTo(t.data().reduce((a, b) => a + b, 0), 2);
    }
  });
});

describe("save and load", () => {
  it("the MNIST MLP and LeNet come back with bit-identical predictions", async () => {
    for (const [make, shape] of [[mlp, [784]], [lenet, [28, 28, 1]]] as const) {
      const model = make(7);
      const x = tensor(randomArray(5 * 784, rng(1)), { shape: [5, ...shape] });
      const bytes = model.save();
      const loaded = (await loadModel(bytes)) as Sequential;
      expect(loaded.summary()).toBe(model.summary());
      expect(loaded.predict(x).data()).toEqual(model.predict(x).data());
      expect(Object.keys(loaded.stateDict())).toEqual(Object.keys(model.stateDict()));
    }
  });

  it("loads from an ArrayBuffer, a Blob, a Response, a path and a file: URL", async () => {
    const model = mlp(2);
    const bytes = model.save();
    const dir = mkdtempSync(join(tmpdir(), "wasmgrad-"));
    await saveModel(model, join(dir, "m.safetensors"));
    const sources = [bytes.slice().buffer, new Blob([bytes]), new Response(bytes), join(dir, "m.safetensors"), new URL(`file://${join(dir, "m.safetensors")}`)];
    for (const source of sources) {
      const loaded = await loadModel(source);
      expect(loaded.getWeights()).toEqual(model.getWeights());
      free(loaded);
    }
    await expect(loadModel(join(dir, "missing.safetensors"))).rejects.toThrow(/could not read/);
    await expect(loadModel(42 as never)).rejects.toThrow(/expected bytes, an ArrayBuffer/);
  });

  it("training resumed from a file (3 epochs, save, load, 2 more) is bit-identical to 5 epochs straight", async () => {
    const x = tensor(randomArray(256 * 784, rng(4)), { shape: [256, 784] });
    const y = tensor(Float32Array.from({ length: 256 }, (_, i) => i % 10));
    const options = { batchSize: 32, verbose: false, seed: 9 };
    const straight = mlp(5);
    straight.compile({ loss: "crossEntropy", optimizer: new Adam(straight.parameters(), { lr: 0.002 }) });
    await straight.fit(x, y, { ...options, epochs: 5 });

    const first = mlp(5);
    const optimizer = new Adam(first.parameters(), { lr: 0.002 });
    first.compile({ loss: "crossEntropy", optimizer });
    await first.fit(x, y, { ...options, epochs: 3 });
    const { model, optimizerState } = await loadCheckpoint(first.save({ optimizer }));
    const resumed = new Adam(model.parameters(), { lr: 0.5 }); // the learning rate comes from the file
    resumed.loadStateDict(optimizerState!, model);
    expect(resumed.steps).toBe(3 * 8);
    model.compile({ loss: "crossEntropy", optimizer: resumed });
    await model.fit(x, y, { ...options, epochs: 5, initialEpoch: 3 });
    expect(model.getWeights()).toEqual(straight.getWeights());
  });

  it("LeNet with its augmentation resumes bit-identically too (the shift generator is a saved buffer)", async () => {
    const x = tensor(randomArray(96 * 784, rng(8)), { shape: [96, 28, 28, 1] });
    const y = tensor(Float32Array.from({ length: 96 }, (_, i) => i % 10));
    const options = { batchSize: 16, verbose: false, seed: 2 };
    const straight = lenet(6);
    straight.compile({ loss: "crossEntropy", optimizer: new Adam(straight.parameters(), { lr: 0.001 }) });
    await straight.fit(x, y, { ...options, epochs: 3 });
    const first = lenet(6);
    const optimizer = new Adam(first.parameters(), { lr: 0.001 });
    first.compile({ loss: "crossEntropy", optimizer });
    await first.fit(x, y, { ...options, epochs: 2 });
    expect(Object.keys(first.stateDict())).toContain("randomshift_1.state");
    const { model, optimizerState } = await loadCheckpoint(first.save({ optimizer }));
    const resumed = new Adam(model.parameters());
    resumed.loadStateDict(optimizerState!, model);
    model.compile({ loss: "crossEntropy", optimizer: resumed });
    await model.fit(x, y, { ...options, epochs: 3, initialEpoch: 2 });
    expect(model.getWeights()).toEqual(straight.getWeights());
  });

  it("subclassed models save their weights by name and load into a model you construct", async () => {
    class Net extends Model {
      a = new Dense(4, { activation: "tanh" });
      b = new Dense(2);
      forward(x: Tensor) {
        return this.b.call(this.a.call(x));
      }
    }
    const net = new Net({ seed: 1 }).build([3]);
    const bytes = net.save();
    await expect(loadModel(bytes)).rejects.toThrow(/a subclassed model \(Net\); construct it, then model.loadStateDict/);
    const again = new Net({ seed: 2 }).build([3]);
    again.loadStateDict(readWeights(bytes));
    expect(again.getWeights()).toEqual(net.getWeights());
  });

  it("layers of your own load by architecture once registered", async () => {
    class Scale extends Layer {
      readonly kind = "Scale";
      constructor(readonly factor: number) {
        super();
      }
      build(shape: readonly number[]) {
        return shape;
      }
      forward(x: Tensor) {
        return x.mul(this.factor);
      }
      override config() {
        return { factor: this.factor };
      }
    }
    const model = new Sequential([new Dense(3), new Scale(2)], { inputShape: [2], seed: 1 });
    await expect(loadModel(model.save())).rejects.toThrow(/kind "Scale", which is not built in nor registered/);
    registerLayer("Scale", (c) => new Scale(c.factor as number));
    const loaded = await loadModel(model.save());
    const x = tensor([[1, 2]]);
    expect(loaded.predict(x).data()).toEqual(model.predict(x).data());
    expect(() => registerLayer("Scale", () => new Scale(1))).toThrow(/registered already/);
  });
});

describe("bad files", () => {
  const good = () => new Sequential([new Dense(3), new Dropout(0.5), new Dense(2)], { inputShape: [4], seed: 1 }).save({});
  /** A file with this header (as JSON) and `data` bytes. */
  const withHeader = (header: unknown, data = new Uint8Array(0)) => {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(data, 8 + json.length);
    return out;
  };
  const meta = { format: "wasmgrad", version: "1", architecture: JSON.stringify({ class: "Sequential", inputShape: [1], layers: [{ kind: "Dense", name: "dense_1", config: { units: 1 } }] }) };

  it.each<[string, () => Uint8Array, RegExp]>([
    ["empty", () => new Uint8Array(3), /too short for the 8-byte header length/],
    ["truncated", () => good().subarray(0, 100), /runs past the end|cover|spans bytes/],
    ["header length past the end", () => { const b = good().slice(); new DataView(b.buffer).setBigUint64(0, 1n << 40n, true); return b; }, /runs past the end/],
    ["not JSON", () => withHeader(null).map((v, i) => (i === 8 ? 0x7b : v)), /not UTF-8 JSON/],
    ["offsets out of range", () => withHeader({ a: { dtype: "F32", shape: [1], data_offsets: [0, 8] } }, new Uint8Array(4)), /spans bytes \[0, 8\) of a 4-byte data section/],
    ["overlapping", () => withHeader({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] }, b: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), /overlap/],
    ["a hole", () => withHeader({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /hole/],
    ["wrong dtype", () => withHeader({ a: { dtype: "F16", shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)), /dtype "F16"; wasmgrad reads F32/],
    ["shape that lies", () => withHeader({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /needs 12 bytes, its offsets give 8/],
    ["foreign", () => withHeader({}), /not a wasmgrad model/],
    ["future version", () => withHeader({ __metadata__: { ...meta, version: "9" } }), /version "9"; this wasmgrad reads version 1 \(the file is newer/],
    ["architecture that lies", () => withHeader({ __metadata__: meta }), /the weights do not fit the architecture.*missing: dense_1.weight, dense_1.bias/],
    ["unknown layer", () => withHeader({ __metadata__: { ...meta, architecture: JSON.stringify({ class: "Sequential", inputShape: [1], layers: [{ kind: "Nope" }] }) } }), /kind "Nope"/],
    ["bad layer config", () => withHeader({ __metadata__: { ...meta, architecture: JSON.stringify({ class: "Sequential", inputShape: [1], layers: [{ kind: "Dense", config: { units: -1 } }] }) } }), /cannot be made from its config: Dense: units must be a positive integer/],
  ])("%s → FormatError, nothing left allocated", async (_, make, message) => {
    const bytes = make();
    const before = bytesInUse();
    const error = await loadModel(bytes).catch((e) => e);
    expect(error).toBeInstanceOf(FormatError);
    expect(error.message).toMatch(message);
    expect(bytesInUse()).toBe(before);
  });

  it("fuzz: 2,400 truncations and bit flips of real files: a FormatError or a valid model, never anything else", async () => {
    const files = [good(), new Sequential([new Conv2D(2, 3), new Flatten(), new Dense(2)], { inputShape: [5, 5, 1], seed: 2 }).save({ optimizer: undefined })];
    const optimizerFile = (() => {
      const m = new Sequential([new Dense(2)], { inputShape: [3], seed: 1 });
      const o = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
      m.compile({ loss: "mse", optimizer: o });
      m.fitSync(tensor([[1, 2, 3]]), tensor([[1, 0]]), { verbose: false });
      return m.save({ optimizer: o });
    })();
    files.push(optimizerFile);
    const random = rng(20261125);
    let typed = 0, valid = 0;
    for (let i = 0; i < 2400; i++) {
      const source = files[i % files.length];
      const bytes = source.slice(0, i % 4 === 0 ? Math.floor(random() * source.length) : source.length);
      const flips = i % 4 === 0 ? 0 : 1 + Math.floor(random() * 3);
      for (let f = 0; f < flips && bytes.length > 0; f++) bytes[Math.floor(random() * bytes.length)] ^= 1 << Math.floor(random() * 8);
      const before = bytesInUse();
      try {
        const { model, optimizerState } = await loadCheckpoint(bytes);
        valid++;
        free(model);
        if (optimizerState) Object.values(optimizerState.state).forEach((s) => Object.values(s).forEach((t) => t.dispose()));
      } catch (e) {
        if (!(e instanceof WasmgradError)) throw new Error(`case ${i}: untyped ${String(e)}`);
        typed++;
      }
      expect(bytesInUse()).toBe(before);
    }
    expect(typed + valid).toBe(2400);
    expect(typed).toBeGreaterThan(500);
  });
});
