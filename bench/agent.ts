/**
 * The usage agent's costs (issue 14), in simulated time:
 *
 *  - Database size for 30 simulated days of a busy laptop (200 processes, ~300 process×interface
 *    pairs moving bytes nearly every minute, 2 000 open flows, 20 flows/s churn). Every one of the
 *    43 200 minutes is written through the real UsageStore (default retention: minute buckets 7 d,
 *    hour 90 d, day for ever). To finish in about a minute the flushes are hourly batches of 60
 *    minute buckets instead of 8 640 ten-second flushes a day: the stored rows are the same (a
 *    minute bucket holds the sum of its flushes); page layout after many small rewrites may differ
 *    a little. The flow log is capped (newest 50 000 closed flows), so only the last two hours'
 *    closed flows (144 000, 20/s) are written, 200 per flush as the agent does; the open-flow
 *    state (2 000 open + 2 400 recently closed) is rewritten at every flush.
 *  - Agent CPU at 2 000 flows: the real client + UsageAgent + UsageStore over the simulator
 *    (bench/world.ts longLivedWorld(2000)), one poll per simulated second, a flush every 10 s;
 *    CPU time of every call into the agent (stream events, polls, flushes), by process.cpuUsage.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { SimKernel, SimulationDriver, Rng } from '../src/simulator/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { UsageAgent } from '../src/agent/usage-agent.js';
import { UsageStore } from '../src/store/usage-store.js';
import type { ClosedFlow, OpenFlowState, UsageDelta } from '../src/store/records.js';
import { BENCH_DIALECT, longLivedWorld } from './world.js';

interface Row {
  figure: string;
  value: string;
  goal: string;
  met?: boolean;
}

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const MB = 1024 * 1024;

interface Dim {
  process: string;
  pid: number;
  app?: string;
  ifname: string;
  ifkind: string;
  scale: number;
}

function laptopDims(rng: Rng, nextPid: () => number): Dim[] {
  const dims: Dim[] = [];
  for (let p = 0; p < 200; p++) {
    const process = `com.example.app${String(p).padStart(3, '0')}.Helper`.slice(0, 16);
    const pid = nextPid();
    const app = rng.chance(0.3) ? `App${p % 40}` : undefined;
    const scale = rng.logUniform(1e3, 3e6);
    dims.push({ process, pid, ...(app ? { app } : {}), ifname: 'if4', ifkind: 'wifi', scale });
    if (rng.chance(0.35)) dims.push({ process, pid, ...(app ? { app } : {}), ifname: 'if12', ifkind: 'other', scale: scale / 4 });
    if (rng.chance(0.15)) dims.push({ process, pid, ...(app ? { app } : {}), ifname: 'if1', ifkind: 'loopback', scale: scale / 10 });
  }
  return dims;
}

function fileSize(path: string): number {
  let n = 0;
  for (const f of [path, `${path}-wal`]) {
    try {
      n += statSync(f).size;
    } catch {
      // no WAL
    }
  }
  return n;
}

export interface DbSizeResult {
  days: number;
  byTable: Record<string, number>;
  bytesByDay: Record<number, number>;
  rowsWritten: number;
  seconds: number;
  dims: number;
}

export async function benchDbSize(days = 30): Promise<DbSizeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ntstat-bench-db-'));
  const path = join(dir, 'usage.db');
  const rng = new Rng(42);
  let pid = 300;
  const nextPid = () => pid++;
  let dims = laptopDims(rng, nextPid);
  const allDims = new Set(dims.map((d) => `${d.process}|${d.pid}|${d.ifname}`));
  const t0 = Date.UTC(2026, 0, 1);
  const open: OpenFlowState[] = Array.from({ length: 4400 }, (_, i) => ({ identity: `tcp|${1000 + (i % 200)}|@${6324504000000 + i * 7919}#192.168.1.23:${50000 + (i % 15000)}|203.0.113.${i % 250}:443`, rxBytes: rng.int(0, 5e7), txBytes: rng.int(0, 5e6), rxPackets: rng.int(0, 4e4), txPackets: rng.int(0, 4e3) }));
  let store = await UsageStore.open(path, { record: true });
  const started = performance.now();
  const bytesByDay: Record<number, number> = {};
  let rows = 0;
  for (let h = 0; h < days * 24; h++) {
    const hourStart = t0 + h * HOUR;
    if (h > 0 && h % 24 === 0) {
      // Ten process restarts a day: new pids, new dimension rows.
      for (let i = 0; i < 10; i++) {
        const victim = dims[rng.int(0, dims.length - 1)];
        const np = nextPid();
        for (const d of dims) if (d.pid === victim.pid) d.pid = np;
      }
      for (const d of dims) allDims.add(`${d.process}|${d.pid}|${d.ifname}`);
    }
    const deltas: UsageDelta[] = [];
    for (let m = 0; m < 60; m++) {
      for (const d of dims) {
        if (!rng.chance(0.9)) continue;
        const rx = Math.round(d.scale * rng.logUniform(0.05, 5));
        const tx = Math.round(rx * rng.real(0.02, 0.4));
        const delta: UsageDelta = { minute: hourStart + m * MIN, process: d.process, pid: d.pid, ifname: d.ifname, ifkind: d.ifkind, rxBytes: rx, txBytes: tx, rxPackets: Math.ceil(rx / 1400), txPackets: Math.ceil(tx / 1400), flows: rng.int(0, 12) };
        if (d.app) delta.app = d.app;
        deltas.push(delta);
      }
    }
    const closed: ClosedFlow[] = [];
    if (h >= days * 24 - 2) {
      for (let i = 0; i < 20 * 3600; i++) {
        const d = dims[rng.int(0, dims.length - 1)];
        const start = hourStart + rng.int(0, HOUR - 1000);
        closed.push({ provider: rng.chance(0.7) ? 'tcp' : 'udp', process: d.process, pid: d.pid, ifname: d.ifname, ifkind: d.ifkind, local: `192.168.1.23:${rng.int(49152, 65535)}`, remote: `203.0.113.${rng.int(1, 254)}:443`, start, end: start + rng.int(5, 200_000), rxBytes: rng.int(0, 2e6), txBytes: rng.int(0, 2e5), rxPackets: rng.int(1, 1500), txPackets: rng.int(1, 300) });
      }
    }
    // Closed flows as the agent writes them: 200 per 10 s flush, so the capped log never holds
    // more than its cap plus one flush (one hourly batch would briefly hold 72 000 more).
    for (let i = 0; i < closed.length; i += 200) store.flush({ time: hourStart + (i / 200) * 10_000, deltas: [], closed: closed.slice(i, i + 200), open });
    store.flush({ time: hourStart + HOUR, deltas, closed: [], open });
    rows += deltas.length + closed.length + open.length * (1 + closed.length / 200);
    const day = (h + 1) / 24;
    if (Number.isInteger(day) && [1, 7, 8, 14, 30].includes(day)) {
      store.close(); // checkpoints the WAL into the database file
      bytesByDay[day] = fileSize(path);
      store = await UsageStore.open(path, { record: true });
    }
  }
  store.close();
  // Where the bytes are (SQLite's dbstat table, when compiled in).
  const byTable: Record<string, number> = {};
  try {
    const Database = (await import('better-sqlite3' as string)).default as new (p: string, o?: object) => { prepare(s: string): { all(): { name: string; bytes: number }[] }; close(): void };
    const db = new Database(path, { readonly: true });
    for (const r of db.prepare("SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC").all()) byTable[r.name] = r.bytes;
    db.close();
  } catch {
    // no dbstat in this build
  }
  rmSync(dir, { recursive: true, force: true });
  return { days, bytesByDay, byTable, rowsWritten: rows, seconds: (performance.now() - started) / 1000, dims: allDims.size };
}

async function pollLoop(withAgent: boolean, polls: number): Promise<{ cpuMs: number; agentCpuMs: number; flushMs: number[]; dbBytes: number; streams: number }> {
  const kernel = new SimKernel({ dialect: BENCH_DIALECT, scenario: longLivedWorld(2000), seed: 3 });
  const driver = new SimulationDriver(kernel);
  const client = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel.connect({ root: true, recvspace: 4 << 20 })), dialect: kernel.dialect, interval: 0, providers: ['tcp', 'udp', 'quic'], clock: () => kernel.now, requestTimeout: 10_000 });
  const dir = mkdtempSync(join(tmpdir(), 'ntstat-bench-agent-'));
  const store = withAgent ? await UsageStore.open(join(dir, 'u.db'), { record: true }) : undefined;
  const agent = store ? new UsageAgent({ client, sink: store, clock: () => Date.UTC(2026, 0, 1) + kernel.now, flushSeconds: 10 }) : undefined;
  const flushMs: number[] = [];
  // The agent's own CPU time: every call into it (stream events, polls, flushes) timed with
  // process.cpuUsage, so other load on the machine does not blur it.
  let agentCpuUs = 0;
  const cpuOf = (fn: () => void) => {
    const c = process.cpuUsage();
    fn();
    const d = process.cpuUsage(c);
    agentCpuUs += d.user + d.system;
    return d.user + d.system;
  };
  if (agent) {
    const flush = agent.flush.bind(agent);
    agent.flush = () => {
      flushMs.push(cpuOf(flush) / 1000);
    };
    const ledger = (agent as unknown as { ledger: { apply: (...a: unknown[]) => void; updateRates: () => void } }).ledger;
    const apply = ledger.apply.bind(ledger);
    ledger.apply = (...a: unknown[]) => cpuOf(() => apply(...a));
    const rates = ledger.updateRates.bind(ledger);
    ledger.updateRates = () => cpuOf(rates);
  }
  await client.connect();
  await client.sweep();
  const settle = async () => {
    for (let i = 0; i < 4; i++) await new Promise<void>((r) => setImmediate(r));
  };
  // Warm-up: 10 polls.
  for (let i = 0; i < 10; i++) {
    driver.step(1000);
    await settle();
    await client.sweep();
  }
  flushMs.length = 0;
  agentCpuUs = 0;
  const before = process.cpuUsage();
  for (let i = 0; i < polls; i++) {
    driver.step(1000);
    await settle();
    await client.sweep();
  }
  const used = process.cpuUsage(before);
  const streams = client.snapshot().length;
  await agent?.stop({ finalSweep: false });
  client.stop();
  const dbBytes = store ? store.sizeBytes() : 0;
  store?.close();
  rmSync(dir, { recursive: true, force: true });
  return { cpuMs: (used.user + used.system) / 1000, agentCpuMs: agentCpuUs / 1000, flushMs, dbBytes, streams };
}

export interface AgentCpuResult {
  polls: number;
  streams: number;
  clientCpuMsPerPoll: number;
  agentCpuMsPerPoll: number;
  flushMsMedian: number;
  agentCpuPercentAt1s: number;
}

export async function benchAgentCpu(polls = 120): Promise<AgentCpuResult> {
  const base = await pollLoop(false, polls);
  const withAgent = await pollLoop(true, polls);
  const agentPerPoll = withAgent.agentCpuMs / polls;
  const sorted = [...withAgent.flushMs].sort((a, b) => a - b);
  return {
    polls,
    streams: withAgent.streams,
    clientCpuMsPerPoll: base.cpuMs / polls,
    agentCpuMsPerPoll: agentPerPoll,
    flushMsMedian: sorted[Math.floor(sorted.length / 2)] ?? 0,
    agentCpuPercentAt1s: agentPerPoll / 10,
  };
}

export async function benchAgent(): Promise<{ rows: Row[]; results: Record<string, unknown> }> {
  const size = await benchDbSize();
  const cpu = await benchAgentCpu();
  const b = size.bytesByDay;
  const rows: Row[] = [
    { figure: 'usage DB, 30 simulated days of a busy laptop', value: `${(b[30] / MB).toFixed(1)} MB (day 1 ${(b[1] / MB).toFixed(1)}, day 7 ${(b[7] / MB).toFixed(1)}, day 14 ${(b[14] / MB).toFixed(1)}; ${size.dims} dims, ${size.seconds.toFixed(0)} s)`, goal: '< 50 MB', met: b[30] < 50 * MB },
    { figure: `agent CPU per 1 s poll at ${cpu.streams} flows`, value: `${cpu.agentCpuMsPerPoll.toFixed(2)} ms (${cpu.agentCpuPercentAt1s.toFixed(2)} % of a core; client alone ${cpu.clientCpuMsPerPoll.toFixed(1)} ms incl. simulator)`, goal: '-' },
    { figure: 'agent flush (10 s of usage, one transaction)', value: `median ${cpu.flushMsMedian.toFixed(1)} ms`, goal: '-' },
  ];
  return { rows, results: { agentDbSize: size, agentCpu: cpu } };
}

// `node build/bench/agent.js`: this part alone.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/build\//, '/build/'))) {
  benchAgent().then(
    (r) => {
      for (const row of r.rows) console.log(`${row.figure}: ${row.value} (goal ${row.goal})`);
      console.log(JSON.stringify(r.results));
    },
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
