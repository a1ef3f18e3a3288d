/**
 * Soak: the real client on churn-10k (10 000 flows/s) for a long simulated period, sampling what
 * must stay flat — heap (after GC when `--expose-gc`), active handles/resources by type, event
 * listeners, the client's table and pending requests, the simulator's own state — and checking
 * that stop() gives back every file descriptor when the client reads a real socketpair
 * (openDatagramSocketPair + serveSimulatorOverFd + DatagramFdTransport).
 *
 * The simulator runs in-process (configured not to keep history: no removed-srcref set, a short
 * drop log), so the heap figure is client + simulator; the simulator's world size is sampled
 * too, so growth on either side can be told apart.
 *
 *   npm run build:test && node --expose-gc build/bench/soak.js --minutes 120
 *   options: --minutes N (wall clock; default 1)  --sim-seconds N (stop after N simulated s)
 *            --transport fd|memory (default fd)  --scale X (default 1)  --dialect D (d10002)
 *            --sample-seconds N (simulated s between samples; default 30)
 *            --warmup-seconds N (simulated s before samples count; default 90)  --json
 * Exit status 1 when a figure is not flat (see `verdict`).
 *
 * test/soak.test.ts runs a short version of `runSoak` in CI.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { SimKernel, SimulationDriver, type Simulator } from '../src/simulator/index.js';
import { serveSimulatorOverFd, type FdServer } from '../src/simulator/fd-server.js';
import { DatagramFdTransport } from '../src/transport/fd.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { FdEndpoint, openDatagramSocketPair } from '../src/transport/socketpair.js';
import type { Transport } from '../src/transport/transport.js';

export interface SoakOptions {
  dialect?: string;
  scenario?: string;
  scale?: number;
  seed?: number;
  transport?: 'fd' | 'memory';
  /** Stop after this much simulated time (ms). */
  simMs?: number;
  /** Stop after this much wall time (ms). */
  wallMs?: number;
  /** Simulated ms between samples (default 30 000). */
  sampleEveryMs?: number;
  /**
   * Simulated ms before samples count (default 90 000): the simulated world itself grows until
   * its longest timers (TIME_WAIT 30 s, route expiry 60 s after last use) start firing.
   */
  warmupMs?: number;
  /** Simulated ms per world step (default 100); a sweep is started every `sweepEveryMs`. */
  stepMs?: number;
  sweepEveryMs?: number;
  /** Called after each sample (progress output). */
  onSample?: (s: SoakSample) => void;
}

export interface SoakSample {
  simSeconds: number;
  /** Taken after the warm-up (only these count for the verdict). */
  warm: boolean;
  wallSeconds: number;
  /** heapUsed after GC (or without GC when gc is not available). */
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  /** process.getActiveResourcesInfo() by type (timers, immediates, poll handles…). */
  resources: Record<string, number>;
  /** Listeners on the client, summed over its event names. */
  clientListeners: number;
  /** Listeners on `process`, summed over its event names. */
  processListeners: number;
  streams: number;
  /** SourceTable entries (announced or not) and its bounded memory of ended srcrefs. */
  tableEntries: number;
  endedMemory: number;
  pendingRequests: number;
  /** Simulator: live sources of the connection and world objects (pcbs, flows, routes). */
  kernelSources: number;
  worldObjects: number;
  fds: number;
  sweeps: number;
  drops: number;
}

export interface SoakResult {
  options: Required<Omit<SoakOptions, 'onSample' | 'wallMs' | 'simMs'>> & { simMs?: number; wallMs?: number };
  gc: boolean;
  samples: SoakSample[];
  added: number;
  removed: number;
  updates: number;
  clientDrops: Record<string, number>;
  kernelDrops: number;
  fdsBefore: number;
  fdsAfterStop: number;
  resourcesAfterStop: Record<string, number>;
  wallSeconds: number;
  verdict: SoakVerdict;
}

export interface SoakVerdict {
  ok: boolean;
  /** Heap growth between the first and last third of the samples (medians), bytes. */
  heapGrowth: number;
  heapTolerance: number;
  /**
   * Growth of memory outside the V8 heap (rss − heapTotal: native allocations such as the FFI's)
   * between the first and last third of the samples (medians), bytes.
   */
  nativeGrowth: number;
  nativeTolerance: number;
  problems: string[];
}

const MiB = 1024 * 1024;
/** The largest SO_RCVBUF the simulated kctl accepts (≈ 7.1 MiB, see sockbuf.ts). */
const RCVBUF = 7 << 20;

/** global.gc when node runs with --expose-gc; otherwise enabled at runtime (V8 flag) when possible. */
export function findGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

export function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    try {
      return readdirSync('/dev/fd').length;
    } catch {
      return -1;
    }
  }
}

