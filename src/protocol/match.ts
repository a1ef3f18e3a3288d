/**
 * In-place comparison of a message body with values decoded earlier, for the poll hot path
 * (issue 17): most SRC_UPDATEs of a poll repeat what the client already holds — an idle source's
 * counts are unchanged and its descriptor differs only in `timestamp`, the mach time of the reply
 * (BEHAVIOUR.md §5.1). Comparing the bytes with the held values, without building a message, a
 * counts object and a ~35-field descriptor, is what lets such an update cost no allocation.
 *
 * Exactness: a matcher answers true only when decoding the bytes (decode.ts / fields.ts
 * readStruct) would give values equal to the held ones field for field (same interning caches
 * for strings, UUIDs and addresses); anything it cannot compare without allocating (kernel hashes
 * kept as decimal strings, raw nested structs, sockaddrs of other families) makes it answer false
 * or makes no matcher exist, and the caller decodes as before. Pure: no I/O, no state beyond the
 * bounded interning caches decoding uses too.
 */
import type { StructLayout } from './dialect.js';
import { bitmapBits, readU64Number, stringOrUndefined, structFieldOps, uuidOrUndefined } from './fields.js';
import type { Counts, Descriptor } from './messages.js';
import { sockaddrEquals } from './sockaddr.js';
import { countsOps } from './decode.js';

/** True when every descriptor field except `timestamp` equals the held descriptor's. */
export type DescriptorMatcher = (b: Uint8Array, dv: DataView, base: number, held: Descriptor) => boolean;
/** True when every 64-bit field of the struct at `base` fits a JS number exactly (no ERR_NTSTAT_RANGE when decoded). */
export type RangeCheck = (dv: DataView, base: number) => boolean;
/** True when every counts field equals the held counts' (fields the dialect lacks are skipped). */
export type CountsMatcher = (dv: DataView, base: number, held: Counts) => boolean;

/** Writes a struct's numeric fields into `d` (a copy of a held descriptor), as readStruct reads them. */
export type NumericPatcher = (b: Uint8Array, dv: DataView, base: number, d: Descriptor) => void;

/** The descriptor field that changes on every reply without anything having changed. */
export const VOLATILE_FIELD = 'timestamp';

type Op = ReturnType<typeof structFieldOps>[number];

/** Kinds a matcher compares in place; a layout with any other kind gets no matcher. */
const COMPARABLE = new Set(['u8', 'u16', 'u32', 'i32', 'u64', 'bool', 'chars', 'uuid', 'sockaddr', 'bitmap']);

const matchers = new WeakMap<StructLayout, DescriptorMatcher | null>();
const rangeChecks = new WeakMap<StructLayout, RangeCheck>();
const countsMatchers = new WeakMap<StructLayout, CountsMatcher>();

/** Offset of the layout's `timestamp` (u64) field, if it has one. */
export function volatileOffset(layout: StructLayout): number | undefined {
  return structFieldOps(layout).find((op) => op.key === VOLATILE_FIELD && op.kind === 'u64')?.offset;
}

/**
 * Would decoding the char[max] field at `off` (fields.ts stringOrUndefined) give `held`? Compared
 * without decoding when `held` is printable ASCII (process names, congestion algorithms): then the
 * bytes must be its characters followed by NUL or the field's end, because any other byte decodes
 * to another character (an ASCII byte to itself, a byte >= 0x80 to a non-ASCII character or
 * U+FFFD, NUL ends the string). Other strings are decoded and compared.
 */
export function charsEqual(held: unknown, b: Uint8Array, off: number, max: number): boolean {
  if (held === undefined) return b[off] === 0;
  if (typeof held !== 'string' || held.length === 0 || held.length > max) return held === stringOrUndefined(b, off, max);
  const n = held.length;
  for (let i = 0; i < n; i++) {
    const c = held.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return held === stringOrUndefined(b, off, max);
    if (b[off + i] !== c) return false;
  }
  return n === max || b[off + n] === 0;
}

function compare(op: Op, b: Uint8Array, dv: DataView, o: number, v: unknown): boolean {
  switch (op.kind) {
    case 'u8':
      return v === b[o];
    case 'u16':
      return v === dv.getUint16(o, true);
    case 'u32':
      return v === dv.getUint32(o, true);
    case 'i32':
      return v === dv.getInt32(o, true);
    case 'u64':
      return v === readU64Number(dv, o);
    case 'bool':
      return v === (b[o] !== 0);
    case 'chars':
      return charsEqual(v, b, o, op.size);
    case 'uuid':
      return v === uuidOrUndefined(b, o, dv);
    case 'sockaddr':
      return sockaddrEquals(b, dv, o, v);
    case 'bitmap': {
      const bm = v as { start?: unknown; bits?: unknown } | undefined;
      return typeof bm === 'object' && bm !== null && bm.start === readU64Number(dv, o) && bm.bits === bitmapBits(b, dv, o + 8);
    }
    default:
      return false;
  }
}

