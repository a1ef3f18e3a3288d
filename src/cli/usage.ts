/**
 * `ntstat usage`: totals from the usage database, largest first. Human units by default, exact
 * numbers with --json (one object per line) or --csv. Reads while an agent records (WAL).
 */
import { homedir } from 'node:os';
import { NtstatError } from '../errors.js';
import type { UsageRow } from '../agent/types.js';
import type { CliIo } from './io.js';
import type { CliOptions, ExtraOptions } from './options.js';
import { escapeTerminal } from './escape.js';
import { parseUsageTime, type UsageRange } from './usage-time.js';

export const USAGE_OPTIONS: ExtraOptions = {
  db: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  top: { type: 'string' },
  csv: { type: 'boolean' },
  flows: { type: 'boolean' },
  app: { type: 'string' },
};

const BY = ['app', 'process', 'pid', 'interface', 'day', 'hour'] as const;
type By = (typeof BY)[number];

export interface UsageArgs extends UsageRange {
  db?: string;
  by: By;
  top?: number;
  format: 'text' | 'json' | 'csv';
}

export function usageArgs(o: CliOptions, now: number): UsageArgs {
  const by = (o.by ?? 'app') as By;
  if (o.extra.flows && o.by !== undefined) throw new NtstatError('ERR_NTSTAT_USAGE', '--flows lists flows one by one: --by does not apply');
  if (!o.extra.flows && (o.process !== undefined || o.extra.app !== undefined)) throw new NtstatError('ERR_NTSTAT_USAGE', '--process and --app apply to --flows');
  if (!BY.includes(by)) throw new NtstatError('ERR_NTSTAT_USAGE', `--by expects one of ${BY.join(', ')}`);
  const e = o.extra;
  if (e.csv && o.json) throw new NtstatError('ERR_NTSTAT_USAGE', 'give --json or --csv, not both');
  let top: number | undefined;
  if (e.top !== undefined) {
    top = Number(e.top);
    if (!Number.isInteger(top) || top < 1) throw new NtstatError('ERR_NTSTAT_USAGE', `--top expects an integer >= 1, got ${JSON.stringify(e.top)}`);
  }
  const range = parseUsageTime(typeof e.since === 'string' ? e.since : undefined, typeof e.until === 'string' ? e.until : undefined, now);
  const a: UsageArgs = { ...range, by, format: o.json ? 'json' : e.csv ? 'csv' : 'text' };
  if (top !== undefined) a.top = top;
  if (typeof e.db === 'string') a.db = e.db;
  return a;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** 1234567 -> "1.2 MB" (decimal units, as macOS shows sizes). */
export function humanBytes(n: number): string {
  let i = 0;
  let v = n;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} B` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${UNITS[i]}`;
}

export function csvField(v: unknown): string {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const CSV_COLUMNS = ['key', 'rxBytes', 'txBytes', 'rxPackets', 'txPackets', 'flows', 'process', 'pid', 'app', 'interface', 'kind', 'time'] as const;

export function formatUsage(rows: UsageRow[], a: UsageArgs): string {
  if (a.format === 'json') return rows.map((r) => JSON.stringify(r) + '\n').join('');
  if (a.format === 'csv') return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => csvField(r[c])).join(','))].join('\n') + '\n';
  const head = a.by.toUpperCase();
  const lines = rows.map((r) => {
    const label = escapeTerminal(a.by === 'interface' ? `${r.key} (${r.kind})` : a.by === 'app' ? r.key : r.key);
    return `${label.padEnd(32)} ${humanBytes(r.rxBytes).padStart(9)} ${humanBytes(r.txBytes).padStart(9)} ${humanBytes(r.rxBytes + r.txBytes).padStart(9)} ${String(r.flows).padStart(8)}`;
  });
  const total = rows.reduce((t, r) => ({ rx: t.rx + r.rxBytes, tx: t.tx + r.txBytes }), { rx: 0, tx: 0 });
  return [`${head.padEnd(32)} ${'RX'.padStart(9)} ${'TX'.padStart(9)} ${'TOTAL'.padStart(9)} ${'FLOWS'.padStart(8)}`, ...lines, `${'(shown)'.padEnd(32)} ${humanBytes(total.rx).padStart(9)} ${humanBytes(total.tx).padStart(9)} ${humanBytes(total.rx + total.tx).padStart(9)}`].join('\n') + '\n';
}

export async function runUsage(o: CliOptions, io: CliIo, now = Date.now()): Promise<number> {
  const a = usageArgs(o, now);
  const { UsageStore, defaultUsageDbPath } = await import('../store/usage-store.js');
  const path = a.db ?? defaultUsageDbPath(io.env, io.platform, io.env.HOME ?? homedir());
  const store = await UsageStore.open(path);
  try {
    if (o.extra.flows) {
      const { flowFilter, formatFlows } = await import('./usage-flows.js');
      const rows = store.flows({ since: a.since, until: a.until, order: a.top !== undefined ? 'largest' : 'newest', ...(a.top !== undefined ? { limit: a.top } : {}), ...flowFilter(o) });
      io.stdout.write(formatFlows(rows, a.format));
    } else io.stdout.write(formatUsage(store.query({ since: a.since, until: a.until, by: a.by, ...(a.top !== undefined ? { top: a.top } : {}) }), a));
  } finally {
    store.close();
  }
  return 0;
}
