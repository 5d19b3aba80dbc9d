// Metrics: how many of a batch's samples a model got right, summed over batches by fit and
// evaluate and divided by the sample count. Each reads the outputs once (a copy of a batch of
// scores, small next to the step that made them). The three kinds of accuracy:
//  - categorical: the largest score is the class, against class indices [n] or one-hot rows [n, c];
//  - binary: one logit per output (σ(z) > ½ ⇔ z > 0), against 0/1 targets of the output's shape;
//  - top-k: the class is among the k largest scores.
import { checkCount, checkOptions, describe } from "../check.js";
import { ArgumentError, ShapeError } from "../errors.js";
import { Tensor, formatShape } from "../tensor.js";

export interface Metric {
  /** The name in the logs ("accuracy", "top5Accuracy"); validation adds "val" in front. */
  readonly name: string;
  /** How many of the batch's samples count as right. */
  correct(output: Tensor, targets: Tensor): number;
}

/** Index of the largest of `width` values at `offset` (the first of equal ones). */
function argmax(values: Float32Array, offset: number, width: number): number {
  let best = 0;
  for (let j = 1; j < width; j++) if (values[offset + j] > values[offset + best]) best = j;
  return best;
}

function rows(where: string, output: Tensor): [number, number] {
  if (output.rank < 1 || output.shape[0] === 0) throw new ShapeError(`${where}: expected outputs [batch, …], got ${formatShape(output.shape)}`);
  const n = output.shape[0];
  return [n, output.size / n];
}

/** The largest score is the class; targets are class indices [n] or one-hot (or any distribution) rows. */
export const categoricalAccuracy: Metric = {
  name: "accuracy",
  correct(output, targets) {
    rows("accuracy", output);
    // Every position of the last axis counts: a sequence's tokens are rows too (scaled to samples by the caller's count).
    const c = output.shape[output.rank - 1];
    const n = output.size / c;
    const scores = output.data();
    const truth = targets.data();
    const indices = targets.size === n;
    if (!indices && targets.size !== output.size) {
      throw new ShapeError(`accuracy: targets must be class indices [${n}] or rows of ${formatShape(output.shape)}, got ${formatShape(targets.shape)}`);
    }
    let right = 0;
    for (let i = 0; i < n; i++) if (argmax(scores, i * c, c) === (indices ? truth[i] : argmax(truth, i * c, c))) right++;
    return (right * output.shape[0]) / n; // per sample: the fraction of its positions right
  },
};

/** One logit per output (z > 0 means 1) against 0/1 targets; a sample is right when all its outputs are. */
export const binaryAccuracy: Metric = {
  name: "accuracy",
  correct(output, targets) {
    const [n, per] = rows("binaryAccuracy", output);
    if (targets.size !== output.size) throw new ShapeError(`binaryAccuracy: targets must have the output's ${output.size} values, got ${formatShape(targets.shape)}`);
    const z = output.data();
    const t = targets.data();
    let right = 0;
    for (let i = 0; i < n; i++) {
      let ok = true;
      for (let j = i * per; j < (i + 1) * per && ok; j++) ok = z[j] > 0 === t[j] > 0.5;
      if (ok) right++;
    }
    return right;
  },
};

/** The true class is among the k largest scores (ties counted against: a class needs fewer than k scores above it). */
export function topKAccuracy(k: number): Metric {
  checkCount("topKAccuracy", "k", k);
  return {
    name: `top${k}Accuracy`,
    correct(output, targets) {
      const [n, c] = rows("topKAccuracy", output);
      if (targets.rank !== 1 || targets.size !== n) throw new ShapeError(`topKAccuracy: targets must be class indices [${n}], got ${formatShape(targets.shape)}`);
      const scores = output.data();
      const labels = targets.data();
      let right = 0;
      for (let i = 0; i < n; i++) {
        const mine = scores[i * c + labels[i]];
        let above = 0;
        for (let j = 0; j < c; j++) if (scores[i * c + j] > mine) above++;
        if (above < k) right++;
      }
      return right;
    },
  };
}

export type MetricName = "accuracy" | "binaryAccuracy" | "categoricalAccuracy";

/** A metric by name or as itself; "accuracy" means binary for binaryCrossEntropy, categorical otherwise. */
export function resolveMetric(metric: MetricName | Metric, loss: unknown): Metric {
  if (typeof metric === "object" && metric !== null && typeof metric.correct === "function" && typeof metric.name === "string") return metric;
  if (metric === "binaryAccuracy" || (metric === "accuracy" && loss === "binaryCrossEntropy")) return binaryAccuracy;
  if (metric === "accuracy" || metric === "categoricalAccuracy") return categoricalAccuracy;
  throw new ArgumentError(`compile: a metric is "accuracy", "binaryAccuracy", "categoricalAccuracy" or a { name, correct } object, got ${describe(metric)}`);
}

/**
 * counts[t][p]: how many samples of true class t the model put in class p (its largest score).
 * `predictions` are scores [n, classes]; `labels` class indices.
 */
export function confusionMatrix(predictions: Tensor, labels: Tensor | ArrayLike<number>, options: { classes?: number } = {}): number[][] {
  if (!Tensor.isTensor(predictions) || predictions.rank !== 2) {
    throw new ShapeError(`confusionMatrix: predictions must be scores [n, classes], got ${Tensor.isTensor(predictions) ? formatShape(predictions.shape) : describe(predictions)}`);
  }
  const [n, c] = predictions.shape;
  const truth = Tensor.isTensor(labels) ? labels.data() : labels;
  if (truth === null || typeof truth !== "object" || truth.length !== n) throw new ShapeError(`confusionMatrix: expected ${n} labels, got ${describe(labels)}`);
  const { classes = c } = checkOptions("confusionMatrix", options);
  checkCount("confusionMatrix", "classes", classes);
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const scores = predictions.data();
  for (let i = 0; i < n; i++) {
    const t = truth[i];
    if (!(Number.isInteger(t) && t >= 0 && t < classes)) throw new ArgumentError(`confusionMatrix: label ${describe(t)} at ${i} is not a class index in [0, ${classes})`);
    const p = argmax(scores, i * c, c);
    if (p >= classes) throw new ArgumentError(`confusionMatrix: sample ${i} is predicted as class ${p}, past classes = ${classes}`);
    counts[t][p]++;
  }
  return counts;
}
