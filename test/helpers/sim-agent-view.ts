/**
 * An AgentView for the web tests until the real UsageAgent is on main: a real
 * NetworkStatisticsClient over the simulator (real streams, no mock), its streams grouped per
 * process with the model's ProcessTotals, and an in-memory usage history (per-poll byte deltas
 * per process and interface). Time is simulated: `step(ms)` advances the kernel, sweeps and
 * emits 'poll', so tests bound work by simulated time, never by the wall clock.
 */
import { EventEmitter } from 'node:events';
import type { AgentStatus, AgentView, InterfaceUsage, ProcessUsage, UsageQuery, UsageRow } from '../../src/agent/types.js';
import { NetworkStatisticsClient, type ClientProvider } from '../../src/client/client.js';
import { ProcessTotals } from '../../src/model/process-totals.js';
import type { Stream } from '../../src/model/stream.js';
import { SimKernel, SimulationDriver, type Scenario } from '../../src/simulator/index.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import { settle } from './client-sim.js';

export interface SimViewOptions {
  scenario: string | Scenario;
  seed?: number;
  scale?: number;
  dialect?: string;
  /** ms epoch of simulated time 0 (default: a fixed date, so runs are reproducible). */
  epoch?: number;
  providers?: ClientProvider[];
}

interface Delta {
  time: number;
  process: string;
  pid?: number;
  iface: string;
  rx: number;
  tx: number;
}

export class SimAgentView extends EventEmitter implements AgentView {
  readonly kernel: SimKernel;
  readonly driver: SimulationDriver;
  readonly client: NetworkStatisticsClient;
  readonly epoch: number;
  private readonly totals = new ProcessTotals('pid');
  private readonly seen = new Map<string, { rx: number; tx: number }>();
  private readonly deltas: Delta[] = [];
  private readonly startedAt: number;

  constructor(o: SimViewOptions) {
    super();
    this.kernel = new SimKernel({ dialect: o.dialect ?? 'd10002', scenario: o.scenario, seed: o.seed ?? 3, scale: o.scale ?? 1 });
    this.driver = new SimulationDriver(this.kernel);
    this.epoch = o.epoch ?? Date.UTC(2026, 10, 27, 9, 0, 0);
    this.startedAt = this.epoch;
    this.client = new NetworkStatisticsClient({
      transport: new MemoryTransport(this.kernel.connect({ root: false })),
      dialect: this.kernel.dialect,
      interval: 0,
      providers: o.providers ?? ['tcp', 'udp', 'quic'],
      clock: () => this.now(),
      requestTimeout: 3000,
    });
    for (const kind of ['added', 'update', 'removed'] as const) {
      this.client.on(kind, (s: Stream) => {
        this.totals.apply(kind, s);
        this.record(s, kind === 'removed');
      });
    }
  }

  now(): number {
    return this.epoch + this.kernel.now;
  }

  async start(): Promise<void> {
    await this.client.connect();
    await this.client.sweep();
  }

  /** Advance simulated time by `ms`, sweep, and emit 'poll'. */
  async step(ms = 1000): Promise<void> {
    this.driver.step(ms);
    await settle();
    await this.client.sweep();
    this.totals.updateRates(this.client.snapshot());
    this.emit('poll', this.now());
  }

  stop(): void {
    this.client.stop();
  }

  private record(s: Stream, removed: boolean): void {
    const c = s.counts;
    if (!c) return;
    const prev = this.seen.get(s.id) ?? { rx: 0, tx: 0 };
    const rx = Math.max(0, c.rxBytes - prev.rx);
    const tx = Math.max(0, c.txBytes - prev.tx);
    if (removed) this.seen.delete(s.id);
    else this.seen.set(s.id, { rx: Math.max(prev.rx, c.rxBytes), tx: Math.max(prev.tx, c.txBytes) });
    if (rx === 0 && tx === 0) return;
    this.deltas.push({ time: this.now(), process: s.process ?? '?', pid: s.pid, iface: s.ifname ?? s.interface, rx, tx });
  }

