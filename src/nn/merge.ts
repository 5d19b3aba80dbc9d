// Layers that join several inputs into one, for models written as a forward() (Model): Add (a
// residual connection) and Concatenate. They have no weights; each is one op, so its backward is
// that op's: Add hands ∂L/∂y to every input (the chain rule at a fan-in), Concatenate hands each
// input its own slice of ∂L/∂y.
import { concat } from "../autograd/ops/select.js";
import { checkOptions, describe } from "../check.js";
import { ArgumentError, ShapeError } from "../errors.js";
import { Tensor, formatShape } from "../tensor.js";
import { Module } from "./module.js";

/** Two or more live tensors on one engine, or a typed error naming the layer. */
function checkInputs(kind: string, inputs: unknown): Tensor[] {
  if (!Array.isArray(inputs) || inputs.length < 2) throw new ArgumentError(`${kind}: expected an array of two or more tensors, got ${describe(inputs)}`);
  inputs.forEach((t, i) => {
    if (!Tensor.isTensor(t)) throw new ArgumentError(`${kind}: inputs[${i}] must be a Tensor, got ${describe(t)}`);
    t.assertLive();
    if (t.engine !== inputs[0].engine) throw new ArgumentError(`${kind}: inputs[${i}] lives in another engine's memory`);
  });
  return inputs;
}

/** y = x₀ + x₁ + …, inputs of one shape (as Keras's Add). */
export class Add extends Module {
  readonly kind = "Add";
  call(inputs: readonly Tensor[]): Tensor {
    const xs = checkInputs("Add", inputs);
    const bad = xs.findIndex((t) => t.shape.join() !== xs[0].shape.join());
    if (bad >= 0) throw new ShapeError(`Add: every input needs shape ${formatShape(xs[0].shape)}, inputs[${bad}] has ${formatShape(xs[bad].shape)}`);
    return xs.slice(1).reduce((sum, t) => sum.add(t), xs[0]);
  }
}

/** The inputs joined along `axis` (default −1, the features), every other axis equal. */
export class Concatenate extends Module {
  readonly kind = "Concatenate";
  readonly axis: number;
  constructor(options?: { axis?: number }) {
    super();
    const axis = checkOptions("Concatenate", options).axis ?? -1;
    if (!Number.isInteger(axis)) throw new ArgumentError(`Concatenate: axis must be an integer, got ${describe(axis)}`);
    this.axis = axis;
  }
  call(inputs: readonly Tensor[]): Tensor {
    const xs = checkInputs("Concatenate", inputs);
    if (this.axis === 0 || this.axis === -xs[0].rank) throw new ArgumentError("Concatenate: axis 0 is the batch axis; join samples with concat()");
    return concat(xs, this.axis);
  }
}
