// The built package in real runtimes besides Node: Deno and Bun (binaries from their npm
// packages), Cloudflare's workerd (`workerd test` on a generated config), and Vercel's edge runtime
// (an EdgeVM with WebAssembly code generation off). Each runs examples/edge/job.mjs — predict,
// one Adam step, predict — and must give Node's bits exactly; where init() cannot find or compile
// the module by itself, its error must name the fix.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
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

const namesTheFix = /UnsupportedHostError: .*init\(\{ wasm \}\)/;

describe("edge and other runtimes run the built package with Node's bits", () => {
  it("Deno (reads the package's .wasm itself)", () => {
    same(run(bin("deno"), ["run", "--allow-read", join(edge, "deno-bun.mjs")]));
  }, 60_000);

  it("Bun (reads the package's .wasm itself)", () => {
    same(run(bin("bun"), [join(edge, "deno-bun.mjs")]));
  }, 60_000);

  it("workerd: the .wasm as a module of the worker; init() alone names the fix", () => {
    const dir = mkdtempSync(join(tmpdir(), "wasmgrad-workerd-"));
    const chunks = readdirSync(join(root, "dist")).filter((f) => /^shared-.*\.js$/.test(f));
    const files: [string, string, string][] = [
      ["worker.mjs", join(edge, "workerd-worker.mjs"), "esModule"],
      ["job.mjs", join(edge, "job.mjs"), "esModule"],
      ["wasmgrad", join(root, "dist/index.js"), "esModule"],
      ...chunks.map((c): [string, string, string] => [c, join(root, "dist", c), "esModule"]),
      ["simd.wasm", join(root, "build/simd.wasm"), "wasm"],
    ];
    files.forEach(([, from], i) => copyFileSync(from, join(dir, `m${i}`)));
    writeFileSync(join(dir, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (services = [(name = "main", worker = .worker)]);
const worker :Workerd.Worker = (
  modules = [${files.map(([name, , kind], i) => `(name = ${JSON.stringify(name)}, ${kind} = embed "m${i}")`).join(", ")}],
  compatibilityDate = "2026-11-01",
);
`);
    const out = execFileSync(bin("workerd"), ["test", join(dir, "config.capnp")], { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] });
    const r: Result = JSON.parse(out.trim().split("\n").find((l) => l.startsWith("{"))!);
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
});
