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
import { AsciiCache, Bytes16Cache } from './intern.js';

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
const asciiCache = new AsciiCache();

/** FNV-1a step over one unit (a byte, or a whole word of ASCII). */
function mix(h: number, v: number): number {
  return Math.imul(h ^ v, 0x01000193);
}

/**
 * True when one of the word's 4 bytes is NUL (the end) or >= 0x80 (UTF-8 to decode): Bit
 * Twiddling Hacks' exact "has a zero byte" test, or any high bit. Every other byte is a code
 * point below 0x80, which String.fromCharCode and UTF-8 decoding spell the same.
 */
function special(w: number): boolean {
  return ((((w - 0x01010101) | 0) & ~w) | w) & 0x80808080 ? true : false;
}

/**
 * The string after a run of ASCII words (`p` at the first byte not yet hashed): bytes up to the
 * NUL or `lim`, interned when all ASCII, else decoded as UTF-8.
 */
function finish(b: Uint8Array, off: number, p: number, lim: number, h: number): string {
  let ascii = true;
  let end = p;
  for (; end < lim; end++) {
    const c = b[end];
    if (c === 0) break;
    if (c > 0x7f) ascii = false;
    h = mix(h, c);
  }
  if (end === off) return '';
  // ASCII, the common case for process names: interned.
  if (ascii) return asciiCache.get(b, off, end, h);
  return utf8.decode(b.subarray(off, end));
}

/**
 * NUL-terminated (or full-width) byte string. Invalid UTF-8 becomes U+FFFD; display layers escape.
 * Whole ASCII words are hashed at once (words assembled from the bytes; cstringAt reads them
 * through a DataView): both hash the same bytes the same way, so a name interns to one slot.
 */
export function readCString(b: Uint8Array, off: number, max: number): string {
  const lim = off + max;
  let p = off;
  let h = 0x811c9dc5;
  for (; p + 4 <= lim; p += 4) {
    const w = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
    if (special(w)) break;
    h = mix(h, w);
  }
  return finish(b, off, p, lim, h);
}

/** readCString through a DataView on the same bytes (the compiled readers' form). */
export function cstringAt(b: Uint8Array, dv: DataView, off: number, max: number): string {
  const lim = off + max;
  let p = off;
  let h = 0x811c9dc5;
  for (; p + 4 <= lim; p += 4) {
    const w = dv.getInt32(p, true);
    if (special(w)) break;
    h = mix(h, w);
  }
  return finish(b, off, p, lim, h);
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
