/**
 * Pure rendering of `ntstat top`: a model of the table in, screen lines out. No I/O, so it is
 * tested without a terminal; the controller (top.ts) owns the terminal.
 */
import type { Stream } from '../model/stream.js';
import type { ProcessTotal } from '../model/process-totals.js';
import { endpointAddressText, isEndpoint, type Endpoint, type OtherSockaddr } from '../protocol/sockaddr.js';
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

/** Terminal columns of one code point: East Asian wide and emoji take two (wcwidth, simplified). */
function charWidth(cp: number): number {
  if (cp < 0x1100) return 1;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch.codePointAt(0)!);
  return w;
}

/** Pad or cut `text` to exactly `width` terminal columns (untrusted text is escaped first). */
export function fit(text: string, width: number, right = false): string {
  let w = 0;
  let out = '';
  const total = displayWidth(text);
  if (total > width) {
    for (const ch of text) {
      const cw = charWidth(ch.codePointAt(0)!);
      if (w + cw > width - 1) break;
      out += ch;
      w += cw;
    }
    return out + '…' + ' '.repeat(Math.max(0, width - 1 - w));
  }
  const pad = ' '.repeat(width - total);
  return right ? pad + text : text + pad;
}

function ep(e: Endpoint | OtherSockaddr | undefined, withPort = true): string {
  if (!e) return '*';
  if (!isEndpoint(e)) return e.saFamily === 18 ? 'link' : `af${e.saFamily}`;
  if (!withPort) return escapeTerminal(endpointAddressText(e));
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
  // Most specific state first, so a narrow terminal still shows it.
  const status = [
    m.paused ? 'PAUSED' : '',
    m.filter ? `filter "${escapeTerminal(m.filter)}"` : '',
    `by ${m.grouping}`,
    `sort ${m.sort}`,
    m.drops ? `drops ${m.drops}` : '',
    m.header,
  ].filter(Boolean);
  lines.push(bold(fit(status.join('  '), width)));
  const rowsLeft = Math.max(0, m.rows - 3);
  const n = (v: number) => humanBytes(v, m.raw);
  if (m.grouping === 'stream') {
    type Col = { title: string; width: number; right?: boolean; cell: (s: Stream) => string };
    const fixedCols: Col[] = [
      { title: 'PID', width: 7, right: true, cell: (s) => String(s.pid ?? '') },
      { title: 'PROTO', width: 5, cell: (s) => s.provider + (s.userland && s.provider === 'tcp' ? '*' : '') },
      { title: 'IF', width: 8, cell: (s) => s.interface },
      { title: 'STATE', width: 11, cell: (s) => s.state ?? '' },
      { title: 'RX/s', width: 7, right: true, cell: (s) => n(s.rxBytesPerSec ?? 0) },
      { title: 'TX/s', width: 7, right: true, cell: (s) => n(s.txBytesPerSec ?? 0) },
      { title: 'RX', width: 7, right: true, cell: (s) => (s.counts ? n(s.counts.rxBytes) : '') },
      { title: 'TX', width: 7, right: true, cell: (s) => (s.counts ? n(s.counts.txBytes) : '') },
      {
        title: 'RTT',
        width: 7,
        right: true,
        cell: (s) => {
          const r = s.counts?.avgRttMs ?? 0;
          return r > 0 ? (r >= 100 ? `${Math.round(r)}ms` : `${r.toFixed(1)}ms`) : '';
        },
      },
    ];
    // Narrow terminals drop the least useful columns first, keeping room for names and addresses.
    const dropOrder = ['RTT', 'TX', 'RX', 'IF', 'STATE'];
    let cols = fixedCols;
    const fixedWidth = (cs: Col[]) => cs.reduce((a, c) => a + c.width + 1, 0) + 2;
    for (const t of dropOrder) {
      if (width - fixedWidth(cols) >= 10 + 2 * 16) break;
      cols = cols.filter((c) => c.title !== t);
    }
    const avail = Math.max(24, width - fixedWidth(cols));
    const procW = Math.min(24, Math.max(6, Math.floor(avail / 4)));
    const addrW = Math.max(8, Math.floor((avail - procW) / 2));
    const layout = (s: Stream | undefined) => {
      const route = s?.provider === 'route';
      const parts: string[] = [];
      for (const c of cols) {
        parts.push(fit(s ? c.cell(s) : c.title, c.width, c.right));
        if (c.title === 'PID') parts.push(fit(s ? (route ? '(route)' : escapeTerminal(s.process ?? '?')) : 'PROCESS', procW));
        if (c.title === 'PROTO') {
          parts.push(fit(s ? (route ? ep(s.descriptor?.dst as Endpoint | OtherSockaddr | undefined, false) : ep(s.local)) : 'LOCAL', addrW));
          parts.push(fit(s ? (route ? ep(s.descriptor?.gateway as Endpoint | OtherSockaddr | undefined, false) : ep(s.remote)) : 'REMOTE', addrW));
        }
      }
      return parts.join(' ');
    };
    lines.push(inverse(fit(layout(undefined), width)));
    const list = sortStreams(
      m.streams.filter((s) => matches(m.filter, s.process, s.pid, s.local?.address, s.remote?.address, s.local?.port, s.remote?.port, s.state)),
      m.sort,
    );
    const shown = list.length > rowsLeft ? Math.max(0, rowsLeft - 1) : list.length;
    for (const s of list.slice(0, shown)) lines.push(fit(layout(s), width));
    if (list.length > shown) lines.push(fit(`… ${list.length - shown} more`, width));
  } else {
    const procW = Math.max(8, width - (7 + 1 + 9 + 1 + 9 + 1 + 9 + 1 + 9 + 1 + 9 + 1));
    const head = [fit('PID', 7, true), fit(m.grouping === 'app' ? 'APP (responsible process)' : 'PROCESS', procW), fit('FLOWS', 9, true), fit('RX/s', 9, true), fit('TX/s', 9, true), fit('RX', 9, true), fit('TX', 9, true)].join(' ');
    lines.push(inverse(fit(head, width)));
    const list = sortTotals(m.totals.filter((t) => matches(m.filter, t.process, t.pid)), m.sort);
    const shown = list.length > rowsLeft ? Math.max(0, rowsLeft - 1) : list.length;
    for (const t of list.slice(0, shown)) {
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
    if (list.length > shown) lines.push(fit(`… ${list.length - shown} more`, width));
  }
  while (lines.length < m.rows - 1) lines.push('');
  const help = m.editing !== undefined ? `/${escapeTerminal(m.editing)}▏ (Enter apply, Esc cancel)` : 'q quit  s sort  g group  p pause  / filter';
  lines.length = Math.max(1, m.rows - 1);
  lines.push(fit(help, width));
  return lines;
}
