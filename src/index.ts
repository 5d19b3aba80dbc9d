import "./autograd/methods.js"; // the chained tensor methods (x.add(y)), attached from above
import "./train/model-methods.js"; // model.compile/fit/evaluate/predict, attached from above
import "./io/model-file.js"; // model.save(), attached from above
export { init, getEngine, Engine, MAX_DIMS, type InitOptions, type GemmArgs } from "./backend/engine.js";
export { detectFeatures, type HostFeatures } from "./backend/features.js";
export { type Memory, type MemoryStats } from "./backend/memory.js";
export type { Build, WasmSource } from "./backend/load.js";
export {
  Tensor, DisposedError, tensor, zeros, ones, full, withArena,
  type Shape, type NestedArray, type TensorOptions,
} from "./tensor.js";
export { noGrad, isGradEnabled } from "./autograd/graph.js";
export { GraphReleasedError, type BackwardOptions } from "./autograd/backward.js";
export { gradcheck, type GradcheckOptions, type GradcheckReport } from "./autograd/gradcheck.js";
export { toDot, toMermaid, type GraphExportOptions } from "./autograd/export.js";
export * from "./errors.js";
export { Random } from "./random.js";
export { Layer, WeightedLayer, type BuildContext, type ForwardOptions } from "./nn/layer.js";
export { Dense, type DenseOptions } from "./nn/dense.js";
export { Dropout } from "./nn/dropout.js";
export { RandomShift } from "./nn/random-shift.js";
export { Flatten } from "./nn/flatten.js";
export { Activation } from "./nn/activation.js";
export { GlobalAveragePooling, Permute, Reshape } from "./nn/shape-layers.js";
export { Add, Concatenate } from "./nn/merge.js";
export { BatchNorm, LayerNorm, type BatchNormOptions, type NormOptions } from "./nn/norm.js";
export { Embedding, type EmbeddingOptions } from "./nn/embedding.js";
export { MultiHeadAttention, type AttentionOptions } from "./nn/attention.js";
export { GRU, LSTM, SimpleRNN, type GRUOptions, type RecurrentOptions, type RecurrentResult } from "./nn/recurrent.js";
export { Module, StateDictError, type LoadStateDictOptions } from "./nn/module.js";
export { Model, type ModelOptions } from "./nn/model.js";
export { Sequential, type SequentialOptions } from "./nn/sequential.js";
export { initializers, type Initializer, type InitializerName } from "./nn/init.js";
export { crossEntropy, binaryCrossEntropy, mse, type CrossEntropyOptions, type Targets } from "./autograd/ops/losses.js";
export { losses, type LossFn, type LossName } from "./nn/losses.js";
export { dense, type Activation as ActivationName } from "./autograd/ops/dense.js";
export { ACTIVATIONS, activate } from "./autograd/ops/activate.js";
export { Optimizer, type OptimizerOptions, type ParamGroup, type Parameters } from "./optim/optimizer.js";
export { weightDecayGroups } from "./optim/groups.js";
export { SGD, type SGDOptions } from "./optim/sgd.js";
export { Adam, AdamW, type AdamOptions } from "./optim/adam.js";
export { clipGradNorm, gradientNorms } from "./optim/clip.js";
export type { CompileOptions, EvaluateOptions, FitOptions, GradientNormRecord, History, Inputs } from "./train/trainer.js";
export { EarlyStopping, type BatchLogs, type Callback, type EarlyStoppingOptions, type EpochLogs, type TrainingContext } from "./train/callbacks.js";
export { binaryAccuracy, categoricalAccuracy, confusionMatrix, topKAccuracy, type Metric, type MetricName } from "./train/metrics.js";
export { cosineDecay, exponentialDecay, stepDecay, type Schedule } from "./optim/schedules.js";
export { batches, type BatchOptions } from "./train/batches.js";
export { Conv2D, type Conv2DLayerOptions } from "./nn/conv.js";
export type { WeightOptions } from "./nn/init.js";
export { MaxPool2D, AvgPool2D } from "./nn/pool.js";
export { conv2d, maxPool2d, avgPool2d, type Conv2DOptions, type Padding, type PoolOptions, type PaddedPoolOptions, type AvgPoolOptions } from "./autograd/ops/conv.js";
export { convTranspose2d, type ConvTranspose2DOptions } from "./autograd/ops/conv-transpose.js";
export { shift2d } from "./autograd/ops/shift.js";
export { abs, argmax, argmin, clip, concat, gather, max, min, slice, stack, where, type ExtremeOptions } from "./autograd/ops/select.js";
export { matmul } from "./autograd/ops/matmul.js";
export {
  FORMAT_VERSION, loadCheckpoint, loadModel, readWeights, saveModel,
  type Checkpoint, type ModelSource, type SaveOptions,
} from "./io/model-file.js";
export { registerLayer, type LayerFactory } from "./io/registry.js";
export { toTorchSafetensors, toTorchStateDict } from "./io/torch.js";
export type { TorchTensor } from "./nn/codec.js";
export { ModelLayer } from "./nn/model-layer.js";
export { readSafetensors, writeSafetensors, type SafetensorsEntry, type SafetensorsFile } from "./io/safetensors.js";
export type { OptimizerState } from "./optim/optimizer.js";
export { fromTfjs, fromTfjsFiles, toTfjs, toTfjsFiles, type TfjsArtifacts, type TfjsFiles, type TfjsWeightSpec } from "./io/tfjs.js";
