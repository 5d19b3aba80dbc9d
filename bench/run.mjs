// npm run bench -- <suite> [--json] [--threads N]
// Runs one suite's cases for wasmgrad and its peers in this one process, and prints a table
// (or, with --json, one JSON object per line).
import { spawnSync } from "node:child_process";
import { detectFeatures } from "../dist/index.js";
import { printJson, printTable } from "./report.mjs";

// Node 20 has relaxed SIMD only behind a flag: run again with it, so both builds are measured.
const RELAXED_FLAG = "--experimental-wasm-relaxed-simd";
if (!detectFeatures().relaxedSimd && !process.execArgv.includes(RELAXED_FLAG)) {
  const child = spawnSync(process.execPath, [RELAXED_FLAG, ...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(child.status ?? 1);
}

const SUITES = {
  gemm: () => import("./gemm.mjs"),
  mlp: () => import("./mlp.mjs"),
  lenet: () => import("./lenet.mjs"),
  lstm: () => import("./lstm.mjs"),
  attention: () => import("./attention.mjs"),
  cold: () => import("./cold.mjs"),
  profile: () => import("./profile.mjs"),
  cnn: () => import("./cnn.mjs"),
};

const args = process.argv.slice(2);
const json = args.includes("--json");
const names = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--threads");
const unknown = names.filter((n) => !(n in SUITES));
if (names.length === 0 || unknown.length > 0) {
  console.error(`usage: npm run bench -- <${Object.keys(SUITES).join("|")}> [--json] [--threads N]` + (unknown.length ? `\nunknown suite: ${unknown.join(", ")}` : ""));
  process.exit(2);
}

for (const name of names) {
  const suite = await SUITES[name]();
  const rows = [];
  const log = json ? () => {} : (line) => process.stderr.write(`${line}\n`);
  for await (const row of suite.run(log)) {
    rows.push(row);
    if (json) printJson([row]);
  }
  if (!json) printTable(name, rows, suite.describe?.());
}
