/**
 * Small caches for text built from bytes that repeat across messages: UUIDs (one per process),
 * IPv6 addresses, process names. A hit is verified against the bytes, so the cache can never
 * return a wrong string; its size is bounded (cleared when full), so memory stays flat.
 * Observationally pure: a module-level cache only memoises a pure function (verified hits,
 * bounded size), so decoding the same bytes always yields the same values.
 */
const MAX_ENTRIES = 4096;

interface Entry16 {
  w0: number;
  w1: number;
  w2: number;
  w3: number;
  text: string;
}

/** Cache for 16-byte values (UUIDs, IPv6 addresses) keyed by their words. */
export class Bytes16Cache {
  private readonly map = new Map<number, Entry16>();

  constructor(private readonly format: (b: Uint8Array, off: number) => string) {}

  get(b: Uint8Array, dv: DataView, off: number): string {
    const w0 = dv.getUint32(off, true);
    const w1 = dv.getUint32(off + 4, true);
    const w2 = dv.getUint32(off + 8, true);
    const w3 = dv.getUint32(off + 12, true);
    const key = (w0 ^ Math.imul(w1, 31) ^ Math.imul(w2, 961) ^ Math.imul(w3, 29791)) | 0;
    const e = this.map.get(key);
    if (e !== undefined && e.w0 === w0 && e.w1 === w1 && e.w2 === w2 && e.w3 === w3) return e.text;
    const text = this.format(b, off);
    if (this.map.size >= MAX_ENTRIES) this.map.clear();
    this.map.set(key, { w0, w1, w2, w3, text });
    return text;
  }
}

/** Cache for short ASCII strings (process names) keyed by a hash of their bytes. */
export class AsciiCache {
  private readonly map = new Map<number, string>();

  /** `end` is the index of the terminating NUL (or the field end); bytes are printable ASCII. */
  get(b: Uint8Array, off: number, end: number, hash: number): string {
    const s = this.map.get(hash);
    if (s !== undefined && s.length === end - off) {
      let same = true;
      for (let i = 0; i < s.length; i++) {
        if (s.charCodeAt(i) !== b[off + i]) {
          same = false;
          break;
        }
      }
      if (same) return s;
    }
    const text = String.fromCharCode.apply(null, b.subarray(off, end) as unknown as number[]);
    if (this.map.size >= MAX_ENTRIES) this.map.clear();
    this.map.set(hash, text);
    return text;
  }
}
