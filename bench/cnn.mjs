// CNN suite (issue 21): forward latency of six ImageNet CNNs at 224×224, batch 1 and 8, for
// wasmgrad and onnxruntime-web on the same ONNX files (seeded weights: scripts/model-zoo.py and
// bench/cnn-models.py make them), at one thread and at --threads N; single layers of the other
// conv kinds (MobileNetV2's depthwise layers, a 1-D stack, an atrous 3×3, a ConvTranspose, Resize
// up blocks) against ORT-web; a fine-tuning step (batch 16, every layer training, BatchNorm frozen) of MobileNetV2 at
// 128×128 and ResNet-18 at 112×112 against PyTorch CPU eager on one thread (timed by
// bench/cnn-models.py on this machine, in the same run), each step kernel by kernel, and its
// memory; and ResNet-50's standard conv shapes in GFLOP/s beside the GEMM of the same product.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SGD, conv2d, crossEntropy, init, noGrad, tensor, withArena } from "../dist/index.js";
import { fromOnnx } from "../dist/onnx.js";
import { threadsAsked, wasmgradEngines } from "./engines.mjs";
import { gflops, measure, perSecond, timeCalls } from "./measure.mjs";

export const describe = () => ({ peer: ["ort-web", "pytorch-cpu"] });

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MODELS_DIR = join(ROOT, "bench", ".models");
const PYTHON = join(ROOT, ".venv", "bin", "python");
const FORWARD = [
  ["ResNet-50", "zoo-resnet50"], ["MobileNetV2", "mobilenetv2"], ["SqueezeNet", "zoo-squeezenet"],
  ["ShuffleNet", "zoo-shufflenet"], ["DenseNet-121", "zoo-densenet121"], ["Inception v1", "zoo-inception_v1"],
];
const FINETUNE = [["MobileNetV2 128×128", "mobilenetv2-train"], ["ResNet-18 112×112", "resnet18-train"]];
// MobileNetV2's depthwise 3×3 layers at 224×224, one Conv each (bench/cnn-models.py): channels, size, stride.
// And the other conv kinds: WaveNet's 1-D stack (64 channels, kernel 3, dilations 1–8, 16,000
// samples), DeepLab's atrous 3×3 (dilation 2), U-Net's up-convolution, and an up block with
// Resize. Each runs alone, batch 1.
const LAYERS = [[32, 112, 1], [96, 112, 2], [144, 56, 1], [144, 56, 2], [192, 28, 1], [384, 14, 1], [576, 14, 2], [960, 7, 1]]
  .map(([c, size, stride]) => ({ label: `depthwise 3×3/${stride} ${size}×${size}×${c}`, name: `dw-${c}-${size}-${stride}`, image: `${c}×${size}×${size}` }))
  .concat([
    { label: "1-D conv ×4 (k 3, dilations 1–8) 16000×64", name: "conv1d-stack", image: "64×16000" },
    { label: "atrous 3×3 dilation 2 28×28×256", name: "atrous-256-28", image: "256×28×28" },
    { label: "ConvTranspose 2×2/2 56×56×128→64", name: "upconv-128-56", image: "128×56×56" },
    ...["nearest", "bilinear"].map((mode) => ({ label: `Conv, Resize ×2 ${mode}, Conv 28×28×128→64`, name: `upsample-${mode}-128-28`, image: "128×28×28" })),
  ]);

