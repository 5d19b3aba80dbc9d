// safetensors, the format Hugging Face made for weights, read and written strictly: 8 bytes of
// little-endian header length N, N bytes of JSON ({ name: { dtype, shape, data_offsets }, and an
// optional "__metadata__" map of strings }), then the tensors' raw little-endian bytes, which the
// offsets (relative to the data's start) must cover exactly, without holes or overlaps.
// Everything is checked before anything is made: a bad file is a FormatError saying what is wrong
// and where. Only F32 is read (what wasmgrad holds); other dtypes are named in the error.
import { FormatError } from "../errors.js";
import { LITTLE_ENDIAN as littleEndian } from "../backend/host.js";

export interface SafetensorsEntry {
  shape: number[];
  /** The values, as a copy (aligned, little-endian on every host). */
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

/** Headers above this are refused before they are decoded (the format's own reader uses 100 MB). */
const MAX_HEADER = 100_000_000;

/** Bytes of a safetensors file holding `tensors` (in the given order) and `metadata`. */
export function writeSafetensors(tensors: Iterable<[string, { shape: readonly number[]; data: Float32Array }]>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const parts: Float32Array[] = [];
  let offset = 0;
  for (const [name, { shape, data }] of tensors) {
    if (name === "__metadata__" || Object.hasOwn(header, name)) throw new FormatError(`safetensors: the name ${JSON.stringify(name)} cannot be used (reserved or twice)`);
    header[name] = { dtype: "F32", shape: [...shape], data_offsets: [offset, offset + data.length * 4] };
    parts.push(data);
    offset += data.length * 4;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8; // spaces to an 8-byte boundary, as the reference writer does
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const data of parts) {
    if (littleEndian) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    else for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i], true);
    at += data.byteLength;
  }
  return out;
}

/** The tensors and metadata of a safetensors file, every field checked. */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) throw new FormatError("safetensors: expected the file's bytes as a Uint8Array");
  if (bytes.length < 8) throw new FormatError(`safetensors: ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) throw new FormatError(`safetensors: the header length ${n} runs past the end of the ${bytes.length}-byte file (truncated?)`);
  if (n > BigInt(MAX_HEADER)) throw new FormatError(`safetensors: a header of ${n} bytes is larger than ${MAX_HEADER}`);
  const headerLength = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw new FormatError(`safetensors: the header (bytes 8–${8 + headerLength}) is not UTF-8 JSON: ${(e as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw new FormatError("safetensors: the header is not a JSON object");
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (typeof value !== "object" || value === null || Array.isArray(value)) throw new FormatError("safetensors: __metadata__ is not an object");
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string") throw new FormatError(`safetensors: __metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const where = `safetensors: tensor ${JSON.stringify(name)}`;
    if (typeof value !== "object" || value === null) throw new FormatError(`${where} is not an object`);
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (dtype !== "F32") throw new FormatError(`${where} has dtype ${JSON.stringify(dtype)}; wasmgrad reads F32`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new FormatError(`${where} has shape ${JSON.stringify(shape)}, not a list of sizes`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new FormatError(`${where} has data_offsets ${JSON.stringify(offsets)}, not [begin, end]`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLength) throw new FormatError(`${where} spans bytes [${begin}, ${end}) of a ${dataLength}-byte data section`);
    const size = shape.reduce((a: number, d: number) => a * d, 1);
    if (end - begin !== size * 4) throw new FormatError(`${where} of shape [${shape.join(", ")}] needs ${size * 4} bytes, its offsets give ${end - begin}`);
    entries.push({ name, shape, begin, end });
  }
  // The data must be covered exactly: sorted by offset, each tensor starts where the last ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of sorted) {
    if (e.begin !== covered) {
      throw new FormatError(`safetensors: tensor ${JSON.stringify(e.name)} starts at byte ${e.begin} of the data, expected ${covered} (${e.begin < covered ? "overlap" : "hole"})`);
    }
    covered = e.end;
  }
  if (covered !== dataLength) throw new FormatError(`safetensors: the tensors cover ${covered} of the ${dataLength} data bytes`);
  const tensors = new Map<string, SafetensorsEntry>();
  for (const e of entries) {
    const count = (e.end - e.begin) / 4;
    let data: Float32Array;
    if (littleEndian) {
      data = new Float32Array(bytes.slice(dataStart + e.begin, dataStart + e.end).buffer); // a copy, aligned
    } else {
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataStart + e.begin + 4 * i, true);
    }
    tensors.set(e.name, { shape: e.shape, data });
  }
  return { tensors, metadata };
}
