// fit / evaluate / predict over any Model. The data is in Wasm memory once; each step gathers its
// batch by index into the arena, runs forward, loss, backward and the optimiser there, and hands
// back only the loss and the metrics' counts. After the first step has sized the arena, a step
// allocates nothing.
// The loop is one generator: fitSync() runs it straight through; fit() runs it too, but gives the
// event loop a turn whenever `yieldEvery` ms have passed since the last one (a page stays
// responsive) and awaits callbacks that return promises.
import { backward } from "../autograd/backward.js";
import { noGrad } from "../autograd/graph.js";
import { checkBoolean, checkCount, checkFunction, checkNumber, checkOptions, describe } from "../check.js";
import { ArgumentError, ShapeError } from "../errors.js";
import { Model } from "../nn/model.js";
import { type LossFn, type LossName, losses } from "../nn/losses.js";
import { Sequential } from "../nn/sequential.js";
import { clipGradNorm } from "../optim/clip.js";
import { Optimizer } from "../optim/optimizer.js";
import type { Schedule } from "../optim/schedules.js";
import { Random } from "../random.js";
import { Tensor, formatShape, withArena } from "../tensor.js";
import { type BatchLogs, type Callback, type EpochLogs, type TrainingContext, checkCallbacks } from "./callbacks.js";
import { type Metric, type MetricName, resolveMetric } from "./metrics.js";
import { LayerStack, frozenPrefix } from "./features.js";
import { ProgressBar } from "./progress.js";
import { yieldToEventLoop } from "./yield.js";

/** One input tensor, or one per input of a model whose forward() takes several. */
export type Inputs = Tensor | readonly Tensor[];

export interface CompileOptions {
  loss: LossName | LossFn;
  optimizer: Optimizer;
  /** Default ["accuracy"] for the cross-entropy losses, none otherwise. */
  metrics?: readonly (MetricName | Metric)[];
}

export interface EvaluateOptions {
  /** Default 256. */
  batchSize?: number;
}

export interface FitOptions {
  /** The last epoch to train (counted from 1, as Keras counts). Default 1. */
  epochs?: number;
  /**
   * Epochs already done (by an earlier fit, before a save and load): training runs epochs
   * initialEpoch + 1 … epochs, with the same shuffles a run from the start would have made. Default 0.
   */
  initialEpoch?: number;
  /** Default 32. */
  batchSize?: number;
  /** Shuffle the samples every epoch. Default true. */
  shuffle?: boolean;
  /** Seeds the shuffling. Default 0. */
  seed?: number;
  /** Evaluated at the end of every epoch. */
  validationData?: [Inputs, Tensor];
  /** Hold out this fraction of the samples, the last ones (as Keras does), and evaluate on them every epoch. */
  validationSplit?: number;
  /** Clip gradients to this global norm before every update. */
  clipGradNorm?: number;
  /** The learning rate of every update, from the step number (see stepDecay, cosineDecay, …). */
  schedule?: Schedule;
  callbacks?: Callback | readonly Callback[];
  /** Record every layer's gradient norm in history.gradientNorms every N steps (true: every 100). */
  gradientNorms?: boolean | number;
  /** fit() gives the event loop a turn when this many ms have passed since the last. Default 25. */
  yieldEvery?: number;
  /** Progress bar on a terminal (never when stderr is not a TTY). Default true. */
  verbose?: boolean;
  /**
   * A Sequential whose leading layers are frozen (a pretrained backbone): run them once per
   * sample, in inference mode, and train the rest on those features (train/features.ts). Default false.
   */
  cacheFeatures?: boolean;
}

export interface GradientNormRecord {
  /** The optimiser step (counted from 0 in this fit) and epoch the norms were taken at. */
  step: number;
  epoch: number;
  /** ‖∂L/∂W‖₂ of each layer (its weight and bias together), by layer name, input to output. */
  layers: Record<string, number>;
}

export interface History {
  epochs: EpochLogs[];
  /** With fit({ gradientNorms }): each layer's gradient norm every N steps (vanishing or exploding gradients show here). */
  gradientNorms?: GradientNormRecord[];
  /** With fit({ cacheFeatures }): how many leading layers ran once per sample, for how many samples, in how many ms. */
  cachedFeatures?: { layers: number; samples: number; ms: number };
}

