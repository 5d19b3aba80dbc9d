// Learning-rate schedules: plain functions from the step number (0, 1, 2, … — one step per
// optimiser update) to a learning rate. fit({ schedule }) applies one before every update; by
// hand: optimizer.lr = schedule(step).
import { checkCount, checkNumber, checkOptions } from "../check.js";

export type Schedule = (step: number) => number;

function checkStep(where: string, step: number): number {
  return checkNumber(where, "step", step, { integer: true, min: 0 });
}

/** lr = initial · factor^⌊step / every⌋: drops by `factor` every `every` steps. */
export function stepDecay(options: { initial: number; factor: number; every: number }): Schedule {
  const { initial, factor, every } = checkOptions("stepDecay", options);
  checkNumber("stepDecay", "initial", initial, { min: 0 });
  checkNumber("stepDecay", "factor", factor, { min: 0 });
  checkCount("stepDecay", "every", every);
  return (step) => initial * factor ** Math.floor(checkStep("stepDecay", step) / every);
}

/** lr = initial · rate^(step / steps): multiplied by `rate` every `steps` steps, smoothly (or in stairs). */
export function exponentialDecay(options: { initial: number; rate: number; steps: number; staircase?: boolean }): Schedule {
  const { initial, rate, steps, staircase = false } = checkOptions("exponentialDecay", options);
  checkNumber("exponentialDecay", "initial", initial, { min: 0 });
  checkNumber("exponentialDecay", "rate", rate, { min: 0 });
  checkCount("exponentialDecay", "steps", steps);
  return (step) => {
    const p = checkStep("exponentialDecay", step) / steps;
    return initial * rate ** (staircase ? Math.floor(p) : p);
  };
}

/**
 * Linear warm-up from 0 over `warmup` steps, then half a cosine from `initial` down to `min` at
 * `steps` (and `min` after it): lr = min + (initial − min)·(1 + cos(π·t))/2, t the fraction of
 * the decay done (Loshchilov & Hutter's SGDR without restarts; Goyal et al.'s warm-up).
 */
export function cosineDecay(options: { initial: number; steps: number; warmup?: number; min?: number }): Schedule {
  const { initial, steps, warmup = 0, min = 0 } = checkOptions("cosineDecay", options);
  checkNumber("cosineDecay", "initial", initial, { min: 0 });
  checkCount("cosineDecay", "steps", steps);
  checkNumber("cosineDecay", "warmup", warmup, { integer: true, min: 0, below: steps });
  checkNumber("cosineDecay", "min", min, { min: 0, max: initial });
  return (step) => {
    checkStep("cosineDecay", step);
    if (step < warmup) return (initial * (step + 1)) / (warmup + 1);
    const t = Math.min(1, (step - warmup) / (steps - warmup));
    return min + ((initial - min) * (1 + Math.cos(Math.PI * t))) / 2;
  };
}
