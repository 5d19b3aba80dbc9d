// The browser app (examples/web) built by Vite and driven in Debian's Chromium by playwright-core:
// it trains the MNIST MLP in its worker to the stated accuracy, keeps the page's thread free while
// it does, answers a drawn digit, draws the graph, saves and loads the model, and logs no errors.
// Screenshots go to test/artifacts/. Served cross-origin isolated (COOP/COEP), and once without.
import { existsSync, mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { join, resolve } from "node:path";
import { type Browser, type Page, chromium } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveStatic } from "./static-server.js";

const CHROMIUM = "/usr/bin/chromium";
const root = resolve(import.meta.dirname, "..");
const site = join(root, "examples/web/dist");
const artifacts = join(root, "test/artifacts");
const available = existsSync(CHROMIUM);
if (!available && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs it with apt-get`);

type App = { threads?: number; ready?: boolean; longestBlockMsWhileTraining: number; done: boolean; heldOutAccuracy: number | null; longestBlockMs: number; errors: string[]; drawn: { answer: number; probabilities: number[] } | null; graphDrawn?: boolean };

/** The built site; `isolated` adds the COOP/COEP headers. */
const serve = (isolated: boolean) =>
  serveStatic((path) => {
    const file = join(site, path === "/" ? "index.html" : path);
    return file.startsWith(site) ? file : null;
  }, isolated);

describe.skipIf(!available)("the browser app (examples/web) in Chromium", () => {
  let browser: Browser;
  const servers: Server[] = [];

  beforeAll(async () => {
    await build({ configFile: join(root, "examples/web/vite.config.mjs"), logLevel: "error" });
    mkdirSync(artifacts, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run", "--disable-sync"] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  });

  /** A page of the site, once its `window[state].ready` is set; and the errors its console logs. */
  async function open(isolated: boolean, path = "/", state = "app", height = 1400): Promise<[Page, string[]]> {
    const [server, url] = await serve(isolated);
    servers.push(server);
    const page = await browser.newPage({ viewport: { width: 1200, height } });
    const console: string[] = [];
    page.on("console", (m) => m.type() === "error" && console.push(m.text()));
    page.on("pageerror", (e) => console.push(String(e)));
    await page.goto(`${url}${path}`);
    await page.waitForFunction((name) => (window as unknown as Record<string, { ready?: boolean } | undefined>)[name]?.ready, state, { timeout: 30_000 });
    return [page, console];
  }
  const app = (page: Page) => page.evaluate(() => (window as unknown as { app: App }).app);

  it("trains the MLP to ≥ 95% held-out accuracy in under a minute with the page's thread never blocked over 100 ms, answers a drawn 1, draws the graph, keeps the model", async () => {
    const [page, errors] = await open(true);
    expect(await page.textContent("#status")).toMatch(/relaxed build · cross-origin isolated/);
    // The page is ready once its graph is drawn (Mermaid's one rendering is the page's longest task).
    await page.waitForFunction(() => (window as unknown as { app: App }).app.graphDrawn, null, { timeout: 30_000 });
    const started = Date.now();
    await page.click("#train");
    await page.waitForFunction(() => (window as unknown as { app: App }).app.done, null, { timeout: 60_000 });
    const seconds = (Date.now() - started) / 1000;
    const state = await app(page);
    expect(state.threads).toBeGreaterThanOrEqual(2); // isolated: the worker trains on threads over shared memory
    expect(await page.textContent("#status")).toMatch(/Web Worker on \d+ threads over shared memory/);
    expect(state.heldOutAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(await page.textContent("#progress")).toMatch(/epoch 10: .*held-out accuracy 9\d\.\d\d%/);
    expect(seconds).toBeLessThan(60);
    expect(state.longestBlockMsWhileTraining, JSON.stringify((state as unknown as { longTasks: unknown }).longTasks)).toBeLessThanOrEqual(100);
    // The held-out digits now carry answers, most of them right.
    const right = await page.locator("#digits figcaption:not(.wrong)").count();
    expect(right).toBeGreaterThanOrEqual(27); // of 30
    // A vertical stroke, drawn with the mouse, is a 1.
    const pad = (await page.locator("#pad").boundingBox())!;
    await page.mouse.move(pad.x + 140, pad.y + 40);
    await page.mouse.down();
    for (let y = 40; y <= 240; y += 20) await page.mouse.move(pad.x + 142, pad.y + y);
    await page.mouse.up();
    await page.waitForFunction(() => (window as unknown as { app: App }).app.drawn !== null);
    const drawn = (await app(page)).drawn!;
    expect(drawn.answer).toBe(1);
    expect(drawn.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(await page.locator("#probabilities .best").textContent()).toMatch(/^1/);
    expect(await page.locator("#mermaid svg").count()).toBe(1);
    expect(await page.textContent("#mermaid")).toMatch(/grad 2\.2/); // ∂B/∂x = y·z
    await page.screenshot({ path: join(artifacts, "web-app.png"), fullPage: true });
    // Saved in IndexedDB, loaded back.
    await page.click("#store");
    await page.waitForFunction(() => document.querySelector("#kept")?.textContent?.startsWith("saved"));
    await page.click("#restore");
    await page.waitForFunction(() => document.querySelector("#kept")?.textContent?.startsWith("loaded from this browser"));
    expect((await app(page)).errors).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it("without cross-origin isolation it still trains (LeNet-5 here), and says it is not isolated", async () => {
    const [page, errors] = await open(false);
    expect(await page.textContent("#status")).toMatch(/not cross-origin isolated/);
    await page.selectOption("#network", "lenet");
    await page.fill("#epochs", "1");
    await page.click("#train");
    await page.waitForFunction(() => (window as unknown as { app: App }).app.done, null, { timeout: 60_000 });
    expect((await app(page)).heldOutAccuracy).toBeGreaterThan(0.9);
    expect((await app(page)).threads).toBe(1);
    expect((await app(page)).errors).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it("teach.html: drawn examples of two classes train a head on the pretrained backbone in the worker, it answers new drawings, and gives .onnx and .safetensors; files are checked by inspectOnnx first", async () => {
    const [page, errors] = await open(false, "/teach.html", "teach", 1600);
    type Teach = { ready: boolean; examples: number[]; trained: boolean; history: { loss: number; accuracy: number }[]; prediction: { answer: number } | null; onnxBytes: number; safetensorsBytes: number; report: { error?: string; unsupported?: unknown[] } | null; errors: string[] };
    const teach = () => page.evaluate(() => (window as unknown as { teach: Teach }).teach);
    const pad = (await page.locator("#pad").boundingBox())!;
    const stroke = async (points: [number, number][]) => {
      await page.mouse.move(pad.x + points[0][0], pad.y + points[0][1]);
      await page.mouse.down();
      for (const [x, y] of points.slice(1)) await page.mouse.move(pad.x + x, pad.y + y, { steps: 4 });
      await page.mouse.up();
    };
    const circle = (r: number) => Array.from({ length: 25 }, (_, i): [number, number] => [140 + r * Math.cos((i / 24) * 2 * Math.PI), 140 + r * Math.sin((i / 24) * 2 * Math.PI)]);
    const cross = async (d: number) => {
      await stroke([[140 - d, 140 - d], [140 + d, 140 + d]]);
      await stroke([[140 + d, 140 - d], [140 - d, 140 + d]]);
    };
    // Five circles for the first class, five crosses for the second.
    for (const r of [60, 70, 80, 90, 100]) {
      await stroke(circle(r));
      await page.click("#add");
    }
    await page.selectOption("#class", "1");
    for (const d of [50, 60, 70, 80, 90]) {
      await cross(d);
      await page.click("#add");
    }
    expect((await teach()).examples).toEqual([5, 5]);
    await page.click("#train");
    await page.waitForFunction(() => (window as unknown as { teach: Teach }).teach.trained, null, { timeout: 60_000 });
    const state = await teach();
    expect(state.history).toHaveLength(100);
    expect(state.history.at(-1)!.loss).toBeLessThan(state.history[0].loss);
    expect(state.history.at(-1)!.accuracy).toBe(1);
    expect(await page.textContent("#progress")).toMatch(/trained in [\d.]+ s \(the backbone ran once per example: 10 of them\)/);
    expect(state.onnxBytes).toBeGreaterThan(90_000); // the backbone's graph and weights, and the head
    expect(state.safetensorsBytes).toBeGreaterThan(90_000);
    // New drawings, answered as they are drawn.
    await page.click("#clear");
    await stroke(circle(75));
    await page.waitForFunction(() => (window as unknown as { teach: Teach }).teach.prediction !== null);
    expect((await teach()).prediction!.answer).toBe(0);
    await page.click("#clear");
    await cross(65);
    await page.waitForFunction(() => (window as unknown as { teach: Teach }).teach.prediction?.answer === 1, null, { timeout: 10_000 });
    await page.screenshot({ path: join(artifacts, "teach.png"), fullPage: true });
    // A file of your own is checked first: not a model, and one with ops wasmgrad cannot run, are reported and not used.
    await page.setInputFiles("#own", { name: "notes.onnx", mimeType: "application/octet-stream", buffer: Buffer.from("not a model") });
    await page.waitForFunction(() => (window as unknown as { teach: Teach }).teach.report !== null);
    expect((await teach()).report!.error).toMatch(/not a ModelProto/);
    await page.setInputFiles("#own", join(root, "test/fixtures/sklearn-digits-mlp.onnx"));
    await page.waitForFunction(() => (window as unknown as { teach: Teach }).teach.report?.unsupported !== undefined);
    expect(await page.textContent("#report")).toMatch(/wasmgrad cannot run:[\s\S]*ZipMap/);
    expect(await page.textContent("#model")).toMatch(/the bundled one/);
    expect((await teach()).errors).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
