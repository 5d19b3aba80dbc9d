// Callbacks: hooks fit() calls as training goes (Keras's). Any hook may be async (fit awaits it)
// and may stop training through context.stop(): the step under way finishes, no other starts.
import { checkNumber, checkOneOf, checkOptions, describe } from "../check.js";
import { ArgumentError } from "../errors.js";
import type { Model } from "../nn/model.js";
import type { Optimizer } from "../optim/optimizer.js";

export interface EpochLogs {
  epoch: number;
  loss: number;
  samplesPerSecond: number;
  valLoss?: number;
  /** Metrics by name (accuracy, top5Accuracy, …) and their validation values (valAccuracy, …). */
  [metric: string]: number | undefined;
}

export interface BatchLogs {
  loss: number;
  /** Learning rate used by this step. */
  lr: number;
}

export interface TrainingContext {
  readonly model: Model;
  readonly optimizer: Optimizer;
  /** Finish the step under way and start no other. */
  stop(): void;
  readonly stopped: boolean;
}

export interface Callback {
  onTrainBegin?(context: TrainingContext): unknown;
  onEpochBegin?(epoch: number, context: TrainingContext): unknown;
  onBatchEnd?(batch: number, logs: BatchLogs, context: TrainingContext): unknown;
  onEpochEnd?(logs: EpochLogs, context: TrainingContext): unknown;
  onTrainEnd?(context: TrainingContext): unknown;
}

export const CALLBACK_HOOKS = ["onTrainBegin", "onEpochBegin", "onBatchEnd", "onEpochEnd", "onTrainEnd"] as const;

/** A callback object or a list of them, each hook checked to be a function. */
export function checkCallbacks(where: string, callbacks: unknown): Callback[] {
  if (callbacks === undefined) return [];
  const list = Array.isArray(callbacks) ? callbacks : [callbacks];
  for (const [i, c] of list.entries()) {
    if (typeof c !== "object" || c === null) throw new ArgumentError(`${where}: callback ${i} must be an object of hooks, got ${describe(c)}`);
    for (const hook of CALLBACK_HOOKS) {
      const fn = (c as Record<string, unknown>)[hook];
      if (fn !== undefined && typeof fn !== "function") throw new ArgumentError(`${where}: callbacks ${hook} must be a function, got ${describe(fn)}`);
    }
  }
  return list as Callback[];
}

export interface EarlyStoppingOptions {
  /** The log to watch. Default "valLoss". */
  monitor?: string;
  /** Epochs without improvement before stopping. Default 0. */
  patience?: number;
  /** Smaller changes do not count as improvement. Default 0. */
  minDelta?: number;
  /** "min" (losses), "max" (accuracies), or "auto": max for names with "accuracy", min otherwise. */
  mode?: "min" | "max" | "auto";
  /** At the end, put back the weights of the best epoch. Default false. */
  restoreBestWeights?: boolean;
}

/** Stops training when `monitor` has not improved for `patience` epochs (Keras's EarlyStopping). */
export class EarlyStopping implements Callback {
  readonly monitor: string;
  readonly patience: number;
  readonly minDelta: number;
  readonly mode: "min" | "max";
  readonly restoreBestWeights: boolean;
  /** The epoch with the best value, and the value (after training). */
  bestEpoch = 0;
  best = Number.NaN;
  /** The epoch training stopped after, or 0 if it ran to the end. */
  stoppedEpoch = 0;
  private wait = 0;
  private bestWeights: Float32Array[] | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    const { monitor = "valLoss", patience = 0, minDelta = 0, mode = "auto", restoreBestWeights = false } = checkOptions("EarlyStopping", options);
    if (typeof monitor !== "string") throw new ArgumentError(`EarlyStopping: monitor must be a log name, got ${describe(monitor)}`);
    this.monitor = monitor;
    this.patience = checkNumber("EarlyStopping", "patience", patience, { integer: true, min: 0 });
    this.minDelta = Math.abs(checkNumber("EarlyStopping", "minDelta", minDelta));
    const m = checkOneOf("EarlyStopping", "mode", mode, ["min", "max", "auto"] as const);
    this.mode = m === "auto" ? (/accuracy/i.test(monitor) ? "max" : "min") : m;
    if (typeof restoreBestWeights !== "boolean") throw new ArgumentError("EarlyStopping: restoreBestWeights must be true or false");
    this.restoreBestWeights = restoreBestWeights;
  }

  onTrainBegin(): void {
    this.wait = 0;
    this.best = Number.NaN;
    this.bestEpoch = 0;
    this.stoppedEpoch = 0;
    this.bestWeights = null;
  }

  onEpochEnd(logs: EpochLogs, context: TrainingContext): void {
    const value = logs[this.monitor];
    if (typeof value !== "number") {
      throw new ArgumentError(`EarlyStopping: no "${this.monitor}" in the epoch's logs (${Object.keys(logs).join(", ")}); pass validationData or validationSplit, or monitor "loss"`);
    }
    const better = Number.isNaN(this.best) || (this.mode === "min" ? value < this.best - this.minDelta : value > this.best + this.minDelta);
    if (better) {
      this.best = value;
      this.bestEpoch = logs.epoch;
      this.wait = 0;
      if (this.restoreBestWeights) this.bestWeights = context.model.getWeights();
      return;
    }
    this.wait++;
    if (this.wait >= this.patience) {
      this.stoppedEpoch = logs.epoch;
      context.stop();
    }
  }

  onTrainEnd(context: TrainingContext): void {
    if (this.restoreBestWeights && this.bestWeights) context.model.setWeights(this.bestWeights);
  }
}
