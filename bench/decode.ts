/**
 * Decode throughput (issue 17), single core, CPU time (median and best of 5 runs):
 *  - full decode: decodeDatagram, datagram -> typed messages with every field of every message:
 *    srcref (BigInt), counts object, descriptor object with addresses, UUIDs, names and the
 *    activity bitmap as interned text, endpoint and bitmap objects (~700 B of objects a message);
 *  - counters-only: scanCounts, the srcref halves and counts of each SRC_UPDATE/SRC_COUNTS read
 *    in place into one Float64Array, no objects (for a caller that knows the source);
 *  - header scan: message count and types only;
 *  - native: bench/native/decode.c doing the full decode's extraction in C, compiled at bench
 *    time: the same fields from the same table, the same range checks, the same conversions to
 *    text through the same kind of verified cache; it fills one reused struct instead of
 *    allocating objects (its header lists what differs).
 * `node build/bench/decode-ab.js` prints these figures alone (and A/B against another build).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countsOps, decodeDatagram, scanDatagram } from '../src/protocol/decode.js';
import { scanCounts } from '../src/protocol/counts-scan.js';
import { structFieldOps } from '../src/protocol/fields.js';
import { planFor } from '../src/protocol/plan.js';
import type { Dialect } from '../src/protocol/dialect.js';
import { measure } from './common.js';
import { providerId } from '../src/protocol/constants.js';

export interface DecodeResult {
  dialect: string;
  xnu: string;
  messages: number;
  bytes: number;
  fullMsgsPerSec: number;
  fullMBPerSec: number;
  /** Best run (min CPU time). */
  fullMsgsPerSecBest: number;
  scanMsgsPerSec: number;
  /** scanCounts (counters-only path) over the same capture (all SRC_UPDATE). */
  countsMsgsPerSec: number;
  countsMsgsPerSecBest: number;
  nativeMsgsPerSec?: number;
  ratio?: number;
  nativeNote?: string;
}

export function captureStats(capture: Uint8Array[], dialect: Dialect): { messages: number; bytes: number } {
  let messages = 0;
  let bytes = 0;
  for (const d of capture) {
    messages += scanDatagram(d, dialect);
    bytes += d.length;
  }
  return { messages, bytes };
}

/** Parameters for bench/native/decode.c (its order): SRC_UPDATE offsets, the counts fields, and
 * per provider the descriptor's fields as readStruct reads them (fields.ts structFieldOps). */
export function nativeParams(d: Dialect): number[] {
  const plan = planFor(d);
  const upd = plan.srcUpdate!;
  const counts = countsOps(plan.counts!);
  const out = [upd.size, upd.f.srcref!, upd.f.event_flags ?? 0, upd.f.counts!, upd.f.provider!, counts.length];
  for (const [, off, wide] of counts) out.push(off, wide ? 1 : 0);
  const kinds = ['u8', 'u16', 'u32', 'i32', 'u64', 'u64string', 'bool', 'chars', 'uuid', 'sockaddr', 'bitmap', 'raw'];
  const providers = [providerId(d, 'tcp')!, providerId(d, 'udp')!];
  out.push(providers.length);
  for (const id of providers) {
    const layout = plan.descriptors.get(id)!;
    const ops = structFieldOps(layout);
    out.push(id, layout.size, ops.length);
    for (const op of ops) out.push(kinds.indexOf(op.kind), op.offset, op.size);
  }
  return out;
}

let nativeBinary: string | undefined | null;
function compileNative(): string | undefined {
  if (nativeBinary !== undefined) return nativeBinary ?? undefined;
  const cc = ['cc', 'gcc', 'clang'].find((c) => spawnSync(c, ['--version']).status === 0);
  if (!cc) {
    nativeBinary = null;
    return undefined;
  }
  const out = join(mkdtempSync(join(tmpdir(), 'ntstat-bench-')), 'decode');
  execFileSync(cc, ['-O2', '-o', out, new URL('../../bench/native/decode.c', import.meta.url).pathname]);
  nativeBinary = out;
  return out;
}

function runNative(capture: Uint8Array[], d: Dialect, messages: number): { msgsPerSec?: number; note?: string } {
  const bin = compileNative();
  if (!bin) return { note: 'no C compiler (cc/gcc/clang): native baseline skipped' };
  const dir = mkdtempSync(join(tmpdir(), 'ntstat-native-'));
  const total = capture.reduce((n, c) => n + 4 + c.length, 0);
  const file = new Uint8Array(total);
  const dv = new DataView(file.buffer);
  let at = 0;
  for (const c of capture) {
    dv.setUint32(at, c.length, true);
    file.set(c, at + 4);
    at += 4 + c.length;
  }
  writeFileSync(join(dir, 'cap.bin'), file);
  writeFileSync(join(dir, 'params.txt'), nativeParams(d).join(' '));
  // Enough iterations for ~0.3 s of work; the program times itself in CPU time.
  const iterations = Math.max(1, Math.round(1e7 / Math.max(1, messages)));
  const rates: number[] = [];
  for (let r = 0; r < 5; r++) {
    const [count, secs] = execFileSync(bin, [join(dir, 'cap.bin'), join(dir, 'params.txt'), String(iterations)], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    if (count !== messages * iterations) return { note: `native decoder counted ${count / iterations} messages, expected ${messages}` };
    rates.push(count / secs);
  }
  rates.sort((a, b) => a - b);
  return { msgsPerSec: rates[Math.floor(rates.length / 2)] };
}

export function benchDecode(capture: Uint8Array[], d: Dialect): DecodeResult {
  const { messages, bytes } = captureStats(capture, d);
  let sink = 0;
  // Warm up first (~0.3 s CPU): the first dialect measured in a process read ~40 % low without it.
  const t0 = process.cpuUsage();
  while (process.cpuUsage(t0).user < 300_000) for (const dg of capture) sink += decodeDatagram(dg, d).length;
  const full = measure(() => {
    for (const dg of capture) sink += decodeDatagram(dg, d).length;
  });
  const scan = measure(() => {
    for (const dg of capture) sink += scanDatagram(dg, d);
  });
  const countsOnly = measure(() => {
    for (const dg of capture) scanCounts(dg, d, (_t, lo, _hi, _f, c) => (sink += lo + c[1]));
  });
  if (sink === 42) console.log(''); // keep the loops observable
  const fullRate = (messages * full.iterations) / full.seconds;
  const r: DecodeResult = {
    dialect: d.family,
    xnu: d.xnu,
    messages,
    bytes,
    fullMsgsPerSec: fullRate,
    fullMBPerSec: (bytes * full.iterations) / full.seconds / 1e6,
    fullMsgsPerSecBest: (messages * full.iterations) / full.minSeconds,
    scanMsgsPerSec: (messages * scan.iterations) / scan.seconds,
    countsMsgsPerSec: (messages * countsOnly.iterations) / countsOnly.seconds,
    countsMsgsPerSecBest: (messages * countsOnly.iterations) / countsOnly.minSeconds,
  };
  const native = runNative(capture, d, messages);
  if (native.msgsPerSec) {
    r.nativeMsgsPerSec = native.msgsPerSec;
    r.ratio = fullRate / native.msgsPerSec;
  }
  if (native.note) r.nativeNote = native.note;
  return r;
}
