/**
 * The stream model: what an application sees of one kernel source (a TCP connection, a UDP
 * socket/flow, a QUIC connection, a connection, an interface, a route), built from descriptors
 * and counts of any dialect. Field names follow DESIGN.md §4; absent data is omitted.
 */
import type { Dialect } from '../protocol/dialect.js';
import { providerName, tcpStateName, type ProviderName } from '../protocol/constants.js';
import type { Counts, Descriptor } from '../protocol/messages.js';
import { isEndpoint, type Endpoint } from '../protocol/sockaddr.js';

/** Provider as shown to users (DESIGN.md §4); `userland`/`subflow` tell the variants apart. */
export type StreamProvider = 'tcp' | 'udp' | 'quic' | 'conn' | 'ifnet' | 'route' | 'sysinfo' | 'unknown';
export type InterfaceKind = 'wifi' | 'wired' | 'cellular' | 'loopback' | 'awdl' | 'other' | 'unknown';

export interface StreamCounts extends Counts {
  /** RTTs in milliseconds: the kernel sends min/avg in 1/32 ms and var in 1/16 ms (BEHAVIOUR.md §5.1). */
  minRttMs: number;
  avgRttMs: number;
  varRttMs: number;
}

export interface Stream {
  /** The kernel's srcref as a decimal string (64-bit safe). */
  id: string;
  srcref: bigint;
  provider: StreamProvider;
  /** Our internal provider name (tcp, tcpUserland, quic, udpSubflow...). */
  providerKind: ProviderName | 'unknown';
  providerId: number;
  userland: boolean;
  subflow?: boolean;
  family?: 4 | 6;
  local?: Endpoint;
  remote?: Endpoint;
  ifindex?: number;
  interface: InterfaceKind;
  /** TCP state name (ESTABLISHED...) for TCP-like providers. */
  state?: string;
  listener: boolean;
  /** A TCP connection that was attempted and never established (set when it ends). */
  failed: boolean;
  /** Who opened it, from the kernel's role bits (macOS 14+: SOURCE_IS_INBOUND/OUTBOUND, §5.9). */
  direction?: 'inbound' | 'outbound';
  pid?: number;
  process?: string;
  epid?: number;
  upid?: number;
  eupid?: number;
  uuid?: string;
  euuid?: string;
  /** Interface name (ifnet sources). */
  ifname?: string;
  /** Every decoded descriptor field (camelCase), for what the summary above does not cover. */
  descriptor?: Descriptor;
  counts?: StreamCounts;
  /** Bytes/s since the previous update (absent until two samples exist). */
  rxBytesPerSec?: number;
  txBytesPerSec?: number;
  /** ms timestamps (caller's clock: wall time live, record time in replay). */
  firstSeen: number;
  lastUpdated: number;
  closed: boolean;
}

const PUBLIC_PROVIDER: Record<ProviderName, [StreamProvider, boolean, boolean?]> = {
  tcp: ['tcp', false],
  tcpUserland: ['tcp', true],
  udp: ['udp', false],
  udpUserland: ['udp', true],
  udpSubflow: ['udp', false, true],
  quic: ['quic', true],
  conn: ['conn', true],
  ifnet: ['ifnet', false],
  route: ['route', false],
  sysinfo: ['sysinfo', false],
};

export function toStreamCounts(c: Counts): StreamCounts {
  return { ...c, minRttMs: c.minRtt / 32, avgRttMs: c.avgRtt / 32, varRttMs: c.varRtt / 16 };
}

/** Interface medium from `ifnet_properties` bits, using the dialect's own constants. */
export function interfaceKind(dialect: Dialect, props: number | undefined): InterfaceKind {
  if (props === undefined) return 'unknown';
  const c = dialect.constants;
  const bit = (name: string) => {
    const v = c[name];
    return typeof v === 'number' && (props & v) !== 0;
  };
  if (bit('NSTAT_IFNET_IS_LOOPBACK')) return 'loopback';
  if (bit('NSTAT_IFNET_IS_CELLULAR')) return 'cellular';
  if (bit('NSTAT_IFNET_IS_AWDL')) return 'awdl';
  if (bit('NSTAT_IFNET_IS_WIFI')) return 'wifi';
  if (bit('NSTAT_IFNET_IS_WIRED')) return 'wired';
  if (bit('NSTAT_IFNET_IS_UNKNOWN_TYPE') || props === 0) return 'unknown';
  return 'other';
}

