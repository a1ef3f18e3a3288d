/**
 * Named columns for CSV output and for `--columns` / `-J` (nettop's column names are accepted
 * where they mean the same thing). CSV carries exact numbers (bytes, bytes per second) and
 * escaped text: a process name cannot drive a terminal through CSV either.
 */
import { NtstatError } from '../errors.js';
import type { ProcessTotal } from '../model/process-totals.js';
import type { Stream } from '../model/stream.js';
import { domainText } from '../model/domain.js';
import { endpointAddressText, isEndpoint } from '../protocol/sockaddr.js';
import { escapeTerminal } from './escape.js';
import { closest } from './suggest.js';

export interface StreamRow {
  stream: Stream;
  event?: string;
  time?: number;
  host?: string;
}

const addr = (e: Stream['local']): string => (e && isEndpoint(e) ? endpointAddressText(e) : '');

export const STREAM_COLUMNS: Record<string, (r: StreamRow) => string | number> = {
  time: (r) => (r.time !== undefined ? new Date(r.time).toISOString() : ''),
  event: (r) => r.event ?? '',
  id: (r) => r.stream.id,
  pid: (r) => r.stream.pid ?? '',
  process: (r) => escapeTerminal(r.stream.process ?? ''),
  proto: (r) => r.stream.provider,
  local_addr: (r) => addr(r.stream.local),
  local_port: (r) => (r.stream.local && isEndpoint(r.stream.local) ? r.stream.local.port : ''),
  remote_addr: (r) => addr(r.stream.remote),
  remote_port: (r) => (r.stream.remote && isEndpoint(r.stream.remote) ? r.stream.remote.port : ''),
  remote_host: (r) => escapeTerminal(r.host ?? ''),
  domain: (r) => (r.stream.domain ? escapeTerminal(domainText(r.stream.domain)) : ''),
  interface: (r) => (r.stream.ifname !== undefined ? escapeTerminal(r.stream.ifname) : r.stream.interface),
  state: (r) => r.stream.state ?? '',
  rx_rate: (r) => Math.round(r.stream.rxBytesPerSec ?? 0),
  tx_rate: (r) => Math.round(r.stream.txBytesPerSec ?? 0),
  rx: (r) => r.stream.counts?.rxBytes ?? '',
  tx: (r) => r.stream.counts?.txBytes ?? '',
  rx_packets: (r) => r.stream.counts?.rxPackets ?? '',
  tx_packets: (r) => r.stream.counts?.txPackets ?? '',
  rtt_ms: (r) => r.stream.counts?.avgRttMs ?? '',
};

export const TOTAL_COLUMNS: Record<string, (t: ProcessTotal) => string | number> = {
  pid: (t) => t.pid ?? '',
  process: (t) => escapeTerminal(t.process ?? ''),
  flows_open: (t) => t.liveStreams,
  flows_seen: (t) => t.totalStreams,
  rx_rate: (t) => Math.round(t.rxBytesPerSec),
  tx_rate: (t) => Math.round(t.txBytesPerSec),
  rx: (t) => t.rxBytes,
  tx: (t) => t.txBytes,
  rx_packets: (t) => t.rxPackets,
  tx_packets: (t) => t.txPackets,
};

/** nettop -J names that map cleanly onto ours. */
export const NETTOP_COLUMN_ALIASES: Record<string, string> = {
  bytes_in: 'rx',
  bytes_out: 'tx',
  rtt_avg: 'rtt_ms',
  interface: 'interface',
  state: 'state',
};

export const DEFAULT_STREAM_CSV = ['time', 'pid', 'process', 'proto', 'local_addr', 'local_port', 'remote_addr', 'remote_port', 'interface', 'state', 'rx_rate', 'tx_rate', 'rx', 'tx'];
export const DEFAULT_LOG_CSV = ['time', 'event', 'id', 'pid', 'process', 'proto', 'local_addr', 'local_port', 'remote_addr', 'remote_port', 'interface', 'state', 'rx', 'tx'];
export const DEFAULT_TOTAL_CSV = ['time', 'pid', 'process', 'flows_open', 'flows_seen', 'rx_rate', 'tx_rate', 'rx', 'tx'];

/** The chosen column names, checked against `known` (usage error naming the nearest). */
export function chooseColumns(names: readonly string[] | undefined, defaults: readonly string[], known: readonly string[]): string[] {
  if (!names) return [...defaults];
  return names.map((n) => {
    const name = NETTOP_COLUMN_ALIASES[n] ?? n;
    if (!known.includes(name)) {
      const guess = closest(name, known);
      throw new NtstatError('ERR_NTSTAT_USAGE', `unknown column ${JSON.stringify(n)}${guess ? ` (did you mean ${guess}?)` : ''}; columns: ${known.join(',')}`);
    }
    return name;
  });
}

/** One CSV record (RFC 4180 quoting). */
export function csvLine(values: readonly (string | number)[]): string {
  return values.map((v) => (typeof v === 'number' ? String(v) : /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)).join(',');
}
