/**
 * The web tests' agent: the real UsageAgent over a real NetworkStatisticsClient on the simulator
 * (no mock), driven in simulated time: `step(ms)` advances the kernel, sweeps (the agent emits
 * 'poll', and flushes every sweep), so tests bound work by simulated time, never the wall clock.
 * History comes from MemoryUsageStore, an in-memory UsageSink + UsageQuery fed by the agent's
 * real flush batches (the SQLite store is not on main yet; swap it in when it is).
 */
import { EventEmitter } from 'node:events';
import type { AgentStatus, AgentView, InterfaceUsage, ProcessUsage, UsageQuery, UsageRow } from '../../src/agent/types.js';
import { UsageAgent } from '../../src/agent/usage-agent.js';
import { NetworkStatisticsClient, type ClientProvider } from '../../src/client/client.js';
import type { Stream } from '../../src/model/stream.js';
import { SimKernel, SimulationDriver, type Scenario } from '../../src/simulator/index.js';
import type { FlushBatch, OpenFlowState, UsageDelta, UsageSink } from '../../src/store/records.js';
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

/** The real UsageAgent, seen through AgentView, plus the simulation's controls. */
export class SimAgentView extends EventEmitter implements AgentView {
  readonly kernel: SimKernel;
  readonly driver: SimulationDriver;
  readonly client: NetworkStatisticsClient;
  readonly agent: UsageAgent;
  readonly epoch: number;
  readonly history = new MemoryUsageStore();

  constructor(o: SimViewOptions) {
    super();
    this.kernel = new SimKernel({ dialect: o.dialect ?? 'd10002', scenario: o.scenario, seed: o.seed ?? 3, scale: o.scale ?? 1 });
    this.driver = new SimulationDriver(this.kernel);
    this.epoch = o.epoch ?? Date.UTC(2026, 10, 27, 9, 0, 0);
    this.client = new NetworkStatisticsClient({
      transport: new MemoryTransport(this.kernel.connect({ root: false })),
      dialect: this.kernel.dialect,
      interval: 0,
      providers: o.providers ?? ['tcp', 'udp', 'quic'],
      clock: () => this.now(),
      requestTimeout: 3000,
    });
    this.agent = new UsageAgent({ client: this.client, sink: this.history, flushSeconds: 0, clock: () => this.now(), kernel: { xnu: this.kernel.profile.xnu.join('.'), simulated: true } });
    for (const ev of ['poll', 'flush', 'stream']) this.agent.on(ev, (...args: unknown[]) => this.emit(ev, ...args));
  }

  now(): number {
    return this.epoch + this.kernel.now;
  }

  async start(): Promise<void> {
    await this.agent.start();
    await this.client.sweep();
  }

  /** Advance simulated time by `ms` and sweep (the agent emits 'poll' and flushes). */
  async step(ms = 1000): Promise<void> {
    this.driver.step(ms);
    await settle();
    await this.client.sweep();
  }

  stop(): void {
    this.client.stop();
  }

  status(): AgentStatus {
    return this.agent.status();
  }
  processes(): ProcessUsage[] {
    return this.agent.processes();
  }
  interfaces(): InterfaceUsage[] {
    return this.agent.interfaces();
  }
  streams(): readonly Stream[] {
    return this.agent.streams();
  }
  store(): UsageQuery {
    return this.history;
  }
}

type By = 'app' | 'process' | 'pid' | 'interface' | 'day' | 'hour';

/** Usage history in memory: the agent's minute deltas, summed on query. */
export class MemoryUsageStore implements UsageSink, UsageQuery {
  readonly path = ':memory:';
  private readonly deltas: UsageDelta[] = [];

  openFlows(): OpenFlowState[] {
    return [];
  }

  flush(batch: FlushBatch): void {
    this.deltas.push(...batch.deltas);
  }

  sizeBytes(): number {
    return this.deltas.length * 64;
  }

  private group(d: UsageDelta, by: By): { key: string; row: Partial<UsageRow> } {
    switch (by) {
      case 'interface':
        return { key: d.ifname, row: { interface: d.ifname, kind: d.ifkind } };
      case 'pid':
        return { key: `${d.process}|${d.pid ?? '?'}`, row: { process: d.process, ...(d.pid !== undefined ? { pid: d.pid } : {}) } };
      case 'process':
        return { key: d.process, row: { process: d.process } };
      case 'day':
      case 'hour': {
        const t = new Date(d.minute).toISOString().slice(0, by === 'day' ? 10 : 13);
        return { key: t, row: { time: t } };
      }
      default:
        return { key: d.app ?? d.process, row: { app: d.app ?? d.process } };
    }
  }

  query(q: { since: number; until: number; by: By; top?: number }): UsageRow[] {
    const rows = new Map<string, UsageRow>();
    for (const d of this.deltas) {
      if (d.minute < q.since || d.minute >= q.until) continue;
      const { key, row } = this.group(d, q.by);
      let r = rows.get(key);
      if (!r) rows.set(key, (r = { key, rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, flows: 0, ...row }));
      r.rxBytes += d.rxBytes;
      r.txBytes += d.txBytes;
      r.rxPackets += d.rxPackets;
      r.txPackets += d.txPackets;
      r.flows += d.flows;
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
      if (d.minute < q.since || d.minute >= q.until) continue;
      const i = index.get(this.group(d, q.by).key);
      if (i === undefined) continue;
      const b = Math.floor((d.minute - first) / step);
      series[i].rx[b] += d.rxBytes;
      series[i].tx[b] += d.txBytes;
    }
    return { stepSeconds, times, series };
  }
}
