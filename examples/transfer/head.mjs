// The transfer task's model, made one way by every example that fine-tunes the backbone (the
// Node example, the personalising Worker, the browser page): the ONNX backbone cut at its
// features and frozen, under a new Dense head named `fc` (PyTorch's name for it), zero-initialised
// where the example compares with PyTorch's zero-started head. Each passes in its own wasmgrad
// entries, as its runtime imports them.
export function withNewHead({ Dense, Sequential }, { fromOnnx }, backbone, { features, classes, inputShape = [1, 28, 28], zero = true }) {
  const cut = fromOnnx(backbone, { outputs: [features] });
  cut.trainable = false;
  const head = new Dense(classes);
  head.name = "fc";
  const model = new Sequential([cut, head], { inputShape });
  if (zero) for (const name of ["fc.weight", "fc.bias"]) model.stateDict()[name].set(new Float32Array(model.stateDict()[name].size));
  return model;
}
