/**
 * One NDJSON line per stream event, written directly: the same text as
 * `JSON.stringify(eventToJson(ev, opts))` (model/json.ts is the schema and stays the reference;
 * test/format-json.test.ts holds the two equal), without building the intermediate object, its
 * endpoint and counts objects, or a Date and ISO string for every event of a sweep (they share a
 * time). `ntstat json` formats ~200 events a second at 2 000 streams; a replay, millions (issue 17).
 */
import type { StreamEvent } from '../model/events.js';
import { COUNT_KEYS, eventToJson, type JsonOptions } from '../model/json.js';
import type { Stream } from '../model/stream.js';
import type { Endpoint } from '../protocol/sockaddr.js';

/** `"key":` prefixes of the counts object, made once. */
const COUNT_PREFIX = COUNT_KEYS.map((k) => `"${k}":`);

/** A JSON string literal: printable ASCII without `"` or `\` is copied, anything else goes through JSON.stringify. */
function str(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** A JSON number as JSON.stringify writes it (non-finite numbers are null). */
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

function endpoint(e: Endpoint, host: string | undefined): string {
  let out = `{"address":${str(e.address)},"port":${num(e.port)}`;
  if (e.scopeId) out += `,"scopeId":${num(e.scopeId)}`;
  if (host !== undefined) out += `,"host":${str(host)}`;
  return out + '}';
}

export class JsonLineFormatter {
  private lastTime = NaN;
  private lastIso = '';

  /** The event as one JSON text (no newline), equal to JSON.stringify(eventToJson(ev, opts)). */
  format(ev: StreamEvent, opts: JsonOptions = {}): string {
    const s = ev.stream;
    // Route sources carry addresses of several kinds: their rare, intricate object is built by the reference.
    if (s.provider === 'route') return JSON.stringify(eventToJson(ev, opts));
    return this.stream(ev.event, ev.time, s, opts.remoteHost);
  }

  private iso(time: number): string {
    if (time !== this.lastTime) {
      // toISOString throws for a time out of range, as the reference does.
      this.lastIso = new Date(time).toISOString();
      this.lastTime = time;
    }
    return this.lastIso;
  }

  private stream(event: string, time: number, s: Stream, remoteHost: string | undefined): string {
    let out = `{"event":${str(event)},"time":"${this.iso(time)}","id":${str(s.id)},"provider":${str(s.provider)},"userland":${s.userland ? 'true' : 'false'},"interface":${str(s.interface)},"listener":${s.listener ? 'true' : 'false'},"failed":${s.failed ? 'true' : 'false'}`;
    if (s.subflow) out += ',"subflow":true';
    if (s.family) out += `,"family":${num(s.family)}`;
    if (s.local) out += `,"local":${endpoint(s.local, undefined)}`;
    if (s.remote) out += `,"remote":${endpoint(s.remote, remoteHost)}`;
    if (s.ifindex !== undefined) out += `,"ifindex":${num(s.ifindex)}`;
    if (s.ifname !== undefined) out += `,"ifname":${str(s.ifname)}`;
    if (s.state !== undefined) out += `,"state":${str(s.state)}`;
    if (s.direction !== undefined) out += `,"direction":${str(s.direction)}`;
    if (s.domain) out += `,"domain":${JSON.stringify({ ...s.domain })}`;
    if (s.pid !== undefined) out += `,"pid":${num(s.pid)}`;
    if (s.process !== undefined) out += `,"process":${str(s.process)}`;
    if (s.epid !== undefined) out += `,"epid":${num(s.epid)}`;
    if (s.uuid !== undefined) out += `,"uuid":${str(s.uuid)}`;
    if (s.euuid !== undefined) out += `,"euuid":${str(s.euuid)}`;
    const c = s.counts;
    if (c) {
      let body = '';
      for (let i = 0; i < COUNT_KEYS.length; i++) {
        const v = c[COUNT_KEYS[i]];
        // Counters an inferred layout left out are absent (as in the reference).
        if (v !== undefined && Number.isFinite(v)) body += `${body ? ',' : ''}${COUNT_PREFIX[i]}${String(v)}`;
      }
      out += `,"counts":{${body}}`;
    }
    if (s.rxBytesPerSec !== undefined) out += `,"rxBytesPerSec":${num(Math.round(s.rxBytesPerSec))}`;
    if (s.txBytesPerSec !== undefined) out += `,"txBytesPerSec":${num(Math.round(s.txBytesPerSec))}`;
    if (s.layout) out += `,"layout":${str(s.layout)}`;
    return out + '}';
  }
}
