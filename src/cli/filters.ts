/** Stream filters shared by every view (`--pid`, `--process`, `--port`, `--interface`, providers). */
import type { InterfaceStat } from '../model/interface.js';
import type { Stream, StreamProvider } from '../model/stream.js';

export interface StreamFilterOptions {
  providers?: ReadonlySet<StreamProvider>;
  pid?: number;
  /** Several --pid values: a stream matches any of them. */
  pids?: readonly number[];
  /** Substring, or a /regexp/flags literal. */
  process?: string;
  port?: number;
  ports?: readonly number[];
  /** An interface kind (wifi, wired, ...) or a BSD name (en0, utun3). */
  interface?: string;
}

export type StreamPredicate = (s: Stream) => boolean;

/** Index of a BSD interface name on the watched machine, when the source knows it. */
export type InterfaceIndexFn = (name: string) => number | undefined;

const KINDS = new Set(['wifi', 'wired', 'cellular', 'loopback', 'awdl', 'other', 'unknown']);

export function compileProcessMatcher(spec: string): (name: string) => boolean {
  const re = /^\/(.*)\/([a-z]*)$/s.exec(spec);
  if (re) {
    const rx = new RegExp(re[1], re[2]);
    return (name) => rx.test(name);
  }
  const needle = spec.toLowerCase();
  return (name) => name.toLowerCase().includes(needle);
}

export function compileFilter(o: StreamFilterOptions, interfaceIndex?: InterfaceIndexFn): StreamPredicate {
  const checks: StreamPredicate[] = [];
  if (o.providers && o.providers.size > 0) {
    const p = o.providers;
    checks.push((s) => p.has(s.provider));
  }
  const pids = o.pids ?? (o.pid !== undefined ? [o.pid] : []);
  if (pids.length > 0) {
    const set = new Set(pids);
    checks.push((s) => (s.pid !== undefined && set.has(s.pid)) || (s.epid !== undefined && set.has(s.epid)));
  }
  if (o.process !== undefined) {
    const m = compileProcessMatcher(o.process);
    checks.push((s) => s.process !== undefined && m(s.process));
  }
  const ports = o.ports ?? (o.port !== undefined ? [o.port] : []);
  if (ports.length > 0) {
    const set = new Set(ports);
    checks.push((s) => (s.local?.port !== undefined && set.has(s.local.port)) || (s.remote?.port !== undefined && set.has(s.remote.port)));
  }
  if (o.interface !== undefined) {
    const want = o.interface;
    if (KINDS.has(want)) checks.push((s) => s.interface === want);
    else {
      // A BSD name: the stream's own name (ifnet sources), else its ifindex against the
      // machine's index for that name (looked up each time: interfaces come and go).
      checks.push((s) => s.ifname === want || (s.ifindex !== undefined && s.ifindex !== 0 && interfaceIndex?.(want) === s.ifindex));
    }
  }
  // Called for every stream of every event and every `top` frame: no wrapper for zero or one check.
  if (checks.length === 0) return () => true;
  if (checks.length === 1) return checks[0];
  return (s) => {
    for (let i = 0; i < checks.length; i++) if (!checks[i](s)) return false;
    return true;
  };
}

/**
 * Which interface events to show: none when a filter about flows is given (--pid, --process,
 * --port: an interface has no process or port), else those matching --interface (kind or name).
 */
export function compileInterfaceFilter(o: StreamFilterOptions): (i: InterfaceStat) => boolean {
  const pids = o.pids ?? (o.pid !== undefined ? [o.pid] : []);
  const ports = o.ports ?? (o.port !== undefined ? [o.port] : []);
  if (pids.length > 0 || ports.length > 0 || o.process !== undefined) return () => false;
  const want = o.interface;
  if (want === undefined) return () => true;
  return KINDS.has(want) ? (i) => i.kind === want : (i) => i.name === want;
}
