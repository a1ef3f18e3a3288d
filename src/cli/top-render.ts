/**
 * Pure rendering of `ntstat top`: a model of the table in, screen lines out. No I/O, so it is
 * tested without a terminal; the controller (top.ts) owns the terminal.
 *
 * Two modes: a screen (TTY: exactly `rows` lines of at most `columns` columns, scrollable, with
 * the key hint) and plain text (a pipe or a snapshot: every row, nothing cut unless COLUMNS asks
 * for a width, no padding, no key hint). Columns get the width their content needs; when the
 * width is short, optional columns go first, then the process name shrinks, addresses last.
 */
import type { Stream } from '../model/stream.js';
import { domainText } from '../model/domain.js';
import type { ProcessTotal } from '../model/process-totals.js';
import { escapeTerminal } from './escape.js';
import { displayWidth, fit } from './text-width.js';
import { endpointText, routeText } from './endpoint-text.js';
import { SORTED_COLUMN, firstInOrder, streamOrder, streamPrimary, totalOrder, type SortKey } from './sort.js';
import { UNITS_LEGEND, formatBytes, formatRate } from './units.js';
import type { InterfaceStat } from '../model/interface.js';
import { interfaceCols, interfaceOrder } from './top-interfaces.js';

export { displayWidth, fit } from './text-width.js';
export type TopGrouping = 'stream' | 'process' | 'app' | 'interface';
/** @deprecated use SortKey */
export type TopSort = SortKey;
export const GROUPINGS: readonly TopGrouping[] = ['stream', 'process', 'app', 'interface'];

export const FLOWS_LEGEND = 'FLOWS = open/seen since start';

export interface TopModel {
  streams: readonly Stream[];
  /** Totals for the current grouping (process/app). */
  totals: readonly ProcessTotal[];
  /** Interfaces from the ifnet provider (grouping 'interface'). */
  interfaces?: readonly InterfaceStat[];
  /** Shown in the status line (e.g. why the ifnet provider is unavailable). */
  note?: string;
  grouping: TopGrouping;
  sort: SortKey;
  reverse?: boolean;
  paused: boolean;
  filter: string;
  /** Text being typed after '/', or undefined when not editing. */
  editing?: string;
  header: string;
  drops: number;
  raw: boolean;
  color: boolean;
  /** Width in columns (Infinity: plain text with no width limit). */
  columns: number;
  rows: number;
  /** First row shown (screen mode); clamped to the table. */
  scroll?: number;
  /** Plain text: every row, no padding, no key hint (pipes, --once, -L). */
  plain?: boolean;
  /** Host name for an address, when --resolve found one. */
  hostOf?: (address: string) => string | undefined;
}

/** Kept for callers of the previous API: IEC units now (see units.ts). */
export function humanBytes(n: number, raw: boolean): string {
  return formatBytes(n, raw);
}

interface Col<T> {
  title: string;
  right?: boolean;
  /** Shrinks first (the process name); addresses shrink last. */
  flex?: 'name' | 'address';
  /** Dropped when the width is short, lowest first. */
  drop?: number;
  /** The sort keys this column shows. */
  sorts?: SortKey[];
  cell(row: T): string;
}

function matches(filter: string, ...fields: (string | number | undefined)[]): boolean {
  if (!filter) return true;
  const f = filter.toLowerCase();
  return fields.some((x) => x !== undefined && String(x).toLowerCase().includes(f));
}

function rtt(s: Stream): string {
  const r = s.counts?.avgRttMs ?? 0;
  return r > 0 ? (r >= 100 ? `${Math.round(r)}ms` : `${r.toFixed(1)}ms`) : '';
}

