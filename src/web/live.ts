/**
 * The live part of the API: per-app rates now (the agent's process groups summed by app), the
 * flows of one app, and the last five minutes of per-app rates kept in memory so a page that
 * opens mid-session draws the whole window at once. One sample per agent poll.
 */
import type { AgentView, ProcessUsage } from '../agent/types.js';
import { streamToJson, type JsonEvent } from '../model/json.js';

export const LIVE_WINDOW_MS = 5 * 60_000;

export interface AppRate {
  /** The responsible app when the kernel names one, else the process name (untrusted text). */
  app: string;
  rxBytesPerSec: number;
  txBytesPerSec: number;
  rxBytes: number;
  txBytes: number;
  liveFlows: number;
  flows: number;
  processes: number;
}

export function appOf(p: ProcessUsage): string {
  return p.app ?? p.process;
}

export function appRates(processes: readonly ProcessUsage[]): AppRate[] {
  const byApp = new Map<string, AppRate>();
  for (const p of processes) {
    const name = appOf(p);
    let a = byApp.get(name);
    if (!a) byApp.set(name, (a = { app: name, rxBytesPerSec: 0, txBytesPerSec: 0, rxBytes: 0, txBytes: 0, liveFlows: 0, flows: 0, processes: 0 }));
    a.rxBytesPerSec += p.rxBytesPerSec;
    a.txBytesPerSec += p.txBytesPerSec;
    a.rxBytes += p.rxBytes;
    a.txBytes += p.txBytes;
    a.liveFlows += p.liveFlows;
    a.flows += p.flows;
    a.processes++;
  }
  return [...byApp.values()].sort((x, y) => y.rxBytes + y.txBytes - (x.rxBytes + x.txBytes));
}

export interface LiveSnapshot {
  time: number;
  streams: number;
  drops: number;
  apps: AppRate[];
  processes: ProcessUsage[];
}

export function liveSnapshot(view: AgentView, time: number): LiveSnapshot {
  const processes = view.processes();
  const st = view.status();
  return { time, streams: st.streams, drops: st.drops.total, apps: appRates(processes), processes };
}

/** The live flows of one app (its processes' pids), as `ntstat json` objects. */
export function appFlows(view: AgentView, app: string, limit = 500): { app: string; flows: JsonEvent[]; truncated: boolean } {
  const pids = new Set<number>();
  const names = new Set<string>();
  for (const p of view.processes()) {
    if (appOf(p) !== app) continue;
    if (p.pid !== undefined) pids.add(p.pid);
    else names.add(p.process);
  }
  const flows: JsonEvent[] = [];
  let truncated = false;
  for (const s of view.streams()) {
    if (s.closed) continue;
    const mine = (s.pid !== undefined && pids.has(s.pid)) || (s.epid !== undefined && s.epid !== s.pid && pids.has(s.epid)) || (s.process !== undefined && names.has(s.process));
    if (!mine) continue;
    if (flows.length >= limit) {
      truncated = true;
      break;
    }
    flows.push(streamToJson('live', s.lastUpdated, s));
  }
  flows.sort((a, b) => (b.counts?.rxBytes ?? 0) + (b.counts?.txBytes ?? 0) - ((a.counts?.rxBytes ?? 0) + (a.counts?.txBytes ?? 0)));
  return { app, flows, truncated };
}

export interface RateSeries {
  stepSeconds: number;
  times: number[];
  series: { key: string; rx: number[]; tx: number[]; /** The sum of every app not shown (its key may also be an app's name). */ other?: boolean }[];
}

/** Per-app rates of the last LIVE_WINDOW_MS, one sample per poll. */
export class LiveHistory {
  private readonly samples: { time: number; rates: Map<string, [number, number]> }[] = [];

  constructor(private readonly windowMs = LIVE_WINDOW_MS) {}

  record(time: number, apps: readonly AppRate[]): void {
    const rates = new Map<string, [number, number]>();
    for (const a of apps) if (a.rxBytesPerSec > 0 || a.txBytesPerSec > 0) rates.set(a.app, [a.rxBytesPerSec, a.txBytesPerSec]);
    this.samples.push({ time, rates });
    while (this.samples.length > 0 && this.samples[0].time < time - this.windowMs) this.samples.shift();
  }

  /**
   * The top `top` apps by bytes over the window, plus "other" for the rest; times in ms (as the store's).
   * `app` restricts it to one app (the drill-down chart).
   */
  series(top = 10, app?: string): RateSeries {
    const sum = new Map<string, number>();
    for (const s of this.samples) for (const [k, [rx, tx]] of s.rates) if (app === undefined || k === app) sum.set(k, (sum.get(k) ?? 0) + rx + tx);
    const keys = [...sum.entries()].sort((a, b) => b[1] - a[1]).map((e) => e[0]);
    const shown = app !== undefined ? [app] : keys.slice(0, top);
    const hasOther = app === undefined && keys.length > top;
    const series: RateSeries['series'] = shown.map((key) => ({ key, rx: [] as number[], tx: [] as number[] }));
    const other = { key: 'other', rx: [] as number[], tx: [] as number[], other: true };
    const index = new Map(shown.map((k, i) => [k, i]));
    for (const s of this.samples) {
      for (const se of series) {
        const r = s.rates.get(se.key);
        se.rx.push(Math.round(r?.[0] ?? 0));
        se.tx.push(Math.round(r?.[1] ?? 0));
      }
      if (hasOther) {
        let rx = 0;
        let tx = 0;
        for (const [k, [r, t]] of s.rates) {
          if (index.has(k)) continue;
          rx += r;
          tx += t;
        }
        other.rx.push(Math.round(rx));
        other.tx.push(Math.round(tx));
      }
    }
    if (hasOther) series.push(other);
    const times = this.samples.map((s) => s.time);
    const stepMs = times.length > 1 ? (times[times.length - 1] - times[0]) / (times.length - 1) : 1000;
    return { stepSeconds: Math.max(0.001, Math.round(stepMs) / 1000), times, series };
  }
}