const CLASSIFICATION = new Set<unknown>(["crossEntropy", "crossEntropyFromProbabilities"]);
/** A step of the loop: fit() may yield to the event loop here. */
const TICK = Symbol("tick");
type Pause = typeof TICK | Promise<unknown>;

export class Trainer {
  private readonly lossFn: LossFn | null;
  private readonly lossName: LossName | null;
  private readonly metrics: Metric[];

  constructor(
    private readonly model: Model,
    private readonly options: CompileOptions | null,
  ) {
    if (!(model instanceof Model)) throw new ArgumentError(`expected a Model, got ${describe(model)}`);
    if (options !== null) {
      checkOptions("compile", options);
      const { loss, optimizer, metrics } = options;
      if (typeof loss !== "function" && !(typeof loss === "string" && Object.hasOwn(losses, loss))) {
        throw new ArgumentError(`compile: loss must be one of ${Object.keys(losses).join(", ")}, or a function, got ${describe(loss)}`);
      }
      if (!(optimizer instanceof Optimizer)) {
        throw new ArgumentError(`compile: optimizer must be an optimiser over model.parameters() (e.g. new Adam(model.parameters())), got ${describe(optimizer)}`);
      }
      const params = new Set(model.parameters());
      if (params.size > 0 && !optimizer.params.some((p) => params.has(p))) throw new ArgumentError("compile: the optimiser updates none of this model's parameters");
      if (metrics !== undefined && !Array.isArray(metrics)) throw new ArgumentError(`compile: metrics must be an array, got ${describe(metrics)}`);
    }
    const loss = options?.loss;
    this.lossFn = options ? (typeof loss === "function" ? loss : losses[loss as LossName]) : null;
    this.lossName = typeof loss === "string" ? (loss as LossName) : null;
    const metrics = options?.metrics ?? (CLASSIFICATION.has(loss) ? ["accuracy" as const] : []);
    this.metrics = metrics.map((m) => resolveMetric(m, loss));
    const names = this.metrics.map((m) => m.name);
    if (new Set(names).size !== names.length) throw new ArgumentError(`compile: two metrics share a name (${names.join(", ")})`);
  }

  /** Trains, giving the event loop a turn every `yieldEvery` ms; resolves to the history. */
  async fit(x: Inputs, y: Tensor, options?: FitOptions): Promise<History> {
    const yieldEvery = checkNumber("fit", "yieldEvery", checkOptions("fit", options).yieldEvery ?? 25, { min: 0 });
    const loop = this.training(x, y, options);
    let last = performance.now();
    let next = loop.next();
    while (!next.done) {
      try {
        if (next.value === TICK) {
          if (performance.now() - last >= yieldEvery) {
            await yieldToEventLoop();
            last = performance.now();
          }
        } else {
          await next.value;
          last = performance.now();
        }
      } catch (e) {
        next = loop.throw(e); // the loop's own clean-up runs
        continue;
      }
      next = loop.next();
    }
    return next.value;
  }

  /** Trains without yielding (for scripts); callbacks must not return promises. */
  fitSync(x: Inputs, y: Tensor, options?: FitOptions): History {
    const loop = this.training(x, y, options);
    for (let next = loop.next(); ; next = loop.next()) {
      if (next.done) return next.value;
      if (next.value !== TICK) {
        next.value.catch(() => {}); // not awaited: silence it, then say why
        loop.return(undefined as never);
        throw new ArgumentError("fitSync: a callback returned a promise; use await model.fit(…) for asynchronous callbacks");
      }
    }
  }

