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
import { ByteSink } from './byte-sink.js';

export interface LogFormatOptions {
  utc?: boolean;
  /** Host name of the remote address (--resolve), shown after the address. */
  remoteHost?: string;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** The last clock text per zone: events come in bursts within one second (a Date per event was a replay hot spot). */
const utf8 = new TextEncoder();

const lastClock: Record<'utc' | 'local', { second: number; text: string; bytes: Uint8Array }> = { utc: { second: NaN, text: '', bytes: new Uint8Array(0) }, local: { second: NaN, text: '', bytes: new Uint8Array(0) } };

function clockMemo(time: number, utc = false): { text: string; bytes: Uint8Array } {
  const memo = utc ? lastClock.utc : lastClock.local;
  const second = Math.floor(time / 1000);
  if (second !== memo.second) {
    memo.text = formatClock(time, utc);
    memo.bytes = utf8.encode(memo.text);
    memo.second = second;
  }
  return memo;
}

export function clock(time: number, utc = false): string {
  return clockMemo(time, utc).text;
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

/** A flow's summary text (`TCP a p - a p pid:N (name)`) and its UTF-8 bytes. */
interface Summary {
  text: string;
  bytes: Uint8Array;
}

function summary(s: Stream, remoteHost: string | undefined): Summary {
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
    return c;
  }
  const text = describeFlow(s, remoteHost);
  const d: Described = { local: s.local, remote: s.remote, pid: s.pid, process: s.process, provider: s.provider, userland: s.userland, subflow: s.subflow, domain: s.domain, host: remoteHost, text, bytes: utf8.encode(text) };
  described.set(s, d);
  return d;
}

/** What a flow's summary was built from, and the summary. */
interface Described extends Summary {
  local: Stream['local'];
  remote: Stream['remote'];
  pid: Stream['pid'];
  process: Stream['process'];
  provider: Stream['provider'];
  userland: Stream['userland'];
  subflow: Stream['subflow'];
  domain: Stream['domain'];
  host: string | undefined;
}

const described = new WeakMap<Stream, Described>();

function describeFlow(s: Stream, remoteHost: string | undefined): string {
  const host = remoteHost !== undefined ? ` (${escapeTerminal(remoteHost)})` : '';
  const dom = s.domain ? ` domain:${escapeTerminal(domainText(s.domain))}` : '';
  return `${providerLabel(s)} ${ep(s.local)} - ${ep(s.remote)}${host} ${owner(s)}${dom}`;
}

/** The summary of any stream (interfaces and routes have their own, not cached: they are few). */
function describe(w: ByteSink, s: Stream, remoteHost: string | undefined): void {
  if (s.provider === 'ifnet') w.text(`IFNET ${escapeTerminal(s.ifname ?? '?')} index:${s.ifindex ?? '?'}`);
  else if (s.provider === 'route') w.text(`ROUTE ${ep(s.descriptor?.dst as Endpoint | OtherSockaddr | undefined)} index:${s.ifindex ?? '?'}`);
  else w.bytes(summary(s, remoteHost).bytes);
}

const NL = 10;
const SP = 32;
const SLASH = 47;
const BYTES = utf8.encode('  bytes (tx/rx):');
const PACKETS = utf8.encode('  packets:');

/** The indented counts line (with its newline) of a stream that has counts. */
function bytesLine(w: ByteSink, s: Stream): void {
  const c = s.counts!;
  w.bytes(BYTES);
  w.number(c.txBytes);
  w.byte(SLASH);
  w.number(c.rxBytes);
  w.bytes(PACKETS);
  w.number(c.txPackets);
  w.byte(SLASH);
  w.number(c.rxPackets);
  w.byte(SP);
  w.ascii(medium(s));
  // The interface's BSD name follows the medium when the source knows the machine's interfaces.
  if (s.ifname !== undefined) {
    w.byte(SP);
    w.text(escapeTerminal(s.ifname));
  }
  w.byte(NL);
}

/**
 * One event as log lines, each ending in a newline, encoded straight into `w` (the log view's
 * output buffer): no string per line or per number.
 */
export function writeLogEvent(w: ByteSink, ev: StreamEvent & { initial?: boolean }, opts: LogFormatOptions = {}): void {
  const s = ev.stream;
  const t = clockMemo(ev.time, opts.utc).bytes;
  switch (ev.event) {
    case 'added':
      if (ev.initial) w.byte(SP);
      if (s.listener) {
        w.ascii('@+ ');
        w.bytes(t);
        w.text(` ${owner(s)} LISTEN ${providerLabel(s)} port:${s.local?.port ?? 0}\n`);
        return;
      }
      w.ascii('+ ');
      w.bytes(t);
      w.byte(SP);
      describe(w, s, opts.remoteHost);
      w.byte(NL);
      return;
    case 'removed':
    case 'update':
      w.ascii(ev.event === 'removed' ? '- ' : '# ');
      w.bytes(t);
      w.byte(SP);
      describe(w, s, opts.remoteHost);
      if (ev.event === 'removed' && s.failed) w.ascii(' FAILED');
      w.byte(NL);
      if (s.counts) bytesLine(w, s);
  }
}

const scratch = new ByteSink(4096);

/** One event as log text: its lines, each ending in a newline. */
export function formatLogText(ev: StreamEvent & { initial?: boolean }, opts: LogFormatOptions = {}): string {
  scratch.clear();
  writeLogEvent(scratch, ev, opts);
  return scratch.toString();
}

/** Lines (without newlines) for one event. */
export function formatLogEvent(ev: StreamEvent & { initial?: boolean }, opts: LogFormatOptions = {}): string[] {
  return formatLogText(ev, opts).slice(0, -1).split('\n');
}
