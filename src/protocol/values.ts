/**
 * Readers for the value kinds inside descriptors (fields.ts decides which field is which kind):
 * 64-bit numbers, C strings, UUIDs, the activity bitmap, raw nested structs. Text is interned in
 * the bounded, verified caches of intern.ts (the same few names and UUIDs repeat in every update).
 *
 * Two flavours where speed matters (issue 17): the plain byte-by-byte forms (readCString,
 * formatUuid: the reference behaviour, used by fields.ts interpretStruct) and word-at-a-time forms
 * for the compiled readers (cstringAt, uuidAt), which give the same values; test/values.test.ts
 * holds them to each other on arbitrary bytes.
 */
import { NtstatError } from '../errors.js';
import { Bytes16Cache, WordStringCache } from './intern.js';

export interface ActivityBitmap {
  /** Uptime seconds when the bitmap started (BEHAVIOUR.md §5.1). */
  start: number;
  /** The 128-bit map (u64 bitmap[1]:bitmap[0]), one bit per 8 s, as 32 hex digits, most significant first. */
  bits: string;
}

function tooBig(off: number): never {
  throw new NtstatError('ERR_NTSTAT_RANGE', `64-bit value at byte ${off} exceeds 2^53 and cannot be represented exactly`, {
    offset: off,
  });
}

/** Exact u64 as a JS number; values above 2^53 are rejected rather than rounded. */
export function readU64Number(dv: DataView, off: number): number {
  const lo = dv.getUint32(off, true);
  const hi = dv.getUint32(off + 4, true);
  if (hi > 0x1fffff) tooBig(off);
  // `hi * 2^32 + lo` is a double even when hi is 0: stored in an object it is a boxed HeapNumber
  // (16 B more per field). Small values stay small integers this way.
  return hi === 0 ? lo : hi * 0x1_0000_0000 + lo;
}

/** readU64Number for a value whose high word `hi` is known not to be 0 (compiled readers test it inline). */
export function u64High(dv: DataView, off: number, hi: number): number {
  if (hi > 0x1fffff) tooBig(off);
  return hi * 0x1_0000_0000 + dv.getUint32(off, true);
}

export function writeU64Number(dv: DataView, off: number, v: number): void {
  dv.setUint32(off, v % 0x1_0000_0000, true);
  dv.setUint32(off + 4, Math.floor(v / 0x1_0000_0000), true);
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const names = new WordStringCache();
/** Words the cache keeps at most (a local const: an imported one is reloaded in every loop turn). */
const NAME_WORDS = 16;
/** The words of the string being read (the cache compares them with a slot's). */
const scratch = new Int32Array(NAME_WORDS);

/*
 * Strings are hashed by FNV-1a steps over whole words, and a word is "special" when one of its 4
 * bytes is NUL (the end) or >= 0x80 (UTF-8 to decode): Bit Twiddling Hacks' "has a zero byte"
 * test, or any high bit. Every other byte is a code point below 0x80, which String.fromCharCode
 * and UTF-8 decoding spell the same.
 */

/**
 * The string that ends in word `w` (its bytes at `p`; `n` whole ASCII words before it in
 * scratch, hashed into `h`), or undefined when the caller must decode the bytes itself (a byte
 * >= 0x80 before the NUL, or longer than the cache keeps). The zero-byte test flags the first NUL
 * exactly (a false flag can only follow a true one), so `first` is bit 7 of the first NUL byte.
 */
function endsIn(w: number, b: Uint8Array, off: number, p: number, n: number, h: number): string | undefined {
  const z = ((w - 0x01010101) | 0) & ~w & 0x80808080;
  if (z === 0) return undefined; // a high bit and no NUL: UTF-8
  const first = z & -z;
  const before = (first >>> 7) - 1; // the bytes before the NUL
  if ((w & before & 0x80808080) !== 0) return undefined; // UTF-8 before the NUL
  const len = p - off + ((31 - Math.clz32(first)) >> 3);
  if (len === 0) return '';
  if (len > NAME_WORDS * 4) return undefined;
  if (before !== 0) {
    scratch[n] = w & before;
    h = Math.imul(h ^ (w & before), 0x01000193);
  }
  return names.get(scratch, len, h, b, off);
}

/** Bytes up to the NUL or `lim`: ASCII by char codes, else UTF-8 (not interned: rare). */
function slowString(b: Uint8Array, off: number, lim: number): string {
  let ascii = true;
  let end = off;
  for (; end < lim; end++) {
    const c = b[end];
    if (c === 0) break;
    if (c > 0x7f) ascii = false;
  }
  if (end === off) return '';
  if (ascii) return String.fromCharCode.apply(null, b.subarray(off, end) as unknown as number[]);
  return utf8.decode(b.subarray(off, end));
}

/**
 * NUL-terminated (or full-width) byte string. Invalid UTF-8 becomes U+FFFD; display layers escape.
 * Read a word at a time: ASCII names of up to 64 bytes (process and congestion-control names,
 * repeated in every update) are interned in a cache verified word by word (intern.ts
 * WordStringCache); anything else is decoded from the bytes.
 *
 * The loops use no imported binding and call no module-level function declaration: TurboFan
 * reloads and checks such a binding on every iteration (an import for the temporal dead zone, a
 * function declaration because it may be reassigned), which made this loop ~3x longer (issue 17,
 * callgrind). The tests are special() and mix() written out; module `const`s are folded.
 */
export function readCString(b: Uint8Array, off: number, max: number): string {
  const lim = off + max;
  const s = scratch;
  let h = 0x811c9dc5 | 0; // an int32 from the start (a double phi otherwise: a conversion per word)
  let n = 0;
  let p = off;
  for (; p + 4 <= lim; p += 4) {
    const w = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
    if (((((w - 0x01010101) | 0) & ~w) | w) & 0x80808080) return endsIn(w, b, off, p, n, h) ?? slowString(b, off, lim);
    if (n === NAME_WORDS) return slowString(b, off, lim);
    s[n++] = w;
    h = Math.imul(h ^ w, 0x01000193);
  }
  return p === lim && n > 0 ? names.get(s, p - off, h, b, off) : slowString(b, off, lim);
}

/** readCString through a DataView on the same bytes (the compiled readers' form). */
export function cstringAt(b: Uint8Array, dv: DataView, off: number, max: number): string {
  const lim = off + max;
  const s = scratch;
  let h = 0x811c9dc5 | 0;
  let n = 0;
  let p = off;
  for (; p + 4 <= lim; p += 4) {
    const w = dv.getInt32(p, true);
    if (((((w - 0x01010101) | 0) & ~w) | w) & 0x80808080) return endsIn(w, b, off, p, n, h) ?? slowString(b, off, lim);
    if (n === NAME_WORDS) return slowString(b, off, lim);
    s[n++] = w;
    h = Math.imul(h ^ w, 0x01000193);
  }
  return p === lim && n > 0 ? names.get(s, p - off, h, b, off) : slowString(b, off, lim);
}

/** A char[] field as readStruct reads it, or undefined when empty. */
export function stringOrUndefined(b: Uint8Array, off: number, max: number): string | undefined {
  return b[off] === 0 ? undefined : readCString(b, off, max);
}

export const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The 16 bytes at `off` as a UUID's text (lowercase, 8-4-4-4-12). */
export function formatUuid(b: Uint8Array, off: number): string {
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[b[off + i]];
  }
  return s;
}

