// What the MNIST examples share: command-line settings, the fixed data split, training with
// progress per epoch, the held-out accuracy, a few digits drawn with the network's answers, and
// with --json one final line {"testAccuracy", "epochs", "trainSamplesPerSecond"}.
//
//   --json        end with one JSON line (progress goes to stderr)
//   --validate    train on 7,000 digits and report the 1,000 validation digits (for choosing settings)
//   --epochs N --batch N --lr X --decay X --seed N …   override the chosen settings (decay: lr factor per
//                 epoch; wd > 0 switches Adam for AdamW with that weight decay)
import { parseArgs } from "node:util";
import { Adam, AdamW, init } from "../dist/index.js";
import { loadMnist } from "./mnist-data.mjs";

/**
 * @param {{ settings: Record<string, number>, inputShape: number[],
 *           buildModel: (settings: Record<string, number>) => import("../dist/index.js").Sequential }} job
 */
export async function runMnistJob({ settings: chosen, inputShape, buildModel }) {
  const numbers = Object.fromEntries(Object.keys(chosen).map((k) => [k, { type: "string" }]));
  const { values: args } = parseArgs({
    options: { json: { type: "boolean", default: false }, validate: { type: "boolean", default: false }, ...numbers },
  });
  const settings = Object.fromEntries(Object.entries(chosen).map(([k, v]) => [k, args[k] === undefined ? v : Number(args[k])]));

  const engine = await init();
  const data = loadMnist({ validation: args.validate });
  const train = data.train;
  const heldOut = args.validate ? data.validation : data.test;
  const which = args.validate ? "validation" : "held-out";
  const shape = (t) => t.reshape([t.shape[0], ...inputShape]);
  const model = buildModel(settings);
  const optimizer = settings.wd > 0
    ? new AdamW(model.parameters(), { lr: settings.lr, weightDecay: settings.wd })
    : new Adam(model.parameters(), { lr: settings.lr });
  model.compile({ loss: "crossEntropy", optimizer });

  const log = (line) => (args.json ? process.stderr : process.stdout).write(`${line}\n`);
  log(`wasmgrad ${engine.build} build · MNIST ${train.labels.length} training digits, ${heldOut.labels.length} ${which}`);
  log(model.summary());
  log(`${optimizer.constructor.name} lr ${settings.lr} (×${settings.decay} per epoch), ${Object.entries(settings).filter(([k]) => !["lr", "decay", "wd"].includes(k)).map(([k, v]) => `${k} ${v}`).join(", ")}\n`);

  let trainingSeconds = 0;
  const history = model.fit(shape(train.x), train.y, {
    epochs: settings.epochs,
    batchSize: settings.batch,
    seed: settings.seed,
    validationData: [shape(heldOut.x), heldOut.y],
    callbacks: {
      onEpochEnd: (e) => {
        trainingSeconds += train.labels.length / e.samplesPerSecond;
        log(
          `epoch ${String(e.epoch).padStart(2)}  loss ${e.loss.toFixed(4)}  train accuracy ${(100 * e.accuracy).toFixed(2)}%  ` +
            `${which} accuracy ${(100 * e.valAccuracy).toFixed(2)}%  ${Math.round(e.samplesPerSecond)} samples/s`,
        );
        optimizer.lr *= settings.decay;
      },
    },
  });

  const accuracy = history.epochs[history.epochs.length - 1].valAccuracy;
  log(`\n${args.validate ? "validation" : "held-out test"} accuracy: ${(100 * accuracy).toFixed(2)}% on ${heldOut.labels.length} digits`);
  if (args.json) {
    const samples = train.labels.length * settings.epochs;
    process.stdout.write(`${JSON.stringify({ testAccuracy: accuracy, epochs: settings.epochs, trainSamplesPerSecond: Math.round(samples / trainingSeconds) })}\n`);
    return;
  }
  // What it learned: a few held-out digits drawn in text, with the network's answer.
  const predictions = model.predict(shape(heldOut.x)).data();
  const images = heldOut.x.data();
  const shades = " .:-=+*#%@";
  for (let s = 0; s < 3; s++) {
    const scores = predictions.subarray(s * 10, s * 10 + 10);
    log(`\nsample ${s}: label ${heldOut.labels[s]}, network says ${scores.indexOf(Math.max(...scores))}`);
    for (let r = 2; r < 26; r += 2) {
      let line = "";
      for (let c = 0; c < 28; c++) line += shades[Math.min(9, Math.floor(images[s * 784 + r * 28 + c] * 10))];
      log(`  ${line}`);
    }
  }
}