/** Source text of one comparison (the compiled twin of `compare`). */
function compareSource(op: Op, i: number): string {
  const o = `base + ${op.offset}`;
  const v = `d.${op.key}`;
  switch (op.kind) {
    case 'u8':
      return `${v} === b[${o}]`;
    case 'u16':
      return `${v} === dv.getUint16(${o}, true)`;
    case 'u32':
      return `${v} === dv.getUint32(${o}, true)`;
    case 'i32':
      return `${v} === dv.getInt32(${o}, true)`;
    case 'u64':
      return `${v} === u64(dv, ${o})`;
    case 'bool':
      return `${v} === (b[${o}] !== 0)`;
    case 'chars':
      return `chars(${v}, b, ${o}, ${op.size})`;
    case 'uuid':
      return `${v} === uuid(b, ${o}, dv)`;
    case 'sockaddr':
      return `sa(b, dv, ${o}, ${v})`;
    case 'bitmap':
      return `((m${i} = ${v}) !== undefined && m${i} !== null && m${i}.start === u64(dv, ${o}) && m${i}.bits === bits(b, dv, ${o} + 8))`;
    default:
      return 'false';
  }
}

/**
 * The matcher for a descriptor layout, or undefined when the layout has a field it cannot compare
 * in place (route ids, ifnet link status): those descriptors are always decoded.
 */
export function descriptorMatcher(layout: StructLayout): DescriptorMatcher | undefined {
  const known = matchers.get(layout);
  if (known !== undefined) return known ?? undefined;
  const ops = structFieldOps(layout).filter((op) => !(op.key === VOLATILE_FIELD && op.kind === 'u64'));
  let m: DescriptorMatcher | null = null;
  if (ops.every((op) => COMPARABLE.has(op.kind))) {
    m = compileMatcher(ops) ?? ((b, dv, base, d) => ops.every((op) => compare(op, b, dv, base + op.offset, d[op.key])));
  }
  matchers.set(layout, m);
  return m ?? undefined;
}

function compileMatcher(ops: Op[]): DescriptorMatcher | undefined {
  if (!ops.every((op) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(op.key))) return undefined;
  const temps = ops.map((op, i) => (op.kind === 'bitmap' ? `m${i}` : '')).filter(Boolean);
  const body = `return function match(b, dv, base, d) { ${temps.length ? `let ${temps.join(', ')};` : ''} return ${ops.map(compareSource).join(' &&\n ') || 'true'}; };`;
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return new Function('u64', 'chars', 'uuid', 'sa', 'bits', body)(readU64Number, charsEqual, uuidOrUndefined, sockaddrEquals, bitmapBits) as DescriptorMatcher;
  } catch {
    return undefined;
  }
}

/** Offsets of the 64-bit number fields readStruct reads (u64 and the bitmap's start). */
function wideOffsets(layout: StructLayout): number[] {
  return structFieldOps(layout)
    .filter((op) => op.kind === 'u64' || op.kind === 'bitmap')
    .map((op) => op.offset);
}

/** A check that decoding the struct cannot fail with ERR_NTSTAT_RANGE (a 64-bit number above 2^53). */
export function rangeCheck(layout: StructLayout, wide: number[] = wideOffsets(layout)): RangeCheck {
  let r = rangeChecks.get(layout);
  if (!r) {
    // readU64Number rejects a high word above 0x1fffff.
    r = (dv, base) => {
      for (let i = 0; i < wide.length; i++) if (dv.getUint32(base + wide[i] + 4, true) > 0x1fffff) return false;
      return true;
    };
    rangeChecks.set(layout, r);
  }
  return r;
}

/** Range check of an nstat_counts struct (its 64-bit fields). */
export function countsRangeCheck(layout: StructLayout): RangeCheck {
  return rangeCheck(layout, countsOps(layout).filter(([, , wide]) => wide).map(([, off]) => off));
}

