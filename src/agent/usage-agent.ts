/**
 * The always-on agent: one NetworkStatisticsClient (given by the caller) -> per-process and
 * per-interface monotonic totals (closed flows included), a live view for the metrics exporter
 * and the dashboard (AgentView), and, with a store, usage history flushed at a fixed interval.
 */
import { EventEmitter } from 'node:events';
import type { NetworkStatisticsClient } from '../client/client.js';
import type { Stream } from '../model/stream.js';
import type { InterfaceEvent, InterfaceStat } from '../model/interface.js';
import type { UsageSink } from '../store/records.js';
import { NO_INTERFACE, UsageLedger } from './ledger.js';
import type { AgentStatus, AgentView, InterfaceUsage, ProcessUsage, UsageQuery } from './types.js';

export interface UsageAgentOptions {
  client: NetworkStatisticsClient;
  /** Where usage is recorded; none = live totals only (`--no-db`). */
  sink?: UsageSink & Partial<UsageQuery>;
  /** Seconds between flushes to the sink (default 10). */
  flushSeconds?: number;
  /** Wall clock in ms (default Date.now); buckets follow it. Injected by tests and --simulate. */
  clock?: () => number;
  /** What the agent knows about its kernel beyond the client's dialect. */
  kernel?: { xnu?: string; macos?: string; simulated?: boolean };
}

function byTotalDesc(a: { rxBytes: number; txBytes: number }, b: { rxBytes: number; txBytes: number }): number {
  return b.rxBytes + b.txBytes - (a.rxBytes + a.txBytes);
}

export class UsageAgent extends EventEmitter implements AgentView {
  /** @internal */
  private readonly client: NetworkStatisticsClient;
  /** @internal */
  private readonly sink?: UsageSink & Partial<UsageQuery>;
  /** @internal */
  private readonly clock: () => number;
  /** @internal */
  private readonly flushMs: number;
  /** @internal */
  private readonly ledger = new UsageLedger();
  /** @internal */
  /** Interfaces from the ifnet provider by index (their counters replace the flow sums). */
  private readonly ifnet = new Map<number, InterfaceStat>();
  /** @internal */
  private readonly kernelInfo: { xnu?: string; macos?: string; simulated?: boolean };
  readonly startedAt: number;
  /** @internal */
  private lastFlush?: number;
  /** @internal */
  private lastFlushAttempt: number;
  /** @internal */
  private stopped = false;

  constructor(opts: UsageAgentOptions) {
    super();
    this.client = opts.client;
    if (opts.sink) this.sink = opts.sink;
    this.clock = opts.clock ?? Date.now;
    this.flushMs = Math.max(0, (opts.flushSeconds ?? 10) * 1000);
    this.kernelInfo = opts.kernel ?? {};
    this.startedAt = this.clock();
    this.lastFlushAttempt = this.startedAt;
    if (this.sink) this.ledger.restore(this.sink.openFlows(), this.startedAt);
    for (const kind of ['added', 'update', 'removed'] as const) {
      this.client.on(kind, (s: Stream) => {
        if (this.stopped) return;
        this.ledger.apply(kind, s, this.clock());
        this.emit('stream', kind, s);
      });
    }
    this.client.on('sweep', () => this.onSweep());
    // The kernel's own per-interface counters (ifnet provider, when subscribed and permitted).
    this.client.on('interface', (ev: InterfaceEvent) => {
      if (this.stopped) return;
      if (ev.change === 'removed') this.ifnet.delete(ev.interface.index);
      else this.ifnet.set(ev.interface.index, ev.interface);
    });
  }

  /** Connect the client if the caller has not (subscribes to its providers). */
  async start(): Promise<void> {
    if (this.client.state === 'idle') await this.client.connect();
  }

  /** @internal */
  private onSweep(): void {
    if (this.stopped) return;
    const now = this.clock();
    this.ledger.updateRates();
    this.emit('poll', now);
    // A clock that jumped back (now < last attempt) also flushes: buckets follow wall time.
    if (this.sink && (now - this.lastFlushAttempt >= this.flushMs || now < this.lastFlushAttempt)) this.flush();
  }

