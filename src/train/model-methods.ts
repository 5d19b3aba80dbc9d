// Keras's habits on every Model: model.compile({ loss, optimizer }), await model.fit(x, y),
// model.evaluate, model.predict. Attached here, from above (train/ → nn/), so that models know
// nothing of training; the package's entry point loads this module (listed in sideEffects).
import { checkOptions } from "../check.js";
import { ArgumentError } from "../errors.js";
import { Model } from "../nn/model.js";
import type { Tensor } from "../tensor.js";
import { type CompileOptions, type EvaluateOptions, type FitOptions, type History, type Inputs, Trainer } from "./trainer.js";

declare module "../nn/model.js" {
  interface Model {
    /** Chooses the loss, the optimiser and the metrics for fit() and evaluate(). */
    compile(options: CompileOptions): void;
    /** Trains, yielding to the event loop as it goes; resolves to the per-epoch logs. */
    fit(x: Inputs, y: Tensor, options?: FitOptions): Promise<History>;
    /** fit() without yielding, for scripts. */
    fitSync(x: Inputs, y: Tensor, options?: FitOptions): History;
    /** The mean loss and metrics over x and y, in inference mode. */
    evaluate(x: Inputs, y: Tensor, options?: EvaluateOptions): { loss: number; [metric: string]: number };
    /** The outputs for every sample of x, in inference mode, as one tensor that you own. */
    predict(x: Inputs, options?: EvaluateOptions): Tensor;
  }
}

const compiled = new WeakMap<Model, Trainer>();

const methods: Pick<Model, "compile" | "fit" | "fitSync" | "evaluate" | "predict"> & ThisType<Model> = {
  compile(options) {
    compiled.set(this, new Trainer(this, checkOptions("compile", options)));
  },
  fit(x, y, options) {
    return compiledOrThrow(this, "fit").fit(x, y, options);
  },
  fitSync(x, y, options) {
    return compiledOrThrow(this, "fitSync").fitSync(x, y, options);
  },
  evaluate(x, y, options) {
    return compiledOrThrow(this, "evaluate").evaluate(x, y, options);
  },
  predict(x, options) {
    return new Trainer(this, null).predict(x, options);
  },
};

function compiledOrThrow(model: Model, what: string): Trainer {
  const t = compiled.get(model);
  if (!t) throw new ArgumentError(`${what}: call model.compile({ loss, optimizer }) first`);
  return t;
}

for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(Model.prototype, name, { value: fn, writable: true, configurable: true, enumerable: false });
}
