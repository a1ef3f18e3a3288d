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
  // A stream's summary rarely changes between its events: reuse the text while every input is
  // the same (endpoints are replaced, never mutated, by model/stream.ts applyDescriptor; an equal
  // one is kept by identity). Building and escaping it per event was a fifth of the log view.
  const c = described.get(s);
  if (
    c !== undefined &&
    c.local === s.local &&
    c.remote === s.remote &&
    c.pid === s.pid &&
    c.process === s.process &&
    c.provider === s.provider &&
    c.userland === s.userland &&
    c.subflow === s.subflow &&
    c.domain === s.domain &&
    c.host === remoteHost
  ) {
    return c.text;
  }
  const text = describeFlow(s, remoteHost);
  described.set(s, { local: s.local, remote: s.remote, pid: s.pid, process: s.process, provider: s.provider, userland: s.userland, subflow: s.subflow, domain: s.domain, host: remoteHost, text });
  return text;
}

/** What a flow's summary text was built from, and the text. */
interface Described {
  local: Stream['local'];
  remote: Stream['remote'];
  pid: Stream['pid'];
  process: Stream['process'];
  provider: Stream['provider'];
  userland: Stream['userland'];
  subflow: Stream['subflow'];
  domain: Stream['domain'];
  host: string | undefined;
  text: string;
}

const described = new WeakMap<Stream, Described>();

function describeFlow(s: Stream, remoteHost: string | undefined): string {
  const host = remoteHost !== undefined ? ` (${escapeTerminal(remoteHost)})` : '';
  const dom = s.domain ? ` domain:${escapeTerminal(domainText(s.domain))}` : '';
  return `${providerLabel(s)} ${ep(s.local)} - ${ep(s.remote)}${host} ${owner(s)}${dom}`;
}

/** The indented counts line (with its newline) of a stream that has counts. */
function bytesLine(s: Stream): string {
  const c = s.counts!;
  // The interface's BSD name follows the medium when the source knows the machine's interfaces.
  const on = s.ifname !== undefined ? ` ${escapeTerminal(s.ifname)}` : '';
  return `  bytes (tx/rx):${c.txBytes}/${c.rxBytes}  packets:${c.txPackets}/${c.rxPackets} ${medium(s)}${on}\n`;
}

/** Lines (without newlines) for one event. */
export function formatLogEvent(ev: StreamEvent & { initial?: boolean }, opts: LogFormatOptions = {}): string[] {
  const text = formatLogText(ev, opts);
  return text.slice(0, -1).split('\n');
}

/**
 * One event as log text: its lines, each ending in a newline (what the log view writes; no
 * array per event).
 */
export function formatLogText(ev: StreamEvent & { initial?: boolean }, opts: LogFormatOptions = {}): string {
  const s = ev.stream;
  const t = clock(ev.time, opts.utc);
  switch (ev.event) {
    case 'added': {
      const lead = ev.initial ? ' ' : '';
      if (s.listener) return `${lead}@+ ${t} ${owner(s)} LISTEN ${providerLabel(s)} port:${s.local?.port ?? 0}\n`;
      return `${lead}+ ${t} ${describe(s, opts.remoteHost)}\n`;
    }
    case 'removed': {
      const line = `- ${t} ${describe(s, opts.remoteHost)}${s.failed ? ' FAILED' : ''}\n`;
      return s.counts ? line + bytesLine(s) : line;
    }
    case 'update': {
      const line = `# ${t} ${describe(s, opts.remoteHost)}\n`;
      return s.counts ? line + bytesLine(s) : line;
    }
  }
}
