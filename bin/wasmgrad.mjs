#!/usr/bin/env node
// The wasmgrad command: `wasmgrad inspect model.onnx [--json]` says whether wasmgrad can run an
// ONNX file — versions, inputs and outputs, parameter count, ops, and every node it cannot run
// with the reason — without building the model (inspectOnnx from wasmgrad/onnx).
// Exit status: 0 every node runs, 1 some node cannot, 2 the file or the command is wrong.
import { readFileSync } from "node:fs";

const USAGE = "usage: wasmgrad inspect <model.onnx> [--json]";
const [command, ...rest] = process.argv.slice(2);
const json = rest.includes("--json");
const files = rest.filter((a) => a !== "--json");

function fail(message) {
  process.stderr.write(`wasmgrad: ${message}\n`);
  process.exit(2);
}

if (command === "--help" || command === "-h") {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (command !== "inspect" || files.length !== 1 || rest.some((a) => a.startsWith("--") && a !== "--json")) fail(USAGE);

let onnx;
try {
  onnx = await import("../dist/onnx.js");
} catch (e) {
  fail(/protobufjs/.test(String(e)) ? "wasmgrad/onnx needs the protobufjs package: npm install protobufjs" : `cannot load wasmgrad/onnx: ${e.message}`);
}

let bytes;
try {
  bytes = new Uint8Array(readFileSync(files[0]));
} catch (e) {
  fail(`cannot read ${files[0]}: ${e.code === "ENOENT" ? "no such file" : e.message}`);
}

let report;
try {
  report = onnx.inspectOnnx(bytes);
} catch (e) {
  fail(`${files[0]}: ${e.message}`);
}

if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else {
  const dims = (v) => `${v.name}: ${v.type}[${v.dims === null ? "?" : v.dims.map((d) => (d === null ? "?" : d)).join(", ")}]`;
  const lines = [
    `${files[0]}: IR version ${report.irVersion}, opset ${report.opset}`,
    `inputs:  ${report.inputs.map(dims).join("; ") || "none"}`,
    `outputs: ${report.outputs.map(dims).join("; ") || "none"}`,
    `parameters: ${report.parameters.toLocaleString("en-US")} (float initialiser elements)`,
    `ops: ${Object.entries(report.ops).map(([op, n]) => `${op} ×${n}`).join(", ")}`,
  ];
  if (report.unsupported.length === 0) lines.push("every node runs in wasmgrad");
  else {
    lines.push(`${report.unsupported.length} node(s) wasmgrad cannot run:`);
    for (const p of report.unsupported) lines.push(`  ${p.node} (${p.op}, opset ${p.opset}): ${p.reason}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}
process.exit(report.unsupported.length === 0 ? 0 : 1);