  private *training(x: Inputs, y: Tensor, fitOptions: FitOptions | undefined): Generator<Pause, History, void> {
    const options = checkOptions("fit", fitOptions);
    if (options.cacheFeatures !== undefined && checkBoolean("fit", "cacheFeatures", options.cacheFeatures)) return yield* this.trainingOnFeatures(x, y, options);
    const { epochs = 1, batchSize = 32, shuffle = true, seed = 0, verbose = true, schedule, initialEpoch = 0 } = options;
    checkCount("fit", "epochs", epochs);
    checkNumber("fit", "initialEpoch", initialEpoch, { integer: true, min: 0, below: epochs });
    checkCount("fit", "batchSize", batchSize);
    checkBoolean("fit", "shuffle", shuffle);
    checkBoolean("fit", "verbose", verbose);
    checkNumber("fit", "seed", seed, { integer: true });
    if (options.clipGradNorm !== undefined) checkNumber("fit", "clipGradNorm", options.clipGradNorm, { above: 0 });
    if (schedule !== undefined) checkFunction("fit", "schedule", schedule);
    const callbacks = checkCallbacks("fit", options.callbacks);
    const normsEvery = options.gradientNorms === undefined || options.gradientNorms === false ? 0
      : options.gradientNorms === true ? 100 : checkCount("fit", "gradientNorms", options.gradientNorms);
    const { validationData, validationSplit } = options;
    if (validationData !== undefined && !(Array.isArray(validationData) && validationData.length === 2)) {
      throw new ArgumentError(`fit: validationData must be [x, y], got ${describe(validationData)}`);
    }
    if (validationSplit !== undefined) {
      checkNumber("fit", "validationSplit", validationSplit, { above: 0, below: 1 });
      if (validationData !== undefined) throw new ArgumentError("fit: give validationData or validationSplit, not both");
    }
    // The whole dataset is checked before the first step: a bad label in the last batch must not
    // leave the weights trained on the batches before it.
    const all = this.checkData("fit", x, y);
    const n = validationSplit === undefined ? all.n : Math.floor(all.n * (1 - validationSplit));
    if (validationSplit !== undefined && (n < 1 || n === all.n)) throw new ArgumentError(`fit: validationSplit ${validationSplit} of ${all.n} samples leaves ${n} to train on and ${all.n - n} to validate`);
    if (validationData) this.checkData("fit validationData", validationData[0], validationData[1]);
    const optimizer = this.options!.optimizer;
    if (schedule) checkNumber("fit", "schedule(0)", schedule(optimizer.steps), { min: 0 });

    const model = this.model;
    const wasTraining = model.training;
    const engine = all.xs[0].engine;
    const params = model.parameters();
    const random = new Random(seed);
    const order = Int32Array.from({ length: n }, (_, i) => i);
    const indices = engine.memory.alloc(Math.max(n, 1) * 4);
    const held = validationSplit === undefined ? null : [all.xs.map((t) => rowsOf(t, n, all.n)), rowsOf(y, n, all.n)] as const;
    const validation = validationData ?? (held ? [held[0], held[1]] as [Inputs, Tensor] : null);
    const history: History = { epochs: [] };
    if (normsEvery) history.gradientNorms = [];
    const layerOf = new Map(model.namedParameters().map(([name, p]) => [p, name.slice(0, Math.max(0, name.lastIndexOf(".")))]));
    let step = 0;
    let stopped = false;
    const context: TrainingContext = {
      model,
      optimizer,
      stop: () => void (stopped = true),
      get stopped() {
        return stopped;
      },
    };
    const hook = function* (name: keyof Callback, ...args: unknown[]): Generator<Pause, void, void> {
      for (const c of callbacks) {
        const result = (c[name] as ((...a: unknown[]) => unknown) | undefined)?.call(c, ...args, context);
        if (result instanceof Promise) yield result;
      }
    };
    // The shuffles of the epochs already done, replayed so that this run continues their sequence.
    if (shuffle) for (let e = 0; e < initialEpoch; e++) random.shuffle(order);
    try {
      yield* hook("onTrainBegin");
      for (let epoch = initialEpoch + 1; epoch <= epochs && !stopped; epoch++) {
        yield* hook("onEpochBegin", epoch);
        if (shuffle) random.shuffle(order);
        engine.memory.i32(indices, n).set(order);
        const bar = new ProgressBar(verbose, `epoch ${epoch}/${epochs}`);
        const started = performance.now();
        let lossSum = 0;
        let seen = 0;
        const right = new Array<number>(this.metrics.length).fill(0);
        const batches = Math.ceil(n / batchSize);
        for (let b = 0; b < batches && !stopped; b++) {
          const start = b * batchSize;
          const count = Math.min(batchSize, n - start);
          model.train();
          const lr = schedule ? (optimizer.lr = schedule(optimizer.steps)) : optimizer.lr;
          const loss = withArena(() => {
            const xb = all.xs.map((t) => gather(t, indices + 4 * start, count));
            const yb = gather(y, indices + 4 * start, count);
            const out = model.call(...xb);
            const l = this.lossFn!(out, yb);
            const value = l.item();
            // Stop before this step updates anything: the weights stay those of the last good step.
            if (!Number.isFinite(value)) {
              throw new ArgumentError(`fit: the loss became ${value} at epoch ${epoch}, batch ${b + 1}; lower the learning rate or clip gradients (clipGradNorm)`);
            }
            backward(l);
            if (normsEvery && step % normsEvery === 0) history.gradientNorms!.push({ step, epoch, layers: layerNorms(params, layerOf) });
            step++;
            if (options.clipGradNorm) clipGradNorm(params, options.clipGradNorm);
            optimizer.step();
            optimizer.zeroGrad();
            this.metrics.forEach((m, i) => (right[i] += m.correct(out, yb)));
            return value;
          }, engine);
          lossSum += loss * count;
          seen += count;
          bar.update(seen, n, `loss ${(lossSum / seen).toFixed(4)}`);
          const batchLogs: BatchLogs = { loss, lr };
          yield* hook("onBatchEnd", b, batchLogs);
          yield TICK;
        }
        bar.end();
        const logs: EpochLogs = { epoch, loss: lossSum / seen, samplesPerSecond: seen / ((performance.now() - started) / 1000) };
        this.metrics.forEach((m, i) => (logs[m.name] = right[i] / seen));
        if (validation) {
          const v = this.evaluate(validation[0], validation[1], { batchSize: Math.max(batchSize, 256) });
          for (const [name, value] of Object.entries(v)) logs[`val${name[0].toUpperCase()}${name.slice(1)}`] = value;
        }
        history.epochs.push(logs);
        yield* hook("onEpochEnd", logs);
        yield TICK;
      }
      yield* hook("onTrainEnd");
    } finally {
      model.train(wasTraining);
      engine.memory.free(indices);
      held?.[0].forEach((t) => t.dispose());
      held?.[1].dispose();
    }
    return history;
  }

