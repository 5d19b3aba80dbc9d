// The same kernels over a shared memory: the module's one import, env.memory, is rewritten from
// plain to shared (a flag and a maximum in the import section). The code is byte for byte the one
// the single-threaded engine runs, so every thread computes exactly what one thread would.

const MAX_PAGES = 65536; // 4 GiB: the most wasm32 addresses, so any memory's maximum fits under it

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** The module's bytes with env.memory imported as shared memory, or null if its imports are not as expected. */
export function withSharedMemory(bytes: Uint8Array): Uint8Array | null {
  let p = 8;
  const readLeb = () => {
    let result = 0, shift = 0, byte: number;
    do {
      byte = bytes[p++];
      result |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return result >>> 0;
  };
  while (p < bytes.length) {
    const sectionStart = p;
    const id = bytes[p++];
    const size = readLeb();
    const body = p;
    if (id !== 2) {
      p = body + size;
      continue;
    }
    // One import, env.memory, plain: count 1, "env", "memory", kind 2, limits flag 0 or 1.
    const expected = [1, 3, 0x65, 0x6e, 0x76, 6, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 2];
    if (!expected.every((b, i) => bytes[body + i] === b)) return null;
    p = body + expected.length;
    const flag = bytes[p++];
    if (flag !== 0 && flag !== 1) return null;
    const min = readLeb();
    if (flag === 1) readLeb();
    if (p !== body + size) return null;
    const payload = [...expected, 3, ...leb(min), ...leb(MAX_PAGES)];
    const section = [2, ...leb(payload.length), ...payload];
    const out = new Uint8Array(bytes.length - (body + size - sectionStart) + section.length);
    out.set(bytes.subarray(0, sectionStart), 0);
    out.set(section, sectionStart);
    out.set(bytes.subarray(body + size), sectionStart + section.length);
    return out;
  }
  return null;
}
