/**
 * Grouping scanned buckets into `ntstat usage` rows and chart series (UsageQuery, CONTRACT-agent.md).
 * Day and hour keys are in the local time zone (what "today" means to the user).
 */
import type { UsageRow } from '../agent/types.js';
import type { BucketRow } from './scan.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from './scan.js';

export type UsageBy = 'app' | 'process' | 'pid' | 'interface' | 'day' | 'hour';

export interface DimRow {
  process: string;
  pid: number; // -1: none
  app: string; // '': none
  ifname: string;
  ifkind: string;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

export function localDay(t: number): string {
  const d = new Date(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function localHour(t: number): string {
  const d = new Date(t);
  return `${localDay(t)}T${pad(d.getHours())}:00`;
}

/** Local midnight at or before t. */
export function startOfLocalDay(t: number): number {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

function startOfLocalHour(t: number): number {
  const d = new Date(t);
  d.setMinutes(0, 0, 0);
  return d.getTime();
}

/** The row a bucket belongs to for a grouping (key and the group's own fields). */
function rowFor(by: UsageBy, dim: DimRow, time: number): UsageRow {
  const base = { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, flows: 0 };
  switch (by) {
    case 'process':
      return { key: dim.process, ...base, process: dim.process };
    case 'app': {
      const app = dim.app || dim.process;
      return { key: app, ...base, app };
    }
    case 'pid': {
      const r: UsageRow = { key: dim.pid >= 0 ? `${dim.pid}` : '?', ...base, process: dim.process };
      if (dim.pid >= 0) r.pid = dim.pid;
      r.key = `${r.key}:${dim.process}`;
      return r;
    }
    case 'interface':
      return { key: dim.ifname, ...base, interface: dim.ifname, kind: dim.ifkind };
    case 'day': {
      const t = startOfLocalDay(time);
      return { key: localDay(t), ...base, time: new Date(t).toISOString() };
    }
    case 'hour': {
      const t = startOfLocalHour(time);
      return { key: localHour(t), ...base, time: new Date(t).toISOString() };
    }
  }
}

function add(r: { rxBytes: number; txBytes: number; rxPackets: number; txPackets: number; flows: number }, b: BucketRow): void {
  r.rxBytes += b.rxBytes;
  r.txBytes += b.txBytes;
  r.rxPackets += b.rxPackets;
  r.txPackets += b.txPackets;
  r.flows += b.flows;
}

/** Rows for `by`: largest (rx+tx) first, except day/hour which are in time order. */
export class RowGrouper {
  /** @internal */
  private readonly rows = new Map<string, UsageRow>();
  constructor(/** @internal */ private readonly by: UsageBy, /** @internal */ private readonly dims: (id: number) => DimRow) {}

  add(b: BucketRow): void {
    const dim = this.dims(b.dim);
    const proto = rowFor(this.by, dim, b.time);
    let r = this.rows.get(proto.key);
    if (!r) this.rows.set(proto.key, (r = proto));
    add(r, b);
  }

  result(top?: number): UsageRow[] {
    const rows = [...this.rows.values()];
    if (this.by === 'day' || this.by === 'hour') rows.sort((a, b) => (a.time! < b.time! ? -1 : a.time! > b.time! ? 1 : 0));
    else rows.sort((a, b) => b.rxBytes + b.txBytes - (a.rxBytes + a.txBytes) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return top !== undefined ? rows.slice(0, top) : rows;
  }
}

/** Chart step from the range: minutes up to 6 h, hours up to 14 days, days beyond. */
export function seriesStep(since: number, until: number): number {
  const span = until - since;
  return span <= 6 * HOUR_MS ? MINUTE_MS : span <= 14 * DAY_MS ? HOUR_MS : DAY_MS;
}

export interface Series {
  stepSeconds: number;
  times: number[];
  series: { key: string; rx: number[]; tx: number[] }[];
}

/** Buckets into fixed steps from `since`; the `top` keys by total (default 10). */
export function buildSeries(buckets: BucketRow[], since: number, until: number, step: number, keyOf: (b: BucketRow) => string, top = 10): Series {
  const start = Math.floor(since / step) * step;
  const n = Math.max(0, Math.ceil((until - start) / step));
  const times = Array.from({ length: n }, (_, i) => start + i * step);
  const byKey = new Map<string, { rx: number[]; tx: number[]; total: number }>();
  for (const b of buckets) {
    const i = Math.floor((b.time - start) / step);
    if (i < 0 || i >= n) continue;
    const k = keyOf(b);
    let s = byKey.get(k);
    if (!s) byKey.set(k, (s = { rx: new Array<number>(n).fill(0), tx: new Array<number>(n).fill(0), total: 0 }));
    s.rx[i] += b.rxBytes;
    s.tx[i] += b.txBytes;
    s.total += b.rxBytes + b.txBytes;
  }
  const series = [...byKey.entries()]
    .sort((a, b) => b[1].total - a[1].total || (a[0] < b[0] ? -1 : 1))
    .slice(0, top)
    .map(([key, s]) => ({ key, rx: s.rx, tx: s.tx }));
  return { stepSeconds: step / 1000, times, series };
}
