/**
 * Client memory (issue: benchmark 4), in a separate `node --expose-gc` process whose heap holds
 * only the client (the simulator runs in its own child, bench/world.ts serve-fd, behind a
 * socketpair read by DatagramFdTransport):
 *
 *  - retained heap per live stream: heapUsed after GC with the client holding 100 k streams
 *    (long-lived world, two counts samples each so rates exist) minus heapUsed after GC with the
 *    client connected and subscribed but holding none, divided by the streams held;
 *  - churn: churn-10k (10 000 flows/s) for 60 simulated seconds with a sweep every simulated
 *    second; heapUsed after GC every 10 simulated seconds from t = 5 s. Flat = the end is within
 *    FLAT_TOLERANCE of the start.
 *
 *   npm run build:test && node --expose-gc build/bench/memory.js run   (prints JSON)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { DatagramFdTransport } from '../src/transport/fd.js';
import { BENCH_DIALECT, MAX_SIM_RCVBUF, startSimHost } from './world.js';
import type { Row } from './client-cost.js';

export interface PerStreamResult {
  streams: number;
  baselineBytes: number;
  heldBytes: number;
  /** (heapUsed growth + ArrayBuffer growth) / streams. */
  bytesPerStream: number;
  /** The ArrayBuffer part of bytesPerStream (typed-array columns are not in heapUsed). */
  arrayBuffersPerStream: number;
  /** process.memoryUsage() extras at the held point (bigint keys, Buffers live outside the heap). */
  externalBytes: number;
  arrayBuffersBytes: number;
}

export interface ChurnResult {
  simSeconds: number;
  /** [simulated second, heapUsed after GC, live streams in the table] */
  samples: [number, number, number][];
  startBytes: number;
  endBytes: number;
  growthBytes: number;
  streamsAdded: number;
  streamsRemoved: number;
  clientDrops: Record<string, number>;
  kernelDrops: number;
  wallSeconds: number;
}

export interface MemoryResult {
  perStream: PerStreamResult;
  /** The same with the live CLI's wall clock (ms since 1970, fractional rates). */
  perStreamWallClock?: PerStreamResult;
  churn: ChurnResult;
}

const MiB = 1024 * 1024;
/** A flat heap may move by this much between start and end (GC and JIT noise, table size swings). */
const FLAT_TOLERANCE = 2 * MiB;

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const settle = async (turns = 8) => {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
};

/**
 * The client holding `n` streams of the long-lived world; `whileHeld` runs at the held point
 * (bench/heap-breakdown.ts writes a heap snapshot there).
 */
export async function holdStreams(n: number, whileHeld?: () => void, wallClock = false): Promise<PerStreamResult> {
  const host = await startSimHost({ dialect: BENCH_DIALECT, scenario: 'long-lived', count: n, seed: 3 });
  try {
    const client = new NetworkStatisticsClient({
      transport: new DatagramFdTransport(host.fd, { kind: 'socketpair' }),
      dialect: BENCH_DIALECT,
      interval: 0,
      providers: ['tcp', 'udp'],
      // The live CLI's clock is wall time (ms since 1970, beyond small integers, so boxed unless
      // shared) and its rates are fractional; the simulated clock gives small integers.
      clock: wallClock ? () => Date.now() : () => host.now,
      receiveBufferSize: MAX_SIM_RCVBUF,
      requestTimeout: 60_000,
    });
    await client.connect();
    // connect() has sent the first chunk request; nothing has been read yet.
    const baseline = heapAfterGc();
    const baselineArrayBuffers = process.memoryUsage().arrayBuffers;
    await client.sweep();
    await host.step(1000);
    await client.sweep();
    await settle();
    const held = heapAfterGc();
    const streams = client.snapshot().length;
    const mu = process.memoryUsage();
    whileHeld?.();
    client.stop();
    // Typed-array storage (the table's slot columns) lives outside heapUsed: counted too.
    const arrayBuffersPerStream = (mu.arrayBuffers - baselineArrayBuffers) / streams;
    return {
      streams,
      baselineBytes: baseline,
      heldBytes: held,
      bytesPerStream: (held - baseline) / streams + arrayBuffersPerStream,
      arrayBuffersPerStream,
      externalBytes: mu.external,
      arrayBuffersBytes: mu.arrayBuffers,
    };
  } finally {
    await host.close();
  }
}

