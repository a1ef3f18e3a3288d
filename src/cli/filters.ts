/** Stream filters shared by every view (`--pid`, `--process`, `--port`, `--interface`, providers). */
import type { Stream, StreamProvider } from '../model/stream.js';

export interface StreamFilterOptions {
  providers?: ReadonlySet<StreamProvider>;
  pid?: number;
  /** Substring, or a /regexp/flags literal. */
  process?: string;
  port?: number;
  interface?: string;
}

export type StreamPredicate = (s: Stream) => boolean;

export function compileProcessMatcher(spec: string): (name: string) => boolean {
  const re = /^\/(.*)\/([a-z]*)$/s.exec(spec);
  if (re) {
    const rx = new RegExp(re[1], re[2]);
    return (name) => rx.test(name);
  }
  const needle = spec.toLowerCase();
  return (name) => name.toLowerCase().includes(needle);
}

export function compileFilter(o: StreamFilterOptions): StreamPredicate {
  const checks: StreamPredicate[] = [];
  if (o.providers && o.providers.size > 0) {
    const p = o.providers;
    checks.push((s) => p.has(s.provider));
  }
  if (o.pid !== undefined) {
    const pid = o.pid;
    checks.push((s) => s.pid === pid || s.epid === pid);
  }
  if (o.process !== undefined) {
    const m = compileProcessMatcher(o.process);
    checks.push((s) => s.process !== undefined && m(s.process));
  }
  if (o.port !== undefined) {
    const port = o.port;
    checks.push((s) => s.local?.port === port || s.remote?.port === port);
  }
  if (o.interface !== undefined) {
    const kind = o.interface;
    checks.push((s) => s.interface === kind);
  }
  return (s) => checks.every((c) => c(s));
}
