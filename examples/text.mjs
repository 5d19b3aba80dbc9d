// A character-level language model on real text (npm run example:text): Debian's `fortunes`
// package, 2.7 MB of quotations (install it: apt-get install fortunes). The text is split once:
// the first 80% trains, the next 10% validates (settings are chosen there: --validate), the last
// 10% is held out and only reported. The baseline is a counted bigram model (add-one smoothing) on
// the same split; the model is an LSTM (default) or a small transformer (--model transformer:
// embedding + positions, 2 blocks of causal attention and a gelu MLP with residuals and LayerNorm).
// Options: --model lstm|transformer, --minutes M (default 10), --steps N (stop after N steps
// instead), --validate, --seed N, --json (ends with one line {"heldOutBitsPerChar",
// "bigramBitsPerChar","epochs","tokensPerSecond","steps","bytesInUse"}: bytesInUse is sampled every
// 1,000 steps, so a long --steps run shows whether memory holds).
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  Adam, Dense, Embedding, LayerNorm, LSTM, Model, MultiHeadAttention, Random, Sequential, clipGradNorm, crossEntropy, init, noGrad, tensor, withArena,
} from "../dist/index.js";

const args = Object.fromEntries(process.argv.slice(2).map((a, i, all) => (a.startsWith("--") ? [a.slice(2), all[i + 1]?.startsWith("--") || all[i + 1] === undefined ? "true" : all[i + 1]] : null)).filter(Boolean));
const json = args.json === "true";
const log = (line) => process.stderr.write(`${line}\n`);
const kind = args.model ?? "lstm";
const minutes = Number(args.minutes ?? 10);
const maxSteps = args.steps === undefined ? Number.POSITIVE_INFINITY : Number(args.steps);
if (!(maxSteps > 0 && (Number.isInteger(maxSteps) || maxSteps === Number.POSITIVE_INFINITY)) || !(minutes > 0)) {
  log(`--steps takes a whole number of steps and --minutes a positive number, got --steps ${args.steps} --minutes ${args.minutes}`);
  process.exit(2);
}
const seed = Number(args.seed ?? 1);
const T = 64, B = 32;

const DIR = "/usr/share/games/fortunes";
if (!existsSync(DIR)) {
  log(`no corpus at ${DIR}: install Debian's fortunes package (apt-get install fortunes; .ci/run does)`);
  process.exit(2);
}
// Every fortune file (not the .dat indexes or .u8 links), in name order, as one text.
const files = readdirSync(DIR).filter((f) => !/\.(dat|u8)$/.test(f) && statSync(join(DIR, f)).isFile()).sort();
const raw = files.map((f) => readFileSync(join(DIR, f), "latin1")).join("\n");
const text = raw.replace(/\t/g, " ").replace(/[^\n\x20-\x7e]/g, "?");
const vocab = [...new Set(text)].sort();
const V = vocab.length;
const index = new Map(vocab.map((c, i) => [c, i]));
const codes = Uint8Array.from(text, (c) => index.get(c));
const [trainEnd, validEnd] = [Math.floor(codes.length * 0.8), Math.floor(codes.length * 0.9)];
const train = codes.subarray(0, trainEnd);
const evaluation = args.validate === "true" ? codes.subarray(trainEnd, validEnd) : codes.subarray(validEnd);
const which = args.validate === "true" ? "validation" : "held-out";

// The bigram baseline, counted on the training part, in bits per character on the evaluation part.
const counts = new Float64Array(V * V), totals = new Float64Array(V);
for (let i = 1; i < train.length; i++) counts[train[i - 1] * V + train[i]]++, totals[train[i - 1]]++;
let bigramBits = 0;
for (let i = 1; i < evaluation.length; i++) bigramBits -= Math.log2((counts[evaluation[i - 1] * V + evaluation[i]] + 1) / (totals[evaluation[i - 1]] + V));
const bigram = bigramBits / (evaluation.length - 1);

