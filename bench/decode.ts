/**
 * Decode throughput (issue: benchmarks 1–2): full decode (datagram -> typed messages with
 * decoded descriptors, i.e. every stream field) and header-only scan, single core, compared with
 * a plain C decoder of the same capture compiled at bench time.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeDatagram, scanDatagram } from '../src/protocol/decode.js';
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
  scanMsgsPerSec: number;
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

/** Offsets for bench/native/decode.c, in its parameter order, from the dialect tables. */
export function nativeParams(d: Dialect): number[] {
  const s = (n: string) => d.structs.get(n)!;
  const off = (n: string, f: string) => s(n).byName.get(f)!.offset;
  const upd = s('nstat_msg_src_update');
  const tcp = s('nstat_tcp_descriptor');
  const udp = s('nstat_udp_descriptor');
  return [
    upd.byName.get('data')!.offset,
    off('nstat_msg_src_update', 'srcref'),
    off('nstat_msg_src_update', 'counts'),
    off('nstat_msg_src_update', 'provider'),
    off('nstat_counts', 'nstat_rxpackets'),
    off('nstat_counts', 'nstat_rxbytes'),
    off('nstat_counts', 'nstat_txpackets'),
    off('nstat_counts', 'nstat_txbytes'),
    off('nstat_counts', 'nstat_avg_rtt'),
    tcp.size,
    tcp.byName.get('local')!.offset,
    tcp.byName.get('remote')!.offset,
    tcp.byName.get('pid')!.offset,
    tcp.byName.get('pname')!.offset,
    tcp.byName.get('state')!.offset,
    udp.size,
    udp.byName.get('local')!.offset,
    udp.byName.get('remote')!.offset,
    udp.byName.get('pid')!.offset,
    udp.byName.get('pname')!.offset,
    providerId(d, 'tcp')!,
    providerId(d, 'udp')!,
  ];
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
  // Enough iterations for ~0.5 s of work.
  const iterations = Math.max(1, Math.round(5e7 / Math.max(1, messages)));
  const best: number[] = [];
  for (let r = 0; r < 3; r++) {
    const [count, secs] = execFileSync(bin, [join(dir, 'cap.bin'), join(dir, 'params.txt'), String(iterations)], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    if (count !== messages * iterations) return { note: `native decoder counted ${count / iterations} messages, expected ${messages}` };
    best.push(count / secs);
  }
  return { msgsPerSec: Math.max(...best) };
}

export function benchDecode(capture: Uint8Array[], d: Dialect): DecodeResult {
  const { messages, bytes } = captureStats(capture, d);
  let sink = 0;
  const full = measure(() => {
    for (const dg of capture) sink += decodeDatagram(dg, d).length;
  });
  const scan = measure(() => {
    for (const dg of capture) sink += scanDatagram(dg, d);
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
    scanMsgsPerSec: (messages * scan.iterations) / scan.seconds,
  };
  const native = runNative(capture, d, messages);
  if (native.msgsPerSec) {
    r.nativeMsgsPerSec = native.msgsPerSec;
    r.ratio = fullRate / native.msgsPerSec;
  }
  if (native.note) r.nativeNote = native.note;
  return r;
}
