/**
 * Table-driven reading and writing of descriptor-like structs: the struct layouts of the dialect
 * say where each field is, the field's C type says how to read it. A new macOS release adds a
 * table, not code. Field names become camelCase keys (`cc_algo` → `ccAlgo`).
 */
import { NtstatError } from '../errors.js';
import type { StructLayout } from './dialect.js';
import { decodeSockaddr, encodeSockaddr, type Endpoint, type OtherSockaddr } from './sockaddr.js';
import { AsciiCache, Bytes16Cache } from './intern.js';

export type FieldValue = number | string | boolean | Endpoint | OtherSockaddr | ActivityBitmap | Uint8Array | undefined;

export interface ActivityBitmap {
  /** Uptime seconds when the bitmap started (BEHAVIOUR.md §5.1). */
  start: number;
  /** The 128-bit map (u64 bitmap[1]:bitmap[0]), one bit per 8 s, as 32 hex digits, most significant first. */
  bits: string;
}

const enum Kind {
  U8,
  U16,
  U32,
  I32,
  U64,
  /** u64 that may exceed 2^53 (kernel address hashes): decimal string. */
  U64_STRING,
  BOOL,
  CHARS,
  UUID,
  SOCKADDR,
  BITMAP,
  /** A nested struct kept as its bytes (ifnet link status: cellular/wifi union). */
  RAW,
}

interface Op {
  key: string;
  offset: number;
  size: number;
  kind: Kind;
}

/** u64 fields that hold kernel hashes/pointers rather than counters (route ids). */
const U64_AS_STRING = new Set(['id', 'parent_id', 'gateway_id']);

export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function opFor(name: string, type: string, offset: number, size: number): Op | undefined {
  if (name.includes('.') || name.startsWith('__pad') || name === 'reserved' || name === 'pad') return undefined;
  const key = camelCase(name);
  const mk = (kind: Kind): Op => ({ key, offset, size, kind });
  switch (type) {
    case 'u8':
      return mk(Kind.U8);
    case 'u16':
      return mk(Kind.U16);
    case 'u32':
    case 'tcp_conn_status':
      return mk(Kind.U32);
    case 'i32':
      return mk(Kind.I32);
    case 'u64':
      return mk(U64_AS_STRING.has(name) ? Kind.U64_STRING : Kind.U64);
    case 'bool':
      return mk(Kind.BOOL);
    case 'uuid':
      return mk(Kind.UUID);
    case 'sockaddr_union':
      return mk(Kind.SOCKADDR);
    case 'activity_bitmap':
      return mk(Kind.BITMAP);
    case 'nstat_ifnet_desc_link_status':
      return mk(Kind.RAW);
  }
  if (/^char\[\d+\]$/.test(type)) return mk(Kind.CHARS);
  if (type === 'u8[16]' && /uuid$/.test(name)) return mk(Kind.UUID);
  return undefined; // unions/structs (their members follow), link status blobs, reserved arrays
}

const compiled = new WeakMap<StructLayout, Op[]>();
function opsFor(layout: StructLayout): Op[] {
  let ops = compiled.get(layout);
  if (!ops) {
    ops = [];
    for (const f of layout.fields) {
      const op = opFor(f.name, f.type, f.offset, f.size);
      if (op) ops.push(op);
    }
    compiled.set(layout, ops);
  }
  return ops;
}

const KIND_NAMES = ['u8', 'u16', 'u32', 'i32', 'u64', 'u64string', 'bool', 'chars', 'uuid', 'sockaddr', 'bitmap', 'raw'] as const;

