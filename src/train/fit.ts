// fit / evaluate / predict. The data is in Wasm memory once; each step gathers its batch by index
// into the arena, runs forward, loss, backward and the optimiser there, and hands back only the
// loss and the count of correct answers. After the first step has sized the arena, a step
// allocates nothing.
import { clipGradNorm } from "../optim/clip.js";
import { Optimizer } from "../optim/optimizer.js";
import { checkBoolean, checkCount, checkFunction, checkNumber, checkOptions, describe } from "../check.js";
import { backward } from "../autograd/backward.js";
import { noGrad } from "../autograd/graph.js";
import { ArgumentError, ShapeError } from "../errors.js";
import { type LossFn, type LossName, losses } from "../nn/losses.js";
import type { Sequential } from "../nn/sequential.js";
import { Random } from "../random.js";
import { Tensor, formatShape, withArena } from "../tensor.js";
import { ProgressBar } from "./progress.js";

export interface CompileOptions {
  loss: LossName | LossFn;
  optimizer: Optimizer;
}

export interface EvaluateOptions {
  /** Default 256. */
  batchSize?: number;
}

export interface EpochLogs {
  epoch: number;
  loss: number;
  /** For classification losses. */
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  samplesPerSecond: number;
}

export interface FitOptions {
  /** Default 1. */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Shuffle the samples every epoch. Default true. */
  shuffle?: boolean;
  /** Seeds the shuffling. Default 0. */
  seed?: number;
  /** Evaluated at the end of every epoch. */
  validationData?: [Tensor, Tensor];
  /** Clip gradients to this global norm before every update. */
  clipGradNorm?: number;
  callbacks?: {
    onEpochEnd?(logs: EpochLogs): void;
    onBatchEnd?(batch: number, logs: { loss: number }): void;
  };
  /** Progress bar on a terminal (never when stderr is not a TTY). Default true. */
  verbose?: boolean;
}

export interface History {
  epochs: EpochLogs[];
}

const CLASSIFICATION = new Set<unknown>(["crossEntropy", "crossEntropyFromProbabilities"]);

export class Trainer {
  private readonly lossFn: LossFn | null;
  private readonly classification: boolean;

  private readonly lossName: LossName | null;

  constructor(
    private readonly model: Sequential,
    private readonly options: CompileOptions | null,
  ) {
    if (options !== null) {
      checkOptions("compile", options);
      const { loss, optimizer } = options;
      if (typeof loss !== "function" && !(typeof loss === "string" && Object.hasOwn(losses, loss))) {
        throw new ArgumentError(`compile: loss must be one of ${Object.keys(losses).join(", ")}, or a function, got ${describe(loss)}`);
      }
      if (!(optimizer instanceof Optimizer)) {
        throw new ArgumentError(`compile: optimizer must be an optimiser over model.parameters() (e.g. new Adam(model.parameters())), got ${describe(optimizer)}`);
      }
      const params = new Set(model.parameters());
      if (!optimizer.params.some((p) => params.has(p))) throw new ArgumentError("compile: the optimiser updates none of this model's parameters");
    }
    const loss = options?.loss;
    this.lossFn = options ? (typeof loss === "function" ? loss : losses[loss as LossName]) : null;
    this.lossName = typeof loss === "string" ? (loss as LossName) : null;
    this.classification = CLASSIFICATION.has(loss);
  }

