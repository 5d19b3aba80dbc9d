// "Teach it your own classes": the bundled backbone (or your own .onnx, checked by inspectOnnx
// first), examples drawn or uploaded per class, the head trained in a worker with the loss and
// accuracy plotted live, answers while you draw, and the result to download as .onnx and as
// PyTorch's .safetensors. window.teach is what the browser test reads.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { inspectOnnx } from "wasmgrad/onnx";
import backboneUrl from "../transfer/backbone.onnx?url";
import task from "../transfer/task.json";
import { drawingPad, fitted } from "./pad.js";

const $ = (id) => document.getElementById(id);
const teach = (window.teach = { ready: false, examples: [], trained: false, history: [], prediction: null, onnxBytes: 0, safetensorsBytes: 0, report: null, errors: [] });
window.addEventListener("error", (e) => teach.errors.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => teach.errors.push(String(e.reason)));

let backbone = new Uint8Array(await (await fetch(backboneUrl)).arrayBuffer());
const INPUT = [1, 28, 28]; // NCHW grey images, as the bundled backbone (and any model it takes) reads them
$("features").value = task.features;
const classes = ["circle", "cross"];
const examples = []; // { pixels, label }

// ---- the backbone: the bundled one, or a file of yours that inspectOnnx accepts ----
$("own").onchange = async () => {
  const file = $("own").files[0];
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    const report = inspectOnnx(bytes);
    teach.report = report;
    const input = report.inputs[0]?.dims?.slice(1);
    const lines = [`IR ${report.irVersion}, opset ${report.opset}, ${report.parameters.toLocaleString()} parameters`, `inputs: ${report.inputs.map((i) => `${i.name} [${i.dims}]`).join("; ")}`];
    if (report.unsupported.length > 0) lines.push("wasmgrad cannot run:", ...report.unsupported.map((p) => `  ${p.node} (${p.op}): ${p.reason}`));
    const fits = report.inputs.length === 1 && input?.join() === INPUT.join();
    if (!fits) lines.push(`this page feeds 28×28 grey images, [batch, ${INPUT.join(", ")}]: the model takes ${report.inputs.map((i) => `[${i.dims}]`).join(", ")}`);
    $("report").textContent = lines.join("\n");
    if (report.unsupported.length > 0 || !fits) return;
    backbone = bytes;
    $("features").value = report.outputs[0].name;
    $("model").textContent = `yours: ${file.name} (cut it at a tensor of its features: name it below)`;
  } catch (e) {
    teach.report = { error: e.message };
    $("report").textContent = `not a model wasmgrad reads: ${e.message}`;
  }
};

// ---- classes and examples ----
function showClasses() {
  $("class").replaceChildren(...classes.map((c, i) => Object.assign(document.createElement("option"), { value: String(i), textContent: c })));
}
$("addClass").onclick = () => {
  const name = $("className").value.trim() || `class ${classes.length + 1}`;
  classes.push(name);
  $("className").value = "";
  showClasses();
  $("class").value = String(classes.length - 1);
  showGallery();
};
function addExample(pixels) {
  examples.push({ pixels, label: Number($("class").value) });
  teach.examples = classes.map((_, i) => examples.filter((e) => e.label === i).length);
  showGallery();
}
function showGallery() {
  $("gallery").replaceChildren(...classes.map((name, label) => {
    const row = Object.assign(document.createElement("div"), { className: "row" });
    const mine = examples.filter((e) => e.label === label);
    row.append(Object.assign(document.createElement("strong"), { textContent: `${name} (${mine.length})` }));
    for (const e of mine) {
      const c = Object.assign(document.createElement("canvas"), { width: 28, height: 28 });
      const ctx = c.getContext("2d"), img = ctx.createImageData(28, 28);
      e.pixels.forEach((v, i) => img.data.set([v * 255, v * 255, v * 255, 255], 4 * i));
      ctx.putImageData(img, 0, 0);
      row.append(c);
    }
    return row;
  }));
  const counts = classes.map((_, i) => examples.filter((e) => e.label === i).length);
  $("train").disabled = counts.filter((n) => n > 0).length < 2 || busy;
}

