// Models written in PyTorch and exported by both torch.onnx exporters (scripts/torch-models.py,
// which .ci/run runs): each imports, gives PyTorch's output, and backpropagates PyTorch's loss
// gradient to every parameter — loss and gradients within 1e-3 of PyTorch autograd, in eval mode.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { init, tensor } from "../src/index.js";
import { fromOnnx } from "../src/onnx.js";
import { type Stored, decode } from "./stored.js";

const DIR = join(__dirname, ".torch-models");

interface TorchCase {
  name: string; model: string; exporter: string; allParameters: boolean;
  input: Stored; output: Stored; r: Stored; loss: number;
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
    if (process.env.CI) expect(cases.length).toBe(28);
    else if (cases.length === 0) console.warn("skipped: no test/.torch-models (run .venv/bin/python scripts/torch-models.py)");
  });

  for (const c of cases) {
    it(`${c.model}, exported by ${c.exporter}: PyTorch's output, loss and gradients`, () => {
      const model = fromOnnx(new Uint8Array(readFileSync(join(DIR, c.name, "model.onnx"))));
      model.eval();
      const x = tensor(decode(c.input), { shape: c.input.shape });
      const y = model.forward(x);
      expect(y.shape).toEqual(c.output.shape);
      const out = worst(y.data(), decode(c.output));
      expect(out.error).toBeLessThanOrEqual(1e-4 * Math.max(out.scale, 1e-3));
      const loss = y.mul(tensor(decode(c.r), { shape: c.r.shape })).sum();
      expect(Math.abs(loss.item() - c.loss)).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(c.loss)));
      loss.backward();
      const mine = new Map(model.namedParameters());
      const compared: string[] = [], missing: string[] = [];
      for (const [name, ref] of Object.entries(c.parameters)) {
        const p = mine.get(name);
        const value = decode(ref.value);
        // A folding exporter keeps some names for new values (a Conv with its BatchNorm folded in): those are not PyTorch's parameter.
        if (!p || p.shape.join() !== ref.value.shape.join() || worst(p.data(), value).error > 1e-6 * Math.max(1, worst(p.data(), value).scale)) {
          missing.push(name);
          continue;
        }
        expect(p.grad, `${name} has no gradient`).not.toBeNull();
        const g = worst(p.grad!.data(), decode(ref.grad));
        expect(g.error, `${name}: gradient off by ${g.error} at scale ${g.scale}`).toBeLessThanOrEqual(1e-3 * Math.max(g.scale, 1e-3));
        compared.push(name);
      }
      if (c.allParameters) expect(missing).toEqual([]);
      expect(compared.length).toBeGreaterThan(0);
      model.dispose();
    });
  }
});
