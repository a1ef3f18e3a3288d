/**
 * What the exporters (Prometheus, OpenTelemetry) publish, computed from the agent: per-process
 * and per-interface counters made monotonic and bounded by MonotonicFold, connection gauges,
 * kernel drops and build facts. No prom-client or OpenTelemetry code here.
 */
import type { Stream } from '../model/stream.js';
import { packageVersion } from '../version.js';
import { MonotonicFold } from './fold.js';

/** The part of the agent (AgentView, CONTRACT-agent.md) the exporters read. */
export interface ExportSource {
  status(): {
    kernel: { xnu?: string; dialect: string; verified: boolean };
    drops: { total: number; byReason: Record<string, number> };
  };
  processes(): readonly {
    key: string;
    process: string;
    pid?: number;
    app?: string;
    rxBytes: number;
    txBytes: number;
    rxPackets: number;
    txPackets: number;
    liveFlows: number;
  }[];
  interfaces(): readonly { name: string; kind: string; rxBytes: number; txBytes: number; rxPackets: number; txPackets: number; source: 'ifnet' | 'flows' }[];
  streams(): readonly Stream[];
}

export interface ExportOptions {
  /** Add `process_id` to the per-process series (`--metrics-pid`). */
  metricsPid?: boolean;
  /** Per-process series kept; the rest are summed under process="other" (default 200). */
  maxProcesses?: number;
  /** Series of processes idle this long stop being exported (default 600 s). */
  metricsTtlSeconds?: number;
  /** Clock in ms (default Date.now); tests pass simulated time. */
  clock?: () => number;
}

/** Counter order in every `values` array below. */
export const COUNTERS = ['rxBytes', 'txBytes', 'rxPackets', 'txPackets'] as const;

export interface ProcessSeries {
  /** process, app and (with metricsPid) process_id; the bucket is {process:"other", app:""}. */
  labels: Readonly<Record<string, string>>;
  values: readonly number[];
  other?: boolean;
}

export interface ExportSnapshot {
  processes: ProcessSeries[];
  interfaces: { device: string; kind: string; values: readonly number[] }[];
  /** Where the interface counters come from: the ifnet provider, flows, or both (per device). */
  interfaceSources: { ifnet: string[]; flows: string[] };
  connections: { provider: string; state: string; count: number }[];
  drops: { reason: string; count: number }[];
  build: { version: string; xnu: string; dialect: string; verified: string };
}

export const OTHER_PROCESS = 'other';

export class ExportState {
  /** @internal */
  private readonly procs: MonotonicFold;
  /** @internal */
  private readonly ifaces = new MonotonicFold({ width: 4 });
  /** @internal */
  private readonly drops = new MonotonicFold({ width: 1 });
  /** @internal */
  private readonly clock: () => number;

  constructor(
    /** @internal */ private readonly source: ExportSource,
    /** @internal */ private readonly opts: ExportOptions = {},
  ) {
    this.clock = opts.clock ?? Date.now;
    this.procs = new MonotonicFold({
      width: 4,
      max: opts.maxProcesses ?? 200,
      ttlMs: (opts.metricsTtlSeconds ?? 600) * 1000,
      rankBy: [0, 1],
    });
  }

  snapshot(): ExportSnapshot {
    const now = this.clock();
    const st = this.source.status();
    const { interfaces, interfaceSources } = this.interfaceSeries(now);
    return {
      processes: this.processSeries(now),
      interfaces,
      interfaceSources,
      connections: this.connections(),
      drops: this.dropSeries(now, st.drops.byReason),
      build: { version: packageVersion(), xnu: st.kernel.xnu ?? '', dialect: st.kernel.dialect, verified: String(st.kernel.verified) },
    };
  }

  // One small method per family: the scrape runs once a second, so V8 optimises these late and
  // one big function was recompiled (at ~0.2 s of compiler time) each time a rare path ran.
  /** @internal */
  private processSeries(now: number): ProcessSeries[] {
    const withPid = this.opts.metricsPid === true;
    this.procs.update(
      now,
      this.source.processes().map((p) => {
        // A real series always has a non-empty app (the process itself when no other app is
        // responsible), so it can never collide with the bucket {process="other", app=""}.
        const process = p.process === '' ? '?' : p.process;
        const labels: Record<string, string> = { process, app: p.app || process };
        if (withPid) labels.process_id = p.pid === undefined ? '' : String(p.pid);
        return {
          key: p.key,
          series: JSON.stringify(labels),
          labels,
          values: [p.rxBytes, p.txBytes, p.rxPackets, p.txPackets],
          live: p.liveFlows > 0,
        };
      }),
    );
    const processes: ProcessSeries[] = this.procs.series().map((s) => ({ labels: s.labels, values: s.values }));
    const otherLabels: Record<string, string> = { process: OTHER_PROCESS, app: '' };
    if (withPid) otherLabels.process_id = '';
    processes.push({ labels: otherLabels, values: this.procs.other(), other: true });
    return processes;
  }

  /** @internal */
  private interfaceSeries(now: number): Pick<ExportSnapshot, 'interfaces' | 'interfaceSources'> {
    const ifs = this.source.interfaces();
    const kindOf = new Map(ifs.map((i) => [i.name, i.kind]));
    const interfaceSources = { ifnet: [] as string[], flows: [] as string[] };
    for (const i of ifs) interfaceSources[i.source === 'ifnet' ? 'ifnet' : 'flows'].push(i.name);
    this.ifaces.update(
      now,
      ifs.map((i) => ({ key: i.name, series: i.name, labels: { device: i.name }, values: [i.rxBytes, i.txBytes, i.rxPackets, i.txPackets], live: true })),
    );
    const interfaces = this.ifaces.series().map((s) => ({ device: s.series, kind: kindOf.get(s.series) ?? 'unknown', values: s.values }));
    return { interfaces, interfaceSources };
  }

  /** @internal */
  private dropSeries(now: number, byReason: Record<string, number>): ExportSnapshot['drops'] {
    this.drops.update(
      now,
      Object.entries(byReason).map(([reason, n]) => ({ key: reason, series: reason, labels: { reason }, values: [n], live: true })),
    );
    return this.drops.series().map((s) => ({ reason: s.series, count: s.values[0] }));
  }

  /**
   * Live streams by provider and state, in order of first appearance. A few pairs exist, so a
   * scan of them (strings from constant tables: compared by pointer) beats keying 2 000 streams.
   * @internal
   */
  private connections(): ExportSnapshot['connections'] {
    const out: ExportSnapshot['connections'] = [];
    let last: ExportSnapshot['connections'][number] | undefined;
    for (const s of this.source.streams()) {
      if (s.closed || s.provider === 'route' || s.provider === 'ifnet' || s.provider === 'sysinfo') continue;
      const provider = s.provider;
      const state = s.listener ? 'LISTEN' : s.state ?? 'none';
      if (last === undefined || last.state !== state || last.provider !== provider) {
        last = undefined;
        for (const c of out) {
          if (c.state === state && c.provider === provider) {
            last = c;
            break;
          }
        }
        if (last === undefined) out.push((last = { provider, state, count: 0 }));
      }
      last.count++;
    }
    return out;
  }
}