/** The counts matcher for the dialect's nstat_counts. */
export function countsMatcher(layout: StructLayout): CountsMatcher {
  let m = countsMatchers.get(layout);
  if (!m) {
    const ops = countsOps(layout);
    m = compileCounts(ops) ?? ((dv, base, c) => {
      for (let i = 0; i < ops.length; i++) {
        const [key, off, wide] = ops[i];
        const v = wide ? readU64Number(dv, base + off) : dv.getUint32(base + off, true);
        if (c[key] !== v) return false;
      }
      return true;
    });
    countsMatchers.set(layout, m);
  }
  return m;
}

/** The counts matcher unrolled for the dialect's field order (a loop over the table is slower). */
function compileCounts(ops: ReturnType<typeof countsOps>): CountsMatcher | undefined {
  const body = ops.map(([key, off, wide]) => `c.${key} === ${wide ? `u64(dv, base + ${off})` : `dv.getUint32(base + ${off}, true)`}`).join(' &&\n ');
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return new Function('u64', `return function matchCounts(dv, base, c) { return ${body || 'true'}; };`)(readU64Number) as CountsMatcher;
  } catch {
    return undefined;
  }
}

/** Kinds decoded to a plain number or boolean: re-read cheaply, no interning, no object. */
const NUMERIC = new Set(['u8', 'u16', 'u32', 'i32', 'u64', 'bool']);

const splits = new WeakMap<StructLayout, NumericSplit | null>();

export interface NumericSplit {
  /** True when every non-numeric field (strings, UUIDs, addresses, the bitmap) equals the held one's. */
  others: DescriptorMatcher;
  /** Re-reads every numeric field (timestamp included) into a copy of the held descriptor. */
  patch: NumericPatcher;
}

/**
 * For a layout with a matcher (descriptorMatcher): the update of an active TCP flow usually
 * changes numbers only (buffer use, unacknowledged bytes, congestion window). When `others`
 * holds, decoding would give the held descriptor with its numbers re-read: numeric fields are
 * always present (readStruct sets them whatever their value) and the optional ones (strings,
 * UUIDs, addresses) are present exactly as in the held one, so `{ ...held }` then `patch` is
 * deep-equal to the decoded descriptor, keys in the same order, and shares the held endpoint and
 * bitmap objects (which SourceTable would substitute for identical ones anyway, model/stream.ts
 * applyDescriptor). Undefined for layouts without a matcher.
 */
export function numericSplit(layout: StructLayout): NumericSplit | undefined {
  const known = splits.get(layout);
  if (known !== undefined) return known ?? undefined;
  let split: NumericSplit | null = null;
  if (descriptorMatcher(layout)) {
    const ops = structFieldOps(layout);
    const others = ops.filter((op) => !NUMERIC.has(op.kind));
    const numbers = ops.filter((op) => NUMERIC.has(op.kind));
    split = {
      others: compileMatcher(others) ?? ((b, dv, base, d) => others.every((op) => compare(op, b, dv, base + op.offset, d[op.key]))),
      patch: compilePatcher(numbers) ?? ((b, dv, base, d) => {
        const out = d as Record<string, unknown>;
        for (const op of numbers) out[op.key] = readNumeric(op, b, dv, base + op.offset);
      }),
    };
  }
  splits.set(layout, split);
  return split ?? undefined;
}

/** One numeric field as fields.ts readStruct reads it. */
function readNumeric(op: Op, b: Uint8Array, dv: DataView, o: number): number | boolean {
  switch (op.kind) {
    case 'u8':
      return b[o];
    case 'u16':
      return dv.getUint16(o, true);
    case 'u32':
      return dv.getUint32(o, true);
    case 'i32':
      return dv.getInt32(o, true);
    case 'u64':
      return readU64Number(dv, o);
    default:
      return b[o] !== 0;
  }
}

function numericSource(op: Op): string {
  const o = `base + ${op.offset}`;
  switch (op.kind) {
    case 'u8':
      return `b[${o}]`;
    case 'u16':
      return `dv.getUint16(${o}, true)`;
    case 'u32':
      return `dv.getUint32(${o}, true)`;
    case 'i32':
      return `dv.getInt32(${o}, true)`;
    case 'u64':
      return `u64(dv, ${o})`;
    default:
      return `b[${o}] !== 0`;
  }
}

function compilePatcher(ops: Op[]): NumericPatcher | undefined {
  if (!ops.every((op) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(op.key))) return undefined;
  const body = ops.map((op) => `d.${op.key} = ${numericSource(op)};`).join('\n ');
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return new Function('u64', `return function patch(b, dv, base, d) { ${body} };`)(readU64Number) as NumericPatcher;
  } catch {
    return undefined;
  }
}
