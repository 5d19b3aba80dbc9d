// Checks at the door: every public entry point validates its arguments with these before it
// allocates or changes anything, and says what it expected and what came. describe() turns any
// value into a few words without ever throwing (BigInt, symbols, cyclic or hostile objects).
import { ArgumentError } from "./errors.js";

/** A short, safe description of any value, for error messages. */
export function describe(value: unknown): string {
  try {
    switch (typeof value) {
      case "number":
        return Object.is(value, -0) ? "-0" : String(value);
      case "bigint":
        return `${String(value)}n (a BigInt)`;
      case "string":
        return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
      case "symbol":
        return "a symbol";
      case "function":
        return "a function";
      case "undefined":
        return "undefined";
      case "boolean":
        return String(value);
    }
    if (value === null) return "null";
    if (Array.isArray(value)) return `an array of ${value.length}`;
    if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
    const name = Object.getPrototypeOf(value)?.constructor?.name;
    return typeof name === "string" && name !== "Object" ? `a ${name}` : "an object";
  } catch {
    return "an unprintable value";
  }
}

export interface NumberRange {
  /** Reject ±Infinity. Default true. */
  finite?: boolean;
  min?: number;
  max?: number;
  /** min itself is not allowed. */
  above?: number;
  /** max itself is not allowed. */
  below?: number;
  integer?: boolean;
}

/** A number (never NaN) within the range, or an ArgumentError naming `where` and `name`. */
export function checkNumber(where: string, name: string, value: unknown, range: NumberRange = {}): number {
  const { finite = true, min, max, above, below, integer = false } = range;
  const ok =
    typeof value === "number" &&
    !Number.isNaN(value) &&
    (!finite || Number.isFinite(value)) &&
    (!integer || Number.isInteger(value)) &&
    (min === undefined || value >= min) &&
    (max === undefined || value <= max) &&
    (above === undefined || value > above) &&
    (below === undefined || value < below);
  if (!ok) throw new ArgumentError(`${where}: ${name} must be ${expected(range)}, got ${describe(value)}`);
  return value as number;
}

/** The range in words: "a positive integer", "a number in [0, 1)", "a finite number > 0". */
function expected({ finite = true, min, max, above, below, integer = false }: NumberRange): string {
  const open = max === undefined && below === undefined && above === undefined;
  if (integer && min === 1 && open) return "a positive integer";
  if (integer && min === 0 && open) return "a non-negative integer";
  const kind = integer ? "an integer" : finite ? "a number" : "a number (±Infinity allowed)";
  const low = min !== undefined ? `[${min}` : above !== undefined ? `(${above}` : undefined;
  const high = max !== undefined ? `${max}]` : below !== undefined ? `${below})` : undefined;
  if (low && high) return `${kind} in ${low}, ${high}`;
  if (low) return `${finite && !integer ? "a finite number" : kind} ${min !== undefined ? `≥ ${min}` : `> ${above}`}`;
  if (high) return `${finite && !integer ? "a finite number" : kind} ${max !== undefined ? `≤ ${max}` : `< ${below}`}`;
  return finite && !integer ? "a finite number" : kind;
}

/** A positive integer (a size, a count). */
export const checkCount = (where: string, name: string, value: unknown): number =>
  checkNumber(where, name, value, { integer: true, min: 1 });

/** An options bag: an object (not an array, not null) or undefined, which becomes {}. */
export function checkOptions<T extends object>(where: string, options: T | undefined, name = "options"): T {
  if (options === undefined) return {} as T;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ArgumentError(`${where}: ${name} must be an object, got ${describe(options)}`);
  }
  return options;
}

/** One of a fixed list of values. */
export function checkOneOf<T>(where: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new ArgumentError(`${where}: ${name} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${describe(value)}`);
  }
  return value as T;
}

export function checkBoolean(where: string, name: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new ArgumentError(`${where}: ${name} must be true or false, got ${describe(value)}`);
  return value;
}

export function checkFunction<F extends (...args: never[]) => unknown>(where: string, name: string, value: unknown): F {
  if (typeof value !== "function") throw new ArgumentError(`${where}: ${name} must be a function, got ${describe(value)}`);
  return value as F;
}