  status(): AgentStatus {
    const dialect = this.client.dialect!;
    const drops: Record<string, number> = this.client.dropCounts();
    return {
      startedAt: this.startedAt,
      kernel: { xnu: this.kernel.profile.xnu.join('.'), macos: dialect.macosByTag[dialect.tags[0]], dialect: dialect.family, verified: dialect.verified, simulated: true },
      providers: this.client.providers().map((p) => ({ name: p.provider, available: p.available, ...(p.reason ? { reason: p.reason } : {}) })),
      drops: { total: this.client.getNumDrops(), byReason: drops },
      streams: this.client.snapshot().filter((s) => !s.closed).length,
    };
  }

  processes(): ProcessUsage[] {
    return this.totals
      .totals()
      .map((g) => ({
        key: g.key,
        process: g.process ?? '?',
        ...(g.pid !== undefined ? { pid: g.pid } : {}),
        rxBytes: g.rxBytes,
        txBytes: g.txBytes,
        rxPackets: g.rxPackets,
        txPackets: g.txPackets,
        flows: g.totalStreams,
        liveFlows: g.liveStreams,
        rxBytesPerSec: g.rxBytesPerSec,
        txBytesPerSec: g.txBytesPerSec,
        lastSeen: this.now(),
      }))
      .sort((a, b) => b.rxBytes + b.txBytes - (a.rxBytes + a.txBytes));
  }

  interfaces(): InterfaceUsage[] {
    const by = new Map<string, InterfaceUsage>();
    for (const d of this.deltas) {
      let u = by.get(d.iface);
      if (!u) by.set(d.iface, (u = { name: d.iface, kind: d.iface, rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, source: 'flows' }));
      u.rxBytes += d.rx;
      u.txBytes += d.tx;
    }
    return [...by.values()];
  }

  streams(): readonly Stream[] {
    return this.client.snapshot();
  }

  store(): UsageQuery {
    return new DeltaStore(this.deltas);
  }
}

/** Sums of the recorded per-poll deltas (the shape of `ntstat usage --json`). */
class DeltaStore implements UsageQuery {
  constructor(private readonly deltas: readonly Delta[]) {}

  private keyOf(d: Delta, by: string): { key: string; row: Partial<UsageRow> } {
    switch (by) {
      case 'interface':
        return { key: d.iface, row: { interface: d.iface } };
      case 'pid':
        return { key: `pid:${d.pid}`, row: { pid: d.pid, process: d.process } };
      default:
        return { key: d.process, row: by === 'app' ? { app: d.process } : { process: d.process } };
    }
  }

  query(q: { since: number; until: number; by: string; top?: number }): UsageRow[] {
    const rows = new Map<string, UsageRow>();
    for (const d of this.deltas) {
      if (d.time < q.since || d.time >= q.until) continue;
      const { key, row } = this.keyOf(d, q.by);
      let r = rows.get(key);
      if (!r) rows.set(key, (r = { key, rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, flows: 0, ...row }));
      r.rxBytes += d.rx;
      r.txBytes += d.tx;
    }
    const out = [...rows.values()].sort((a, b) => b.rxBytes + b.txBytes - (a.rxBytes + a.txBytes));
    return q.top ? out.slice(0, q.top) : out;
  }

  series(q: { since: number; until: number; by: 'app' | 'process' | 'interface'; top?: number }) {
    const span = q.until - q.since;
    const stepSeconds = span <= 6 * 3_600_000 ? 60 : span <= 8 * 86_400_000 ? 3600 : 86_400;
    const step = stepSeconds * 1000;
    const first = Math.floor(q.since / step) * step;
    const times: number[] = [];
    for (let t = first; t < q.until; t += step) times.push(t / 1000);
    const keys = this.query({ ...q, top: q.top ?? 10 }).map((r) => r.key);
    const series = keys.map((key) => ({ key, rx: times.map(() => 0), tx: times.map(() => 0) }));
    const index = new Map(keys.map((k, i) => [k, i]));
    for (const d of this.deltas) {
      if (d.time < q.since || d.time >= q.until) continue;
      const i = index.get(this.keyOf(d, q.by).key);
      if (i === undefined) continue;
      const b = Math.floor((d.time - first) / step);
      series[i].rx[b] += d.rx;
      series[i].tx[b] += d.tx;
    }
    return { stepSeconds, times, series };
  }

  sizeBytes(): number {
    return this.deltas.length * 48;
  }
}
