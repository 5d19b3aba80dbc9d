// `npx wasmgrad inspect model.onnx`: the package's command, run as a user runs it (the built
// bin/wasmgrad.mjs in a child process): its report, its --json, and its exit status — 0 when every
// node runs, 1 when some cannot, 2 with a message for a file that is not a model or a bad command.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { onnxModelType } from "../src/io/onnx/proto-type.js";

const root = resolve(import.meta.dirname, "..");
const bin = join(root, "bin/wasmgrad.mjs");
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });

describe("wasmgrad inspect", () => {
  it("is the package's bin", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(pkg.bin).toEqual({ wasmgrad: "./bin/wasmgrad.mjs" });
    expect(pkg.files).toContain("bin/wasmgrad.mjs");
  });

  it("reports a file's versions, inputs, parameters and ops, and the nodes it cannot run, exit 1", () => {
    const r = run("inspect", join(root, "test/fixtures/sklearn-digits-mlp.onnx"));
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("IR version 8, opset 17");
    expect(r.stdout).toContain("inputs:  X: float[?, 64]");
    expect(r.stdout).toContain("output_probability: not a tensor");
    expect(r.stdout).toContain("parameters: 2,410");
    expect(r.stdout).toContain("2 node(s) wasmgrad cannot run:");
    expect(r.stdout).toMatch(/ZipMap \(ZipMap, opset 17\): domain ai\.onnx\.ml is not supported/);
  });

  it("says every node runs, exit 0; --json gives inspectOnnx's report", () => {
    const dir = mkdtempSync(join(tmpdir(), "wasmgrad-cli-"));
    const file = join(dir, "relu.onnx");
    const type = onnxModelType();
    const tensorOf = (name: string) => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 2 }] } } } });
    writeFileSync(file, type.encode(type.fromObject({
      ir_version: 8, opset_import: [{ domain: "", version: 17 }],
      graph: { name: "g", node: [{ op_type: "Relu", input: ["x"], output: ["y"] }], input: [tensorOf("x")], output: [tensorOf("y")] },
    })).finish());
    const text = run("inspect", file);
    expect(text.stderr).toBe("");
    expect(text.status).toBe(0);
    expect(text.stdout).toContain("every node runs in wasmgrad");
    const json = run("inspect", file, "--json");
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ opset: 17, ops: { Relu: 1 }, unsupported: [] });
  });

  it("names a file that is not a model, a missing file and a bad command, exit 2", () => {
    const notModel = run("inspect", join(root, "README.md"));
    expect(notModel.status).toBe(2);
    expect(notModel.stderr).toMatch(/^wasmgrad: .*README\.md: inspectOnnx: not a ModelProto/);
    const missing = run("inspect", "no-such.onnx");
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("cannot read no-such.onnx: no such file");
    for (const bad of [[], ["inspect"], ["train", "x.onnx"], ["inspect", "a.onnx", "--yaml"]]) {
      const r = run(...bad);
      expect(r.status, bad.join(" ")).toBe(2);
      expect(r.stderr).toContain("usage: wasmgrad inspect <model.onnx> [--json]");
    }
  });
});