  /** The mean loss (and metrics) over every sample of x and y, in inference mode. */
  evaluate(x: Inputs, y: Tensor, options?: EvaluateOptions): { loss: number; [metric: string]: number } {
    const { batchSize = 256 } = checkOptions("evaluate", options);
    checkCount("evaluate", "batchSize", batchSize);
    const { xs, n } = this.checkData("evaluate", x, y);
    let lossSum = 0;
    const right = new Array<number>(this.metrics.length).fill(0);
    this.batches(xs, n, batchSize, (start, count, out) => {
      const yb = slice(y, start, count);
      lossSum += this.lossFn!(out, yb).item() * count;
      this.metrics.forEach((m, i) => (right[i] += m.correct(out, yb)));
    });
    const result: { loss: number; [metric: string]: number } = { loss: lossSum / n };
    this.metrics.forEach((m, i) => (result[m.name] = right[i] / n));
    return result;
  }

  /** fit({ cacheFeatures }): the frozen leading layers once per sample, then the rest trained on their output. */
  private *trainingOnFeatures(x: Inputs, y: Tensor, options: FitOptions): Generator<Pause, History, void> {
    const { model, cached } = frozenPrefix(this.model);
    const { xs } = this.checkData("fit", x, y);
    const [backbone, head] = [new LayerStack(model.layers.slice(0, cached), model.engine), new LayerStack(model.layers.slice(cached), model.engine)];
    const started = performance.now();
    const bar = new ProgressBar(options.verbose ?? true, `features (${cached} layers)`);
    const through = new Trainer(backbone, null);
    const made: Tensor[] = [];
    try {
      const features = through.predict(xs[0]);
      made.push(features);
      bar.update(xs[0].shape[0], xs[0].shape[0], "");
      bar.end();
      let validationData = options.validationData;
      if (validationData) {
        const v = through.predict(Array.isArray(validationData[0]) ? validationData[0][0] : validationData[0]);
        made.push(v);
        validationData = [v, validationData[1]];
      }
      const ms = performance.now() - started;
      yield TICK;
      const history = yield* new Trainer(head, this.options).training(features, y, { ...options, cacheFeatures: false, validationData });
      return { ...history, cachedFeatures: { layers: cached, samples: xs[0].shape[0], ms } };
    } finally {
      made.forEach((t) => t.dispose());
    }
  }

