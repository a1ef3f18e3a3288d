/**
 * Pure rendering of `ntstat top`: a model of the table in, screen lines out. No I/O, so it is
 * tested without a terminal; the controller (top.ts) owns the terminal.
 */
import type { Stream } from '../model/stream.js';
import type { ProcessTotal } from '../model/process-totals.js';
import { endpointAddressText, type Endpoint } from '../protocol/sockaddr.js';
import { escapeTerminal } from './escape.js';

export type TopGrouping = 'stream' | 'process' | 'app';
export type TopSort = 'rate' | 'total' | 'pid' | 'name';
export const SORTS: readonly TopSort[] = ['rate', 'total', 'pid', 'name'];
export const GROUPINGS: readonly TopGrouping[] = ['stream', 'process', 'app'];

export interface TopModel {
  streams: readonly Stream[];
  /** Totals for the current grouping (process/app). */
  totals: readonly ProcessTotal[];
  grouping: TopGrouping;
  sort: TopSort;
  paused: boolean;
  filter: string;
  /** Text being typed after '/', or undefined when not editing. */
  editing?: string;
  header: string;
  drops: number;
  raw: boolean;
  color: boolean;
  columns: number;
  rows: number;
}

const UNITS = ['B', 'K', 'M', 'G', 'T'];
export function humanBytes(n: number, raw: boolean): string {
  if (raw) return String(Math.round(n));
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)}B` : `${v < 10 ? v.toFixed(1) : Math.round(v)}${UNITS[u]}`;
}

function fit(text: string, width: number, right = false): string {
  // Width in code points; untrusted text is escaped before it is measured.
  const chars = [...text];
  if (chars.length > width) return width <= 1 ? chars.slice(0, width).join('') : chars.slice(0, width - 1).join('') + '…';
  const pad = ' '.repeat(width - chars.length);
  return right ? pad + text : text + pad;
}

function ep(e: Endpoint | undefined): string {
  if (!e) return '*';
  const a = endpointAddressText(e);
  return e.family === 6 ? `[${escapeTerminal(a)}]:${e.port}` : `${escapeTerminal(a)}:${e.port}`;
}

function rate(s: { rxBytesPerSec?: number; txBytesPerSec?: number }): number {
  return (s.rxBytesPerSec ?? 0) + (s.txBytesPerSec ?? 0);
}

function matches(filter: string, ...fields: (string | number | undefined)[]): boolean {
  if (!filter) return true;
  const f = filter.toLowerCase();
  return fields.some((x) => x !== undefined && String(x).toLowerCase().includes(f));
}

export function sortStreams(list: Stream[], sort: TopSort): Stream[] {
  const total = (s: Stream) => (s.counts ? s.counts.rxBytes + s.counts.txBytes : 0);
  const cmp: Record<TopSort, (a: Stream, b: Stream) => number> = {
    rate: (a, b) => rate(b) - rate(a) || total(b) - total(a),
    total: (a, b) => total(b) - total(a),
    pid: (a, b) => (a.pid ?? 0) - (b.pid ?? 0),
    name: (a, b) => (a.process ?? '').localeCompare(b.process ?? ''),
  };
  return list.sort((a, b) => cmp[sort](a, b) || (a.srcref < b.srcref ? -1 : a.srcref > b.srcref ? 1 : 0));
}

export function sortTotals(list: ProcessTotal[], sort: TopSort): ProcessTotal[] {
  const cmp: Record<TopSort, (a: ProcessTotal, b: ProcessTotal) => number> = {
    rate: (a, b) => rate(b) - rate(a) || b.rxBytes + b.txBytes - (a.rxBytes + a.txBytes),
    total: (a, b) => b.rxBytes + b.txBytes - (a.rxBytes + a.txBytes),
    pid: (a, b) => (a.pid ?? 0) - (b.pid ?? 0),
    name: (a, b) => (a.process ?? '').localeCompare(b.process ?? ''),
  };
  return list.sort((a, b) => cmp[sort](a, b) || a.key.localeCompare(b.key));
}

/** The screen as lines, each at most `columns` wide. */
export function renderTop(m: TopModel): string[] {
  const width = Math.max(20, m.columns);
  const bold = (s: string) => (m.color ? `\x1b[1m${s}\x1b[0m` : s);
  const inverse = (s: string) => (m.color ? `\x1b[7m${s}\x1b[0m` : s);
  const lines: string[] = [];
  const status = [
    m.header,
    `by ${m.grouping}`,
    `sort ${m.sort}`,
    m.filter ? `filter "${escapeTerminal(m.filter)}"` : '',
    m.paused ? 'PAUSED' : '',
    m.drops ? `drops ${m.drops}` : '',
  ].filter(Boolean);
  lines.push(bold(fit(status.join('  '), width)));
  const rowsLeft = Math.max(0, m.rows - 3);
  const n = (v: number) => humanBytes(v, m.raw);
  if (m.grouping === 'stream') {
    const fixed = 7 + 1 + 5 + 1 + 9 + 1 + 12 + 1 + 8 + 1 + 8 + 1 + 8 + 1 + 8 + 1 + 7;
    const addrW = Math.max(10, Math.floor((width - fixed - 16) / 2));
    const procW = Math.max(6, width - fixed - 2 * addrW - 2);
    const head = [fit('PID', 7, true), fit('PROCESS', procW), fit('PROTO', 5), fit('LOCAL', addrW), fit('REMOTE', addrW), fit('IF', 9), fit('STATE', 12), fit('RX/s', 8, true), fit('TX/s', 8, true), fit('RX', 8, true), fit('TX', 8, true), fit('RTT', 7, true)].join(' ');
    lines.push(inverse(fit(head, width)));
    const list = sortStreams(
      m.streams.filter((s) => matches(m.filter, s.process, s.pid, s.local?.address, s.remote?.address, s.local?.port, s.remote?.port, s.state)),
      m.sort,
    );
    for (const s of list.slice(0, rowsLeft)) {
      const c = s.counts;
      const row = [
        fit(String(s.pid ?? ''), 7, true),
        fit(escapeTerminal(s.process ?? '?'), procW),
        fit(s.provider + (s.userland && s.provider === 'tcp' ? '*' : ''), 5),
        fit(ep(s.local), addrW),
        fit(ep(s.remote), addrW),
        fit(s.interface, 9),
        fit(s.state ?? '', 12),
        fit(n(s.rxBytesPerSec ?? 0), 8, true),
        fit(n(s.txBytesPerSec ?? 0), 8, true),
        fit(c ? n(c.rxBytes) : '', 8, true),
        fit(c ? n(c.txBytes) : '', 8, true),
        fit(c && c.avgRttMs > 0 ? `${c.avgRttMs.toFixed(1)}ms` : '', 7, true),
      ].join(' ');
      lines.push(fit(row, width));
    }
    if (list.length > rowsLeft) lines.push(fit(`… ${list.length - rowsLeft} more`, width));
  } else {
    const procW = Math.max(8, width - (7 + 1 + 9 + 1 + 9 + 1 + 9 + 1 + 9 + 1 + 9 + 1));
    const head = [fit('PID', 7, true), fit(m.grouping === 'app' ? 'APP (responsible process)' : 'PROCESS', procW), fit('FLOWS', 9, true), fit('RX/s', 9, true), fit('TX/s', 9, true), fit('RX', 9, true), fit('TX', 9, true)].join(' ');
    lines.push(inverse(fit(head, width)));
    const list = sortTotals(m.totals.filter((t) => matches(m.filter, t.process, t.pid)), m.sort);
    for (const t of list.slice(0, rowsLeft)) {
      const row = [
        fit(String(t.pid ?? ''), 7, true),
        fit(escapeTerminal(t.process ?? '?'), procW),
        fit(`${t.liveStreams}/${t.totalStreams}`, 9, true),
        fit(n(t.rxBytesPerSec), 9, true),
        fit(n(t.txBytesPerSec), 9, true),
        fit(n(t.rxBytes), 9, true),
        fit(n(t.txBytes), 9, true),
      ].join(' ');
      lines.push(fit(row, width));
    }
    if (list.length > rowsLeft) lines.push(fit(`… ${list.length - rowsLeft} more`, width));
  }
  while (lines.length < m.rows - 1) lines.push('');
  const help = m.editing !== undefined ? `/${escapeTerminal(m.editing)}▏ (Enter apply, Esc cancel)` : 'q quit  s sort  g group  p pause  / filter';
  lines.length = Math.max(1, m.rows - 1);
  lines.push(fit(help, width));
  return lines;
}