  fit(x: Tensor, y: Tensor, fitOptions?: FitOptions): History {
    const options = checkOptions("fit", fitOptions);
    const { epochs = 1, batchSize = 32, shuffle = true, seed = 0, validationData, verbose = true } = options;
    checkCount("fit", "epochs", epochs);
    checkCount("fit", "batchSize", batchSize);
    checkBoolean("fit", "shuffle", shuffle);
    checkBoolean("fit", "verbose", verbose);
    checkNumber("fit", "seed", seed, { integer: true });
    if (options.clipGradNorm !== undefined) checkNumber("fit", "clipGradNorm", options.clipGradNorm, { above: 0 });
    const callbacks = checkOptions("fit", options.callbacks, "callbacks");
    for (const name of ["onEpochEnd", "onBatchEnd"] as const) {
      if (callbacks[name] !== undefined) checkFunction("fit", `callbacks.${name}`, callbacks[name]);
    }
    if (validationData !== undefined && !(Array.isArray(validationData) && validationData.length === 2)) {
      throw new ArgumentError(`fit: validationData must be [x, y], got ${describe(validationData)}`);
    }
    // The whole dataset is checked before the first step: a bad label in the last batch must not
    // leave the weights trained on the batches before it.
    const n = this.checkData("fit", x, y);
    if (validationData) this.checkData("fit validationData", ...validationData);
    const optimizer = this.options!.optimizer;
    const params = this.model.parameters();
    const random = new Random(seed);
    const order = Int32Array.from({ length: n }, (_, i) => i);
    const engine = x.engine;
    const indices = engine.memory.alloc(n * 4);
    const history: History = { epochs: [] };
    try {
      for (let epoch = 1; epoch <= epochs; epoch++) {
        if (shuffle) random.shuffle(order);
        engine.memory.i32(indices, n).set(order);
        const bar = new ProgressBar(verbose, `epoch ${epoch}/${epochs}`);
        const started = performance.now();
        let lossSum = 0;
        let correct = 0;
        const batches = Math.ceil(n / batchSize);
        for (let b = 0; b < batches; b++) {
          const start = b * batchSize;
          const count = Math.min(batchSize, n - start);
          const [loss, right] = withArena(() => {
            const xb = gather(x, indices + 4 * start, count);
            const yb = gather(y, indices + 4 * start, count);
            const out = this.model.forward(xb, { training: true });
            const l = this.lossFn!(out, yb);
            const value = l.item();
            // Stop before this step updates anything: the weights stay those of the last good step.
            if (!Number.isFinite(value)) {
              throw new ArgumentError(`fit: the loss became ${value} at epoch ${epoch}, batch ${b + 1}; lower the learning rate or clip gradients (clipGradNorm)`);
            }
            backward(l);
            if (options.clipGradNorm) clipGradNorm(params, options.clipGradNorm);
            optimizer.step();
            optimizer.zeroGrad();
            return [value, this.classification ? countCorrect(out, yb) : 0];
          }, engine);
          lossSum += loss * count;
          correct += right;
          callbacks.onBatchEnd?.(b, { loss });
          bar.update(start + count, n, `loss ${(lossSum / (start + count)).toFixed(4)}`);
        }
        bar.end();
        const seconds = (performance.now() - started) / 1000;
        const logs: EpochLogs = { epoch, loss: lossSum / n, samplesPerSecond: n / seconds };
        if (this.classification) logs.accuracy = correct / n;
        if (validationData) {
          const v = this.evaluate(validationData[0], validationData[1], { batchSize: Math.max(batchSize, 256) });
          logs.valLoss = v.loss;
          if (v.accuracy !== undefined) logs.valAccuracy = v.accuracy;
        }
        history.epochs.push(logs);
        callbacks.onEpochEnd?.(logs);
      }
    } finally {
      engine.memory.free(indices);
    }
    return history;
  }

  evaluate(x: Tensor, y: Tensor, options?: EvaluateOptions): { loss: number; accuracy?: number } {
    const { batchSize = 256 } = checkOptions("evaluate", options);
    checkCount("evaluate", "batchSize", batchSize);
    const n = this.checkData("evaluate", x, y);
    let lossSum = 0;
    let correct = 0;
    this.batches(x, n, batchSize, (start, count, out) => {
      const yb = slice(y, start, count);
      lossSum += this.lossFn!(out, yb).item() * count;
      if (this.classification) correct += countCorrect(out, yb);
    });
    return this.classification ? { loss: lossSum / n, accuracy: correct / n } : { loss: lossSum / n };
  }

  predict(x: Tensor, options?: EvaluateOptions): Tensor {
    const { batchSize = 256 } = checkOptions("predict", options);
    checkCount("predict", "batchSize", batchSize);
    const n = this.checkInputs("predict", x);
    const per = this.model.outputShape.reduce((a, b) => a * b, 1);
    const result = Tensor.persistent([n, ...this.model.outputShape], x.engine);
    this.batches(x, n, batchSize, (start, count, out) => {
      const memory = x.engine.memory;
      memory.f32(result.ptr + start * per * 4, count * per).set(memory.f32(out.ptr, count * per));
    });
    return result;
  }