function streamCols(m: TopModel, domains: boolean): Col<Stream>[] {
  const n = (v: number) => formatBytes(v, m.raw);
  const r = (v: number) => formatRate(v, m.raw);
  const host = m.hostOf;
  return [
    { title: 'PID', right: true, sorts: ['pid'], cell: (s) => String(s.pid ?? '') },
    { title: 'PROCESS', flex: 'name', sorts: ['name'], cell: (s) => (s.provider === 'route' ? '(route)' : escapeTerminal(s.process ?? '?')) },
    { title: 'PROTO', cell: (s) => s.provider + (s.userland && s.provider === 'tcp' ? '*' : '') },
    { title: 'LOCAL', flex: 'address', cell: (s) => (s.provider === 'route' ? routeText(s.descriptor?.dst) : endpointText(s.local)) },
    { title: 'REMOTE', flex: 'address', cell: (s) => (s.provider === 'route' ? routeText(s.descriptor?.gateway) : endpointText(s.remote, host)) },
    // Domain names (privileged, 12.1+, §6): only when some stream has one; dropped first when narrow.
    ...(domains ? [{ title: 'DOMAIN', drop: 6, cell: (s: Stream) => (s.domain ? escapeTerminal(domainText(s.domain)) : '') }] : []),
    { title: 'IF', drop: 2, cell: (s) => (s.ifname !== undefined ? escapeTerminal(s.ifname) : s.interface) },
    { title: 'STATE', drop: 1, cell: (s) => s.state ?? '' },
    { title: 'RX/s', right: true, sorts: ['rate', 'rx'], cell: (s) => r(s.rxBytesPerSec ?? 0) },
    { title: 'TX/s', right: true, sorts: ['rate', 'tx'], cell: (s) => r(s.txBytesPerSec ?? 0) },
    { title: 'RX', right: true, drop: 4, sorts: ['total'], cell: (s) => (s.counts ? n(s.counts.rxBytes) : '') },
    { title: 'TX', right: true, drop: 3, sorts: ['total'], cell: (s) => (s.counts ? n(s.counts.txBytes) : '') },
    { title: 'RTT', right: true, drop: 5, cell: rtt },
  ];
}

function totalCols(m: TopModel): Col<ProcessTotal>[] {
  const n = (v: number) => formatBytes(v, m.raw);
  const r = (v: number) => formatRate(v, m.raw);
  return [
    { title: 'PID', right: true, sorts: ['pid'], cell: (t) => String(t.pid ?? '') },
    { title: m.grouping === 'app' ? 'APP (responsible process)' : 'PROCESS', flex: 'name', sorts: ['name'], cell: (t) => escapeTerminal(t.process ?? '?') },
    { title: 'FLOWS', right: true, cell: (t) => `${t.liveStreams}/${t.totalStreams}` },
    { title: 'RX/s', right: true, sorts: ['rate', 'rx'], cell: (t) => r(t.rxBytesPerSec) },
    { title: 'TX/s', right: true, sorts: ['rate', 'tx'], cell: (t) => r(t.txBytesPerSec) },
    { title: 'RX', right: true, drop: 2, sorts: ['total'], cell: (t) => n(t.rxBytes) },
    { title: 'TX', right: true, drop: 1, sorts: ['total'], cell: (t) => n(t.txBytes) },
  ];
}

/** Widths for `cols` given the rows' cells and the available width (see the module comment). */
function layout(titles: string[], cells: string[][], cols: Col<never>[], width: number): { keep: number[]; widths: number[] } {
  let keep = cols.map((_, i) => i);
  const natural = cols.map((_, i) => Math.max(displayWidth(titles[i]), ...cells.map((row) => displayWidth(row[i]))));
  const total = (idx: number[], w: number[]) => idx.reduce((a, i) => a + w[i], 0) + Math.max(0, idx.length - 1);
  const widths = [...natural];
  const droppable = cols.map((c, i) => [c.drop ?? 0, i] as const).filter(([d]) => d > 0).sort((a, b) => b[0] - a[0]);
  for (const [, i] of droppable) {
    if (total(keep, widths) <= width) break;
    keep = keep.filter((k) => k !== i);
  }
  for (const kind of ['name', 'address'] as const) {
    const flex = keep.filter((i) => cols[i].flex === kind);
    const min = kind === 'name' ? 8 : 12;
    while (total(keep, widths) > width && flex.some((i) => widths[i] > min)) {
      const widest = flex.reduce((a, b) => (widths[b] > widths[a] ? b : a));
      widths[widest]--;
    }
  }
  return { keep, widths };
}

