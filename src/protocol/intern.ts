/**
 * Small caches for values built from bytes that repeat across messages: UUIDs (one per process),
 * IPv4/IPv6 addresses, process names. A hit is verified against the bytes, so the cache
 * can never return a wrong value; each is a fixed table of slots in pairs (a value is looked for in
 * its slot and the slot's twin; a new value takes its slot and moves the old one to the twin), so
 * memory is bounded and a lookup is a few array loads: no Map, whose number keys above 2^30 are
 * boxed and hashed slowly.
 * Observationally pure: a module-level cache only memoises a pure function (verified hits,
 * bounded size), so decoding the same bytes always yields the same values.
 */
const SLOTS = 4096;

/** Slot for a 32-bit key (Fibonacci hashing: neighbouring keys spread over the table). */
function slotOf(key: number): number {
  return Math.imul(key, 0x9e3779b1) >>> 20; // top 12 bits: 0..4095
}

/** Cache for 16-byte values (UUIDs, IPv6 addresses) keyed by their words. */
export class Bytes16Cache {
  private readonly words = new Int32Array(SLOTS * 4);
  private readonly texts: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);

  constructor(private readonly format: (b: Uint8Array, off: number) => string) {}

  get(b: Uint8Array, dv: DataView, off: number): string {
    return this.getWords(dv.getInt32(off, true), dv.getInt32(off + 4, true), dv.getInt32(off + 8, true), dv.getInt32(off + 12, true), b, off);
  }

  /** get() for a caller that has read the 16 bytes at `off` as little-endian words already. */
  getWords(w0: number, w1: number, w2: number, w3: number, b: Uint8Array, off: number): string {
    const i = slotOf(w0 ^ Math.imul(w1, 31) ^ Math.imul(w2, 961) ^ Math.imul(w3, 29791));
    const w = this.words;
    const k = i << 2;
    const text = this.texts[i];
    if (text !== undefined && w[k] === w0 && w[k + 1] === w1 && w[k + 2] === w2 && w[k + 3] === w3) return text;
    const j = i ^ 1;
    const k2 = j << 2;
    const twin = this.texts[j];
    if (twin !== undefined && w[k2] === w0 && w[k2 + 1] === w1 && w[k2 + 2] === w2 && w[k2 + 3] === w3) return twin;
    const fresh = this.format(b, off);
    this.texts[j] = text;
    w[k2] = w[k];
    w[k2 + 1] = w[k + 1];
    w[k2 + 2] = w[k + 2];
    w[k2 + 3] = w[k + 3];
    w[k] = w0;
    w[k + 1] = w1;
    w[k + 2] = w2;
    w[k + 3] = w3;
    this.texts[i] = fresh;
    return fresh;
  }
}

/** Cache for 4-byte values (IPv4 addresses) keyed by their word. */
export class Bytes4Cache {
  private readonly words = new Int32Array(SLOTS);
  private readonly texts: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);

  constructor(private readonly format: (b: Uint8Array, off: number) => string) {}

  get(b: Uint8Array, dv: DataView, off: number): string {
    const w = dv.getInt32(off, true);
    const i = slotOf(w);
    const text = this.texts[i];
    if (text !== undefined && this.words[i] === w) return text;
    const j = i ^ 1;
    const twin = this.texts[j];
    if (twin !== undefined && this.words[j] === w) return twin;
    const fresh = this.format(b, off);
    this.texts[j] = text;
    this.words[j] = this.words[i];
    this.words[i] = w;
    this.texts[i] = fresh;
    return fresh;
  }
}

function sameAscii(s: string, b: Uint8Array, off: number, end: number): boolean {
  if (s.length !== end - off) return false;
  for (let j = 0; j < s.length; j++) if (s.charCodeAt(j) !== b[off + j]) return false;
  return true;
}

/** Cache for short ASCII strings (process names) keyed by a hash of their bytes. */
export class AsciiCache {
  private readonly texts: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);

  /** `end` is the index of the terminating NUL (or the field end); bytes are ASCII (below 0x80). */
  get(b: Uint8Array, off: number, end: number, hash: number): string {
    const i = slotOf(hash);
    const s = this.texts[i];
    if (s !== undefined && sameAscii(s, b, off, end)) return s;
    const twin = this.texts[i ^ 1];
    if (twin !== undefined && sameAscii(twin, b, off, end)) return twin;
    const text = String.fromCharCode.apply(null, b.subarray(off, end) as unknown as number[]);
    this.texts[i ^ 1] = s;
    this.texts[i] = text;
    return text;
  }
}

/**
 * Cache for 64-bit srcrefs as BigInts keyed by their two 32-bit halves: a source's srcref repeats
 * in every update, and a BigInt is an immutable primitive, so handing out the same one is
 * indistinguishable from making a new one (but allocates nothing and skips getBigUint64).
 */
export class SrcrefCache {
  private readonly lo = new Int32Array(SLOTS);
  private readonly hi = new Int32Array(SLOTS);
  private readonly values: (bigint | undefined)[] = new Array<bigint | undefined>(SLOTS).fill(undefined);

  get(lo: number, hi: number): bigint {
    const i = slotOf(lo ^ Math.imul(hi, 31));
    const v = this.values[i];
    if (v !== undefined && this.lo[i] === (lo | 0) && this.hi[i] === (hi | 0)) return v;
    const fresh = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    this.lo[i] = lo;
    this.hi[i] = hi;
    this.values[i] = fresh;
    return fresh;
  }
}