async function churn(simSeconds: number): Promise<ChurnResult> {
  const host = await startSimHost({ dialect: BENCH_DIALECT, scenario: 'churn-10k', seed: 5, warmupMs: 200 });
  const t0 = performance.now();
  try {
    const client = new NetworkStatisticsClient({
      transport: new DatagramFdTransport(host.fd, { kind: 'socketpair' }),
      dialect: BENCH_DIALECT,
      interval: 0,
      providers: ['tcp', 'udp'],
      clock: () => host.now,
      receiveBufferSize: MAX_SIM_RCVBUF,
      requestTimeout: 60_000,
    });
    let added = 0;
    let removed = 0;
    client.on('added', () => added++);
    client.on('removed', () => removed++);
    client.on('update', () => undefined);
    await client.connect();
    await client.sweep();
    const samples: [number, number, number][] = [];
    const start = host.now;
    for (let ms = 100; ms <= simSeconds * 1000; ms += 100) {
      await host.step(100);
      if (ms % 1000 === 0) {
        // Like the CLI's interval timer: a sweep per second that runs while time moves on.
        void client.sweep();
      }
      if (ms === 5000 || (ms % 10_000 === 0 && ms > 5000)) {
        await client.sweep();
        await settle();
        samples.push([Math.round((host.now - start) / 1000), heapAfterGc(), client.snapshot().length]);
      }
    }
    const truth = await host.truth();
    const clientDrops = client.dropCounts();
    client.stop();
    const startBytes = samples[0][1];
    const endBytes = samples[samples.length - 1][1];
    return {
      simSeconds,
      samples,
      startBytes,
      endBytes,
      growthBytes: endBytes - startBytes,
      streamsAdded: added,
      streamsRemoved: removed,
      clientDrops,
      kernelDrops: truth.dropped,
      wallSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await host.close();
  }
}

/** Run the memory benchmarks in a `node --expose-gc` child; returns rows for the table. */
export async function benchMemory(): Promise<{ rows: Row[]; results: MemoryResult }> {
  const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), 'run'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`memory benchmark exited with ${code}`);
  const r = JSON.parse(out.trim().split('\n').pop()!) as MemoryResult;
  return { rows: memoryRows(r), results: r };
}

export function memoryRows(r: MemoryResult): Row[] {
  const p = r.perStream;
  const c = r.churn;
  const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;
  const drops = Object.values(c.clientDrops).reduce((a, b) => a + b, 0) + c.kernelDrops;
  return [
    {
      figure: `heap per stream, ${Math.round(p.streams / 1000)} k streams`,
      value: `${Math.round(p.bytesPerStream)} B (${mib(p.heldBytes - p.baselineBytes)} over ${mib(p.baselineBytes)})`,
      goal: '<= 600 B',
      met: p.bytesPerStream <= 600,
    },
    ...(r.perStreamWallClock
      ? [
          {
            figure: `heap per stream, ${Math.round(r.perStreamWallClock.streams / 1000)} k streams, wall clock (as live)`,
            value: `${Math.round(r.perStreamWallClock.bytesPerStream)} B`,
            goal: '<= 600 B',
            met: r.perStreamWallClock.bytesPerStream <= 600,
          },
        ]
      : []),
    {
      figure: `heap after churn-10k, ${c.simSeconds} s sim`,
      value: `${mib(c.startBytes)} @${c.samples[0][0]}s -> ${mib(c.endBytes)} @${c.samples[c.samples.length - 1][0]}s (${c.growthBytes >= 0 ? '+' : ''}${(c.growthBytes / 1024).toFixed(0)} KiB, ${Math.round(c.streamsRemoved / 1000)} k closed${drops ? `, drops ${drops}` : ''})`,
      goal: `flat (±${FLAT_TOLERANCE / MiB} MiB)`,
      met: Math.abs(c.growthBytes) <= FLAT_TOLERANCE,
    },
  ];
}

async function run(): Promise<void> {
  const streams = Number(process.env.NTSTAT_BENCH_STREAMS ?? 100_000);
  const perStreamResult = await holdStreams(streams);
  const perStreamWallClock = await holdStreams(streams, undefined, true);
  const churnResult = await churn(Number(process.env.NTSTAT_BENCH_CHURN_SECONDS ?? 60));
  const r: MemoryResult = { perStream: perStreamResult, perStreamWallClock, churn: churnResult };
  if (process.env.NTSTAT_BENCH_VERBOSE) for (const row of memoryRows(r)) console.error(`${row.figure}: ${row.value}`);
  console.log(JSON.stringify(r));
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'run') {
  run().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
