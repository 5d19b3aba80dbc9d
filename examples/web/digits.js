// The MNIST digits as the page and the worker read them: mnist.bin (see vite.config.mjs).
export const TRAIN = 8000, TEST = 2000;

/** From mnist.bin's URL: { images: Float32Array [10,000 × 784] in [0, 1], labels: Float32Array [10,000] }. */
export async function loadDigits(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const count = bytes.length / 785;
  const images = new Float32Array(count * 784);
  for (let i = 0; i < images.length; i++) images[i] = bytes[i] / 255; // a plain loop: Float32Array.from with a function took seconds
  const labels = Float32Array.from(bytes.subarray(count * 784));
  return { images, labels, count };
}
