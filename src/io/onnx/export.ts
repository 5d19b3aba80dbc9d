// ONNX export: a Sequential as the bytes of a ModelProto, encoded by protobufjs from the ONNX
// project's own onnx.proto. The graph takes the model's input as it is (NHWC for images) with a
// dynamic batch axis; convolutions and pooling, NCHW in ONNX, sit between two Transposes (which
// runtimes fold away), and conv weights are permuted from [kh, kw, cin, cout] to [cout, cin, kh, kw].
// Dense is Gemm (W [in, out] as it is), Flatten is Flatten(axis 1) on NHWC as ours, Dropout and
// RandomShift (identity at inference) are Identity, activations are their ONNX ops.
import { convOutput } from "../../autograd/ops/conv.js";
import { checkNumber, checkOptions, describe } from "../../check.js";
import { ArgumentError, FormatError } from "../../errors.js";
import type { Layer } from "../../nn/layer.js";
import { Sequential } from "../../nn/sequential.js";
import type { Shape, Tensor } from "../../tensor.js";
import { OnnxModel } from "./import.js";
import { floatBytes, onnxModelType } from "./proto-type.js";

export interface OnnxExportOptions {
  /** The default-domain opset to declare, 13 … 21. Default 17. */
  opset?: number;
  /** Names of the graph's input and output. Defaults "input", "output". */
  inputName?: string;
  outputName?: string;
}

const FLOAT = 1; // TensorProto.DataType.FLOAT
const INT64 = 7; // TensorProto.DataType.INT64
const ATTRIBUTE = { FLOAT: 1, INT: 2, INTS: 7 } as const;

type Attribute = { name: string; type: number; f?: number; i?: number; ints?: number[] };
interface Node { name: string; op_type: string; input: string[]; output: string[]; attribute: Attribute[] }
interface Initializer { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }

const int = (name: string, i: number): Attribute => ({ name, type: ATTRIBUTE.INT, i });
const ints = (name: string, v: number[]): Attribute => ({ name, type: ATTRIBUTE.INTS, ints: v });
const float = (name: string, f: number): Attribute => ({ name, type: ATTRIBUTE.FLOAT, f });

/** IR version that goes with an opset (onnx/helper.py's table). */
const irVersion = (opset: number) => (opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10);

/**
 * The model as ONNX: bytes of a ModelProto with a dynamic batch axis. A model from fromOnnx goes
 * back out as its file's graph (cut to its outputs) with its weights' current values, at the
 * file's opset and with its names: the options are for a Sequential.
 */
