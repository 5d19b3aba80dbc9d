// ONNX export: a Sequential as the bytes of a ModelProto, encoded (protobuf.ts) from the ONNX
// project's own onnx.proto. The graph takes the model's input as it is (NHWC for images) with a
// dynamic batch axis; each layer lowers itself through an OnnxWriter (its codec, beside its class:
// a conv between two Transposes, a recurrent layer as ONNX's RNN/GRU/LSTM, attention as its
// products and softmax), and activations are their ONNX ops.
import type { Activation } from "../../autograd/ops/activate.js";
import { checkNumber, checkOptions, describe } from "../../check.js";
import { ArgumentError, FormatError } from "../../errors.js";
import type { OnnxAttribute, OnnxWriter } from "../../nn/codec.js";
import { codecOf } from "../../nn/codecs.js";
import type { Layer } from "../../nn/layer.js";
import { ModelLayer } from "../../nn/model-layer.js";
import { Sequential } from "../../nn/sequential.js";
import type { Shape } from "../../tensor.js";
import { OnnxModel } from "./import.js";
import { floatBytes, int64Bytes, onnxModelType } from "./proto-type.js";

export interface OnnxExportOptions {
  /** The default-domain opset to declare, 13 … 21. Default 17. */
  opset?: number;
  /** Names of the graph's input and output. Defaults "input", "output". */
  inputName?: string;
  outputName?: string;
}

const FLOAT = 1, INT64 = 7; // TensorProto.DataType
const ATTRIBUTE = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

interface Attribute { name: string; type: number; f?: number; i?: number; s?: Uint8Array; ints?: number[]; floats?: number[]; strings?: Uint8Array[] }
interface Node { name: string; op_type: string; input: string[]; output: string[]; attribute: Attribute[] }
interface Initializer { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }

/** A codec's attribute, typed by the field it has. */
function attribute(a: OnnxAttribute): Attribute {
  const text = (v: string) => new TextEncoder().encode(v);
  if (a.i !== undefined) return { name: a.name, type: ATTRIBUTE.INT, i: a.i };
  if (a.f !== undefined) return { name: a.name, type: ATTRIBUTE.FLOAT, f: a.f };
  if (a.s !== undefined) return { name: a.name, type: ATTRIBUTE.STRING, s: text(a.s) };
  if (a.ints !== undefined) return { name: a.name, type: ATTRIBUTE.INTS, ints: a.ints };
  if (a.floats !== undefined) return { name: a.name, type: ATTRIBUTE.FLOATS, floats: a.floats };
  if (a.strings !== undefined) return { name: a.name, type: ATTRIBUTE.STRINGS, strings: a.strings.map(text) };
  throw new Error(`wasmgrad bug: ONNX attribute ${a.name} has no value`);
}

