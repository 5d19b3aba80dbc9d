// wasmgrad's own protobuf codec for the ONNX schema (src/io/onnx/protobuf.ts: no generated code, so
// edge runtimes that forbid `new Function` can read models) against protobufjs, an independent
// implementation, on real files: the same decoded objects, and files it writes that protobufjs
// reads back the same (and that re-read as written).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { ONNX_PROTO } from "../src/io/onnx/onnx-proto.js";
import { onnxModelType } from "../src/io/onnx/proto-type.js";

const root = join(__dirname, "..");
const reference = protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType("onnx.ModelProto");
/** JSON with keys sorted (the two list an object's fields in different orders) and bytes as base64. */
const asJson = (o: unknown) => JSON.stringify(o, (_, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("base64")
  : v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v));
const files = [
  "test/fixtures/sklearn-digits-mlp.onnx", "examples/transfer/backbone.onnx",
  "test/.torch-models/rnn-dynamo/model.onnx", "test/.torch-models/transformer-torchscript/model.onnx", "test/.onnx-cases/zoo_inception_v1_opset9/model.onnx",
].filter((f) => existsSync(join(root, f)));

describe("the ONNX protobuf codec", () => {
  it.each(files)("%s: decodes as protobufjs does, and what it encodes protobufjs decodes the same", (file) => {
    const bytes = new Uint8Array(readFileSync(join(root, file)));
    const mine = onnxModelType().decode(bytes);
    expect(asJson(mine)).toBe(asJson(reference.toObject(reference.decode(bytes), { longs: Number, arrays: true, defaults: false })));
    const written = onnxModelType().encode(mine).finish();
    expect(asJson(reference.toObject(reference.decode(written), { longs: Number, arrays: true, defaults: false }))).toBe(asJson(mine));
    expect(asJson(onnxModelType().decode(written))).toBe(asJson(mine));
  });

  it("reads negative int64s, packed and unpacked repeated scalars, and refuses truncation by name", () => {
    const model = { ir_version: 8, graph: { node: [{ op_type: "Squeeze", attribute: [{ name: "axes", type: 7, ints: [-1, -2, 3] }] }], initializer: [{ name: "t", dims: [2], data_type: 1, float_data: [1.5, -2] }] } };
    const bytes = onnxModelType().encode(model).finish();
    const back = onnxModelType().decode(bytes) as typeof model;
    expect(back.graph.node[0].attribute[0].ints).toEqual([-1, -2, 3]);
    expect(back.graph.initializer[0].float_data).toEqual([1.5, -2]);
    // protobufjs's own encoding of it reads the same (skl2onnx's packed runs are read in the sklearn file above).
    const theirs = reference.encode(reference.fromObject(model)).finish();
    expect((onnxModelType().decode(theirs) as typeof model).graph.node[0].attribute[0].ints).toEqual([-1, -2, 3]);
    expect(() => onnxModelType().decode(bytes.subarray(0, bytes.length - 3))).toThrow(/runs past|truncated/);
  });
});