  /** Runs the model on x in batches, without a graph, each batch in the arena. */
  private batches(x: Tensor, n: number, batchSize: number, use: (start: number, count: number, out: Tensor) => void): void {
    for (let start = 0; start < n; start += batchSize) {
      const count = Math.min(batchSize, n - start);
      const batch = () => (count === n ? x : slice(x, start, count)); // one batch: x itself
      withArena(() => noGrad(() => use(start, count, this.model.forward(batch()))), x.engine);
    }
  }

  private checkInputs(where: string, x: Tensor): number {
    if (!Tensor.isTensor(x)) throw new ArgumentError(`${where}: x must be a Tensor, got ${describe(x)}`);
    x.assertLive();
    if (!this.model.accepts(x)) {
      throw new ShapeError(`${where}: x must have shape [samples, ${this.model.inputShape.join(", ")}], got ${formatShape(x.shape)}`);
    }
    const bad = x.engine.kernels.firstNonFinite(x.ptr, x.size);
    if (bad >= 0) {
      const value = x.engine.memory.f32(x.ptr + 4 * bad, 1)[0];
      throw new ArgumentError(`${where}: x holds ${value} at element ${bad} (sample ${Math.floor(bad / (x.size / x.shape[0]))})`);
    }
    return x.shape[0];
  }

  /** x and y fit the model and the loss, every label is valid, and there is at least one sample. */
  private checkData(where: string, x: Tensor, y: Tensor): number {
    const n = this.checkInputs(where, x);
    if (!Tensor.isTensor(y)) throw new ArgumentError(`${where}: y must be a Tensor, got ${describe(y)}`);
    y.assertLive();
    if (y.engine !== x.engine) throw new ArgumentError(`${where}: x and y live in different engines' memory`);
    if (y.rank < 1 || y.shape[0] !== n) {
      throw new ShapeError(`${where}: y must have one row per sample (${n}), got shape ${formatShape(y.shape)}`);
    }
    if (n === 0) throw new ArgumentError(`${where}: there are no samples (x has shape ${formatShape(x.shape)}); a mean loss over none is undefined`);
    const out = this.model.outputShape;
    const per = [n, ...out];
    const classes = out[out.length - 1];
    if (this.classification) {
      if (y.rank === 1) {
        const labels = y.data();
        const row = labels.findIndex((v) => !(Number.isInteger(v) && v >= 0 && v < classes));
        if (row >= 0) throw new ArgumentError(`${where}: label ${labels[row]} at row ${row} is not a class index in [0, ${classes})`);
      } else if (formatShape(y.shape) !== formatShape(per)) {
        throw new ShapeError(`${where}: y must be class indices [${n}] or rows of ${formatShape(per)}, got ${formatShape(y.shape)}`);
      }
    } else if (this.lossName !== null && formatShape(y.shape) !== formatShape(per) && !(y.rank === 1 && y.size === n * out.reduce((a, b) => a * b, 1))) {
      throw new ShapeError(`${where}: y must have the model's output shape ${formatShape(per)}, got ${formatShape(y.shape)}`);
    }
    if (y.rank > 1 || !this.classification) {
      const bad = y.engine.kernels.firstNonFinite(y.ptr, y.size);
      if (bad >= 0) throw new ArgumentError(`${where}: y holds ${y.engine.memory.f32(y.ptr + 4 * bad, 1)[0]} at element ${bad}`);
    }
    return n;
  }
}

/** Rows of t at the `count` indices stored (as i32) at byte address `indices`, into the arena. */
function gather(t: Tensor, indices: number, count: number): Tensor {
  const out = Tensor.empty([count, ...t.shape.slice(1)], t.engine);
  t.engine.kernels.gatherRows(t.ptr, indices, count, t.size / t.shape[0], out.ptr);
  return out;
}

/** Rows start … start + count − 1 of t, copied into the arena. */
function slice(t: Tensor, start: number, count: number): Tensor {
  const per = t.size / t.shape[0];
  const out = Tensor.empty([count, ...t.shape.slice(1)], t.engine);
  const memory = t.engine.memory;
  memory.f32(out.ptr, count * per).set(memory.f32(t.ptr + start * per * 4, count * per));
  return out;
}

function countCorrect(out: Tensor, targets: Tensor): number {
  const [rows, cols] = out.shape;
  const k = out.engine.kernels;
  return targets.rank === 1 ? k.countCorrect(out.ptr, targets.ptr, rows, cols) : k.countCorrectDense(out.ptr, targets.ptr, rows, cols);
}
