// A drawing pad on a canvas (white ink on black, as MNIST's digits), shared by the pages: strokes
// by pointer, and the drawing as MNIST draws digits — its bounding box scaled into 20×20, centred
// in 28×28, grey levels in [0, 1].
export function drawingPad(canvas, onChange) {
  const ink = canvas.getContext("2d", { willReadFrequently: true });
  let last = null;
  const clear = () => {
    ink.fillStyle = "#000";
    ink.fillRect(0, 0, canvas.width, canvas.height);
  };
  clear();
  canvas.addEventListener("pointerdown", (e) => ((last = [e.offsetX, e.offsetY]), canvas.setPointerCapture(e.pointerId)));
  canvas.addEventListener("pointermove", (e) => {
    if (!last) return;
    Object.assign(ink, { strokeStyle: "#fff", lineWidth: 22, lineCap: "round", lineJoin: "round" });
    ink.beginPath();
    ink.moveTo(...last);
    ink.lineTo(e.offsetX, e.offsetY);
    ink.stroke();
    last = [e.offsetX, e.offsetY];
    onChange();
  });
  canvas.addEventListener("pointerup", () => ((last = null), onChange()));

  /** The drawing as 784 grey levels, or null while the pad is empty. */
  function pixels() {
    const { data } = ink.getImageData(0, 0, canvas.width, canvas.height);
    let [x0, y0, x1, y1] = [canvas.width, canvas.height, -1, -1];
    for (let y = 0; y < canvas.height; y++) for (let x = 0; x < canvas.width; x++) {
      if (data[4 * (y * canvas.width + x)] > 0) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    }
    if (x1 < 0) return null;
    return fitted(canvas, x0, y0, x1 - x0 + 1, y1 - y0 + 1);
  }
  return { clear, pixels };
}

/** The region (x, y, w, h) of `source` (a canvas or an image) scaled into 20×20, centred in 28×28: grey levels in [0, 1]. */
export function fitted(source, x, y, w, h) {
  const small = Object.assign(document.createElement("canvas"), { width: 28, height: 28 }).getContext("2d", { willReadFrequently: true });
  small.fillStyle = "#000";
  small.fillRect(0, 0, 28, 28);
  const scale = 20 / Math.max(w, h);
  small.drawImage(source, x, y, w, h, (28 - w * scale) / 2, (28 - h * scale) / 2, w * scale, h * scale);
  const rgba = small.getImageData(0, 0, 28, 28).data;
  return Float32Array.from({ length: 784 }, (_, i) => rgba[4 * i] / 255);
}