const TCP_LIKE = new Set<ProviderName>(['tcp', 'tcpUserland', 'quic']);
/** B14+ role bits for kernel TCP in ifnet_properties (BEHAVIOUR.md §5.9). */
const ROLE_LISTENER = 0x2000000;
const ROLE_INBOUND = 0x4000000;
const ROLE_OUTBOUND = 0x8000000;

export function newStream(dialect: Dialect, srcref: bigint, providerIdNum: number, now: number): Stream {
  const kind = providerName(dialect, providerIdNum);
  const [provider, userland, subflow] = kind ? PUBLIC_PROVIDER[kind] : (['unknown', false] as [StreamProvider, boolean]);
  const s: Stream = {
    id: srcref.toString(),
    srcref,
    provider,
    providerKind: kind ?? 'unknown',
    providerId: providerIdNum,
    userland,
    interface: 'unknown',
    listener: false,
    failed: false,
    firstSeen: now,
    lastUpdated: now,
    closed: false,
  };
  if (subflow) s.subflow = true;
  return s;
}

/** Apply a descriptor; returns true when something user-visible changed. */
export function applyDescriptor(dialect: Dialect, s: Stream, d: Descriptor): boolean {
  const before = summaryKey(s);
  s.descriptor = d;
  const local = isEndpoint(d.local) ? d.local : undefined;
  const remote = isEndpoint(d.remote) ? d.remote : undefined;
  if (local) s.local = local;
  else delete s.local;
  if (remote) s.remote = remote;
  else delete s.remote;
  const fam = local?.family ?? remote?.family;
  if (fam) s.family = fam;
  if (typeof d.ifindex === 'number') s.ifindex = d.ifindex;
  if (s.providerKind === 'ifnet') {
    if (typeof d.name === 'string') s.ifname = d.name;
  } else {
    s.interface = interfaceKind(dialect, d.ifnetProperties);
  }
  if (TCP_LIKE.has(s.providerKind as ProviderName) && typeof d.state === 'number') {
    s.state = tcpStateName(d.state);
    s.listener = d.state === 1 || ((d.ifnetProperties ?? 0) & ROLE_LISTENER) !== 0;
    const props = d.ifnetProperties ?? 0;
    if (props & ROLE_INBOUND) s.direction = 'inbound';
    else if (props & ROLE_OUTBOUND) s.direction = 'outbound';
  }
  if (typeof d.pid === 'number') s.pid = d.pid;
  if (typeof d.pname === 'string') s.process = d.pname;
  if (typeof d.epid === 'number') s.epid = d.epid;
  if (typeof d.upid === 'number') s.upid = d.upid;
  if (typeof d.eupid === 'number') s.eupid = d.eupid;
  if (d.uuid) s.uuid = d.uuid;
  if (d.euuid) s.euuid = d.euuid;
  return summaryKey(s) !== before;
}

function summaryKey(s: Stream): string {
  const ep = (e?: Endpoint) => (e ? `${e.address}|${e.port}|${e.scopeId ?? ''}` : '');
  return `${ep(s.local)}/${ep(s.remote)}/${s.state ?? ''}/${s.pid ?? ''}/${s.process ?? ''}/${s.interface}/${s.ifindex ?? ''}`;
}

/** Apply counts at time `now` (ms); computes rates against the previous sample. */
export function applyCounts(s: Stream, c: Counts, now: number): boolean {
  const prev = s.counts;
  const next = toStreamCounts(c);
  let changed = true;
  if (prev) {
    changed = prev.rxBytes !== next.rxBytes || prev.txBytes !== next.txBytes || prev.rxPackets !== next.rxPackets || prev.txPackets !== next.txPackets;
    const dt = (now - s.lastUpdated) / 1000;
    if (dt > 0) {
      s.rxBytesPerSec = Math.max(0, (next.rxBytes - prev.rxBytes) / dt);
      s.txBytesPerSec = Math.max(0, (next.txBytes - prev.txBytes) / dt);
    }
  }
  s.counts = next;
  s.lastUpdated = now;
  return changed;
}

/** Mark a stream ended; a TCP connection that tried and never connected is `failed`. */
export function closeStream(s: Stream, now: number): void {
  s.closed = true;
  s.lastUpdated = now;
  if (TCP_LIKE.has(s.providerKind as ProviderName) && !s.listener && s.counts) {
    s.failed = s.counts.connectAttempts > 0 && s.counts.connectSuccesses === 0;
  }
}
