// Models written in PyTorch and exported by both torch.onnx exporters (scripts/torch-models.py,
// which .ci/run runs): each imports and gives onnxruntime's output and PyTorch's (within 1e-4 of
// the largest magnitude) and PyTorch's loss (1e-3); exported keeping its parameters, it backpropagates PyTorch's loss
// gradient to every one of them, within 1e-3 of PyTorch autograd's largest, in eval mode.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { init, tensor } from "../src/index.js";
import { fromOnnx } from "../src/onnx.js";
import { type Stored, decode } from "./stored.js";

const DIR = join(__dirname, ".torch-models");

interface TorchCase {
  name: string; model: string; exporter: string; allParameters: boolean;
  input: Stored; output: Stored; onnxruntime: Stored; r: Stored; loss: number;
  parameters: Record<string, { value: Stored; grad: Stored }>;
}

const cases: TorchCase[] = existsSync(DIR)
  ? readdirSync(DIR, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => JSON.parse(readFileSync(join(DIR, e.name, "case.json"), "utf8")))
  : [];

/** The largest |got − want| over `scale`, the reference's largest magnitude. */
function worst(got: ArrayLike<number>, want: number[]): { error: number; scale: number } {
  let error = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    error = Math.max(error, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return { error, scale };
}

describe("PyTorch models through fromOnnx", () => {
  beforeAll(async () => {
    await init();
  });

  it("were written by scripts/torch-models.py", () => {
    if (process.env.CI) expect(cases.length).toBe(32);
    else if (cases.length === 0) console.warn("skipped: no test/.torch-models (run .venv/bin/python scripts/torch-models.py)");
  });

  for (const c of cases) {
    it(`${c.model}, exported by ${c.exporter}: onnxruntime's and PyTorch's output, PyTorch's loss${c.allParameters ? ", and every parameter's gradient" : ""}`, () => {
      const model = fromOnnx(new Uint8Array(readFileSync(join(DIR, c.name, "model.onnx"))));
      model.eval();
      const x = tensor(decode(c.input), { shape: c.input.shape });
      const y = model.forward(x);
      expect(y.shape).toEqual(c.output.shape);
      for (const reference of [c.onnxruntime, c.output]) {
        const out = worst(y.data(), decode(reference));
        expect(out.error).toBeLessThanOrEqual(1e-4 * Math.max(out.scale, 1e-3));
      }
      // predict(): each Conv with its BatchNorm folded in and its ReLU / ReLU6 in its output pass (fusion.ts), the same outputs.
      const fused = model.predict(x);
      for (const reference of [c.onnxruntime, c.output]) {
        const out = worst(fused.data(), decode(reference));
        expect(out.error).toBeLessThanOrEqual(1e-4 * Math.max(out.scale, 1e-3));
      }
      fused.dispose();
      const loss = y.mul(tensor(decode(c.r), { shape: c.r.shape })).sum();
      expect(Math.abs(loss.item() - c.loss)).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(c.loss)));
      if (!c.allParameters) return model.dispose();
      // The exports that keep every parameter under its own name: each one's gradient is PyTorch's.
      // (A folding export's graph is another function of its weights — BatchNorm folded into a
      // Conv, an RNN's first step with its zero state precomputed — so its gradients differ.)
      loss.backward();
      const mine = new Map(model.namedParameters());
      for (const [name, ref] of Object.entries(c.parameters)) {
        const p = mine.get(name);
        expect(p, `${name} is not a parameter of the import`).toBeDefined();
        expect(worst(p!.data(), decode(ref.value)).error, `${name} holds other values than PyTorch's`).toBe(0);
        expect(p!.grad, `${name} has no gradient`).not.toBeNull();
        const g = worst(p!.grad!.data(), decode(ref.grad));
        expect(g.error, `${name}: gradient off by ${g.error} at scale ${g.scale}`).toBeLessThanOrEqual(1e-3 * Math.max(g.scale, 1e-3));
      }
      model.dispose();
    });
  }
});
