// Soak: does memory hold over a long run without dispose()? Trains the main job's MLP
// (784-128-64-10, Adam, batch 64, real MNIST digits) for --steps steps (default 100,000) three ways:
// through fit(), through a hand-written PyTorch-style loop that never calls dispose() and never
// yields to the event loop (so no FinalizationRegistry callback can run), and through that loop
// making each batch with tensor() (loop 3). Bytes in use are
// sampled every 1,000 steps; one JSON line per loop:
//   {"loop","steps","seconds","bytesInUse":[…],"spreadAfter1000","capacityBytes","finalLoss"}
// spreadAfter1000 = max − min of the samples from step 1,000 on (issue 9 asks < 1 MiB).
//   node bench/soak.mjs [--steps N]        (npm run soak -- --steps N)
import { Adam, Dense, Sequential, batches, crossEntropy, init, tensor } from "../dist/index.js";
import { loadMnist } from "../examples/mnist-data.mjs";

const args = process.argv.slice(2);
const stepsAt = args.indexOf("--steps");
const STEPS = stepsAt >= 0 ? Number(args[stepsAt + 1]) : 100_000;
if (!(Number.isInteger(STEPS) && STEPS >= 1000)) {
  console.error("usage: node bench/soak.mjs [--steps N]  (N ≥ 1000)");
  process.exit(2);
}
const EVERY = 1000;
const BATCH = 64;

const engine = await init({ build: "simd" });
const { train } = loadMnist();
const x = tensor(train.x.data(), { shape: [8000, 784] });
const y = tensor(train.labels);

function model() {
  return new Sequential(
    [new Dense(128, { activation: "relu" }), new Dense(64, { activation: "relu" }), new Dense(10)],
    { inputShape: [784], seed: 1 },
  );
}

function report(loop, samples, seconds, finalLoss) {
  const after = samples.slice(1); // samples[0] is at step 1,000
  const line = {
    loop,
    steps: samples.length * EVERY,
    seconds: +seconds.toFixed(1),
    bytesInUse: samples,
    spreadAfter1000: Math.max(...after) - Math.min(...after),
    capacityBytes: engine.memory.stats().capacityBytes,
    finalLoss: +finalLoss.toFixed(4),
  };
  console.log(JSON.stringify(line));
}

// 1. fit(): one call over enough epochs, sampled from its batch callback.
{
  const m = model();
  m.compile({ loss: "crossEntropy", optimizer: new Adam(m.parameters(), { lr: 0.001 }) });
  const samples = [];
  let step = 0;
  let lastLoss = Number.NaN;
  const started = performance.now();
  m.fitSync(x, y, {
    epochs: Math.ceil(STEPS / Math.ceil(8000 / BATCH)),
    batchSize: BATCH,
    verbose: false,
    callbacks: {
      onBatchEnd(_, { loss }) {
        lastLoss = loss;
        if (++step % EVERY === 0 && step <= STEPS) samples.push(engine.memory.stats().bytesInUse);
      },
    },
  });
  report("fit", samples, (performance.now() - started) / 1000, lastLoss);
}

/**
 * Runs `STEPS` steps of the hand-written loop over the batches `next(step)` gives, with no
 * dispose(), no withArena and no await, sampling bytes in use every EVERY steps; reports as `loop`.
 */
function handWritten(loop, next) {
  const m = model();
  const optimizer = new Adam(m.parameters(), { lr: 0.001 });
  const samples = [];
  let lastLoss = Number.NaN;
  const started = performance.now();
  for (let step = 1; step <= STEPS; step++) {
    const [xb, yb] = next(step);
    optimizer.zeroGrad();
    const loss = crossEntropy(m.forward(xb, { training: true }), yb);
    loss.backward();
    optimizer.step();
    lastLoss = loss.item();
    if (step % EVERY === 0) samples.push(engine.memory.stats().bytesInUse);
  }
  report(loop, samples, (performance.now() - started) / 1000, lastLoss);
}

// 2. A hand-written loop, as PyTorch users write it, over batches() (which owns its batches).
{
  let epoch = 0;
  let it = batches(x, y, { batchSize: BATCH, shuffle: true, seed: epoch })[Symbol.iterator]();
  handWritten("hand-written loop", () => {
    let n = it.next();
    if (n.done) {
      it = batches(x, y, { batchSize: BATCH, shuffle: true, seed: ++epoch })[Symbol.iterator]();
      n = it.next();
    }
    return n.value;
  });
}

// 3. The same loop making its batches with tensor() every step, as a PyTorch user writes
// torch.tensor(batch): never disposed, never yielding. Data made by tensor() stays in JS; its Wasm
// copy belongs to the graph that read it and goes when that graph's intermediates do.
{
  const pixels = x.data(), labels = Float32Array.from(train.labels);
  let at = 0;
  handWritten("tensor() every step", () => {
    const batch = [tensor(pixels.subarray(at * 784, (at + BATCH) * 784), { shape: [BATCH, 784] }), tensor(labels.subarray(at, at + BATCH))];
    at = (at + BATCH) % (8000 - BATCH);
    return batch;
  });
}
