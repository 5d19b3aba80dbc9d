// The page: starts training in a worker, plots its loss and accuracy (uPlot), answers held-out and
// drawn digits with the latest model the worker sent, draws the apple example's graph (Mermaid),
// and saves and loads models (a download, IndexedDB, a file). The page's own thread only predicts.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { init, loadModel, noGrad, readWeights, tensor, toMermaid } from "wasmgrad";
import { TEST, TRAIN, loadDigits } from "./digits.js";
import { drawingPad } from "./pad.js";

const $ = (id) => document.getElementById(id);
/** What the browser test reads: the longest main-thread block seen, answers, errors. */
const app = (window.app = { longestBlockMs: 0, longestBlockMsWhileTraining: 0, training: false, errors: [], heldOutAccuracy: null, drawn: null, done: false });
window.addEventListener("error", (e) => app.errors.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => app.errors.push(String(e.reason)));
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    app.longestBlockMs = Math.max(app.longestBlockMs, entry.duration);
    if (app.training) app.longestBlockMsWhileTraining = Math.max(app.longestBlockMsWhileTraining, entry.duration);
    (app.longTasks ??= []).push([Math.round(entry.startTime), Math.round(entry.duration), app.training]);
  }
}).observe({ type: "longtask", buffered: true });

const dataUrl = new URL("./mnist.bin", document.baseURI).href;
const engine = await init();
const digits = await loadDigits(dataUrl);
let model = null; // the latest model the worker sent
$("status").textContent = `wasmgrad ${engine.build} build · ${self.crossOriginIsolated ? "cross-origin isolated" : "not cross-origin isolated"} · training runs in a Web Worker`;

// ---- the plot: smoothed batch loss, and accuracy at each epoch's end ----
const series = [[], [], [], []]; // epochs, loss, train accuracy, held-out accuracy
const chart = new uPlot(
  {
    width: Math.min(1060, document.body.clientWidth - 32),
    height: 260,
    scales: { x: { time: false }, loss: { auto: true }, accuracy: { range: [0.8, 1] } },
    series: [
      { label: "epochs" },
      { label: "loss (smoothed)", stroke: "#c33", scale: "loss", value: (_, v) => v?.toFixed(4) ?? "–" },
      { label: "train accuracy", stroke: "#36c", scale: "accuracy", spanGaps: true, points: { show: true }, value: (_, v) => (v == null ? "–" : `${(100 * v).toFixed(2)}%`) },
      { label: "held-out accuracy", stroke: "#393", scale: "accuracy", spanGaps: true, points: { show: true }, width: 2, value: (_, v) => (v == null ? "–" : `${(100 * v).toFixed(2)}%`) },
    ],
    axes: [{ label: "epochs" }, { scale: "loss", label: "loss" }, { scale: "accuracy", side: 1, label: "accuracy", grid: { show: false }, values: (_, ticks) => ticks.map((t) => `${Math.round(100 * t)}%`) }],
  },
  series,
  $("chart"),
);
let dirty = false;
(function redraw() {
  if (dirty) chart.setData(series), (dirty = false);
  requestAnimationFrame(redraw);
})();

// ---- training, in the worker ----
const worker = new Worker(new URL("./trainer.worker.js", import.meta.url), { type: "module" });
let smoothed = null;
worker.onmessage = async ({ data }) => {
  if (data.type === "ready") {
    model = null; // a new network: the first file it sends is loaded whole
    app.threads = data.threads;
    $("progress").textContent = `training ${data.parameters.toLocaleString()} parameters (${data.build} build, ${data.threads === 1 ? "one thread" : `${data.threads} threads`} in the worker)…`;
    $("status").textContent = $("status").textContent.replace(/training runs .*/, `training runs in a Web Worker on ${data.threads === 1 ? "one thread" : `${data.threads} threads over shared memory`}`);
  } else if (data.type === "batch") {
    smoothed = smoothed === null ? data.loss : 0.95 * smoothed + 0.05 * data.loss;
    series[0].push(data.epochs), series[1].push(smoothed), series[2].push(null), series[3].push(null);
    dirty = true;
  } else if (data.type === "epoch") {
    const last = series[0].length - 1;
    series[2][last] = data.accuracy;
    series[3][last] = data.valAccuracy;
    dirty = true;
    app.heldOutAccuracy = data.valAccuracy;
    $("progress").textContent = `epoch ${data.epoch}: loss ${data.loss.toFixed(4)}, train accuracy ${(100 * data.accuracy).toFixed(2)}%, ` +
      `held-out accuracy ${(100 * data.valAccuracy).toFixed(2)}%, ${Math.round(data.samplesPerSecond).toLocaleString()} samples/s`;
    await receive(data.model);
  } else if (data.type === "done") {
    await receive(data.model);
    $("train").disabled = false;
    $("stop").disabled = true;
    app.training = false;
    app.done = true;
  } else if (data.type === "error") {
    $("progress").textContent = `training failed: ${data.message}`;
    app.errors.push(data.message);
    $("train").disabled = false;
  }
};

$("train").onclick = () => {
  series.forEach((s) => (s.length = 0));
  smoothed = null;
  app.done = false;
  app.training = true;
  $("train").disabled = true;
  $("stop").disabled = false;
  worker.postMessage({ type: "train", model: $("network").value, epochs: Number($("epochs").value), dataUrl });
};
$("stop").onclick = () => worker.postMessage({ type: "stop" });

