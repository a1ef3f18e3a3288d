/**
 * The seed demo's log format (libntstat README): `+`/`-`/`#` lines with time, provider, local
 * address and port, remote, pid and process; `@+` for listeners; an indented
 * `bytes (tx/rx):a/b  packets:c/d <medium>` line after removals and updates; `FAILED`.
 * Streams present when the subscription started are indented by one space, as in the demo.
 */
import type { StreamEvent } from '../model/events.js';
import type { Stream } from '../model/stream.js';
import { domainText } from '../model/domain.js';
import { endpointAddressText, isEndpoint, type Endpoint, type OtherSockaddr } from '../protocol/sockaddr.js';
import { escapeTerminal } from './escape.js';

export interface LogFormatOptions {
  utc?: boolean;
  /** Host name of the remote address (--resolve), shown after the address. */
  remoteHost?: string;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** The last clock text per zone: events come in bursts within one second (a Date per event was a replay hot spot). */
const lastClock = { utc: { second: NaN, text: '' }, local: { second: NaN, text: '' } };

export function clock(time: number, utc = false): string {
  const memo = utc ? lastClock.utc : lastClock.local;
  const second = Math.floor(time / 1000);
  if (second !== memo.second) {
    memo.text = formatClock(time, utc);
    memo.second = second;
  }
  return memo.text;
}

function formatClock(time: number, utc: boolean): string {
  const d = new Date(time);
  return utc
    ? `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`
    : `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

function providerLabel(s: Stream): string {
  switch (s.provider) {
    case 'tcp':
      return s.userland ? 'TCP(userland)' : 'TCP';
    case 'udp':
      return s.subflow ? 'UDP(subflow)' : s.userland ? 'UDP(userland)' : 'UDP';
    default:
      return s.provider.toUpperCase();
  }
}

function ep(e: Endpoint | OtherSockaddr | undefined): string {
  if (!e) return '- 0';
  if (!isEndpoint(e)) return e.saFamily === 18 ? 'link 0' : `af${e.saFamily} 0`;
  return `${escapeTerminal(endpointAddressText(e))} ${e.port}`;
}

function owner(s: Stream): string {
  const name = s.process !== undefined ? escapeTerminal(s.process) : '?';
  return `pid:${s.pid ?? '?'} (${name})`;
}

function medium(s: Stream): string {
  const c = s.counts;
  if (c) {
    // Per-medium byte counters tell where the traffic went even when the descriptor is stale.
    const wifi = (c.wifiRxBytes ?? 0) + (c.wifiTxBytes ?? 0);
    const wired = (c.wiredRxBytes ?? 0) + (c.wiredTxBytes ?? 0);
    const cell = (c.cellRxBytes ?? 0) + (c.cellTxBytes ?? 0);
    if (wifi > 0 || wired > 0 || cell > 0) {
      if (wifi >= wired && wifi >= cell) return 'wifi';
      if (wired >= cell) return 'wired';
      return 'cellular';
    }
  }
  return s.interface;
}

function describe(s: Stream, remoteHost?: string): string {
  if (s.provider === 'ifnet') return `IFNET ${escapeTerminal(s.ifname ?? '?')} index:${s.ifindex ?? '?'}`;
  if (s.provider === 'route') return `ROUTE ${ep(s.descriptor?.dst as Endpoint | OtherSockaddr | undefined)} index:${s.ifindex ?? '?'}`;
  const host = remoteHost !== undefined ? ` (${escapeTerminal(remoteHost)})` : '';
  const dom = s.domain ? ` domain:${escapeTerminal(domainText(s.domain))}` : '';
  return `${providerLabel(s)} ${ep(s.local)} - ${ep(s.remote)}${host} ${owner(s)}${dom}`;
}

function bytesLine(s: Stream): string | undefined {
  const c = s.counts;
  if (!c) return undefined;
  // The interface's BSD name follows the medium when the source knows the machine's interfaces.
  const on = s.ifname !== undefined ? ` ${escapeTerminal(s.ifname)}` : '';
  return `  bytes (tx/rx):${c.txBytes}/${c.rxBytes}  packets:${c.txPackets}/${c.rxPackets} ${medium(s)}${on}`;
}

/** Lines (without newlines) for one event. */
export function formatLogEvent(ev: StreamEvent & { initial?: boolean }, opts: LogFormatOptions = {}): string[] {
  const s = ev.stream;
  const t = clock(ev.time, opts.utc);
  const lead = ev.initial ? ' ' : '';
  switch (ev.event) {
    case 'added':
      if (s.listener) return [`${lead}@+ ${t} ${owner(s)} LISTEN ${providerLabel(s)} port:${s.local?.port ?? 0}`];
      return [`${lead}+ ${t} ${describe(s, opts.remoteHost)}`];
    case 'removed': {
      const lines = [`- ${t} ${describe(s, opts.remoteHost)}${s.failed ? ' FAILED' : ''}`];
      const b = bytesLine(s);
      if (b) lines.push(b);
      return lines;
    }
    case 'update': {
      const lines = [`# ${t} ${describe(s, opts.remoteHost)}`];
      const b = bytesLine(s);
      if (b) lines.push(b);
      return lines;
    }
  }
}