const pad = drawingPad($("pad"), () => ask());
$("clear").onclick = () => {
  pad.clear();
  teach.prediction = null;
};
$("add").onclick = () => {
  const pixels = pad.pixels();
  if (pixels) addExample(Array.from(pixels));
  pad.clear();
};
$("upload").onchange = async () => {
  for (const file of $("upload").files) {
    const bitmap = await createImageBitmap(file);
    let pixels = fitted(bitmap, 0, 0, bitmap.width, bitmap.height);
    // Dark ink on a light page (a photo of a drawing): inverted into MNIST's white on black.
    if (pixels.reduce((a, b) => a + b, 0) / pixels.length > 0.5) pixels = pixels.map((v) => 1 - v);
    addExample(Array.from(pixels));
  }
};

// ---- training in the worker, plotted live ----
const series = [[], [], []];
const chart = new uPlot({
  width: Math.min(1060, document.body.clientWidth - 32), height: 220, scales: { x: { time: false }, loss: { auto: true }, accuracy: { range: [0, 1] } },
  series: [{ label: "epoch" }, { label: "loss", stroke: "#c33", scale: "loss" }, { label: "accuracy (your examples)", stroke: "#36c", scale: "accuracy" }],
  axes: [{ label: "epoch" }, { scale: "loss", label: "loss" }, { scale: "accuracy", side: 1, grid: { show: false }, values: (_, t) => t.map((v) => `${Math.round(100 * v)}%`) }],
}, series, $("chart"));

const worker = new Worker(new URL("./teach.worker.js", import.meta.url), { type: "module" });
let busy = false, files = null;
worker.onmessage = ({ data }) => {
  if (data.type === "epoch") {
    teach.history.push(data);
    series[0].push(data.epoch), series[1].push(data.loss), series[2].push(data.accuracy);
    chart.setData(series);
    $("progress").textContent = `epoch ${data.epoch}: loss ${data.loss.toFixed(4)}, accuracy on your examples ${(100 * data.accuracy).toFixed(0)}%`;
  } else if (data.type === "done") {
    busy = false;
    files = { onnx: data.onnx, safetensors: data.safetensors };
    Object.assign(teach, { trained: true, onnxBytes: data.onnx.length, safetensorsBytes: data.safetensors.length });
    $("progress").textContent += ` — trained in ${data.seconds.toFixed(2)} s (the backbone ran once per example: ${data.cached.samples} of them)`;
    for (const id of ["onnx", "safetensors", "train"]) $(id).disabled = false;
    ask();
  } else if (data.type === "prediction") {
    teach.prediction = { answer: data.probabilities.indexOf(Math.max(...data.probabilities)), probabilities: data.probabilities };
    $("answers").replaceChildren(...classes.map((name, i) => {
      const row = Object.assign(document.createElement("div"), { className: i === teach.prediction.answer ? "best" : "" });
      row.textContent = `${name}: ${(100 * (data.probabilities[i] ?? 0)).toFixed(1)}%`;
      return row;
    }));
  } else if (data.type === "error") {
    busy = false;
    teach.errors.push(data.message);
    $("progress").textContent = data.message;
  }
};
$("train").onclick = () => {
  busy = true;
  teach.trained = false;
  teach.history = [];
  series.forEach((s) => (s.length = 0));
  for (const id of ["train", "onnx", "safetensors"]) $(id).disabled = true;
  const used = classes.map((_, i) => examples.some((e) => e.label === i));
  const names = classes.filter((_, i) => used[i]), relabel = new Map(classes.map((_, i) => [i, used.slice(0, i).filter(Boolean).length]));
  worker.postMessage({
    type: "train", backbone: backbone.slice().buffer, features: $("features").value, inputShape: INPUT, classes: names,
    images: examples.map((e) => e.pixels), labels: examples.map((e) => relabel.get(e.label)), epochs: Number($("epochs").value), lr: task.lr,
  });
};
let asking = false;
function ask() {
  if (!teach.trained || asking) return;
  asking = true;
  requestAnimationFrame(() => {
    asking = false;
    const pixels = pad.pixels();
    if (pixels) worker.postMessage({ type: "predict", pixels: Array.from(pixels) });
  });
}
const download = (bytes, name) => Object.assign(document.createElement("a"), { href: URL.createObjectURL(new Blob([bytes])), download: name }).click();
$("onnx").onclick = () => download(files.onnx, "teach.onnx");
$("safetensors").onclick = () => download(files.safetensors, "teach.safetensors");

showClasses();
showGallery();
$("status").textContent = `ready · the backbone: ${task.pretrainedOn.length} digits' CNN, ${(backbone.length / 1024).toFixed(0)} KiB`;
teach.ready = true;