export function toOnnx(model: Sequential | OnnxModel, options?: OnnxExportOptions): Uint8Array {
  if (model instanceof OnnxModel) {
    const given = Object.keys(checkOptions("toOnnx", options) ?? {});
    if (given.length > 0) throw new ArgumentError(`toOnnx: a model from fromOnnx keeps its file's opset and names; got options ${given.join(", ")}`);
    return model.toOnnxBytes();
  }
  if (!(model instanceof Sequential)) throw new ArgumentError(`toOnnx: expected a Sequential or a model from fromOnnx, got ${describe(model)}`);
  const { opset = 17, inputName = "input", outputName = "output" } = checkOptions("toOnnx", options);
  checkNumber("toOnnx", "opset", opset, { integer: true, min: 13, max: 21 });
  const nodes: Node[] = [];
  const initializers: Initializer[] = [];
  let current = inputName;
  let shape: Shape = model.inputShape;
  let serial = 0;
  const next = (base: string) => `${base}:${serial++}`;
  const node = (op: string, name: string, input: string[], attribute: Attribute[] = []): string => {
    const out = next(name);
    nodes.push({ name: `${out}/${op}`, op_type: op, input, output: [out], attribute }); // names unique, as ONNX requires
    return out;
  };
  const weight = (name: string, dims: number[], data: Float32Array) => {
    initializers.push({ name, dims, data_type: FLOAT, raw_data: floatBytes(data) });
    return name;
  };
  const activate = (layer: Layer, input: string): string => {
    const c = layer.config();
    switch (c.activation) {
      case "linear": return input;
      case "relu": return node("Relu", layer.name, [input]);
      case "sigmoid": return node("Sigmoid", layer.name, [input]);
      case "tanh": return node("Tanh", layer.name, [input]);
      case "leakyRelu": return node("LeakyRelu", layer.name, [input], [float("alpha", c.slope as number)]);
      case "softmax": return node("Softmax", layer.name, [input], [int("axis", -1)]);
      case "logSoftmax": return node("LogSoftmax", layer.name, [input], [int("axis", -1)]);
      case "elu": return node("Elu", layer.name, [input], [float("alpha", 1)]);
      case "softplus": return node("Softplus", layer.name, [input]);
      case "hardSigmoid": return node("HardSigmoid", layer.name, [input], [float("alpha", 0.2), float("beta", 0.5)]);
      case "silu":
      case "swish": return node("Mul", layer.name, [input, node("Sigmoid", layer.name, [input])]);
      case "gelu":
        if (opset < 20) throw new FormatError(`toOnnx: ${layer.name}: gelu needs opset 20 or later (ONNX's Gelu), got ${opset}`);
        return node("Gelu", layer.name, [input]);
      default: throw new FormatError(`toOnnx: ${layer.name}: activation ${JSON.stringify(c.activation)} has no ONNX op here`);
    }
  };
  const nchw = (name: string, input: string) => node("Transpose", name, [input], [ints("perm", [0, 3, 1, 2])]);
  const nhwc = (name: string, input: string) => node("Transpose", name, [input], [ints("perm", [0, 2, 3, 1])]);

  model.layers.forEach((layer, index) => {
    const c = layer.config();
    const params = Object.fromEntries(layer.namedParameters()) as Record<string, Tensor>;
    const buffers = { ...params, ...(Object.fromEntries(layer.namedBuffers()) as Record<string, Tensor>) };
    switch (layer.kind) {
      case "Dense": {
        const w = params.weight;
        const inputs = [current, weight(`${layer.name}.weight`, [...w.shape], w.data())];
        const bias = params.bias ? weight(`${layer.name}.bias`, [...params.bias.shape], params.bias.data()) : null;
        // Gemm is for matrices; over the last axis of a sequence it is MatMul and a broadcast Add.
        if (shape.length === 1) current = node("Gemm", layer.name, bias ? [...inputs, bias] : inputs);
        else current = bias ? node("Add", layer.name, [node("MatMul", layer.name, inputs), bias]) : node("MatMul", layer.name, inputs);
        current = activate(layer, current);
        break;
      }
      case "Embedding": {
        // Gather wants integer indices; the graph's input is float, like every wasmgrad tensor.
        const table = buffers.embeddings;
        const indices = node("Cast", layer.name, [current], [int("to", INT64)]);
        current = node("Gather", layer.name, [weight(`${layer.name}.embeddings`, [...table.shape], table.data()), indices], [int("axis", 0)]);
        break;
      }
      case "LayerNorm": {
        if (opset < 17) throw new FormatError(`toOnnx: ${layer.name}: LayerNorm needs opset 17 or later (ONNX's LayerNormalization), got ${opset}`);
        const features = shape[shape.length - 1];
        const scale = params.gamma?.data() ?? new Float32Array(features).fill(1);
        const shift = params.beta?.data() ?? new Float32Array(features);
        current = node("LayerNormalization", layer.name, [current, weight(`${layer.name}.gamma`, [features], scale), weight(`${layer.name}.beta`, [features], shift)], [
          int("axis", -1), float("epsilon", c.epsilon as number),
        ]);
        break;
      }
      case "BatchNorm": {
        // At inference a BatchNorm is x·a + b over the last axis: a = γ/√(var + ε), b = β − mean·a.
        const features = shape[shape.length - 1];
        const mean = buffers.movingMean.data(), variance = buffers.movingVariance.data();
        const gamma = params.gamma?.data(), beta = params.beta?.data();
        const a = new Float32Array(features), b = new Float32Array(features);
        for (let i = 0; i < features; i++) {
          a[i] = (gamma ? gamma[i] : 1) / Math.sqrt(variance[i] + (c.epsilon as number));
          b[i] = (beta ? beta[i] : 0) - mean[i] * a[i];
        }
        current = node("Add", layer.name, [node("Mul", layer.name, [current, weight(`${layer.name}.scale`, [features], a)]), weight(`${layer.name}.shift`, [features], b)]);
        break;
      }
      case "Conv2D": {
        const [h, wid, cin] = shape;
        const k = c.kernelSize as number, stride = c.stride as number, filters = c.filters as number;
        const rows = convOutput(layer.name, h, k, stride, c.padding as never);
        const cols = convOutput(layer.name, wid, k, stride, c.padding as never);
        const pad = (o: { out: number; before: number }, size: number) => [o.before, Math.max((o.out - 1) * stride + k - size - o.before, 0)];
        const [top, bottom] = pad(rows, h), [left, right] = pad(cols, wid);
        // [kh, kw, cin, cout] → [cout, cin, kh, kw]
        const src = params.weight.data();
        const dst = new Float32Array(src.length);
        for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) for (let i = 0; i < cin; i++) for (let o = 0; o < filters; o++) {
          dst[((o * cin + i) * k + y) * k + x] = src[((y * k + x) * cin + i) * filters + o];
        }
        const inputs = [nchw(layer.name, current), weight(`${layer.name}.weight`, [filters, cin, k, k], dst)];
        if (params.bias) inputs.push(weight(`${layer.name}.bias`, [filters], params.bias.data()));
        const conv = node("Conv", layer.name, inputs, [
          ints("kernel_shape", [k, k]), ints("strides", [stride, stride]), ints("pads", [top, left, bottom, right]), ints("dilations", [1, 1]), int("group", 1),
        ]);
        current = activate(layer, nhwc(layer.name, conv));
        break;
      }
      case "MaxPool2D":
      case "AvgPool2D": {
        const size = c.size as number, stride = c.stride as number;
        const op = layer.kind === "MaxPool2D" ? "MaxPool" : "AveragePool";
        current = nhwc(layer.name, node(op, layer.name, [nchw(layer.name, current)], [ints("kernel_shape", [size, size]), ints("strides", [stride, stride])]));
        break;
      }
      case "Flatten":
        current = node("Flatten", layer.name, [current], [int("axis", 1)]);
        break;
      case "Dropout":
      case "RandomShift":
        current = node("Identity", layer.name, [current]);
        break;
      default:
        throw new FormatError(`toOnnx: layer ${layer.name} (${layer.kind}) has no ONNX export`);
    }
    shape = model.layerOutputShapes[index];
  });
  // The last node writes the graph's output.
  if (nodes.length === 0) current = node("Identity", "output", [current]);
  nodes[nodes.length - 1].output = [outputName];
  const valueInfo = (name: string, dims: Shape) => ({
    name,
    type: { tensor_type: { elem_type: FLOAT, shape: { dim: [{ dim_param: "batch" }, ...dims.map((d) => ({ dim_value: d }))] } } },
  });
  const proto = {
    ir_version: irVersion(opset),
    producer_name: "wasmgrad",
    opset_import: [{ domain: "", version: opset }],
    graph: {
      name: "wasmgrad",
      node: nodes,
      initializer: initializers,
      input: [valueInfo(inputName, model.inputShape)],
      output: [valueInfo(outputName, model.outputShape)],
    },
  };
  const type = onnxModelType();
  const problem = type.verify(proto);
  if (problem) throw new Error(`wasmgrad bug: the ModelProto does not verify: ${problem}`);
  return type.encode(type.fromObject(proto)).finish();
}