  /** The outputs for every sample of x, batch by batch, in inference mode, as one tensor that you own. */
  predict(x: Inputs, options?: EvaluateOptions): Tensor {
    const { batchSize = 256 } = checkOptions("predict", options);
    checkCount("predict", "batchSize", batchSize);
    const { xs, n } = this.checkInputs("predict", x);
    let result: Tensor | null = null;
    if (n === 0) return this.outputFor(xs);
    this.batches(xs, n, batchSize, (start, count, out) => {
      const per = out.size / count;
      result ??= Tensor.persistent([n, ...out.shape.slice(1)], xs[0].engine);
      const memory = out.engine.memory;
      memory.f32(result.ptr + start * per * 4, count * per).set(memory.f32(out.ptr, count * per));
    });
    return result!;
  }

  /** Runs the model on the inputs in batches, in inference mode, without a graph, each batch in the arena. */
  private batches(xs: Tensor[], n: number, batchSize: number, use: (start: number, count: number, out: Tensor) => void): void {
    const wasTraining = this.model.training;
    this.model.eval();
    try {
      for (let start = 0; start < n; start += batchSize) {
        const count = Math.min(batchSize, n - start);
        withArena(() => noGrad(() => use(start, count, this.model.call(...xs.map((t) => (count === n ? t : slice(t, start, count)))))), xs[0].engine);
      }
    } finally {
      this.model.train(wasTraining);
    }
  }

  /** The model's output for the inputs, run once in inference mode without a graph (to learn its shape). */
  private outputFor(xs: Tensor[]): Tensor {
    const wasTraining = this.model.training;
    this.model.eval();
    try {
      return noGrad(() => this.model.call(...xs));
    } finally {
      this.model.train(wasTraining);
    }
  }

  /** The inputs as a list of live tensors with the same number of samples, that the model accepts. */
  private checkInputs(where: string, x: Inputs): { xs: Tensor[]; n: number } {
    const xs = Array.isArray(x) ? [...x] : [x];
    if (xs.length === 0) throw new ArgumentError(`${where}: x must be a Tensor or a non-empty array of them`);
    xs.forEach((t, i) => {
      const what = xs.length > 1 ? `x[${i}]` : "x";
      if (!Tensor.isTensor(t)) throw new ArgumentError(`${where}: ${what} must be a Tensor, got ${describe(t)}`);
      t.assertLive();
      if (t.rank < 1) throw new ShapeError(`${where}: ${what} needs a first axis of samples, got a scalar`);
      if (t.engine !== xs[0].engine) throw new ArgumentError(`${where}: ${what} lives in another engine's memory`);
      const bad = t.engine.kernels.firstNonFinite(t.ptr, t.size);
      if (bad >= 0) {
        const value = t.engine.memory.f32(t.ptr + 4 * bad, 1)[0];
        throw new ArgumentError(`${where}: ${what} holds ${value} at element ${bad} (sample ${Math.floor(bad / (t.size / t.shape[0]))})`);
      }
    });
    const n = xs[0].shape[0];
    const ragged = xs.findIndex((t) => t.shape[0] !== n);
    if (ragged >= 0) throw new ShapeError(`${where}: every input needs ${n} samples, x[${ragged}] has shape ${formatShape(xs[ragged].shape)}`);
    const model = this.model;
    if (model instanceof Sequential && (xs.length !== 1 || !model.accepts(xs[0]))) {
      throw new ShapeError(`${where}: x must have shape [samples, ${model.inputShape.join(", ")}], got ${xs.map((t) => formatShape(t.shape)).join(", ")}`);
    }
    return { xs, n };
  }

