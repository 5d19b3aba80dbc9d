// A whole LSTM sequence as one node (sigmoid gates, tanh cell, the Keras defaults): per step one
// GEMM (h·U added onto the step's input projection) and one fused cell kernel, where the composed
// ops spend a dozen passes and a dozen graph nodes a step. Backward is backpropagation through
// time in one loop: per step the fused cell backward and one GEMM sending ∂L/∂h to the step
// before; ∂L/∂U is then one GEMM over every step at once, summed in a fixed order.
//
// Internally time-major ([time, batch, ·]) so every step's rows are contiguous; H and C hold one
// more step than the sequence, the initial state at slot 0, so "the step before" is just t.
import { ShapeError } from "../../errors.js";
import { type Tensor, formatShape } from "../../tensor.js";
import { record } from "../graph.js";
import { checkTensor, empty } from "./util.js";

/**
 * h for every step [batch, time, units], from `projected` = x·W + b for every step [batch, time,
 * 4·units] (gates i, f, c̃, o), the recurrent kernel U [units, 4·units], and the initial h0, c0
 * [batch, units].
 */
export function lstmSequence(projected: Tensor, recurrentKernel: Tensor, h0: Tensor, c0: Tensor): Tensor {
  for (const [name, t] of [["projected", projected], ["recurrentKernel", recurrentKernel], ["h0", h0], ["c0", c0]] as const) checkTensor("lstm", name, t);
  const [batch, time, width] = projected.shape;
  const units = width / 4;
  if (projected.rank !== 3 || !Number.isInteger(units) || recurrentKernel.shape.join() !== `${units},${width}` ||
    h0.shape.join() !== `${batch},${units}` || c0.shape.join() !== `${batch},${units}` ||
    [recurrentKernel, h0, c0].some((t) => t.engine !== projected.engine)) {
    throw new ShapeError(`lstm: expected projected [batch, time, 4·units], U [units, 4·units] and states [batch, units] on one engine, got ${
      [projected, recurrentKernel, h0, c0].map((t) => formatShape(t.shape)).join(", ")}`);
  }
  const engine = projected.engine;
  const k = engine.kernels;
  const stepGates = 4 * batch * width, stepStates = 4 * batch * units; // bytes per step
  const gates = empty(projected, [time, batch, width]);
  const H = empty(projected, [time + 1, batch, units]);
  const C = empty(projected, [time + 1, batch, units]);
  engine.strided("copy", projected.ptr, gates.ptr, [time, batch, width], [width, time * width, 1]);
  engine.strided("copy", h0.ptr, H.ptr, [batch * units], [1]);
  engine.strided("copy", c0.ptr, C.ptr, [batch * units], [1]);
  for (let t = 0; t < time; t++) {
    const z = gates.ptr + t * stepGates;
    engine.gemm({ m: batch, n: width, k: units, a: H.ptr + t * stepStates, b: recurrentKernel.ptr, c: z, accumulate: true });
    k.lstmCell(z, C.ptr + t * stepStates, C.ptr + (t + 1) * stepStates, H.ptr + (t + 1) * stepStates, batch, units);
  }
  const y = empty(projected, [batch, time, units]);
  engine.strided("copy", H.ptr + stepStates, y.ptr, [batch, time, units], [units, batch * units, 1]);

  return record(y, "lstm", [projected, recurrentKernel, h0, c0], (gy, needs, into) => {
    // ∂L/∂h per step, time-major; the step after adds what it sends back through U into slot t.
    const gH = empty(gy, [time, batch, units]);
    engine.strided("copy", gy.ptr, gH.ptr, [time, batch, units], [units, time * units, 1]);
    const gz = empty(gy, [time, batch, width]);
    const gc = empty(gy, [batch, units]);
    k.fill(gc.ptr, 0, batch * units); // the last step's c feeds nothing else
    const gh0 = needs[2] ? empty(gy, [batch, units]) : null;
    for (let t = time - 1; t >= 0; t--) {
      const gzt = gz.ptr + t * stepGates;
      k.lstmCellBackward(gates.ptr + t * stepGates, C.ptr + t * stepStates, C.ptr + (t + 1) * stepStates, gH.ptr + t * stepStates, gc.ptr, gzt, batch, units);
      const back = t > 0 ? gH.ptr + (t - 1) * stepStates : gh0?.ptr;
      if (back !== undefined) engine.gemm({ transB: true, m: batch, n: units, k: width, a: gzt, b: recurrentKernel.ptr, c: back, accumulate: t > 0 });
    }
    let gProjected: Tensor | null = null;
    if (needs[0]) {
      gProjected = empty(gy, [batch, time, width]);
      engine.strided("copy", gz.ptr, gProjected.ptr, [batch, time, width], [width, batch * width, 1]);
    }
    let gU: Tensor | null = null;
    if (needs[1]) {
      // ∂L/∂U = Σₜ hₜ₋₁ᵀ·∂zₜ: slots 0…T−1 of H against every step's ∂z, one GEMM.
      const target = into(1);
      gU = target ? null : empty(recurrentKernel);
      engine.gemm({ transA: true, m: units, n: width, k: time * batch, a: H.ptr, b: gz.ptr, c: (target ?? gU!).ptr, accumulate: !!target });
    }
    gH.dispose();
    gz.dispose();
    const gc0 = needs[3] ? gc : (gc.dispose(), null);
    return [gProjected, gU, gh0, gc0];
  }, {}, [gates, H, C]);
}
