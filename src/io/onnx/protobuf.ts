// Protocol Buffers for the ONNX schema, with no generated code: the vendored onnx.proto is parsed
// once into field tables, and messages are read and written by walking those tables. Edge runtimes
// (Cloudflare Workers, Vercel's edge) forbid the `new Function` that protobufjs compiles its
// decoders with; this needs none, and no dependency. Decoded messages are plain objects as
// protobufjs's toObject({ longs: Number, arrays: true, defaults: false }) gives them: repeated
// fields always arrays, absent singular fields absent, int64s as numbers, bytes as views into the
// input (no copy: a large file's weights are not duplicated by reading them).

type Scalar = "double" | "float" | "int64" | "uint64" | "int32" | "fixed64" | "fixed32" | "bool" | "string" | "bytes" | "uint32" | "sfixed32" | "sfixed64" | "sint32" | "sint64";
interface Field { name: string; number: number; repeated: boolean; kind: Scalar | "enum" | "message"; message?: string }
interface MessageSchema { name: string; fields: Field[]; byNumber: Map<number, Field> }
export type ProtoObject = Record<string, unknown>;

const SCALARS = new Set<string>(["double", "float", "int64", "uint64", "int32", "fixed64", "fixed32", "bool", "string", "bytes", "uint32", "sfixed32", "sfixed64", "sint32", "sint64"]);
const WIRE: Record<string, number> = { double: 1, fixed64: 1, sfixed64: 1, float: 5, fixed32: 5, sfixed32: 5, string: 2, bytes: 2, message: 2 }; // the rest: varint (0)

/** The messages and enums of a .proto text, by full name (package.Outer.Inner). */
function parseSchema(text: string): Map<string, MessageSchema> {
  const tokens = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "").match(/"[^"]*"|[A-Za-z_][\w.]*|0x[0-9A-Fa-f]+|-?\d+|[{}\[\]=;<>,()]/g) ?? [];
  let at = 0, pkg = "";
  const messages = new Map<string, MessageSchema>(), enums = new Set<string>();
  const pending: { field: Field; type: string; scope: string }[] = [];
  const skipStatement = () => {
    let depth = 0;
    while (at < tokens.length) {
      const t = tokens[at++];
      if (t === "{") depth++;
      else if (t === "}") { if (--depth === 0) return; }
      else if (t === ";" && depth === 0) return;
    }
  };
  const body = (scope: string, into: MessageSchema | null) => {
    while (at < tokens.length && tokens[at] !== "}") {
      const t = tokens[at];
      if (t === "message") {
        const name = `${scope}.${tokens[at + 1]}`;
        at += 3; // message Name {
        const m: MessageSchema = { name, fields: [], byNumber: new Map() };
        messages.set(name, m);
        body(name, m);
        at++; // }
      } else if (t === "enum") {
        enums.add(`${scope}.${tokens[at + 1]}`);
        at += 2;
        skipStatement();
      } else if (t === "oneof") {
        at += 3; // oneof name {
        body(scope, into);
        at++;
      } else if (t === "optional" || t === "repeated" || t === "required" || (into && !["reserved", "extensions", "option", "syntax", "package", ";"].includes(t))) {
        const repeated = t === "repeated";
        if (t === "optional" || t === "repeated" || t === "required") at++;
        const [type, name, eq, num] = tokens.slice(at, at + 4);
        if (eq !== "=") throw new Error(`onnx.proto: cannot read the field near ${type} ${name}`);
        const field: Field = { name, number: Number(num), repeated, kind: "int32" };
        into!.fields.push(field);
        into!.byNumber.set(field.number, field);
        pending.push({ field, type, scope });
        at += 4;
        skipStatement(); // [options] ;
      } else if (t === "package") {
        pkg = tokens[at + 1];
        at += 2;
        skipStatement();
      } else if (t === ";") at++;
      else skipStatement(); // syntax, option, reserved, extensions
    }
  };
  body("", null);
  // Types resolve from the field's scope outwards, as protoc resolves them.
  const resolve = (type: string, scope: string): string | null => {
    for (let s = scope; ; s = s.slice(0, Math.max(s.lastIndexOf("."), 0))) {
      const name = `${s}.${type}`;
      if (messages.has(name) || enums.has(name)) return name;
      if (s === "") return null;
    }
  };
  for (const { field, type, scope } of pending) {
    if (SCALARS.has(type)) { field.kind = type as Scalar; continue; }
    // A name may carry the package (onnx.TensorProto): resolved without it.
    const bare = pkg && type.startsWith(`${pkg}.`) ? type.slice(pkg.length + 1) : type;
    const found = resolve(bare, scope);
    if (!found) throw new Error(`onnx.proto: unknown type ${type} in ${scope}`);
    if (enums.has(found)) field.kind = "enum";
    else { field.kind = "message"; field.message = found; }
  }
  // Full names with the package: ".ModelProto" → "onnx.ModelProto".
  const full = (name: string) => (pkg ? `${pkg}${name}` : name.slice(1));
  const out = new Map<string, MessageSchema>();
  for (const m of messages.values()) {
    m.name = full(m.name);
    for (const f of m.fields) if (f.message) f.message = full(f.message);
    out.set(m.name, m);
  }
  return out;
}