/** formatUuid as one flat string (cached values live as long as their streams: no rope). */
function formatUuidFlat(b: Uint8Array, off: number): string {
  const p = new Array<string>(20);
  let k = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) p[k++] = '-';
    p[k++] = HEX[b[off + i]];
  }
  return p.join('');
}

export function parseUuid(text: string, out: Uint8Array, off: number): void {
  const hex = text.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new TypeError(`bad UUID ${text}`);
  for (let i = 0; i < 16; i++) out[off + i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
}

const uuidCache = new Bytes16Cache(formatUuidFlat);

/** A UUID field as readStruct reads it (interned text), or undefined when all zero. */
export function uuidOrUndefined(b: Uint8Array, off: number, dv?: DataView): string | undefined {
  for (let i = 0; i < 16; i++) if (b[off + i] !== 0) return dv ? uuidCache.get(b, dv, off) : formatUuid(b, off);
  return undefined;
}

/** uuidOrUndefined with the zero test on whole words (the compiled readers' form). */
export function uuidAt(b: Uint8Array, dv: DataView, off: number): string | undefined {
  const w0 = dv.getInt32(off, true);
  const w1 = dv.getInt32(off + 4, true);
  const w2 = dv.getInt32(off + 8, true);
  const w3 = dv.getInt32(off + 12, true);
  return (w0 | w1 | w2 | w3) === 0 ? undefined : uuidCache.getWords(w0, w1, w2, w3, b, off);
}

/** A nested struct's bytes; all-zero (nothing reported) is absent. */
export function rawOrUndefined(b: Uint8Array, off: number, size: number): Uint8Array | undefined {
  for (let i = 0; i < size; i++) if (b[off + i] !== 0) return b.slice(off, off + size);
  return undefined;
}

/** The 16 bitmap bytes as 32 hex digits, most significant byte first, as one flat string. */
function formatBitmapBits(b: Uint8Array, off: number): string {
  // join() builds a flat string; `+=` would leave a 16-deep rope (15 extra heap objects, ~300 B)
  // in every stored descriptor.
  const parts: string[] = new Array<string>(16);
  for (let i = 0; i < 16; i++) parts[i] = HEX[b[off + 15 - i]];
  return parts.join('');
}
const bitmapCache = new Bytes16Cache(formatBitmapBits);

/** The activity bitmap's `bits` text for the 16 bytes at `off` (interned, as readStruct builds it). */
export function bitmapBits(b: Uint8Array, dv: DataView, off: number): string {
  return bitmapCache.get(b, dv, off);
}

export function readBitmap(b: Uint8Array, dv: DataView, o: number): ActivityBitmap {
  return { start: readU64Number(dv, o), bits: bitmapCache.get(b, dv, o + 8) };
}