/** The ONNX files and PyTorch's fine-tuning rates, made by the Python scripts (PyTorch's timed now, on this machine). */
function prepare(log) {
  if (!existsSync(PYTHON)) throw new Error("the cnn suite needs .venv with torch, onnx and onnxruntime (see .ci/run)");
  const run = (script, ...args) => {
    const r = spawnSync(PYTHON, [join(ROOT, script), ...args], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${script} failed`);
  };
  if (!existsSync(join(ROOT, "test", ".onnx-cases", "zoo_resnet50_opset17"))) {
    log("cnn: writing the model zoo's files (scripts/model-zoo.py)");
    run("scripts/model-zoo.py", "resnet50", "squeezenet", "shufflenet", "densenet121", "inception_v1");
  }
  log("cnn: PyTorch's models and its fine-tuning step, one thread (bench/cnn-models.py)");
  run("bench/cnn-models.py");
  return JSON.parse(readFileSync(join(MODELS_DIR, "torch-finetune.json"), "utf8"));
}

const file = (name) => join(MODELS_DIR, `${name}.onnx`);

/** Floating-point operations of one kernel call, from its arguments (kernels.ts's order). */
const FLOPS = {
  sgemm: ([, , m, n, k]) => 2 * m * n * k,
  convWeightGrad: ([, n, , , c, kh, kw, , oh, ow, , filters]) => 2 * n * oh * ow * kh * kw * c * filters,
  depthwiseConv: ([, n, , , c, mult, , kh, kw, , , , , ow, r0, r1]) => 2 * n * (r1 - r0) * ow * c * mult * kh * kw,
  depthwiseConvInputGrad: ([, n, h, , c, mult, , kh, kw, , , , oh, ow, r0, r1]) => (2 * n * oh * ow * c * mult * kh * kw * (r1 - r0)) / h,
  depthwiseConvWeightGrad: ([, n, , , c, mult, kh, kw, , , , oh, ow]) => 2 * n * oh * ow * c * mult * kh * kw,
};

/**
 * A fine-tuning step's memory on an engine of its own (so nothing run before counts), each step in
 * the step arena as fit() runs it: the peak bytes in use over four steps above what the model
 * holds before its first, beside PyTorch's peak
 * RSS growth over the same four steps (bench/cnn-models.py); and whether the Wasm memory grows after
 * the first step (its capacity after each).
 */
async function* stepMemory(bytes, spec, label, build) {
  const engine = await init({ build, threads: 1 });
  const model = fromOnnx(bytes, { engine });
  model.freeze(spec.frozen);
  model.train();
  const optimizer = new SGD(model.trainableParameters(), { lr: 0.01, momentum: 0.9 });
  const x = images(16, spec.size, engine);
  const y = tensor(Float32Array.from({ length: 16 }, (_, i) => (i * 37) % 1000), { engine });
  const before = engine.memory.stats().bytesInUse;
  const capacities = [];
  for (let i = 0; i < 4; i++) {
    // In the step arena, as fit() runs a step: from the second step on it allocates nothing.
    withArena(() => {
      optimizer.zeroGrad();
      crossEntropy(model.call(x), y).backward();
      optimizer.step();
    }, engine);
    capacities.push(engine.memory.stats().capacityBytes);
  }
  const peak = engine.memory.stats().peakBytes - before;
  const mib = (b) => b / 2 ** 20;
  const kase = `${label} fine-tuning step batch 16: peak memory above the model's`;
  yield { suite: "cnn", case: kase, impl: `wasmgrad-${build}`, metric: "MiB", median: mib(peak), min: mib(peak), max: mib(peak),
    note: `${label}: Wasm memory after steps 1 to 4, ${capacities.map((c) => mib(c).toFixed(0)).join(", ")} MiB` };
  yield { suite: "cnn", case: kase, impl: "pytorch-cpu", metric: "MiB", median: mib(spec.peakStepBytes), min: mib(spec.peakStepBytes), max: mib(spec.peakStepBytes), note: "PyTorch: peak RSS growth over 4 steps, in a forked process" };
  model.dispose();
  engine.dispose();
}

/**
 * Where a training step goes, kernel by kernel (every call timed, as the profile suite does):
 * each kernel's share of the step, and the GFLOP/s of the convolution kernels (the GEMM: the
 * pointwise and im2col convolutions and the head; the direct depthwise kernels; ∂W of the
 * standard ones); what no kernel accounts for is JavaScript.
 */
async function* kernelShares(engine, step, label, impl) {
  const spent = new Map(), flops = new Map();
  const kernels = engine.kernels;
  engine.kernels = { ...kernels };
  timeCalls(engine.kernels, spent, FLOPS, flops);
  const runners = engine.runners;
  engine.runners = { ...runners };
  timeCalls(engine.runners, spent, FLOPS, flops);
  const steps = 3, started = performance.now();
  for (let i = 0; i < steps; i++) step();
  const stepMs = (performance.now() - started) / steps;
  engine.kernels = kernels;
  engine.runners = runners;
  const row = (what, metric, median) => ({ suite: "cnn", case: `${label} step by kernel: ${what}`, impl, metric, median, min: median, max: median });
  yield row("whole step", "ms", stepMs);
  let shownMs = 0;
  for (const [name, ms] of [...spent].sort((a, b) => b[1] - a[1])) {
    if (ms / steps / stepMs < 0.01) continue;
    shownMs += ms / steps;
    const rate = flops.has(name) ? `, ${(flops.get(name) / ms / 1e6).toFixed(1)} GFLOP/s` : "";
    yield row(`${name} (${((100 * ms) / steps / stepMs).toFixed(1)}% of the step${rate})`, "ms", ms / steps);
  }
  yield row(`JavaScript, and kernels under 1% each (${((100 * (stepMs - shownMs)) / stepMs).toFixed(1)}%)`, "ms", stepMs - shownMs);
}
const images = (batch, size, engine) => tensor(Float32Array.from({ length: batch * 3 * size * size }, (_, i) => Math.sin(i)), { shape: [batch, 3, size, size], engine });

export async function* run(log) {
  const torch = prepare(log);
  const all = await wasmgradEngines();
  // The fastest build this host runs, and that build on N threads.
  const best = all.some(([name]) => name.includes("relaxed")) ? "relaxed" : "simd";
  const engines = all.filter(([name]) => name.includes(best));

  for (const [label, name] of FORWARD) {
    for (const [impl, engine] of engines) {
      const model = fromOnnx(readFileSync(file(name)), { engine });
      for (const batch of [1, 8]) {
        log(`cnn: ${label} batch ${batch}, ${impl}`);
        const x = images(batch, 224, engine);
        const t = await measure(() => model.predict(x).dispose(), { time: 0, iterations: batch === 1 ? 5 : 3 });
        x.dispose();
        yield { suite: "cnn", case: `${label} forward batch ${batch}`, impl, metric: "ms", ...t };
      }
      model.dispose();
    }
  }
  // MobileNetV2's depthwise layers one by one and the 1-D and dilated ones, batch 1, one thread (ORT-web's below, in its one-thread run).
  const [, oneEngine] = engines[0];
  for (const { label, name, image } of LAYERS) {
    const model = fromOnnx(readFileSync(file(name)), { engine: oneEngine });
    const x = tensor(Float32Array.from({ length: image.split("×").reduce((a, d) => a * Number(d), 1) }, (_, i) => Math.sin(i)), { shape: [1, ...image.split("×").map(Number)], engine: oneEngine });
    const t = await measure(() => model.predict(x).dispose(), { time: 200, iterations: 10 });
    yield { suite: "cnn", case: `${label} forward batch 1`, impl: engines[0][0], metric: "ms", ...t };
    x.dispose();
    model.dispose();
  }
  // onnxruntime-web fixes its thread count when it starts: a process per thread count.
  for (const threads of [...new Set([1, threadsAsked()])]) {
    log(`cnn: onnxruntime-web, ${threads} thread${threads > 1 ? "s" : ""}`);
    const specs = FORWARD.map(([label, name]) => `${file(name)}:${label}`);
    if (threads === 1) specs.push(...LAYERS.map(({ label, name, image }) => `${file(name)}:${label}:${image}:1`));
    const r = spawnSync(process.execPath, [join(ROOT, "bench", "cnn-ort.mjs"), String(threads), ...specs], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    for (const line of r.stdout.split("\n").filter(Boolean)) yield JSON.parse(line);
  }

  // Fine-tuning: batch 16, BatchNorm frozen (running statistics, scale and shift not trained), SGD with momentum.
  const [oneImpl, one] = engines[0];
  for (const [label, name] of FINETUNE) {
    const spec = torch[name];
    const model = fromOnnx(readFileSync(file(name)), { engine: one });
    model.freeze(spec.frozen);
    model.train();
    const optimizer = new SGD(model.trainableParameters(), { lr: 0.01, momentum: 0.9 });
    const x = images(16, spec.size, one);
    const y = tensor(Float32Array.from({ length: 16 }, (_, i) => (i * 37) % 1000), { engine: one });
    const step = () => {
      optimizer.zeroGrad();
      crossEntropy(model.call(x), y).backward();
      optimizer.step();
    };
    log(`cnn: fine-tuning ${label}, ${oneImpl}`);
    const t = await measure(step, { time: 0, iterations: 4 });
    const kase = `${label} fine-tuning step batch 16`;
    yield { suite: "cnn", case: kase, impl: oneImpl, ...perSecond(16, t) };
    yield { suite: "cnn", case: kase, impl: "pytorch-cpu", metric: "samples/s", median: spec.samplesPerSecond, min: spec.min, max: spec.max, note: `PyTorch ${torch.torch} eager, one thread, median of ${spec.steps} steps` };
    yield* kernelShares(one, step, label, oneImpl);
    model.dispose();
    yield* stepMemory(readFileSync(file(name)), spec, label, best);
  }

  // ResNet-50's standard convolutions (batch 1, NHWC) beside one GEMM of the same m·k·n, same engine, same run.
  const SHAPES = [["3×3/1 56×56×64→64", 56, 64, 64, 3, 1], ["1×1/1 56×56×256→64", 56, 256, 64, 1, 1], ["3×3/1 14×14×256→256", 14, 256, 256, 3, 1], ["7×7/2 224×224×3→64", 224, 3, 64, 7, 2]];
  for (const [label, size, c, f, k, stride] of SHAPES) {
    const x = tensor(Float32Array.from({ length: size * size * c }, (_, i) => Math.sin(i)), { shape: [1, size, size, c], engine: one });
    const w = tensor(Float32Array.from({ length: k * k * c * f }, (_, i) => Math.cos(i) / k), { shape: [k, k, c, f], engine: one });
    const out = Math.ceil(size / stride);
    const flops = 2 * out * out * k * k * c * f;
    const tc = await measure(() => noGrad(() => conv2d(x, w, null, { stride, padding: "same" })).dispose(), { time: 300, iterations: 5 });
    yield { suite: "cnn", case: `conv ${label}`, impl: oneImpl, ...gflops(flops, tc) };
    const a = tensor(Float32Array.from({ length: out * out * k * k * c }, (_, i) => Math.sin(i)), { shape: [out * out, k * k * c], engine: one });
    const b = w.reshape([k * k * c, f]);
    const tg = await measure(() => noGrad(() => a.matmul(b)).dispose(), { time: 300, iterations: 5 });
    yield { suite: "cnn", case: `conv ${label}`, impl: `${oneImpl} GEMM of the same product`, ...gflops(flops, tg) };
    for (const t of [x, w, a]) t.dispose();
  }

  // ResNet's 3×3 stride-1 convolutions (batch 1, "same") on im2col and on Winograd's F(2×2, 3×3),
  // same engine, same run: what the importer's choice (WINOGRAD_MIN_TILES in src/io/onnx/ops/nn.ts)
  // stands on. GFLOP/s of the direct convolution's 2·9·c·m multiply-adds per pixel, for both; conv2d
  // transforms the weights on every call, which an imported model does once.
  for (const [size, c, f] of [[56, 64, 64], [28, 128, 128], [14, 256, 256], [7, 512, 512]]) {
    const x = tensor(Float32Array.from({ length: size * size * c }, (_, i) => Math.sin(i)), { shape: [1, size, size, c], engine: one });
    const w = tensor(Float32Array.from({ length: 9 * c * f }, (_, i) => Math.cos(i) / 3), { shape: [3, 3, c, f], engine: one });
    const flops = 2 * size * size * 9 * c * f;
    for (const algorithm of ["im2col", "winograd"]) {
      const t = await measure(() => noGrad(() => conv2d(x, w, null, { padding: "same", algorithm })).dispose(), { time: 300, iterations: 5 });
      yield { suite: "cnn", case: `conv 3×3/1 ${size}×${size}×${c}→${f}`, impl: `${oneImpl} ${algorithm}`, ...gflops(flops, t) };
    }
    for (const t of [x, w]) t.dispose();
  }
}