// Strings must be UTF-8, as protobuf's own parsers insist (ONNX Runtime refuses a file that is not).
const utf8 = new TextDecoder("utf-8", { fatal: true }), toUtf8 = new TextEncoder();

class Reader {
  at = 0;
  constructor(readonly bytes: Uint8Array, readonly view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)) {}
  /** A varint as a JS number; 64-bit two's complement where it is negative (`signed`). */
  varint(signed: boolean): number {
    let value = 0, scale = 1;
    for (let i = 0; i < 7; i++) {
      if (this.at >= this.bytes.length) throw new Error("truncated varint");
      const b = this.bytes[this.at++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    // Past 49 bits: exact in BigInt, then to a number (negative int64s are ten bytes long).
    let big = BigInt(value), shift = 49n;
    for (let i = 7; i < 10; i++) {
      if (this.at >= this.bytes.length) throw new Error("truncated varint");
      const b = this.bytes[this.at++];
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return Number(signed ? BigInt.asIntN(64, big) : BigInt.asUintN(64, big));
      shift += 7n;
    }
    throw new Error("varint longer than 10 bytes");
  }
  take(n: number): Uint8Array {
    if (n < 0 || this.at + n > this.bytes.length) throw new Error(`a field of ${n} bytes runs past the end`);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint(false);
    else if (wire === 1) this.take(8);
    else if (wire === 2) this.take(this.varint(false));
    else if (wire === 5) this.take(4);
    else throw new Error(`invalid wire type ${wire}`);
  }
}

function scalar(r: Reader, kind: Scalar): unknown {
  switch (kind) {
    case "int64": case "int32": case "sfixed64": case "sfixed32": return kind.startsWith("sfixed") ? fixed(r, kind) : r.varint(true);
    case "uint64": case "uint32": return r.varint(false);
    case "sint32": case "sint64": { const z = r.varint(false); return z % 2 === 0 ? z / 2 : -(z + 1) / 2; }
    case "bool": return r.varint(false) !== 0;
    case "string": return utf8.decode(r.take(r.varint(false)));
    case "bytes": return r.take(r.varint(false));
    default: return fixed(r, kind);
  }
}

function fixed(r: Reader, kind: Scalar): number {
  const b = r.take(kind === "float" || kind === "fixed32" || kind === "sfixed32" ? 4 : 8);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (kind === "float") return v.getFloat32(0, true);
  if (kind === "double") return v.getFloat64(0, true);
  if (kind === "fixed32") return v.getUint32(0, true);
  if (kind === "sfixed32") return v.getInt32(0, true);
  return Number(kind === "fixed64" ? v.getBigUint64(0, true) : v.getBigInt64(0, true));
}

const wireOf = (f: Field) => WIRE[f.kind] ?? 0;

function decodeMessage(schemas: Map<string, MessageSchema>, m: MessageSchema, r: Reader, end: number): ProtoObject {
  const out: ProtoObject = {};
  for (const f of m.fields) if (f.repeated) out[f.name] = [];
  while (r.at < end) {
    const tag = r.varint(false), number = Math.floor(tag / 8), wire = tag & 7;
    if (number === 0) throw new Error(`${m.name}: a field numbered 0`);
    const f = m.byNumber.get(number);
    if (!f) {
      if (wire > 5) throw new Error(`${m.name}: field ${number} has wire type ${wire} at byte ${r.at}`);
      r.skip(wire);
      continue;
    }
    const read = (): unknown => {
      if (f.kind === "message") {
        const length = r.varint(false);
        if (r.at + length > end) throw new Error(`${m.name}.${f.name} runs past its message`);
        return decodeMessage(schemas, schemas.get(f.message!)!, r, r.at + length);
      }
      return scalar(r, f.kind === "enum" ? "int32" : f.kind);
    };
    if (wire !== wireOf(f) && !(f.repeated && wire === 2)) throw new Error(`${m.name}.${f.name}: wire type ${wire}, expected ${wireOf(f)}`);
    if (f.repeated) {
      const list = out[f.name] as unknown[];
      if (wire === 2 && wireOf(f) !== 2) {
        // Packed: a run of scalars in one length-delimited field.
        const length = r.varint(false); // before r.at is read: the varint moves it
        const stop = r.at + length;
        if (stop > end) throw new Error(`${m.name}.${f.name} runs past its message`);
        while (r.at < stop) list.push(read());
      } else list.push(read());
    } else out[f.name] = read();
  }
  if (r.at !== end) throw new Error(`${m.name} runs past its end`);
  return out;
}

/** Bytes a varint takes. */
function varintSize(v: number | bigint): number {
  let big = typeof v === "bigint" ? v : v < 0 || v > Number.MAX_SAFE_INTEGER ? BigInt(Math.trunc(v)) : null;
  if (big === null) {
    let n = 1;
    for (let x = v as number; x >= 128; x = Math.floor(x / 128)) n++;
    return n;
  }
  big = BigInt.asUintN(64, big);
  let n = 1;
  while (big >= 128n) { big >>= 7n; n++; }
  return n;
}

class Writer {
  at = 0;
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  varint(v: number | bigint): void {
    if (typeof v === "number" && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      let x = v;
      while (x >= 128) { this.bytes[this.at++] = (x % 128) | 0x80; x = Math.floor(x / 128); }
      this.bytes[this.at++] = x;
      return;
    }
    let big = BigInt.asUintN(64, typeof v === "bigint" ? v : BigInt(Math.trunc(v)));
    while (big >= 128n) { this.bytes[this.at++] = Number(big & 0x7fn) | 0x80; big >>= 7n; }
    this.bytes[this.at++] = Number(big);
  }
}

class MessageType {
  readonly #sizes = new WeakMap<object, number>();
  constructor(private readonly schemas: Map<string, MessageSchema>, private readonly schema: MessageSchema) {}

  /** The message in `bytes`, as a plain object. */
  decode(bytes: Uint8Array): ProtoObject {
    return decodeMessage(this.schemas, this.schema, new Reader(bytes), bytes.length);
  }
  /** Decoded messages are plain objects already (protobufjs's API, kept for its callers). */
  toObject(message: ProtoObject, _options?: unknown): ProtoObject {
    return message;
  }
  fromObject(object: ProtoObject): ProtoObject {
    return object;
  }
  /** null: the writer checks each value as it writes it. */
  verify(_object: ProtoObject): string | null {
    return null;
  }
  encode(object: ProtoObject): { finish(): Uint8Array } {
    const size = this.size(this.schema, object);
    const w = new Writer(new Uint8Array(size));
    this.write(this.schema, object, w);
    return { finish: () => w.bytes };
  }

  private values(f: Field, object: ProtoObject): unknown[] {
    const v = object[f.name];
    if (v === undefined || v === null) return [];
    if (f.repeated) {
      if (!Array.isArray(v)) throw new Error(`${f.name} must be a list`);
      return v;
    }
    return [v];
  }

  private scalarSize(f: Field, v: unknown): number {
    switch (f.kind) {
      case "string": { const n = toUtf8.encode(String(v)).length; return varintSize(n) + n; }
      case "bytes": { const n = (v as Uint8Array).length; return varintSize(n) + n; }
      case "float": case "fixed32": case "sfixed32": return 4;
      case "double": case "fixed64": case "sfixed64": return 8;
      case "bool": return 1;
      case "sint32": case "sint64": { const n = Number(v); return varintSize(n >= 0 ? 2 * n : -2 * n - 1); }
      default: return varintSize(typeof v === "bigint" ? v : Number(v));
    }
  }

  private size(m: MessageSchema, object: ProtoObject): number {
    const known = this.#sizes.get(object);
    if (known !== undefined) return known;
    let n = 0;
    for (const f of m.fields) {
      const tag = varintSize(f.number * 8);
      for (const v of this.values(f, object)) {
        if (f.kind === "message") {
          const inner = this.size(this.schemas.get(f.message!)!, v as ProtoObject);
          n += tag + varintSize(inner) + inner;
        } else n += tag + this.scalarSize(f, v);
      }
    }
    this.#sizes.set(object, n);
    return n;
  }

  private write(m: MessageSchema, object: ProtoObject, w: Writer): void {
    for (const f of m.fields) {
      for (const v of this.values(f, object)) {
        w.varint(f.number * 8 + wireOf(f));
        switch (f.kind) {
          case "message": {
            const schema = this.schemas.get(f.message!)!;
            w.varint(this.size(schema, v as ProtoObject));
            this.write(schema, v as ProtoObject, w);
            break;
          }
          case "string": { const b = toUtf8.encode(String(v)); w.varint(b.length); w.bytes.set(b, w.at); w.at += b.length; break; }
          case "bytes": { const b = v as Uint8Array; w.varint(b.length); w.bytes.set(b, w.at); w.at += b.length; break; }
          case "float": w.view.setFloat32(w.at, Number(v), true); w.at += 4; break;
          case "double": w.view.setFloat64(w.at, Number(v), true); w.at += 8; break;
          case "fixed32": w.view.setUint32(w.at, Number(v), true); w.at += 4; break;
          case "sfixed32": w.view.setInt32(w.at, Number(v), true); w.at += 4; break;
          case "fixed64": w.view.setBigUint64(w.at, BigInt(v as number), true); w.at += 8; break;
          case "sfixed64": w.view.setBigInt64(w.at, BigInt(v as number), true); w.at += 8; break;
          case "bool": w.varint(v ? 1 : 0); break;
          case "sint32": case "sint64": { const n = Number(v); w.varint(n >= 0 ? 2 * n : -2 * n - 1); break; }
          default: w.varint(typeof v === "bigint" ? v : Number(v));
        }
      }
    }
  }
}

/** The message types of a .proto text, by full name. */
export function protoTypes(text: string): (name: string) => MessageType {
  const schemas = parseSchema(text);
  const types = new Map<string, MessageType>();
  return (name) => {
    const schema = schemas.get(name);
    if (!schema) throw new Error(`no message ${name} in the schema`);
    let t = types.get(name);
    if (!t) types.set(name, (t = new MessageType(schemas, schema)));
    return t;
  };
}

export type { MessageType };
