// Arrays as the Python scripts store them in JSON (scripts/onnx-cases.py, model-zoo.py,
// torch-models.py): name, NumPy dtype, shape, little-endian bytes in base64.
export interface Stored { name: string; dtype: string; shape: number[]; data: string }

/** Bytes per element of each dtype read. */
export const WIDTHS: Record<string, number> = { float32: 4, float64: 8, int64: 8, uint64: 8, int32: 4, uint32: 4, int16: 2, uint16: 2, int8: 1, uint8: 1, bool: 1 };

/** The values, as JS numbers. */
export function decode(t: Stored): number[] {
  const bytes = Buffer.from(t.data, "base64");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = t.shape.reduce((a, b) => a * b, 1);
  const read: Record<string, (at: number) => number> = {
    float32: (at) => view.getFloat32(at, true),
    float64: (at) => view.getFloat64(at, true),
    int64: (at) => Number(view.getBigInt64(at, true)),
    uint64: (at) => Number(view.getBigUint64(at, true)),
    int32: (at) => view.getInt32(at, true),
    uint32: (at) => view.getUint32(at, true),
    int16: (at) => view.getInt16(at, true),
    uint16: (at) => view.getUint16(at, true),
    int8: (at) => view.getInt8(at),
    uint8: (at) => view.getUint8(at),
    bool: (at) => view.getUint8(at),
  };
  const get = read[t.dtype], width = WIDTHS[t.dtype];
  return Array.from({ length: size }, (_, i) => get(i * width));
}