  /** Write everything recorded since the last flush in one transaction. */
  flush(): void {
    if (!this.sink) return;
    const now = this.clock();
    this.lastFlushAttempt = now;
    const batch = this.ledger.takeBatch(now);
    this.sink.flush({ time: now, ...batch });
    this.lastFlush = now;
    this.emit('flush', now);
  }

  /**
   * Stop: one last sweep (bounded by the client's request timeout) so the final counters are
   * recorded, stop the client, final flush. The sink stays open (the caller owns it).
   */
  async stop(opts: { finalSweep?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    if ((opts.finalSweep ?? true) && this.client.state === 'running') {
      try {
        await this.client.sweep();
      } catch {
        // the last sweep is best effort; what was recorded so far is flushed below
      }
    }
    this.client.stop();
    this.stopped = true;
    if (this.sink) this.flush();
  }

  status(): AgentStatus {
    const d = this.client.dialect;
    const kernel: AgentStatus['kernel'] = { dialect: d?.family ?? 'unknown', verified: d?.verified ?? false, simulated: this.kernelInfo.simulated ?? false };
    const xnu = this.kernelInfo.xnu ?? d?.xnu;
    if (xnu !== undefined) kernel.xnu = xnu;
    const macos = this.kernelInfo.macos ?? d?.macos;
    if (macos !== undefined) kernel.macos = macos;
    const st: AgentStatus = {
      startedAt: this.startedAt,
      kernel,
      providers: this.client.providers().map((p) => (p.reason !== undefined ? { name: p.provider, available: p.available, reason: p.reason } : { name: p.provider, available: p.available })),
      drops: { total: this.client.getNumDrops(), byReason: this.client.dropCounts() },
      streams: this.ledger.liveCount,
    };
    if (this.sink) {
      st.db = { path: this.sink.path, sizeBytes: this.sink.sizeBytes() };
      if (this.lastFlush !== undefined) st.db.lastFlush = this.lastFlush;
    }
    return st;
  }

  processes(): ProcessUsage[] {
    return this.ledger
      .groupList()
      .map((g) => {
        const p: ProcessUsage = {
          key: g.key,
          process: g.process,
          rxBytes: g.rxBytes,
          txBytes: g.txBytes,
          rxPackets: g.rxPackets,
          txPackets: g.txPackets,
          flows: g.flows,
          liveFlows: g.liveFlows,
          rxBytesPerSec: g.rxBytesPerSec,
          txBytesPerSec: g.txBytesPerSec,
          lastSeen: g.lastSeen,
        };
        if (g.pid !== undefined) p.pid = g.pid;
        if (g.app !== undefined) p.app = g.app;
        return p;
      })
      .sort(byTotalDesc);
  }

  /**
   * Per interface: the kernel's own counters where the ifnet provider reports the interface
   * (every packet, 64-bit), else the sum of the flows seen on it; bytes of flows without an
   * interface (NO_INTERFACE) are in no interface's totals.
   */
  interfaces(): InterfaceUsage[] {
    const fromIfnet: InterfaceUsage[] = [...this.ifnet.values()].map((i) => ({
      name: i.name ?? `if${i.index}`,
      kind: i.kind,
      rxBytes: i.rxBytes,
      txBytes: i.txBytes,
      rxPackets: i.rxPackets,
      txPackets: i.txPackets,
      source: 'ifnet' as const,
    }));
    const covered = new Set(fromIfnet.map((i) => i.name));
    const fromFlows = this.ledger
      .interfaceList()
      .filter((i) => i.name !== NO_INTERFACE)
      .filter((i) => {
        const m = /^if(\d+)$/.exec(i.name);
        return !(covered.has(i.name) || (m && this.ifnet.has(Number(m[1]))));
      })
      .map((i) => ({ name: i.name, kind: i.kind, rxBytes: i.rxBytes, txBytes: i.txBytes, rxPackets: i.rxPackets, txPackets: i.txPackets, source: 'flows' as const }));
    return [...fromIfnet, ...fromFlows].sort(byTotalDesc);
  }

  streams(): readonly Stream[] {
    return this.ledger.liveStreams();
  }

  store(): UsageQuery | null {
    const s = this.sink;
    return s && typeof s.query === 'function' && typeof s.series === 'function' ? (s as UsageSink & UsageQuery) : null;
  }
}