/** The fields readStruct reads for a layout (key, offset, size, how), e.g. for a native baseline doing the same work. */
export function structFieldOps(layout: StructLayout): { key: string; offset: number; size: number; kind: (typeof KIND_NAMES)[number] }[] {
  return opsFor(layout).map((op) => ({ key: op.key, offset: op.offset, size: op.size, kind: KIND_NAMES[op.kind] }));
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

const asciiCache = new AsciiCache();

/** NUL-terminated (or full-width) byte string. Invalid UTF-8 becomes U+FFFD; display layers escape. */
export function readCString(b: Uint8Array, off: number, max: number): string {
  const lim = off + max;
  let end = off;
  let ascii = true;
  let hash = 0x811c9dc5;
  for (; end < lim; end++) {
    const c = b[end];
    if (c === 0) break;
    if (c > 0x7e || c < 0x20) ascii = false;
    hash = Math.imul(hash ^ c, 0x01000193);
  }
  if (end === off) return '';
  // Fast path for printable ASCII, the common case for process names: interned.
  if (ascii) return asciiCache.get(b, off, end, hash);
  return utf8.decode(b.subarray(off, end));
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
export function formatUuid(b: Uint8Array, off: number): string {
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[b[off + i]];
  }
  return s;
}

export function parseUuid(text: string, out: Uint8Array, off: number): void {
  const hex = text.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new TypeError(`bad UUID ${text}`);
  for (let i = 0; i < 16; i++) out[off + i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
}

/** Exact u64 as a JS number; values above 2^53 are rejected rather than rounded. */
export function readU64Number(dv: DataView, off: number): number {
  const lo = dv.getUint32(off, true);
  const hi = dv.getUint32(off + 4, true);
  if (hi > 0x1fffff) {
    throw new NtstatError('ERR_NTSTAT_RANGE', `64-bit value at byte ${off} exceeds 2^53 and cannot be represented exactly`, {
      offset: off,
    });
  }
  // `hi * 2^32 + lo` is a double even when hi is 0: stored in an object it is a boxed HeapNumber
  // (16 B more per field). Small values stay small integers this way.
  return hi === 0 ? lo : hi * 0x1_0000_0000 + lo;
}

export function writeU64Number(dv: DataView, off: number, v: number): void {
  dv.setUint32(off, v % 0x1_0000_0000, true);
  dv.setUint32(off + 4, Math.floor(v / 0x1_0000_0000), true);
}

const UUID_ZERO = '00000000-0000-0000-0000-000000000000';

type StructReader = (b: Uint8Array, dv: DataView, base: number) => Record<string, FieldValue>;

const readers = new WeakMap<StructLayout, StructReader>();

/**
 * Read every known field of `layout` at `base`. Zero UUIDs and empty strings are omitted (absent
 * data is never faked, DESIGN.md §4); numbers are kept even when zero.
 *
 * Speed: a reader specialised to the layout is compiled once from the same field table (object
 * literals with a fixed shape are several times faster than keyed stores into a growing object,
 * which V8 turns into a dictionary past a few dozen fields). Where code generation is disallowed
 * (e.g. a strict Content-Security-Policy, --disallow-code-generation-from-strings) the table is
 * interpreted instead, with identical results.
 */
export function readStruct(layout: StructLayout, b: Uint8Array, dv: DataView, base: number): Record<string, FieldValue> {
  let r = readers.get(layout);
  if (!r) {
    r = compileReader(layout) ?? ((bb, dd, o) => interpretStruct(layout, bb, dd, o));
    readers.set(layout, r);
  }
  return r(b, dv, base);
}

const uuidCache = new Bytes16Cache(formatUuid);
/** A UUID field as readStruct reads it (interned text), or undefined when all zero. */
export function uuidOrUndefined(b: Uint8Array, off: number, dv?: DataView): string | undefined {
  for (let i = 0; i < 16; i++) if (b[off + i] !== 0) return dv ? uuidCache.get(b, dv, off) : formatUuid(b, off);
  return undefined;
}

/** A char[] field as readStruct reads it, or undefined when empty. */
export function stringOrUndefined(b: Uint8Array, off: number, max: number): string | undefined {
  return b[off] === 0 ? undefined : readCString(b, off, max);
}

/** A nested struct's bytes; all-zero (nothing reported) is absent. */
function rawOrUndefined(b: Uint8Array, off: number, size: number): Uint8Array | undefined {
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

function readBitmap(b: Uint8Array, dv: DataView, o: number): ActivityBitmap {
  return { start: readU64Number(dv, o), bits: bitmapCache.get(b, dv, o + 8) };
}

/**
 * Source of a reader for `layout`. The result has the same keys in the same order as
 * interpretStruct's: the fields that are always present, then the optional ones (strings, UUIDs,
 * sockaddrs, raw structs) that are present, each group in table order. Optional fields are read
 * first into locals and the object is then built by one literal per combination of present
 * fields (compiled on first use): adding them one by one to a literal of the others grew a
 * second backing store (~100 B more per descriptor, kept by every stream) and cost a map
 * transition per field.
 */
function compileReader(layout: StructLayout): StructReader | undefined {
  const always: [key: string, expr: string][] = [];
  const optional: [key: string, expr: string][] = [];
  for (const op of opsFor(layout)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(op.key)) return undefined; // names come from our tables; be strict anyway
    const o = `base + ${op.offset}`;
    switch (op.kind) {
      case Kind.U8:
        always.push([op.key, `b[${o}]`]);
        break;
      case Kind.U16:
        always.push([op.key, `dv.getUint16(${o}, true)`]);
        break;
      case Kind.U32:
        always.push([op.key, `dv.getUint32(${o}, true)`]);
        break;
      case Kind.I32:
        always.push([op.key, `dv.getInt32(${o}, true)`]);
        break;
      case Kind.U64:
        always.push([op.key, `u64(dv, ${o})`]);
        break;
      case Kind.U64_STRING:
        always.push([op.key, `dv.getBigUint64(${o}, true).toString()`]);
        break;
      case Kind.BOOL:
        always.push([op.key, `b[${o}] !== 0`]);
        break;
      case Kind.BITMAP:
        always.push([op.key, `bitmap(b, dv, ${o})`]);
        break;
      case Kind.RAW:
        optional.push([op.key, `raw(b, ${o}, ${op.size})`]);
        break;
      case Kind.CHARS:
        optional.push([op.key, `str(b, ${o}, ${op.size})`]);
        break;
      case Kind.UUID:
        optional.push([op.key, `uuid(b, ${o}, dv)`]);
        break;
      case Kind.SOCKADDR:
        optional.push([op.key, `sa(b, dv, ${o})`]);
        break;
    }
  }
  if (optional.length > 24) return undefined; // a mask per combination: keep it a small integer
  const params = [...always.map((_, i) => `a${i}`), ...optional.map((_, i) => `o${i}`)].join(', ');
  const body = [
    'const builders = [];',
    // One literal per mask of present optional fields, compiled the first time the mask occurs.
    'function builderFor(mask) {',
    `  const keys = ${JSON.stringify(always.map(([k], i) => `${k}: a${i}`))};`,
    `  const opt = ${JSON.stringify(optional.map(([k], i) => `${k}: o${i}`))};`,
    '  for (let i = 0; i < opt.length; i++) if (mask & (1 << i)) keys.push(opt[i]);',
    `  return (builders[mask] = new Function(${JSON.stringify(params)}, "return { " + keys.join(", ") + " };"));`,
    '}',
    'return function read(b, dv, base) {',
    ...always.map(([, e], i) => `  const a${i} = ${e};`),
    ...optional.map(([, e], i) => `  const o${i} = ${e};`),
    `  const mask = 0${optional.map((_, i) => ` | (o${i} === undefined ? 0 : ${1 << i})`).join('')};`,
    `  return (builders[mask] ?? builderFor(mask))(${params});`,
    '};',
  ].join('\n');
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const factory = new Function('u64', 'bitmap', 'str', 'uuid', 'sa', 'raw', body) as (...a: unknown[]) => StructReader;
    return factory(readU64Number, readBitmap, stringOrUndefined, uuidOrUndefined, decodeSockaddr, rawOrUndefined);
  } catch {
    return undefined;
  }
}

/** The table interpreter (reference behaviour; also the fallback without code generation). */
export function interpretStruct(layout: StructLayout, b: Uint8Array, dv: DataView, base: number): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const op of opsFor(layout)) {
    const o = base + op.offset;
    switch (op.kind) {
      case Kind.U8:
        out[op.key] = b[o];
        break;
      case Kind.U16:
        out[op.key] = dv.getUint16(o, true);
        break;
      case Kind.U32:
        out[op.key] = dv.getUint32(o, true);
        break;
      case Kind.I32:
        out[op.key] = dv.getInt32(o, true);
        break;
      case Kind.U64:
        out[op.key] = readU64Number(dv, o);
        break;
      case Kind.U64_STRING:
        out[op.key] = dv.getBigUint64(o, true).toString();
        break;
      case Kind.BOOL:
        out[op.key] = b[o] !== 0;
        break;
      case Kind.CHARS: {
        const s = readCString(b, o, op.size);
        if (s !== '') out[op.key] = s;
        break;
      }
      case Kind.UUID: {
        const u = formatUuid(b, o);
        if (u !== UUID_ZERO) out[op.key] = u;
        break;
      }
      case Kind.SOCKADDR: {
        const ep = decodeSockaddr(b, dv, o);
        if (ep) out[op.key] = ep;
        break;
      }
      case Kind.BITMAP:
        out[op.key] = readBitmap(b, dv, o);
        break;
      case Kind.RAW: {
        const r = rawOrUndefined(b, o, op.size);
        if (r) out[op.key] = r;
        break;
      }
    }
  }
  return out;
}