export function activeResources(): Record<string, number> {
  const out: Record<string, number> = {};
  const info = (process as unknown as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo?.() ?? [];
  for (const r of info) out[r] = (out[r] ?? 0) + 1;
  return out;
}

function listeners(e: NodeJS.EventEmitter): number {
  let n = 0;
  for (const name of e.eventNames()) n += e.listenerCount(name);
  return n;
}

const settle = async (turns = 6) => {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
};

/** Wait until the model queue is empty (records read or in the socket), at most `ms`. */
async function drained(sim: Simulator, ms: number): Promise<void> {
  const until = performance.now() + ms;
  await settle(2);
  for (let i = 0; sim.pendingRecords > 0 && performance.now() < until; i++) {
    if (i < 50) await new Promise<void>((r) => setImmediate(r));
    else await new Promise<void>((r) => setTimeout(r, 1));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : 0;
}

/**
 * Flat = the median of the last third of the samples is within tolerance of the median of the
 * first third (after the first sample, which is taken before the world reached steady state):
 * heap ±max(4 MiB, 15 %), resources and listeners by count exactly, pending requests 0 at
 * samples, the table no larger than the kernel's source count allows.
 */
export function verdict(samples: readonly SoakSample[], extra: { fdsBefore: number; fdsAfterStop: number; resourcesBefore: Record<string, number>; resourcesAfterStop: Record<string, number> }): SoakVerdict {
  const problems: string[] = [];
  const body = samples.filter((s) => s.warm);
  const third = Math.max(1, Math.floor(body.length / 3));
  const early = body.slice(0, third);
  const late = body.slice(-third);
  const heapGrowth = median(late.map((s) => s.heapUsed)) - median(early.map((s) => s.heapUsed));
  const heapTolerance = Math.max(4 * MiB, 0.15 * median(early.map((s) => s.heapUsed)));
  if (body.length >= 3 && heapGrowth > heapTolerance) problems.push(`heap grew ${(heapGrowth / MiB).toFixed(1)} MiB (tolerance ${(heapTolerance / MiB).toFixed(1)} MiB)`);
  const native = (s: SoakSample) => s.rss - s.heapTotal;
  const nativeGrowth = median(late.map(native)) - median(early.map(native));
  const nativeTolerance = Math.max(16 * MiB, 0.1 * median(early.map(native)));
  if (body.length >= 3 && nativeGrowth > nativeTolerance) problems.push(`memory outside the JS heap (rss − heapTotal) grew ${(nativeGrowth / MiB).toFixed(1)} MiB (tolerance ${(nativeTolerance / MiB).toFixed(1)} MiB)`);
  const first = body[0];
  for (const s of body) {
    if (s.clientListeners !== first?.clientListeners) problems.push(`client listeners ${first?.clientListeners} -> ${s.clientListeners} at ${s.simSeconds} s`);
    if (s.processListeners !== first?.processListeners) problems.push(`process listeners ${first?.processListeners} -> ${s.processListeners} at ${s.simSeconds} s`);
    if (s.fds !== first?.fds) problems.push(`open fds ${first?.fds} -> ${s.fds} at ${s.simSeconds} s`);
    if (s.pendingRequests !== 0) problems.push(`${s.pendingRequests} requests pending after a sweep at ${s.simSeconds} s`);
    if (s.tableEntries > 2 * s.kernelSources + 100) problems.push(`table holds ${s.tableEntries} entries for ${s.kernelSources} kernel sources at ${s.simSeconds} s`);
    if (s.endedMemory > 8192) problems.push(`ended-srcref memory ${s.endedMemory} > 8192 at ${s.simSeconds} s`);
    for (const [k, v] of Object.entries(s.resources)) if (k !== 'Immediate' && v > (first?.resources[k] ?? 0) + 2) problems.push(`${k} resources ${first?.resources[k] ?? 0} -> ${v} at ${s.simSeconds} s`);
  }
  if (extra.fdsAfterStop !== extra.fdsBefore) problems.push(`open fds before ${extra.fdsBefore}, after stop ${extra.fdsAfterStop}`);
  for (const [k, v] of Object.entries(extra.resourcesAfterStop)) {
    if (v > (extra.resourcesBefore[k] ?? 0)) problems.push(`after stop: ${v} ${k} (before: ${extra.resourcesBefore[k] ?? 0})`);
  }
  return { ok: problems.length === 0, heapGrowth, heapTolerance, nativeGrowth, nativeTolerance, problems: [...new Set(problems)].slice(0, 20) };
}

export async function runSoak(o: SoakOptions = {}): Promise<SoakResult> {
  const opts = {
    dialect: o.dialect ?? 'd10002',
    scenario: o.scenario ?? 'churn-10k',
    scale: o.scale ?? 1,
    seed: o.seed ?? 11,
    transport: o.transport ?? 'fd',
    sampleEveryMs: o.sampleEveryMs ?? 30_000,
    warmupMs: o.warmupMs ?? 90_000,
    stepMs: o.stepMs ?? 100,
    sweepEveryMs: o.sweepEveryMs ?? 1000,
    ...(o.simMs !== undefined ? { simMs: o.simMs } : {}),
    ...(o.wallMs !== undefined ? { wallMs: o.wallMs } : {}),
  };
  if (opts.simMs === undefined && opts.wallMs === undefined) throw new Error('runSoak needs simMs or wallMs');
  const gc = findGc();
  const heap = () => {
    if (gc) for (let i = 0; i < 2; i++) gc();
    return process.memoryUsage();
  };
  const t0 = performance.now();
  // Let earlier work (a test runner, module loading) settle before the "before" figures.
  await settle();
  const fdsBefore = openFds();
  const resourcesBefore = activeResources();

  const kernel = new SimKernel({ dialect: opts.dialect, scenario: opts.scenario, seed: opts.seed, scale: opts.scale });
  kernel.advance(200);
  // No history in the model: the heap must be able to stay flat on the simulator's side too.
  const sim: Simulator = kernel.connect({ recordRemoved: false, dropLogLimit: 1000 });
  const driver = new SimulationDriver(kernel);
  let server: FdServer | undefined;
  let transport: Transport;
  if (opts.transport === 'fd') {
    // SO_RCVBUF cannot travel through a socketpair: the client's setsockopt sizes the socket's
    // buffer, so give the model queue the same size here (as the kernel would have).
    sim.setReceiveBufferSize(RCVBUF);
    const [a, b] = openDatagramSocketPair({ bufferSize: 4 << 20 });
    server = serveSimulatorOverFd(sim, new FdEndpoint(b), { pace: 'eager' });
    transport = new DatagramFdTransport(a);
  } else {
    transport = new MemoryTransport(sim);
  }
  const client = new NetworkStatisticsClient({
    transport,
    dialect: kernel.dialect,
    interval: 0,
    providers: ['tcp', 'udp'],
    clock: () => kernel.now,
    receiveBufferSize: RCVBUF,
    requestTimeout: 10_000,
  });
  let added = 0;
  let removed = 0;
  let updates = 0;
  client.on('added', () => added++);
  client.on('removed', () => removed++);
  client.on('update', () => updates++);
  const errors: unknown[] = [];
  client.on('error', (e) => errors.push(e));
  await client.connect();
  await client.sweep();

  const samples: SoakSample[] = [];
  const start = kernel.now;
  // White-box views of the client's own containers (they must stay bounded).
  const inner = (client as unknown as { session: { pending: { size: number }; table: { size: number; ended: Set<bigint> } } }).session;
  const sample = async () => {
    await client.sweep();
    await settle();
    const mu = heap();
    const truth = sim.groundTruth({ descriptors: false, counts: false });
    const w = kernel.world;
    const s: SoakSample = {
      simSeconds: Math.round((kernel.now - start) / 1000),
      warm: kernel.now - start >= opts.warmupMs,
      wallSeconds: Math.round((performance.now() - t0) / 100) / 10,
      heapUsed: mu.heapUsed,
      heapTotal: mu.heapTotal,
      external: mu.external,
      arrayBuffers: mu.arrayBuffers,
      rss: mu.rss,
      resources: activeResources(),
      clientListeners: listeners(client),
      processListeners: listeners(process),
      streams: client.snapshot().length,
      tableEntries: inner.table.size,
      endedMemory: inner.table.ended.size,
      pendingRequests: inner.pending.size,
      kernelSources: truth.sources.size,
      worldObjects: w.tcpPcbs.size + w.udpPcbs.size + w.userlandFlows.size + w.connFlows.size + w.subflows.size + w.routes.size + w.processes.size,
      fds: openFds(),
      sweeps: client.sweeps,
      drops: client.getNumDrops(),
    };
    samples.push(s);
    o.onSample?.(s);
  };
  await sample();
  let sinceSweep = 0;
  let sinceSample = 0;
  for (;;) {
    const simDone = opts.simMs !== undefined && kernel.now - start >= opts.simMs;
    const wallDone = opts.wallMs !== undefined && performance.now() - t0 >= opts.wallMs;
    if (simDone || wallDone || client.state !== 'running') break;
    driver.step(opts.stepMs);
    sinceSweep += opts.stepMs;
    sinceSample += opts.stepMs;
    // A reader that keeps up (the soak is about memory, not loss): let the fd server and the
    // transport move everything the step queued before time moves on (bounded wait).
    await drained(sim, 500);
    if (sinceSweep >= opts.sweepEveryMs) {
      sinceSweep = 0;
      // Like the CLI's interval timer: a sweep that runs while time moves on.
      void client.sweep();
    }
    if (sinceSample >= opts.sampleEveryMs) {
      sinceSample = 0;
      await sample();
    }
  }
  await sample();
  const clientDrops = client.dropCounts();
  const kernelDrops = sim.groundTruth({ descriptors: false, counts: false }).dropped.total;
  client.stop();
  await client.closed();
  server?.close();
  sim.close();
  // Closing is asynchronous for the poll handles: give libuv a few turns.
  for (let i = 0; i < 20 && openFds() > fdsBefore; i++) await new Promise((r) => setTimeout(r, 5));
  await settle();
  const fdsAfterStop = openFds();
  const resourcesAfterStop = activeResources();
  if (errors.length) throw new Error(`client errors during the soak: ${errors.map(String).join('; ')}`);
  return {
    options: opts,
    gc: gc !== undefined,
    samples,
    added,
    removed,
    updates,
    clientDrops,
    kernelDrops,
    fdsBefore,
    fdsAfterStop,
    resourcesAfterStop,
    wallSeconds: (performance.now() - t0) / 1000,
    verdict: verdict(samples, { fdsBefore, fdsAfterStop, resourcesBefore, resourcesAfterStop }),
  };
}

// ---------------------------------------------------------------------------------------------
// CLI

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const minutes = Number(arg('minutes') ?? 1);
  const simSeconds = arg('sim-seconds');
  const json = process.argv.includes('--json');
  const mib = (b: number) => `${(b / MiB).toFixed(1)}`;
  // Touch stdout and stderr first: their handles (and fds, for pipes) must exist before the
  // soak takes its "before" figures.
  console.error(`soak: ${process.argv.slice(2).join(' ') || '(defaults)'}${(globalThis as { gc?: unknown }).gc ? '' : ' — note: run with node --expose-gc for exact heap figures (falling back to a runtime V8 flag)'}`);
  if (!json) console.log('w = warm-up sample (not in the verdict)');
  const r = await runSoak({
    dialect: arg('dialect') ?? 'd10002',
    scale: Number(arg('scale') ?? 1),
    transport: (arg('transport') as 'fd' | 'memory' | undefined) ?? 'fd',
    sampleEveryMs: Number(arg('sample-seconds') ?? 30) * 1000,
    warmupMs: Number(arg('warmup-seconds') ?? 90) * 1000,
    ...(simSeconds ? { simMs: Number(simSeconds) * 1000 } : { wallMs: minutes * 60_000 }),
    onSample: json
      ? undefined
      : (s) =>
          console.log(
            `${s.warm ? ' ' : 'w'} sim ${String(s.simSeconds).padStart(6)} s  wall ${String(s.wallSeconds).padStart(7)} s  heap ${mib(s.heapUsed).padStart(6)}/${mib(s.heapTotal)} MiB  ext ${mib(s.external)} ab ${mib(s.arrayBuffers)} MiB  rss ${mib(s.rss).padStart(6)} MiB  streams ${String(s.streams).padStart(5)}/${s.tableEntries} ended ${s.endedMemory}  kernel ${String(s.kernelSources).padStart(5)}  world ${String(s.worldObjects).padStart(6)}  listeners ${s.clientListeners}/${s.processListeners}  fds ${s.fds}  resources ${JSON.stringify(s.resources)}  drops ${s.drops}`,
          ),
  });
  if (json) console.log(JSON.stringify(r));
  else {
    const first = r.samples.find((x) => x.warm) ?? r.samples[0];
    const last = r.samples[r.samples.length - 1];
    console.log(
      `\n${r.options.scenario} ×${r.options.scale} over ${r.options.transport}, ${last.simSeconds} simulated s in ${r.wallSeconds.toFixed(0)} s: ${r.added} added, ${r.removed} removed, ${r.updates} updates; drops client ${JSON.stringify(r.clientDrops)}, kernel ${r.kernelDrops}`,
    );
    console.log(`heap ${mib(first.heapUsed)} MiB -> ${mib(last.heapUsed)} MiB (growth of the medians ${(r.verdict.heapGrowth / 1024).toFixed(0)} KiB, tolerance ${mib(r.verdict.heapTolerance)} MiB; gc ${r.gc ? 'yes' : 'no'})`);
    console.log(`outside the JS heap (rss − heapTotal): growth of the medians ${(r.verdict.nativeGrowth / MiB).toFixed(1)} MiB, tolerance ${mib(r.verdict.nativeTolerance)} MiB`);
    console.log(`fds before ${r.fdsBefore}, after stop ${r.fdsAfterStop}; resources after stop ${JSON.stringify(r.resourcesAfterStop)}`);
    console.log(r.verdict.ok ? 'FLAT' : `NOT FLAT:\n  ${r.verdict.problems.join('\n  ')}`);
  }
  if (!r.verdict.ok) process.exitCode = 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
