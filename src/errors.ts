// Every error wasmgrad throws is a WasmgradError; the subclass says what kind of problem it is,
// the message says what was expected and what came.

export class WasmgradError extends Error {
  override name = "WasmgradError";
}

/** A shape (or size, stride, length) that does not fit what an operation needs. */
export class ShapeError extends WasmgradError {
  override name = "ShapeError";
}

/** An argument of the wrong kind or out of its range (not a shape problem). */
export class ArgumentError extends WasmgradError {
  override name = "ArgumentError";
}

/** The linear memory cannot grow to hold what was asked for. Nothing already allocated is lost. */
export class OutOfMemoryError extends WasmgradError {
  override name = "OutOfMemoryError";
  constructor(
    message: string,
    readonly requestedBytes: number,
    readonly capacityBytes: number,
    readonly maxBytes: number,
  ) {
    super(message);
  }
}

/** The host's WebAssembly lacks a feature wasmgrad needs (SIMD), or the module could not load. */
export class UnsupportedHostError extends WasmgradError {
  override name = "UnsupportedHostError";
}

/** A wasmgrad function was called before `init()` resolved. */
export class NotInitializedError extends WasmgradError {
  override name = "NotInitializedError";
}

/** A file (or bytes) that is not what it claims: truncated, corrupted, foreign or from a newer version. */
export class FormatError extends WasmgradError {
  override name = "FormatError";
}

/**
 * A worker thread failed the job it shared: its kernel trapped (`reason` "trap": the engine goes
 * on, its threads too), or it gave no answer within the engine's threadDeadlineMs ("deadline":
 * the workers are stopped and the engine runs on one thread from then on; engine.threadsNote says
 * why). Either way the operation that shared the job did not happen: nothing it made is kept.
 */
export class ThreadError extends WasmgradError {
  override name = "ThreadError";
  constructor(message: string, readonly reason: "trap" | "deadline") {
    super(message);
  }
}
