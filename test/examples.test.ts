// The runnable examples, run as a user runs them (through the built package), briefly: they must
// keep working and keep their output format.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const example = (file: string, args: string[]) =>
  run(process.execPath, [new URL(`../examples/${file}`, import.meta.url).pathname, ...args], { timeout: 120_000 });

describe("examples", () => {
  it("the main job ends, with --json, with one line {testAccuracy, epochs, trainSamplesPerSecond}", async () => {
    const { stdout, stderr } = await example("mnist.mjs", ["--json", "--epochs", "1"]);
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]);
    expect(Object.keys(result)).toEqual(["testAccuracy", "epochs", "trainSamplesPerSecond"]);
    expect(result.epochs).toBe(1);
    expect(result.testAccuracy).toBeGreaterThan(0.85); // one epoch on real digits
    expect(result.trainSamplesPerSecond).toBeGreaterThan(0);
    expect(stderr).toMatch(/held-out accuracy/);
  });

  it("--validate cross-validates on the training digits: one fold per k-th of the 8,000, never the held-out ones", async () => {
    const { stdout, stderr } = await example("mnist.mjs", ["--validate", "--folds", "2", "--json", "--epochs", "1"]);
    const result = JSON.parse(stdout.trim());
    expect(Object.keys(result)).toEqual(["validationAccuracy", "folds", "epochs"]);
    expect(result.folds).toHaveLength(2);
    expect(result.validationAccuracy).toBeCloseTo((result.folds[0] + result.folds[1]) / 2, 10);
    expect(result.folds.every((a: number) => a > 0.85)).toBe(true);
    expect(stderr.match(/MNIST 4000 training digits, 4000 validation/g)).toHaveLength(2);
    expect(stderr).not.toMatch(/held-out/);
  });

  it("the LeNet example trains a convolutional network on the same split", async () => {
    const { stdout } = await example("lenet.mjs", ["--json", "--epochs", "1"]);
    const result = JSON.parse(stdout.trim());
    expect(result.testAccuracy).toBeGreaterThan(0.85);
  });

  it("the seed examples print their values with labels", async () => {
    const { stdout } = await example("seeds.mjs", []);
    expect(stdout).toMatch(/B = 220 {3}∂B\/∂x = 2\.2 {3}∂B\/∂y = 110 {3}∂B\/∂z = 200/);
    expect(stdout).toMatch(/C = 48400 {3}∂C\/∂x = 968 {3}∂C\/∂y = 48400 {3}∂C\/∂z = 88000/);
    expect(stdout).toMatch(/∂L\/∂z = ŷ − y = -0\.401312 {3}∂L\/∂w = -0\.200656/);
    expect(stdout).toMatch(/gradcheck against finite differences: ok/);
  });
  it("the gradients example shows sigmoid's gradients vanishing toward the input, and ReLU's and BatchNorm's not", async () => {
    const { stdout } = await example("gradients.mjs", ["--json"]);
    const r = JSON.parse(stdout.trim());
    for (const name of ["sigmoid", "relu", "batchNorm"]) expect(r[name]).toHaveLength(9);
    const ratio = (v: number[]) => v[0] / v[v.length - 2]; // first hidden layer against the last hidden one
    expect(ratio(r.sigmoid)).toBeLessThan(1e-3);
    expect(ratio(r.relu)).toBeGreaterThan(0.5);
    expect(ratio(r.batchNorm)).toBeGreaterThan(0.5);
    expect(r.accuracy.batchNorm).toBeGreaterThan(r.accuracy.sigmoid);
  });
  it("the text example trains on the fortunes corpus and ends, with --json, with one line of bits per character", async () => {
    const { existsSync } = await import("node:fs");
    if (!existsSync("/usr/share/games/fortunes")) {
      if (process.env.CI) throw new Error("CI needs Debian's fortunes package (.ci/run installs it)");
      return console.warn("skipped: no /usr/share/games/fortunes (apt-get install fortunes)");
    }
    const { stdout, stderr } = await example("text.mjs", ["--json", "--minutes", "0.25"]);
    const r = JSON.parse(stdout.trim());
    expect(Object.keys(r)).toEqual(["heldOutBitsPerChar", "bigramBitsPerChar", "epochs", "tokensPerSecond", "steps", "bytesInUse"]);
    expect(r.bytesInUse).toHaveLength(Math.floor(r.steps / 1000));
    expect(r.bigramBitsPerChar).toBeGreaterThan(3);
    expect(r.bigramBitsPerChar).toBeLessThan(5);
    expect(r.heldOutBitsPerChar).toBeLessThan(Math.log2(96)); // better than guessing among the symbols
    expect(stderr).toMatch(/sample: "The /);
  }, 120_000);

  it("the text example's transformer runs too", async () => {
    const { existsSync } = await import("node:fs");
    if (!existsSync("/usr/share/games/fortunes")) return;
    const { stdout } = await example("text.mjs", ["--json", "--minutes", "0.1", "--model", "transformer"]);
    expect(JSON.parse(stdout.trim()).heldOutBitsPerChar).toBeLessThan(Math.log2(96));
  }, 120_000);
});