  /** x and y fit the model and the loss, every label is valid, and there is at least one sample. */
  private checkData(where: string, x: Inputs, y: Tensor): { xs: Tensor[]; n: number } {
    const { xs, n } = this.checkInputs(where, x);
    if (!Tensor.isTensor(y)) throw new ArgumentError(`${where}: y must be a Tensor, got ${describe(y)}`);
    y.assertLive();
    if (y.engine !== xs[0].engine) throw new ArgumentError(`${where}: x and y live in different engines' memory`);
    if (y.rank < 1 || y.shape[0] !== n) {
      throw new ShapeError(`${where}: y must have one row per sample (${n}), got shape ${formatShape(y.shape)}`);
    }
    if (n === 0) throw new ArgumentError(`${where}: there are no samples (x has shape ${formatShape(xs[0].shape)}); a mean loss over none is undefined`);
    // The output's shape, from one sample (this also builds a model's layers, outside any step).
    const firsts = xs.map((t) => rowsOf(t, 0, 1));
    let out: number[];
    try {
      const probe = this.outputFor(firsts);
      out = probe.shape.slice(1);
      probe.dispose();
    } finally {
      firsts.forEach((t) => t.dispose());
    }
    const per = [n, ...out];
    const classes = out[out.length - 1] ?? 1;
    if (CLASSIFICATION.has(this.lossName)) {
      if (y.rank === out.length) { // class indices: one per sample, or per position of a sequence
        if (formatShape(y.shape) !== formatShape(per.slice(0, -1))) throw new ShapeError(`${where}: class indices must have shape ${formatShape(per.slice(0, -1))}, got ${formatShape(y.shape)}`);
        const labels = y.data();
        const row = labels.findIndex((v) => !(Number.isInteger(v) && v >= 0 && v < classes));
        if (row >= 0) throw new ArgumentError(`${where}: label ${labels[row]} at row ${row} is not a class index in [0, ${classes})`);
      } else if (formatShape(y.shape) !== formatShape(per)) {
        throw new ShapeError(`${where}: y must be class indices ${formatShape(per.slice(0, -1))} or rows of ${formatShape(per)}, got ${formatShape(y.shape)}`);
      }
    } else if (this.lossName !== null && formatShape(y.shape) !== formatShape(per) && !(y.rank === 1 && y.size === n * out.reduce((a, b) => a * b, 1))) {
      throw new ShapeError(`${where}: y must have the model's output shape ${formatShape(per)}, got ${formatShape(y.shape)}`);
    }
    if (y.rank > out.length || !CLASSIFICATION.has(this.lossName)) {
      const bad = y.engine.kernels.firstNonFinite(y.ptr, y.size);
      if (bad >= 0) throw new ArgumentError(`${where}: y holds ${y.engine.memory.f32(y.ptr + 4 * bad, 1)[0]} at element ${bad}`);
    }
    return { xs, n };
  }
}

/** Rows of t at the `count` indices stored (as i32) at byte address `indices`, into the arena. */
function gather(t: Tensor, indices: number, count: number): Tensor {
  const out = Tensor.empty([count, ...t.shape.slice(1)], t.engine);
  t.engine.kernels.gatherRows(t.ptr, indices, count, t.size / t.shape[0], out.ptr);
  return out;
}

/** Rows start … start + count − 1 of t, copied into the arena (or the heap outside one). */
function slice(t: Tensor, start: number, count: number): Tensor {
  const per = t.size / t.shape[0];
  const out = Tensor.empty([count, ...t.shape.slice(1)], t.engine);
  const memory = t.engine.memory;
  memory.f32(out.ptr, count * per).set(memory.f32(t.ptr + start * per * 4, count * per));
  return out;
}

/** Rows from … to − 1 of t, as a new persistent tensor. */
function rowsOf(t: Tensor, from: number, to: number): Tensor {
  const per = t.size / t.shape[0];
  const out = Tensor.persistent([to - from, ...t.shape.slice(1)], t.engine);
  const memory = t.engine.memory;
  memory.f32(out.ptr, (to - from) * per).set(memory.f32(t.ptr + from * per * 4, (to - from) * per));
  return out;
}

/** √(Σ g²) over each layer's parameters' gradients (a layer: the name before the last dot). */
function layerNorms(params: readonly Tensor[], layerOf: Map<Tensor, string>): Record<string, number> {
  const squares: Record<string, number> = {};
  for (const p of params) {
    if (!p.grad) continue;
    const layer = layerOf.get(p) ?? p.name ?? "?";
    squares[layer] = (squares[layer] ?? 0) + p.engine.kernels.sumSquares(p.grad.ptr, p.grad.size);
  }
  return Object.fromEntries(Object.entries(squares).map(([k, v]) => [k, Math.sqrt(v)]));
}
