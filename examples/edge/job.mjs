// The same small job in every runtime: a seeded 4-8-3 network predicts, trains one step with Adam
// and predicts again. Each runtime's entry imports wasmgrad and gets the .wasm the way that runtime
// allows, then hands both here; the results must equal Node's, bit for bit (the simd build).
export async function job(wasmgrad, wasm) {
  const { Adam, Dense, Sequential, init, tensor } = wasmgrad;
  const engine = await init({ build: "simd", ...(wasm === undefined ? {} : { wasm }) });
  const model = new Sequential([new Dense(8, { activation: "relu" }), new Dense(3)], { inputShape: [4], seed: 1 });
  const x = tensor([[0.1, 0.2, 0.3, 0.4], [0.5, -0.6, 0.7, -0.8], [1, 0, -1, 0.5], [-0.2, 0.4, -0.6, 0.8]]);
  const y = tensor([0, 1, 2, 1]);
  const before = Array.from(model.predict(x).data());
  model.compile({ loss: "crossEntropy", optimizer: new Adam(model.parameters(), { lr: 0.01 }) });
  const history = model.fitSync(x, y, { epochs: 1, batchSize: 4, verbose: false });
  const after = Array.from(model.predict(x).data());
  return { build: engine.build, before, loss: history.epochs[0].loss, after };
}

/** What init() says with `wasm` (or without), where the host may neither find nor compile the module. */
export async function tryInit(wasmgrad, wasm) {
  try {
    await wasmgrad.init({ build: "simd", ...(wasm === undefined ? {} : { wasm }) });
    return "loaded";
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
}
