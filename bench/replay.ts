/**
 * Replay end to end (issue 17): `ntstat replay FILE --xnu X --utc` (log view) of a large generated
 * libntstat recording (bench/recording.ts; 500 k records by default, the size the issue measured)
 * to /dev/null, against bench/native/replay.c doing the same work (read records, split every
 * aggregated message, keep the srcref table, format a line per event). Before timing, both
 * outputs are compared byte for byte: equal output is the proof of equal work. CPU time (user +
 * system, from the shell's `times` for its children) of each process, min and median of RUNS
 * runs; ratio = C CPU / ntstat CPU (>= 2 means ntstat is twice as fast). CPU rather than wall
 * time because the machine may be shared. The floor row is the same command on a recording of
 * five records: node's start, module loading and dialect tables, which no recording size hides.
 *
 *   npm run build && npm run build:test && node build/bench/replay.js [records]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dialectFor, type Dialect } from '../src/protocol/dialect.js';
import { HeaderFlag, providerId } from '../src/protocol/constants.js';
import { writeLibntstatRecording } from './recording.js';
import type { Row } from './client-cost.js';

const XNU = '10002.1.13';
const RUNS = 3;

export interface ReplayBenchResult {
  records: number;
  bytes: number;
  events: number;
  ntstatCpuS: { min: number; median: number };
  /** The same command on a five-record recording (start-up, loading). */
  floorCpuS: { min: number; median: number };
  nativeCpuS?: { min: number; median: number };
  ratio?: { min: number; median: number };
  note?: string;
}

/** Offsets for bench/native/replay.c, in its parameter order, from the dialect tables. */
export function replayParams(d: Dialect): number[] {
  const s = (n: string) => d.structs.get(n)!;
  const off = (n: string, f: string) => s(n).byName.get(f)!.offset;
  const c = (f: string) => off('nstat_counts', f);
  const k = (n: string) => (typeof d.constants[n] === 'number' ? (d.constants[n] as number) : 0);
  return [
    off('nstat_msg_src_added', 'srcref'),
    off('nstat_msg_src_added', 'provider'),
    off('nstat_msg_src_description', 'provider'),
    off('nstat_msg_src_description', 'data'),
    off('nstat_msg_src_counts', 'counts'),
    off('nstat_msg_src_update', 'counts'),
    off('nstat_msg_src_update', 'provider'),
    off('nstat_msg_src_update', 'data'),
    c('nstat_rxpackets'), c('nstat_rxbytes'), c('nstat_txpackets'), c('nstat_txbytes'),
    c('nstat_cell_rxbytes'), c('nstat_cell_txbytes'), c('nstat_wifi_rxbytes'), c('nstat_wifi_txbytes'), c('nstat_wired_rxbytes'), c('nstat_wired_txbytes'),
    off('nstat_tcp_descriptor', 'local'), off('nstat_tcp_descriptor', 'remote'), off('nstat_tcp_descriptor', 'pid'), off('nstat_tcp_descriptor', 'pname'),
    off('nstat_tcp_descriptor', 'state'), off('nstat_tcp_descriptor', 'ifnet_properties'),
    off('nstat_udp_descriptor', 'local'), off('nstat_udp_descriptor', 'remote'), off('nstat_udp_descriptor', 'pid'), off('nstat_udp_descriptor', 'pname'),
    off('nstat_udp_descriptor', 'ifnet_properties'),
    providerId(d, 'tcp')!, providerId(d, 'udp')!, HeaderFlag.CLOSING,
    k('NSTAT_IFNET_IS_UNKNOWN_TYPE'), k('NSTAT_IFNET_IS_LOOPBACK'), k('NSTAT_IFNET_IS_CELLULAR'), k('NSTAT_IFNET_IS_WIFI'), k('NSTAT_IFNET_IS_WIRED'), k('NSTAT_IFNET_IS_AWDL'),
    HeaderFlag.CONTINUATION,
  ];
}

function compiler(): string | undefined {
  return ['cc', 'gcc', 'clang'].find((c) => spawnSync(c, ['--version']).status === 0);
}

/** Children's user + system seconds of `sh -c 'CMD >OUT; times'` (POSIX `times`, second line). */
function childCpu(argv: string[], out: string, env: NodeJS.ProcessEnv = process.env): number {
  const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const r = execFileSync('sh', ['-c', `${argv.map(q).join(' ')} > ${q(out)} || exit 9; times`], { encoding: 'utf8', env, maxBuffer: 1 << 20 });
  const lines = r.trim().split('\n');
  const secs = (t: string) => {
    const m = /(\d+)m([\d.]+)s/.exec(t);
    return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  };
  const [u, s] = lines[lines.length - 1].trim().split(/\s+/);
  return secs(u) + secs(s);
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)] };
};