class Transformer extends Model {
  tokens = new Embedding(V, 64);
  positions = new Embedding(T, 64);
  blocks = [0, 1].map(() => ({ norm1: new LayerNorm(), attention: new MultiHeadAttention(4, 16, { causal: true }), norm2: new LayerNorm(), up: new Dense(256, { activation: "gelu" }), down: new Dense(64) }));
  layers = this.blocks.flatMap((b) => Object.values(b)); // so the blocks' layers are this model's children
  norm = new LayerNorm();
  head = new Dense(V);
  #where = null;
  forward(x) {
    // Made on first use; a call without a graph frees what it made, so make it again if it went.
    if (!this.#where || this.#where.isDisposed) this.#where = tensor(Float32Array.from({ length: T }, (_, i) => i), { shape: [1, T] });
    let h = this.tokens.call(x).add(this.positions.call(this.#where.slice([0, 0], [1, x.shape[1]])));
    for (const b of this.blocks) {
      h = h.add(b.attention.call(b.norm1.call(h)));
      h = h.add(b.down.call(b.up.call(b.norm2.call(h))));
    }
    return this.head.call(this.norm.call(h));
  }
}

const engine = await init();
const model = kind === "transformer"
  ? new Transformer({ seed }).build([T])
  : new Sequential([new Embedding(V, 32), new LSTM(128, { returnSequences: true }), new Dense(V)], { inputShape: [T], seed });
if (!["lstm", "transformer"].includes(kind)) throw new Error(`--model lstm or transformer, got ${kind}`);
const optimizer = new Adam(model.parameters(), { lr: kind === "transformer" ? 1e-3 : 3e-3 });
log(`wasmgrad ${engine.build} build · ${kind} · ${files.length} fortune files, ${codes.length.toLocaleString()} characters, ${V} symbols · ${args.steps === undefined ? `${minutes} min` : `${maxSteps} steps`}`);
log(`split: train ${train.length.toLocaleString()}, validation ${(validEnd - trainEnd).toLocaleString()}, held-out ${(codes.length - validEnd).toLocaleString()}; bigram baseline on the ${which} part: ${bigram.toFixed(3)} bits/char`);

/** Mean bits per character of the model on (up to `limit` characters of) a part, windows of T. */
function bitsPerChar(part, limit = 65_536) {
  const windows = Math.floor((Math.min(part.length, limit) - 1) / T);
  let nats = 0;
  model.eval();
  for (let w = 0; w < windows; w += B) {
    const n = Math.min(B, windows - w);
    const xs = new Float32Array(n * T), ys = new Float32Array(n * T);
    for (let k = 0; k < n; k++) for (let t = 0; t < T; t++) xs[k * T + t] = part[(w + k) * T + t], ys[k * T + t] = part[(w + k) * T + t + 1];
    // withArena: every tensor made here (inputs, logits, the loss) is freed when it returns — this
    // loop never yields, so the garbage collector would not free them in time.
    nats += withArena(() => noGrad(() => crossEntropy(model.call(tensor(xs, { shape: [n, T] })), tensor(ys, { shape: [n, T] })).item())) * n * T;
  }
  model.train();
  return nats / (windows * T) / Math.LN2;
}

// Training: random windows of the training part, a fixed-size batch written in place every step.
const random = new Random(seed);
const x = tensor(new Float32Array(B * T), { shape: [B, T] }), y = tensor(new Float32Array(B * T), { shape: [B, T] });
const xs = new Float32Array(B * T), ys = new Float32Array(B * T);
const started = performance.now();
const deadline = args.steps === undefined ? started + minutes * 60_000 : Number.POSITIVE_INFINITY;
const bytesInUse = [];
let step = 0, recent = 0;
model.train();
while (performance.now() < deadline && step < maxSteps) {
  for (let k = 0; k < B; k++) {
    const o = random.int(train.length - T - 1);
    for (let t = 0; t < T; t++) xs[k * T + t] = train[o + t], ys[k * T + t] = train[o + t + 1];
  }
  x.set(xs), y.set(ys);
  optimizer.zeroGrad();
  const loss = crossEntropy(model.call(x), y);
  loss.backward();
  clipGradNorm(model.parameters(), 1);
  optimizer.step();
  recent += loss.item();
  if (++step % 1000 === 0) bytesInUse.push(engine.memory.stats().bytesInUse);
  if (step % 200 === 0) {
    const seconds = (performance.now() - started) / 1000;
    log(`step ${step}  ${(seconds / 60).toFixed(1)} min  train ${(recent / 200 / Math.LN2).toFixed(3)} bits/char  validation ${bitsPerChar(codes.subarray(trainEnd, validEnd), 16_384).toFixed(3)}  ${Math.round((step * B * T) / seconds)} chars/s`);
    recent = 0;
  }
}
const seconds = (performance.now() - started) / 1000;
const result = bitsPerChar(evaluation, Number.POSITIVE_INFINITY);
log(`\n${which} loss: ${result.toFixed(3)} bits/char (bigram ${bigram.toFixed(3)}: ${(100 * (1 - result / bigram)).toFixed(1)}% lower) after ${step} steps, ${(step * B * T / train.length).toFixed(2)} passes over the training text`);

// Samples: characters drawn one at a time (temperature 0.8) from the model's own distribution.
model.eval();
for (const prompt of ["The ", "Q: "]) {
  let s = prompt;
  for (let i = 0; i < 240; i++) {
    const context = Array.from(s.slice(-T), (c) => index.get(c) ?? 0);
    // A prompt shorter than the training window: run the Sequential's layers directly (it insists on [T]).
    const scores = withArena(() => noGrad(() => {
      const input = tensor(context, { shape: [1, context.length] });
      return (model instanceof Sequential ? model.layers.reduce((h, l) => l.call(h), input) : model.call(input)).data().slice((context.length - 1) * V);
    }));
    const p = scores.map((v) => Math.exp(v / 0.8));
    let r = random.uniform() * p.reduce((a, b) => a + b, 0), c = 0;
    while ((r -= p[c]) > 0 && c < V - 1) c++;
    s += vocab[c];
  }
  log(`\nsample: ${JSON.stringify(s)}`);
}
if (json) process.stdout.write(`${JSON.stringify({ heldOutBitsPerChar: result, bigramBitsPerChar: bigram, epochs: (step * B * T) / train.length, tokensPerSecond: Math.round((step * B * T) / seconds), steps: step, bytesInUse })}\n`);
