// The main job: a 784-128-64-10 ReLU network trained with Adam on real MNIST digits (the fixed
// split of examples/mnist-data.mjs), showing progress per epoch and ending with the accuracy on
// the 2,000 held-out digits.
//
//   npm start                       train on 8,000, test on the held-out 2,000
//   npm start -- --json             … and end with one JSON line
//   npm start -- --validate         train on 7,000, report the 1,000 validation digits (for tuning)
//   options: --epochs N --batch N --lr X --dropout P --decay X --seed N
import { parseArgs } from "node:util";
import { Adam, Dense, Dropout, Sequential, init } from "../dist/index.js";
import { loadMnist } from "./mnist-data.mjs";

// Chosen on the validation part (npm start -- --validate), never on the held-out digits.
export const SETTINGS = { epochs: 10, batch: 32, lr: 0.002, dropout: 0.1, decay: 0.85, seed: 1 };

const { values: args } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    validate: { type: "boolean", default: false },
    epochs: { type: "string" },
    batch: { type: "string" },
    lr: { type: "string" },
    dropout: { type: "string" },
    decay: { type: "string" },
    seed: { type: "string" },
  },
});
const settings = Object.fromEntries(Object.entries(SETTINGS).map(([k, v]) => [k, args[k] === undefined ? v : Number(args[k])]));

const engine = await init();
const data = loadMnist({ validation: args.validate });
const [train, heldOut] = args.validate ? [data.train, data.validation] : [data.train, data.test];
const hidden = (units) => [
  new Dense(units, { activation: "relu" }),
  ...(settings.dropout > 0 ? [new Dropout(settings.dropout)] : []),
];
const model = new Sequential([...hidden(128), ...hidden(64), new Dense(10)], { inputShape: [784], seed: settings.seed });
const optimizer = new Adam(model.parameters(), { lr: settings.lr });
model.compile({ loss: "crossEntropy", optimizer });

const log = (line) => (args.json ? process.stderr : process.stdout).write(`${line}\n`);
log(`wasmgrad ${engine.build} build · MNIST ${train.labels.length} training digits, ${heldOut.labels.length} ${args.validate ? "validation" : "held-out"}`);
log(model.summary());
log(`Adam lr ${settings.lr} (×${settings.decay} per epoch), batch ${settings.batch}, dropout ${settings.dropout}, seed ${settings.seed}\n`);

let trainingSeconds = 0;
const history = model.fit(train.x, train.y, {
  epochs: settings.epochs,
  batchSize: settings.batch,
  seed: settings.seed,
  validationData: [heldOut.x, heldOut.y],
  callbacks: {
    onEpochEnd: (e) => {
      trainingSeconds += train.labels.length / e.samplesPerSecond;
      const which = args.validate ? "validation" : "held-out";
      log(
        `epoch ${String(e.epoch).padStart(2)}  loss ${e.loss.toFixed(4)}  train accuracy ${(100 * e.accuracy).toFixed(2)}%  ` +
          `${which} accuracy ${(100 * e.valAccuracy).toFixed(2)}%  ${Math.round(e.samplesPerSecond)} samples/s`,
      );
      optimizer.lr *= settings.decay;
    },
  },
});

const final = history.epochs[history.epochs.length - 1];
const accuracy = final.valAccuracy;
log(`\n${args.validate ? "validation" : "held-out test"} accuracy: ${(100 * accuracy).toFixed(2)}% on ${heldOut.labels.length} digits`);

// What it learned: a few held-out digits drawn in text, with the network's answer.
if (!args.json) {
  const predictions = model.predict(heldOut.x).data();
  const images = heldOut.x.data();
  const shades = " .:-=+*#%@";
  for (let s = 0; s < 3; s++) {
    const scores = predictions.subarray(s * 10, s * 10 + 10);
    const guess = scores.indexOf(Math.max(...scores));
    log(`\nsample ${s}: label ${heldOut.labels[s]}, network says ${guess}`);
    for (let r = 2; r < 26; r += 2) {
      let line = "";
      for (let c = 0; c < 28; c++) line += shades[Math.min(9, Math.floor(images[s * 784 + r * 28 + c] * 10))];
      log(`  ${line}`);
    }
  }
}
if (args.json) {
  const samples = train.labels.length * settings.epochs;
  process.stdout.write(`${JSON.stringify({ testAccuracy: accuracy, epochs: settings.epochs, trainSamplesPerSecond: Math.round(samples / trainingSeconds) })}\n`);
}
