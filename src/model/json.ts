/**
 * The NDJSON event schema, published as schema/events.schema.json in the package (DESIGN.md §4).
 * Field names are stable; absent data is omitted.
 * Strings are exact (JSON.stringify escapes control characters, so no raw ESC reaches a terminal).
 */
import type { StreamEvent } from './events.js';
import { endpointAddressText, isEndpoint, type Endpoint } from '../protocol/sockaddr.js';
import type { Stream } from './stream.js';

export interface JsonEndpoint {
  address: string;
  port: number;
  scopeId?: number;
  /** Reverse-DNS name of the address (remote only, with --resolve, when known). */
  host?: string;
}

export interface JsonOptions {
  /** Host name of the remote address (reverse DNS), added as remote.host. */
  remoteHost?: string;
}

export interface JsonEvent {
  event: string;
  time: string;
  id: string;
  provider: string;
  userland: boolean;
  subflow?: boolean;
  family?: number;
  local?: JsonEndpoint;
  remote?: JsonEndpoint;
  ifindex?: number;
  interface: string;
  ifname?: string;
  state?: string;
  listener: boolean;
  failed: boolean;
  direction?: string;
  pid?: number;
  process?: string;
  epid?: number;
  domain?: { name: string; owner?: string; attributedBundleId?: string };
  uuid?: string;
  euuid?: string;
  /** Route sources: destination, netmask and gateway (addresses only; AF_LINK gateways as "link"). */
  route?: { destination?: string; mask?: string; gateway?: string };
  counts?: Record<string, number>;
  rxBytesPerSec?: number;
  txBytesPerSec?: number;
  /** "inferred" when decoded with a layout the self-test adjusted (fields it could not place are absent). */
  layout?: string;
}

function endpoint(e: Endpoint | undefined): JsonEndpoint | undefined {
  if (!e) return undefined;
  const j: JsonEndpoint = { address: e.address, port: e.port };
  if (e.scopeId) j.scopeId = e.scopeId;
  return j;
}

export const COUNT_KEYS = [
  'rxPackets', 'rxBytes', 'txPackets', 'txBytes',
  'cellRxBytes', 'cellTxBytes', 'wifiRxBytes', 'wifiTxBytes', 'wiredRxBytes', 'wiredTxBytes',
  'rxDuplicateBytes', 'rxOutOfOrderBytes', 'txRetransmit', 'connectAttempts', 'connectSuccesses',
  'minRttMs', 'avgRttMs', 'varRttMs',
] as const;

export function streamToJson(event: string, time: number, s: Stream, opts: JsonOptions = {}): JsonEvent {
  const j: JsonEvent = {
    event,
    time: new Date(time).toISOString(),
    id: s.id,
    provider: s.provider,
    userland: s.userland,
    interface: s.interface,
    listener: s.listener,
    failed: s.failed,
  };
  if (s.subflow) j.subflow = true;
  if (s.family) j.family = s.family;
  const local = endpoint(s.local);
  if (local) j.local = local;
  const remote = endpoint(s.remote);
  if (remote) {
    if (opts.remoteHost !== undefined) remote.host = opts.remoteHost;
    j.remote = remote;
  }
  if (s.ifindex !== undefined) j.ifindex = s.ifindex;
  if (s.ifname !== undefined) j.ifname = s.ifname;
  if (s.state !== undefined) j.state = s.state;
  if (s.direction !== undefined) j.direction = s.direction;
  if (s.domain) j.domain = { ...s.domain };
  if (s.pid !== undefined) j.pid = s.pid;
  if (s.process !== undefined) j.process = s.process;
  if (s.epid !== undefined) j.epid = s.epid;
  if (s.uuid !== undefined) j.uuid = s.uuid;
  if (s.euuid !== undefined) j.euuid = s.euuid;
  if (s.provider === 'route' && s.descriptor) {
    const text = (v: unknown): string | undefined =>
      isEndpoint(v) ? endpointAddressText(v) : v && typeof v === 'object' && (v as { family?: unknown }).family === 'other' ? ((v as { saFamily: number }).saFamily === 18 ? 'link' : `af${(v as { saFamily: number }).saFamily}`) : undefined;
    const r: { destination?: string; mask?: string; gateway?: string } = {};
    const dst = text(s.descriptor.dst);
    const mask = text(s.descriptor.mask);
    const gw = text(s.descriptor.gateway);
    if (dst !== undefined) r.destination = dst;
    if (mask !== undefined) r.mask = mask;
    if (gw !== undefined) r.gateway = gw;
    // Absent data is omitted: a route descriptor an inferred layout left empty has no route object.
    if (dst !== undefined || mask !== undefined || gw !== undefined) j.route = r;
  }
  if (s.counts) {
    const c: Record<string, number> = {};
    for (const k of COUNT_KEYS) {
      const v = s.counts[k];
      if (v !== undefined && Number.isFinite(v)) c[k] = v; // counters an inferred layout left out are absent
    }
    j.counts = c;
  }
  if (s.rxBytesPerSec !== undefined) j.rxBytesPerSec = Math.round(s.rxBytesPerSec);
  if (s.txBytesPerSec !== undefined) j.txBytesPerSec = Math.round(s.txBytesPerSec);
  if (s.layout) j.layout = s.layout;
  return j;
}

export function eventToJson(ev: StreamEvent, opts: JsonOptions = {}): JsonEvent {
  return streamToJson(ev.event, ev.time, ev.stream, opts);
}
