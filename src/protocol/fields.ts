/**
 * Table-driven reading and writing of descriptor-like structs: the struct layouts of the dialect
 * say where each field is, the field's C type says how to read it. A new macOS release adds a
 * table, not code. Field names become camelCase keys (`cc_algo` → `ccAlgo`).
 */
import type { StructLayout } from './dialect.js';
import { decodeSockaddr, encodeSockaddr, type Endpoint, type OtherSockaddr } from './sockaddr.js';
import {
  bitmapBits,
  cstringAt,
  formatUuid,
  parseUuid,
  rawOrUndefined,
  readBitmap,
  readCString,
  readU64Number,
  stringOrUndefined,
  uuidAt,
  uuidOrUndefined,
  writeU64Number,
  type ActivityBitmap,
} from './values.js';

// The value readers moved to values.ts; these names stay importable from here.
export { bitmapBits, formatUuid, parseUuid, readCString, readU64Number, stringOrUndefined, uuidOrUndefined, writeU64Number, type ActivityBitmap };

export type FieldValue = number | string | boolean | Endpoint | OtherSockaddr | ActivityBitmap | Uint8Array | undefined;

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

const UUID_ZERO = '00000000-0000-0000-0000-000000000000';

export type StructReader = (b: Uint8Array, dv: DataView, base: number) => Record<string, FieldValue>;

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
  return structReader(layout)(b, dv, base);
}

/** The reader readStruct uses for `layout` (compiled once), for callers that keep it. */
export function structReader(layout: StructLayout): StructReader {
  let r = readers.get(layout);
  if (!r) {
    r = compileReader(layout) ?? ((bb, dd, o) => interpretStruct(layout, bb, dd, o));
    readers.set(layout, r);
  }
  return r;
}

/**
 * Source of an exact u64 read at `o`, inline and without a call: a call (even on the branch not
 * taken) ends TurboFan's knowledge of `dv`, so every later read re-checked it. The high words are
 * ORed into `big`; a value is exact when its high word is at most 0x1fffff (< 2^53), and an OR of
 * such words stays at most 0x1fffff, so one test after the reads finds any inexact value
 * (firstTooBig then throws readU64Number's error for the first one, in table order).
 */
export function u64Inline(o: string): string {
  return `((h = dv.getUint32(${o} + 4, true)) === 0 ? dv.getUint32(${o}, true) : ((big |= h), h * 4294967296 + dv.getUint32(${o}, true)))`;
}

/** Throws readU64Number's error for the first of the u64s at `base + offsets[i]` above 2^53. */
export function firstTooBig(dv: DataView, base: number, offsets: readonly number[]): void {
  for (const off of offsets) readU64Number(dv, base + off);
}

/**
 * Source of a reader for `layout`. The result has the same keys in the same order as
 * interpretStruct's: the fields that are always present, then the optional ones (strings, UUIDs,
 * sockaddrs, raw structs) that are present, each group in table order. Optional fields are read
 * first into locals and the object is then built by one literal per combination of present
 * fields (compiled on first use): adding them one by one to a literal of the others grew a
 * second backing store (~100 B more per descriptor, kept by every stream) and cost a map
 * transition per field. Numbers, bools and the bitmap are read inline (no call per field); strings
 * and UUIDs through the word-at-a-time readers of values.ts.
 */
function compileReader(layout: StructLayout): StructReader | undefined {
  const always: [key: string, expr: string][] = [];
  const optional: [key: string, expr: string][] = [];
  const wide: number[] = []; // u64 offsets, table order (the bitmap's start is one)
  const starts: string[] = []; // bitmap starts, read with the other numbers (before any call)
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
        always.push([op.key, u64Inline(o)]);
        wide.push(op.offset);
        break;
      case Kind.U64_STRING:
        always.push([op.key, `dv.getBigUint64(${o}, true).toString()`]);
        break;
      case Kind.BOOL:
        always.push([op.key, `b[${o}] !== 0`]);
        break;
      case Kind.BITMAP:
        starts.push(`  const s${starts.length} = ${u64Inline(o)};`);
        always.push([op.key, `{ start: s${starts.length - 1}, bits: bits(b, dv, ${o} + 8) }`]);
        wide.push(op.offset);
        break;
      case Kind.RAW:
        optional.push([op.key, `raw(b, ${o}, ${op.size})`]);
        break;
      case Kind.CHARS:
        optional.push([op.key, `b[${o}] === 0 ? undefined : str(b, dv, ${o}, ${op.size})`]);
        break;
      case Kind.UUID:
        // The zero test inline: most UUID fields of a flow are zero (no delegate, no proxy).
        optional.push([op.key, `(dv.getInt32(${o}, true) | dv.getInt32(${o} + 4, true) | dv.getInt32(${o} + 8, true) | dv.getInt32(${o} + 12, true)) === 0 ? undefined : uuid(b, dv, ${o})`]);
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
    '  let h;',
    '  let big = 0;',
    ...starts,
    ...always.map(([, e], i) => (e.startsWith('{ start:') ? '' : `  const a${i} = ${e};`)),
    `  if ((big & ~0x1fffff) !== 0) tooBig(dv, base, ${JSON.stringify(wide)});`,
    ...always.map(([, e], i) => (e.startsWith('{ start:') ? `  const a${i} = ${e};` : '')),
    ...optional.map(([, e], i) => `  const o${i} = ${e};`),
    `  const mask = 0${optional.map((_, i) => ` | (o${i} === undefined ? 0 : ${1 << i})`).join('')};`,
    `  return (builders[mask] ?? builderFor(mask))(${params});`,
    '};',
  ].join('\n');
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const factory = new Function('tooBig', 'bits', 'str', 'uuid', 'sa', 'raw', body) as (...a: unknown[]) => StructReader;
    return factory(firstTooBig, bitmapBits, cstringAt, uuidAt, decodeSockaddr, rawOrUndefined);
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
