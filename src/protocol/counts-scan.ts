/**
 * The counters-only path: the counts of every SRC_COUNTS and SRC_UPDATE message in a datagram,
 * read in place into one reusable Float64Array, with the srcref as two 32-bit halves. No message,
 * counts or BigInt objects: for a caller that already knows the source (a poll of an unchanged
 * table) and only needs its counters. Framing is checked as decodeDatagram checks it (hdr.length,
 * BEHAVIOUR.md §2.6); bodies are trusted only as far as the struct sizes of the dialect say.
 */
import { NtstatError } from '../errors.js';
import { MessageType } from './constants.js';
import type { Dialect } from './dialect.js';
import { countsOps } from './decode.js';
import { planFor } from './plan.js';
import type { Counts } from './messages.js';

/** Column order of the counts array handed to the visitor. */
export const COUNT_KEYS: readonly (keyof Counts)[] = [
  'rxPackets', 'rxBytes', 'txPackets', 'txBytes', 'rxDuplicateBytes', 'rxOutOfOrderBytes', 'txRetransmit',
  'connectAttempts', 'connectSuccesses', 'minRtt', 'avgRtt', 'varRtt',
  'cellRxBytes', 'cellTxBytes', 'wifiRxBytes', 'wifiTxBytes', 'wiredRxBytes', 'wiredTxBytes',
];

/**
 * Called per counts message: `type` (SRC_COUNTS or SRC_UPDATE), srcref halves, header flags,
 * `counts` (COUNT_KEYS order; NaN for a field this dialect lacks; valid until the next call) and
 * the message's offset in the datagram. Returns nothing; throw to stop.
 */
export type CountsVisitor = (type: number, srcrefLo: number, srcrefHi: number, flags: number, counts: Float64Array, at: number) => void;

interface ScanPlan {
  hdr: number;
  /** [srcref, counts] offsets and the minimum length per type, or -1 when the type is absent. */
  countsSrcref: number;
  countsAt: number;
  countsSize: number;
  updateSrcref: number;
  updateAt: number;
  updateSize: number;
  srcref64: boolean;
  /** Reads the counts at `base` into `out` (COUNT_KEYS order). */
  read: (dv: DataView, base: number, out: Float64Array) => void;
  out: Float64Array;
}

function tooBig(o: number): never {
  throw new NtstatError('ERR_NTSTAT_RANGE', `64-bit value at byte ${o} exceeds 2^53 and cannot be represented exactly`, { offset: o });
}

type Col = [col: number, offset: number, wide: boolean];

/**
 * A reader unrolled for the dialect's nstat_counts (generated once, like decode.ts countsReader:
 * a loop over a field table is half as fast); the table is interpreted where code generation is
 * disallowed.
 */
function compileRead(cols: Col[]): ScanPlan['read'] {
  const body = cols
    .map(([col, off, wide]) =>
      wide
        ? `o = base + ${off}; hi = dv.getUint32(o + 4, true); if (hi > 0x1fffff) tooBig(o); out[${col}] = hi * 4294967296 + dv.getUint32(o, true);`
        : `out[${col}] = dv.getUint32(base + ${off}, true);`,
    )
    .join('\n');
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return new Function('tooBig', `return function readCounts(dv, base, out) { let o, hi;\n${body}\n};`)(tooBig) as ScanPlan['read'];
  } catch {
    return (dv, base, out) => {
      for (const [col, off, wide] of cols) {
        const o = base + off;
        if (!wide) out[col] = dv.getUint32(o, true);
        else {
          const hi = dv.getUint32(o + 4, true);
          if (hi > 0x1fffff) tooBig(o);
          out[col] = hi * 0x1_0000_0000 + dv.getUint32(o, true);
        }
      }
    };
  }
}

const plans = new WeakMap<Dialect, ScanPlan>();

function scanPlan(d: Dialect): ScanPlan {
  let p = plans.get(d);
  if (p) return p;
  const plan = planFor(d);
  const ops = plan.counts ? countsOps(plan.counts) : [];
  const cols: Col[] = ops.map(([key, off, wide]) => [COUNT_KEYS.indexOf(key), off, wide]);
  const out = new Float64Array(COUNT_KEYS.length).fill(NaN);
  p = {
    hdr: plan.hdrSize,
    countsSrcref: plan.srcCounts?.f.srcref ?? -1,
    countsAt: plan.srcCounts?.f.counts ?? -1,
    countsSize: plan.srcCounts?.size ?? 0,
    updateSrcref: plan.srcUpdate?.f.srcref ?? -1,
    updateAt: plan.srcUpdate?.f.counts ?? -1,
    updateSize: plan.srcUpdate?.size ?? 0,
    srcref64: d.srcrefSize === 8,
    read: compileRead(cols),
    out,
  };
  plans.set(d, p);
  return p;
}

function malformed(message: string, offset: number): NtstatError {
  return new NtstatError('ERR_NTSTAT_MALFORMED', `${message} (at byte ${offset})`, { offset });
}

/** Visit the counts messages of one datagram; returns how many messages the datagram holds. */
export function scanCounts(bytes: Uint8Array, dialect: Dialect, visit: CountsVisitor): number {
  const p = scanPlan(dialect);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const total = bytes.byteLength;
  const out = p.out;
  const read = p.read;
  let at = 0;
  let n = 0;
  while (at < total) {
    if (total - at < p.hdr) throw malformed(`${total - at} trailing bytes are shorter than a ${p.hdr}-byte header`, at);
    const type = dv.getUint32(at + 8, true);
    let len = total - at;
    let flags = 0;
    if (dialect.hasLength) {
      len = dv.getUint16(at + 12, true);
      flags = dv.getUint16(at + 14, true);
      if (len < p.hdr || len > total - at) throw malformed(`bad message length ${len}`, at);
    }
    let ref = -1;
    let base = -1;
    if (type === MessageType.SRC_COUNTS && p.countsAt >= 0) {
      if (len < p.countsSize) throw malformed(`SRC_COUNTS needs at least ${p.countsSize} bytes, got ${len}`, at);
      ref = at + p.countsSrcref;
      base = at + p.countsAt;
    } else if (type === MessageType.SRC_UPDATE && p.updateAt >= 0) {
      if (len < p.updateSize) throw malformed(`SRC_UPDATE needs at least ${p.updateSize} bytes, got ${len}`, at);
      ref = at + p.updateSrcref;
      base = at + p.updateAt;
    }
    if (base >= 0) {
      read(dv, base, out);
      visit(type, dv.getUint32(ref, true), p.srcref64 ? dv.getUint32(ref + 4, true) : 0, flags, out, at);
    }
    at += len;
    n++;
  }
  return n;
}
