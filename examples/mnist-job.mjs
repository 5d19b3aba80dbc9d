// What the MNIST examples share: command-line settings, the fixed data split, training with
// progress per epoch, the held-out accuracy, a few digits drawn with the network's answers, and
// with --json one final line {"testAccuracy", "epochs", "trainSamplesPerSecond"}.
//
//   --json        end with one JSON line (progress goes to stderr)
//   --validate    choose settings: k-fold cross-validation on the 8,000 training digits (the
//                 held-out ones are not loaded); reports each fold's and the mean accuracy
//   --folds N     k for --validate (default 4)
//   --epochs N --batch N --lr X --decay X --seed N …   override the chosen settings (decay: lr factor per
//                 epoch; wd > 0 switches Adam for AdamW with that weight decay)
import { parseArgs } from "node:util";
import { Adam, AdamW, init } from "../dist/index.js";
import { loadMnist, loadMnistFold } from "./mnist-data.mjs";

/**
 * @param {{ settings: Record<string, number>, inputShape: number[],
 *           buildModel: (settings: Record<string, number>) => import("../dist/index.js").Sequential }} job
 */
export async function runMnistJob({ settings: chosen, inputShape, buildModel }) {
  const numbers = Object.fromEntries(Object.keys(chosen).map((k) => [k, { type: "string" }]));
  const { values: args } = parseArgs({
    options: {
      json: { type: "boolean", default: false },
      validate: { type: "boolean", default: false },
      folds: { type: "string", default: "4" },
      ...numbers,
    },
  });
  const settings = Object.fromEntries(Object.entries(chosen).map(([k, v]) => [k, args[k] === undefined ? v : Number(args[k])]));
  const log = (line) => (args.json ? process.stderr : process.stdout).write(`${line}\n`);
  const engine = await init();
  const shape = (t) => t.reshape([t.shape[0], ...inputShape]);

  /** Trains a fresh model on `train`, reporting accuracy on `test` after every epoch. */
  async function trainAndTest(train, test, which) {
    const model = buildModel(settings);
    const optimizer = settings.wd > 0
      ? new AdamW(model.parameters(), { lr: settings.lr, weightDecay: settings.wd })
      : new Adam(model.parameters(), { lr: settings.lr });
    model.compile({ loss: "crossEntropy", optimizer });
    log(`wasmgrad ${engine.build} build · MNIST ${train.labels.length} training digits, ${test.labels.length} ${which}`);
    log(model.summary());
    log(`${optimizer.constructor.name} lr ${settings.lr} (×${settings.decay} per epoch), ${Object.entries(settings).filter(([k]) => !["lr", "decay", "wd"].includes(k)).map(([k, v]) => `${k} ${v}`).join(", ")}${settings.wd > 0 ? `, weight decay ${settings.wd}` : ""}\n`);
    let seconds = 0;
    const history = await model.fit(shape(train.x), train.y, {
      epochs: settings.epochs,
      batchSize: settings.batch,
      seed: settings.seed,
      validationData: [shape(test.x), test.y],
      callbacks: {
        onEpochEnd: (e) => {
          seconds += train.labels.length / e.samplesPerSecond;
          log(
            `epoch ${String(e.epoch).padStart(2)}  loss ${e.loss.toFixed(4)}  train accuracy ${(100 * e.accuracy).toFixed(2)}%  ` +
              `${which} accuracy ${(100 * e.valAccuracy).toFixed(2)}%  ${Math.round(e.samplesPerSecond)} samples/s`,
          );
          optimizer.lr *= settings.decay;
        },
      },
    });
    const accuracy = history.epochs[history.epochs.length - 1].valAccuracy;
    return { model, accuracy, samplesPerSecond: Math.round((train.labels.length * settings.epochs) / seconds) };
  }

  if (args.validate) {
    const folds = Number(args.folds);
    const accuracies = [];
    for (let fold = 0; fold < folds; fold++) {
      const { train, validation } = loadMnistFold(fold, folds);
      log(`\n— fold ${fold + 1} of ${folds} —`);
      accuracies.push((await trainAndTest(train, validation, "validation")).accuracy);
    }
    const mean = accuracies.reduce((a, b) => a + b) / folds;
    log(`\nvalidation accuracy per fold: ${accuracies.map((a) => `${(100 * a).toFixed(2)}%`).join(", ")}; mean ${(100 * mean).toFixed(2)}%`);
    if (args.json) process.stdout.write(`${JSON.stringify({ validationAccuracy: mean, folds: accuracies, epochs: settings.epochs })}\n`);
    return;
  }

  const { train, test } = loadMnist();
  const { model, accuracy, samplesPerSecond } = await trainAndTest(train, test, "held-out");
  log(`\nheld-out test accuracy: ${(100 * accuracy).toFixed(2)}% on ${test.labels.length} digits`);
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ testAccuracy: accuracy, epochs: settings.epochs, trainSamplesPerSecond: samplesPerSecond })}\n`);
    return;
  }
  // What it learned: a few held-out digits drawn in text, with the network's answer.
  const predictions = model.predict(shape(test.x)).data();
  const images = test.x.data();
  const shades = " .:-=+*#%@";
  for (let s = 0; s < 3; s++) {
    const scores = predictions.subarray(s * 10, s * 10 + 10);
    log(`\nsample ${s}: label ${test.labels[s]}, network says ${scores.indexOf(Math.max(...scores))}`);
    for (let r = 2; r < 26; r += 2) {
      let line = "";
      for (let c = 0; c < 28; c++) line += shades[Math.min(9, Math.floor(images[s * 784 + r * 28 + c] * 10))];
      log(`  ${line}`);
    }
  }
}
