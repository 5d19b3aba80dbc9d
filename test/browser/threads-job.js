// One deterministic job for threads in a browser and in Node: a seeded MLP trained two epochs on
// seeded random digits-sized inputs (GEMMs large enough to be shared between threads), its
// weights returned as numbers. The same seed must give the same bits on any number of threads.
export async function threadsJob(wasmgrad, threads) {
  const { Adam, Dense, Random, Sequential, init, tensor } = wasmgrad;
  const engine = await init({ build: "simd", threads });
  await engine.threadsReady();
  const r = new Random(11);
  const x = tensor(Float32Array.from({ length: 256 * 784 }, () => r.uniform()), { shape: [256, 784] });
  const y = tensor(Float32Array.from({ length: 256 }, () => r.int(10)));
  const model = new Sequential([new Dense(128, { activation: "relu" }), new Dense(64, { activation: "relu" }), new Dense(10)], { inputShape: [784], seed: 2 });
  model.compile({ loss: "crossEntropy", optimizer: new Adam(model.parameters(), { lr: 0.002 }) });
  model.fitSync(x, y, { epochs: 2, batchSize: 64, verbose: false, seed: 1 });
  const weights = model.parameters().flatMap((p) => Array.from(p.data()));
  const result = { threads: engine.threads, note: engine.threadsNote, weights };
  engine.dispose();
  return result;
}