/** ONNX's op for each activation (those without one are composed or refused in activation()). */
const ACTIVATION_OPS: Partial<Record<Activation, string>> = { relu: "Relu", sigmoid: "Sigmoid", tanh: "Tanh", softplus: "Softplus" };

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
  // A composite with an imported backbone declares the backbone's opset by default: its nodes are read by it.
  const backbone = model.layers.find((l): l is ModelLayer => l instanceof ModelLayer && l.model instanceof OnnxModel)?.model as OnnxModel | undefined;
  const { opset = backbone?.opset ?? 17, inputName = "input", outputName = "output" } = checkOptions("toOnnx", options);
  checkNumber("toOnnx", "opset", opset, { integer: true, min: 13, max: 21 });
  const nodes: Node[] = [];
  const initializers: Initializer[] = [];
  let current = inputName;
  let serial = 0;
  // Each layer lowers itself (its codec, beside its class) through this writer; names stay unique, as ONNX requires.
  const writer = (layer: Layer, shape: Shape): OnnxWriter => {
    const where = `toOnnx: ${layer.name}`;
    const fail = (why: string): never => {
      throw new FormatError(`${where}: ${why}`);
    };
    const w: OnnxWriter = {
      opset, shape,
      fail,
      node(op, input, attributes = [], outputs = 1) {
        const names = Array.from({ length: outputs }, () => `${layer.name}:${serial++}`);
        nodes.push({ name: `${names[0]}/${op}`, op_type: op, input, output: names, attribute: attributes.map(attribute) });
        return names;
      },
      weight(suffix, dims, data) {
        const name = `${layer.name}.${suffix}`;
        initializers.push({ name, dims, data_type: FLOAT, raw_data: floatBytes(data) });
        return name;
      },
      int64s(suffix, values) {
        const name = `${layer.name}.${suffix}`;
        initializers.push({ name, dims: [values.length], data_type: INT64, raw_data: int64Bytes(values) });
        return name;
      },
      model(m, input) {
        if (!(m instanceof OnnxModel)) return fail(`a ${m.constructor.name} of your own has no ONNX lowering; models from fromOnnx do`);
        if (m.opset !== opset) return fail(`the imported model is at opset ${m.opset}; export the whole at its opset (toOnnx(model, { opset: ${m.opset} }))`);
        const g = m.toOnnxGraph();
        if (g.inputs.length !== 1) return fail(`the imported model takes ${g.inputs.length} inputs; a layer takes one`);
        // Its weights keep their names (the file's); its input is the composite's value at this point,
        // and a value it computes under a name the composite uses (its "output", say) is renamed.
        const taken = new Set([...initializers.map((i) => i.name), ...nodes.flatMap((n) => n.output), inputName, outputName]);
        const clash = g.initializers.map((i) => i.name!).find((n) => taken.has(n));
        if (clash) return fail(`the imported model's ${clash} is a name the rest of the model uses too; rename the layer`);
        const renamed = new Map<string, string>([[g.inputs[0], input]]);
        const rename = (name: string) => renamed.get(name) ?? name;
        for (const n of g.nodes as Node[]) {
          const inputs = (n.input ?? []).map(rename);
          const outputs = (n.output ?? []).map((o) => {
            if (!taken.has(o)) return o;
            renamed.set(o, `${o}:${serial++}`);
            return renamed.get(o)!;
          });
          nodes.push({ ...n, input: inputs, output: outputs, attribute: n.attribute ?? [] });
        }
        initializers.push(...(g.initializers as Initializer[]));
        return rename(g.outputs[0]);
      },
      activation(a, slope, input) {
        if (a === "linear") return input;
        const op = ACTIVATION_OPS[a];
        if (op) return w.node(op, [input])[0];
        switch (a) {
          case "leakyRelu": return w.node("LeakyRelu", [input], [{ name: "alpha", f: slope }])[0];
          case "softmax": return w.node("Softmax", [input], [{ name: "axis", i: -1 }])[0];
          case "logSoftmax": return w.node("LogSoftmax", [input], [{ name: "axis", i: -1 }])[0];
          case "elu": return w.node("Elu", [input], [{ name: "alpha", f: 1 }])[0];
          case "hardSigmoid": return w.node("HardSigmoid", [input], [{ name: "alpha", f: 0.2 }, { name: "beta", f: 0.5 }])[0];
          case "silu":
          case "swish": return w.node("Mul", [input, w.node("Sigmoid", [input])[0]])[0];
          case "gelu": return opset < 20 ? fail(`gelu needs opset 20 or later (ONNX's Gelu), got ${opset}`) : w.node("Gelu", [input])[0];
          case "hardSwish": return opset < 14 ? fail(`hardSwish needs opset 14 or later (ONNX's HardSwish), got ${opset}`) : w.node("HardSwish", [input])[0];
          default: return fail(`activation ${JSON.stringify(a)} has no ONNX op here`);
        }
      },
    };
    return w;
  };
  model.layers.forEach((layer, index) => {
    const codec = codecOf(layer.kind);
    if (!codec?.onnx) throw new FormatError(`toOnnx: layer ${layer.name} (${layer.kind}) has no ONNX export`);
    current = codec.onnx(layer, current, writer(layer, index === 0 ? model.inputShape : model.layerOutputShapes[index - 1]));
  });
  // The last node writes the graph's output (an Identity where no node computes the last value).
  const last = nodes[nodes.length - 1];
  if (last?.output[0] === current) last.output[0] = outputName;
  else nodes.push({ name: `${outputName}/Identity`, op_type: "Identity", input: [current], output: [outputName], attribute: [] });
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
