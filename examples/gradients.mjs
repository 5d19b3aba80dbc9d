// Vanishing gradients, seen (npm run example:gradients): the same deep network (8 hidden layers of
// 64) three ways, one epoch each on 2,000 MNIST digits, with fit recording every layer's gradient
// norm ‖∂L/∂W‖ at the first step (history.gradientNorms):
//  - sigmoid with Xavier initialisation: each layer multiplies the gradient by σ' ≤ 1/4, so it
//    shrinks on its way back and the first layers hardly learn;
//  - ReLU with He initialisation (derivative 1 where active, variance kept): it arrives intact;
//  - sigmoid again, each Dense followed by BatchNorm before the sigmoid: normalised inputs keep σ'
//    near its largest, and the gradient survives.
// --json prints one line: {"sigmoid": [...], "relu": [...], "batchNorm": [...], "accuracy": {...}}.
import { Activation, Adam, BatchNorm, Dense, Sequential, init } from "../dist/index.js";
import { loadMnist } from "./mnist-data.mjs";

const json = process.argv.includes("--json");
const log = json ? () => {} : (line) => console.log(line);
await init();
const { train } = loadMnist();
const n = 2000;
const x = train.x.data().subarray(0, n * 784);
const { tensor } = await import("../dist/index.js");
const xs = tensor(x, { shape: [n, 784] });
const ys = tensor(train.labels.slice(0, n));

const DEPTH = 8;
const hidden = (make) => Array.from({ length: DEPTH }, (_, i) => make(i)).flat();
const variants = {
  sigmoid: () => hidden(() => [new Dense(64, { activation: "sigmoid" })]),
  relu: () => hidden(() => [new Dense(64, { activation: "relu" })]),
  batchNorm: () => hidden(() => [new Dense(64), new BatchNorm(), new Activation("sigmoid")]),
};

const result = { accuracy: {} };
for (const [name, layers] of Object.entries(variants)) {
  const model = new Sequential([...layers(), new Dense(10)], { inputShape: [784], seed: 1 });
  model.compile({ loss: "crossEntropy", optimizer: new Adam(model.parameters(), { lr: 0.001 }) });
  const history = await model.fit(xs, ys, { epochs: 1, batchSize: 32, gradientNorms: 1000, verbose: false });
  const norms = Object.entries(history.gradientNorms[0].layers).filter(([layer]) => layer.startsWith("dense"));
  result[name] = norms.map(([, v]) => v);
  result.accuracy[name] = history.epochs[0].accuracy;
  log(`\n${name}: gradient norm of each Dense layer at the first step, input → output (training accuracy after one epoch ${(100 * history.epochs[0].accuracy).toFixed(1)}%)`);
  for (const [layer, v] of norms) log(`  ${layer.padEnd(9)} ${v.toExponential(2).padStart(9)}  ${"█".repeat(Math.max(0, Math.round(20 + 4 * Math.log10(v))))}`);
}
if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