function renderRows<T>(m: TopModel, cols: Col<T>[], rows: T[], totalRow: T | undefined, width: number): { head: string; body: string[]; total?: string } {
  const mark = m.reverse ? '▲' : '▼';
  const titles = cols.map((c) => (c.sorts?.includes(m.sort) ? `${c.title}${mark}` : c.title));
  const all = totalRow ? [...rows, totalRow] : rows;
  const cells = all.map((row) => cols.map((c) => c.cell(row)));
  const { keep, widths } = layout(titles, cells, cols as Col<never>[], width);
  const line = (texts: string[]) => {
    const out = keep.map((i) => fit(texts[i], widths[i], cols[i].right)).join(' ');
    return m.plain ? out.trimEnd() : out;
  };
  const body = cells.slice(0, rows.length).map(line);
  return { head: line(titles), body, ...(totalRow ? { total: line(cells[cells.length - 1]) } : {}) };
}

function sum<T>(list: readonly T[], f: (x: T) => number): number {
  return list.reduce((a, x) => a + f(x), 0);
}

/** The screen as lines: each at most `columns` wide (screen mode), or the whole table (plain). */
export function renderTop(m: TopModel): string[] {
  const width = m.plain ? m.columns : Math.max(20, m.columns);
  const bold = (s: string) => (m.color ? `\x1b[1m${s}\x1b[0m` : s);
  const inverse = (s: string) => (m.color ? `\x1b[7m${s}\x1b[0m` : s);
  const cut = (s: string) => (Number.isFinite(width) && displayWidth(s) > width ? fit(s, width) : s);
  const pad = (s: string) => (m.plain ? cut(s) : fit(s, width));

  let table: { head: string; body: string[]; total?: string };
  let count: number;
  if (m.grouping === 'stream') {
    const f = m.filter;
    const list = f ? m.streams.filter((s) => matches(f, s.process, s.pid, s.domain?.name, s.local?.address, s.remote?.address, s.local?.port, s.remote?.port, s.state, s.remote ? m.hostOf?.(s.remote.address) : undefined)) : m.streams;
    count = list.length;
    let rx = 0;
    let tx = 0;
    let rxBytes = 0;
    let txBytes = 0;
    // One pass over every stream for the totals and (unfiltered) whether any has a domain name:
    // a frame reads thousands of streams, each pass costs cache misses (issue 17).
    let domains = false;
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      rx += s.rxBytesPerSec ?? 0;
      tx += s.txBytesPerSec ?? 0;
      const c = s.counts;
      if (c) {
        rxBytes += c.rxBytes ?? 0;
        txBytes += c.txBytes ?? 0;
      }
      if (s.domain) domains = true;
    }
    // The DOMAIN column depends on every stream, not only the filtered ones.
    if (f) domains = m.streams.some((s) => s.domain);
    const tot = {
      id: '', srcref: 0n, provider: 'tcp', providerKind: 'tcp', providerId: 0, userland: false, interface: 'unknown', listener: false, failed: false,
      firstSeen: 0, lastUpdated: 0, closed: false, process: `TOTAL (${list.length} flows)`,
      rxBytesPerSec: rx, txBytesPerSec: tx,
      counts: { rxBytes, txBytes },
    } as unknown as Stream;
    table = renderRows(m, streamCols(m, domains), visible(m, list, streamOrder(m.sort, m.reverse), streamPrimary(m.sort, m.reverse)), tot, width);
  } else if (m.grouping === 'interface') {
    const list = (m.interfaces ?? []).filter((i) => matches(m.filter, i.name, i.index, i.kind));
    count = list.length;
    const tot: InterfaceStat = {
      id: '', index: 0, name: `TOTAL (${list.length} interfaces)`, kind: 'unknown', link: { type: 'none' }, firstSeen: 0, lastUpdated: 0, closed: false,
      rxBytes: sum(list, (i) => i.rxBytes), txBytes: sum(list, (i) => i.txBytes), rxPackets: sum(list, (i) => i.rxPackets), txPackets: sum(list, (i) => i.txPackets),
      rxBytesPerSec: sum(list, (i) => i.rxBytesPerSec ?? 0), txBytesPerSec: sum(list, (i) => i.txBytesPerSec ?? 0),
    };
    const cols = interfaceCols(m.raw);
    // The total row has no index, kind or link of its own.
    const blankTotal = cols.map((c) => (c.title === 'INDEX' || c.title === 'KIND' || c.title === 'LINK' ? { ...c, cell: (i: InterfaceStat) => (i === tot ? '' : c.cell(i)) } : c));
    table = renderRows(m, blankTotal, visible(m, list, interfaceOrder(m.sort, m.reverse)), tot, width);
  } else {
    const f = m.filter;
    const list = f ? m.totals.filter((t) => matches(f, t.process, t.pid)) : m.totals;
    count = list.length;
    const tot = {
      key: '', process: `TOTAL (${list.length} processes)`, liveStreams: sum(list, (t) => t.liveStreams), totalStreams: sum(list, (t) => t.totalStreams),
      rxBytes: sum(list, (t) => t.rxBytes), txBytes: sum(list, (t) => t.txBytes),
      rxBytesPerSec: sum(list, (t) => t.rxBytesPerSec), txBytesPerSec: sum(list, (t) => t.txBytesPerSec),
    } as unknown as ProcessTotal;
    table = renderRows(m, totalCols(m), visible(m, list, totalOrder(m.sort, m.reverse)), tot, width);
  }
  const first = m.plain ? 0 : clampScroll(m, count);
  const status = [
    m.paused ? 'PAUSED' : '',
    m.filter ? `filter "${escapeTerminal(m.filter)}"` : '',
    `by ${m.grouping}`,
    `sort ${m.sort}${m.reverse ? ' reversed' : ''}`,
    !m.plain && count > table.body.length ? `rows ${count === 0 ? 0 : first + 1}-${first + table.body.length} of ${count}` : '',
    m.drops ? `drops ${m.drops}` : '',
    m.note ? escapeTerminal(m.note) : '',
    m.header,
  ].filter(Boolean);
  const lines = [bold(pad(status.join('  '))), inverse(pad(table.head)), ...table.body.map(pad)];
  if (table.total !== undefined) lines.push(bold(pad(table.total)));
  const legend = `${m.grouping === 'stream' || m.grouping === 'interface' ? '' : `${FLOWS_LEGEND}; `}${UNITS_LEGEND}`;
  if (m.plain) {
    lines.push(cut(legend));
    return lines;
  }
  while (lines.length < m.rows - 1) lines.push('');
  const help =
    m.editing !== undefined
      ? `/${escapeTerminal(m.editing)}▏ (Enter apply, Esc cancel)`
      : `q quit  s sort  r reverse  g group  p pause  / filter  ↑↓ PgUp PgDn Home End scroll  ${legend}`;
  lines.length = Math.max(1, m.rows - 1);
  lines.push(fit(help, width));
  return lines;
}

/** Rows that fit the screen: status, column titles, total row and key hint take four lines. */
function rowsAvailable(m: TopModel): number {
  return Math.max(0, m.rows - 4);
}

function clampScroll(m: TopModel, count: number): number {
  return Math.max(0, Math.min(m.scroll ?? 0, count - rowsAvailable(m)));
}

/** The rows shown, in order: all of them (plain), or one screen from the scroll position. */
function visible<T>(m: TopModel, list: readonly T[], cmp: (a: T, b: T) => number, primary?: (x: T) => number): T[] {
  if (m.plain) return [...list].sort(cmp);
  const first = clampScroll(m, list.length);
  return firstInOrder(list, cmp, first + rowsAvailable(m), primary).slice(first);
}