// ---- answers: held-out digits and the drawing ----
const SHOWN = 30;
const scores = (images, count) =>
  noGrad(() => {
    const x = tensor(images, { shape: [count, ...model.inputShape] });
    const p = model.predict(x).softmax(-1);
    const values = p.data();
    x.dispose(), p.dispose();
    return Array.from({ length: count }, (_, i) => values.subarray(i * 10, i * 10 + 10));
  });
const best = (row) => row.indexOf(Math.max(...row));

function drawDigit(canvas, pixels) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(28, 28);
  pixels.forEach((v, i) => image.data.set([255 * v, 255 * v, 255 * v, 255], 4 * i));
  ctx.putImageData(image, 0, 0);
}

function showHeldOut() {
  const box = $("digits");
  const answers = model ? scores(digits.images.subarray(TRAIN * 784, (TRAIN + SHOWN) * 784), SHOWN) : null;
  box.replaceChildren(...Array.from({ length: SHOWN }, (_, i) => {
    const figure = document.createElement("figure");
    const canvas = Object.assign(document.createElement("canvas"), { width: 28, height: 28 });
    drawDigit(canvas, digits.images.subarray((TRAIN + i) * 784, (TRAIN + i + 1) * 784));
    const truth = digits.labels[TRAIN + i];
    const caption = document.createElement("figcaption");
    const answer = answers ? best(answers[i]) : null;
    caption.textContent = answer === null ? `${truth}: ?` : answer === truth ? `${answer} ✓` : `${answer} ✗ (${truth})`;
    if (answer !== null && answer !== truth) caption.className = "wrong";
    figure.append(canvas, caption);
    return figure;
  }));
}

const pad = drawingPad($("pad"), () => answerDrawing());
function clearPad() {
  pad.clear();
  app.drawn = null;
  showProbabilities(null);
}
$("clear").onclick = clearPad;

let pending = false;
function answerDrawing() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    const pixels = pad.pixels();
    const p = model && pixels ? Array.from(scores(pixels, 1)[0]) : null;
    app.drawn = p && { answer: best(p), probabilities: p };
    showProbabilities(p);
  });
}

function showProbabilities(p) {
  const rows = Array.from({ length: 10 }, (_, d) => {
    const row = document.createElement("div");
    row.style.display = "contents";
    if (p && d === best(p)) row.className = "best";
    const bar = Object.assign(document.createElement("div"), { className: "bar" });
    bar.style.width = `${p ? 100 * p[d] : 0}%`;
    const track = document.createElement("div");
    track.append(bar);
    row.append(Object.assign(document.createElement("span"), { textContent: d }), track, Object.assign(document.createElement("span"), { textContent: p ? `${(100 * p[d]).toFixed(1)}%` : "" }));
    return row;
  });
  $("probabilities").replaceChildren(...rows);
}

/** The worker's latest file: loaded whole the first time, then only its weights (no model to build). */
async function receive(file) {
  if (!model) return useModel(await loadModel(file));
  const weights = readWeights(file);
  model.loadStateDict(weights);
  for (const t of Object.values(weights)) t.dispose();
  return useModel(model);
}

async function useModel(next) {
  model = next;
  showHeldOut();
  answerDrawing();
  for (const id of ["download", "store"]) $(id).disabled = false;
}

// ---- keeping the model ----
const database = () => new Promise((resolve, reject) => {
  const request = indexedDB.open("wasmgrad-example", 1);
  request.onupgradeneeded = () => request.result.createObjectStore("models");
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});
const stored = async (mode, act) => {
  const db = await database();
  return new Promise((resolve, reject) => {
    const request = act(db.transaction("models", mode).objectStore("models"));
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
};
$("download").onclick = () => {
  const url = URL.createObjectURL(new Blob([model.save()], { type: "application/octet-stream" }));
  Object.assign(document.createElement("a"), { href: url, download: "mnist.safetensors" }).click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
};
$("store").onclick = async () => {
  await stored("readwrite", (s) => s.put(model.save(), "mnist"));
  $("kept").textContent = "saved in this browser (IndexedDB)";
};
$("restore").onclick = async () => {
  const bytes = await stored("readonly", (s) => s.get("mnist"));
  if (!bytes) return void ($("kept").textContent = "nothing saved in this browser yet");
  await useModel(await loadModel(bytes));
  $("kept").textContent = `loaded from this browser: ${model.summary().split("\n")[0]}`;
};
$("open").onchange = async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  await useModel(await loadModel(file));
  $("kept").textContent = `loaded ${file.name}`;
};

// ---- the apple example's graph ----
async function drawGraph() {
  const named = (value, name) => Object.assign(tensor(value, { requiresGrad: true }), { name });
  const x = named(100, "x: price of one apple"), y = named(2, "y: apples"), z = named(1.1, "z: tax");
  const B = x.mul(y).mul(z);
  B.name = "B: what you pay";
  B.backward({ retainGraph: true }); // keeps the graph, so it can be drawn with its gradients
  const { default: mermaid } = await import("mermaid");
  mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral" });
  const { svg } = await mermaid.render("apple-graph", toMermaid(B));
  $("mermaid").innerHTML = svg;
  app.graphDrawn = true;
}

clearPad();
showHeldOut();
drawGraph().catch((e) => ($("mermaid").textContent = `could not draw the graph: ${e.message}`));
app.ready = true;