const utf8enc = new TextEncoder();

/** Write the fields present in `values` into a zeroed struct at `base` (inverse of readStruct). */
export function writeStruct(layout: StructLayout, b: Uint8Array, dv: DataView, base: number, values: Readonly<Record<string, unknown>>): void {
  for (const op of opsFor(layout)) {
    const v = values[op.key];
    if (v === undefined) continue;
    const o = base + op.offset;
    switch (op.kind) {
      case Kind.U8:
        b[o] = v as number;
        break;
      case Kind.U16:
        dv.setUint16(o, v as number, true);
        break;
      case Kind.U32:
        dv.setUint32(o, (v as number) >>> 0, true);
        break;
      case Kind.I32:
        dv.setInt32(o, v as number, true);
        break;
      case Kind.U64:
        writeU64Number(dv, o, v as number);
        break;
      case Kind.U64_STRING:
        dv.setBigUint64(o, BigInt(v as string), true);
        break;
      case Kind.BOOL:
        b[o] = v ? 1 : 0;
        break;
      case Kind.CHARS: {
        // A string may fill the whole field without a NUL (ifnet description, BEHAVIOUR.md §5.7).
        const bytes = utf8enc.encode(v as string).subarray(0, op.size);
        b.set(bytes, o);
        break;
      }
      case Kind.RAW:
        b.set((v as Uint8Array).subarray(0, op.size), o);
        break;
      case Kind.UUID:
        parseUuid(v as string, b, o);
        break;
      case Kind.SOCKADDR:
        encodeSockaddr(b, dv, o, v as Endpoint | OtherSockaddr);
        break;
      case Kind.BITMAP: {
        const bm = v as ActivityBitmap;
        writeU64Number(dv, o, bm.start);
        for (let i = 0; i < 16; i++) b[o + 8 + 15 - i] = parseInt(bm.bits.slice(2 * i, 2 * i + 2), 16);
        break;
      }
    }
  }
}