export function benchReplay(records = Number(process.env.NTSTAT_BENCH_REPLAY_RECORDS ?? 500_000)): ReplayBenchResult {
  const d = dialectFor(XNU);
  const cli = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
  if (!existsSync(cli)) throw new Error(`${cli} missing: run npm run build`);
  const dir = mkdtempSync(join(tmpdir(), 'ntstat-bench-replay-'));
  try {
    const file = join(dir, 'recording.bin');
    const rec = writeLibntstatRecording(file, d, records);
    const node = [process.execPath, cli, 'replay', file, '--xnu', XNU, '--utc'];
    const jsOut = join(dir, 'ntstat.txt');
    childCpu(node, jsOut); // warm the page cache; the output is the reference
    const reference = readFileSync(jsOut, 'latin1');
    const events = reference.split('\n').filter((l) => l.length > 0 && !l.startsWith('  ') && !l.startsWith('XNU')).length;
    rmSync(jsOut);
    const r: ReplayBenchResult = { records: rec.records, bytes: rec.bytes, events, ntstatCpuS: { min: 0, median: 0 }, floorCpuS: { min: 0, median: 0 } };
    const tiny = join(dir, 'tiny.bin');
    writeFileSync(tiny, firstRecords(new Uint8Array(readFileSync(file)), 5));
    const floor = [process.execPath, cli, 'replay', tiny, '--xnu', XNU, '--utc'];
    const cc = compiler();
    let native: string[] | undefined;
    if (!cc) r.note = 'no C compiler (cc/gcc/clang): native baseline skipped';
    else {
      const bin = join(dir, 'replay');
      execFileSync(cc, ['-O2', '-o', bin, fileURLToPath(new URL('../../bench/native/replay.c', import.meta.url))]);
      writeFileSync(join(dir, 'params.txt'), replayParams(d).join(' '));
      native = [bin, file, join(dir, 'params.txt')];
      const cOut = join(dir, 'native.txt');
      childCpu(native, cOut, { ...process.env, XNU });
      if (readFileSync(cOut, 'latin1') !== reference) {
        r.note = 'native output differs from ntstat output: not equal work, ratio not reported';
        native = undefined;
      }
      rmSync(cOut);
    }
    const js: number[] = [];
    const c: number[] = [];
    const f: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      f.push(childCpu(floor, '/dev/null'));
      js.push(childCpu(node, '/dev/null'));
      if (native) c.push(childCpu(native, '/dev/null', { ...process.env, XNU }));
    }
    r.ntstatCpuS = stats(js);
    r.floorCpuS = stats(f);
    if (native) {
      r.nativeCpuS = stats(c);
      r.ratio = { min: Math.min(...c.map((x, i) => x / js[i])), median: r.nativeCpuS.median / r.ntstatCpuS.median };
    }
    return r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The first `n` records of a libntstat recording. */
function firstRecords(b: Uint8Array, n: number): Uint8Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 0;
  for (let i = 0; i < n && at + 8 <= b.length; i++) at += 8 + dv.getUint32(at + 4, true);
  return b.subarray(0, at);
}

export const REPLAY_GOAL = 2;

export function replayRows(r: ReplayBenchResult): Row[] {
  const rows: Row[] = [
    {
      figure: `ntstat replay, ${r.records} records, ${r.events} events (CPU)`,
      value: `min ${r.ntstatCpuS.min.toFixed(2)} s, median ${r.ntstatCpuS.median.toFixed(2)} s (${((r.records / r.ntstatCpuS.median) / 1e3).toFixed(0)} k records/s)`,
      goal: '-',
    },
    {
      figure: 'ntstat replay floor, 5 records (start, loading; CPU)',
      value: `min ${r.floorCpuS.min.toFixed(2)} s, median ${r.floorCpuS.median.toFixed(2)} s`,
      goal: '-',
    },
  ];
  rows.push(
    r.ratio && r.nativeCpuS
      ? { figure: 'replay vs native C (equal output)', value: `median ${r.ratio.median.toFixed(2)}x, min ${r.ratio.min.toFixed(2)}x (C: median ${r.nativeCpuS.median.toFixed(2)} s CPU)`, goal: `>= ${REPLAY_GOAL}x`, met: r.ratio.median >= REPLAY_GOAL }
      : { figure: 'replay vs native C (equal output)', value: r.note ?? 'skipped', goal: `>= ${REPLAY_GOAL}x` },
  );
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = benchReplay(process.argv[2] ? Number(process.argv[2]) : undefined);
  for (const row of replayRows(r)) console.log(`${row.figure}: ${row.value} (goal ${row.goal})`);
  console.log(JSON.stringify(r, null, 1));
}
