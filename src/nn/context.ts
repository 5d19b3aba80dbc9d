// Where layers get what build() needs (a seeded generator, the engine) when they are built on
// first use: from the model whose call() is running, else from a default made on the spot.
import { type Engine, getEngine } from "../backend/engine.js";
import { Random } from "../random.js";

/** What build() needs: the generator for initial values and the engine that will hold them. */
export interface BuildContext {
  random: Random;
  engine: Engine;
}

let active: BuildContext | null = null;

/** Runs fn with `context` for every layer built inside it, unless an outer call already set one. */
export function withBuildContext<T>(context: BuildContext, fn: () => T): T {
  if (active) return fn();
  active = context;
  try {
    return fn();
  } finally {
    active = null;
  }
}

/** The running model's context, or Random(0) and the default engine for a layer used on its own. */
export const currentBuildContext = (): BuildContext => active ?? { random: new Random(0), engine: getEngine() };
