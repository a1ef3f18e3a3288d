/**
 * The stream model: what an application sees of one kernel source (a TCP connection, a UDP
 * socket/flow, a QUIC connection, a connection, an interface, a route), built from descriptors
 * and counts of any dialect. Field names follow DESIGN.md §4; absent data is omitted.
 */
import type { StreamDomain } from './domain.js';
import type { Dialect } from '../protocol/dialect.js';
import { providerName, tcpStateName, type ProviderName } from '../protocol/constants.js';
import type { Counts, Descriptor } from '../protocol/messages.js';
import type { ActivityBitmap } from '../protocol/fields.js';
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
  /** BSD interface name: an ifnet source's own; a flow's from its ifindex when the client knows the interfaces (ClientOptions.interfaceNames). */
  ifname?: string;
  /** Domain the app connected to (DOMAIN extension, privileged, macOS 12.1+; model/domain.ts). */
  domain?: StreamDomain;
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
  /** 'inferred': decoded with tables the layout self-test adjusted (issue 12). */
  layout?: 'inferred';
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

/**
 * Counts as users see them. Dialects from 10.10 (d2782) on have all six per-medium fields and
 * take the first path (a primed constructor, below); the rest (none, or d2422's cell + wifi) add
 * exactly the fields present to an object literal. Not `{ ...c, minRttMs, … }`: on Node 20
 * (V8 11.3) adding properties to a spread clone takes a slow path (~5 µs per call with 18
 * fields), leaves a ~1 KB object and gives every result a hidden class of its own.
 */
export function toStreamCounts(c: Counts): StreamCounts {
  if (c.cellRxBytes !== undefined && c.cellTxBytes !== undefined && c.wifiRxBytes !== undefined && c.wifiTxBytes !== undefined && c.wiredRxBytes !== undefined && c.wiredTxBytes !== undefined) {
    if (!countsPrimed) primeCounts();
    return new CountsRecord(c);
  }
  const out: StreamCounts = {
    rxPackets: c.rxPackets,
    rxBytes: c.rxBytes,
    txPackets: c.txPackets,
    txBytes: c.txBytes,
    rxDuplicateBytes: c.rxDuplicateBytes,
    rxOutOfOrderBytes: c.rxOutOfOrderBytes,
    txRetransmit: c.txRetransmit,
    connectAttempts: c.connectAttempts,
    connectSuccesses: c.connectSuccesses,
    minRtt: c.minRtt,
    avgRtt: c.avgRtt,
    varRtt: c.varRtt,
    minRttMs: c.minRtt / 32,
    avgRttMs: c.avgRtt / 32,
    varRttMs: c.varRtt / 16,
  };
  if (c.cellRxBytes !== undefined) out.cellRxBytes = c.cellRxBytes;
  if (c.cellTxBytes !== undefined) out.cellTxBytes = c.cellTxBytes;
  if (c.wifiRxBytes !== undefined) out.wifiRxBytes = c.wifiRxBytes;
  if (c.wifiTxBytes !== undefined) out.wifiTxBytes = c.wifiTxBytes;
  if (c.wiredRxBytes !== undefined) out.wiredRxBytes = c.wiredRxBytes;
  if (c.wiredTxBytes !== undefined) out.wiredTxBytes = c.wiredTxBytes;
  return out;
}

/**
 * Counts with every per-medium field (toStreamCounts' first path): keys in the order of the
 * general shape, from a constructor whose `prototype` is Object.prototype (the objects stay plain:
 * prototype, `constructor`, deep equality to a literal, util.inspect).
 *
 * One hidden class for every such counts object, TCP's and UDP's (issue 17). V8 keeps one
 * representation per field of a hidden class, chosen by the first values stored and widened when a
 * value does not fit: small integer -> double (a counter past 2^31, a fractional RTT) replaces the
 * hidden class, and every object made before moves to the new one when next touched, so a reader
 * sees several classes for the same keys; and a double field holds a 16 B box in every object,
 * zeros and small counters included. primeCounts() first stores non-numbers in every field, so
 * each field is a plain reference from the start: a small integer inline, any other number a heap
 * number, nothing to widen later. (Before, zero-RTT counts had a constructor of their own to keep
 * their RTT fields unboxed: two classes for one key list.)
 */
interface CountsRecordConstructor {
  new (c: Counts): StreamCounts;
}
const CountsRecord = function (this: StreamCounts, c: Counts) {
  this.rxPackets = c.rxPackets;
  this.rxBytes = c.rxBytes;
  this.txPackets = c.txPackets;
  this.txBytes = c.txBytes;
  this.rxDuplicateBytes = c.rxDuplicateBytes;
  this.rxOutOfOrderBytes = c.rxOutOfOrderBytes;
  this.txRetransmit = c.txRetransmit;
  this.connectAttempts = c.connectAttempts;
  this.connectSuccesses = c.connectSuccesses;
  this.minRtt = c.minRtt;
  this.avgRtt = c.avgRtt;
  this.varRtt = c.varRtt;
  this.cellRxBytes = c.cellRxBytes;
  this.cellTxBytes = c.cellTxBytes;
  this.wifiRxBytes = c.wifiRxBytes;
  this.wifiTxBytes = c.wifiTxBytes;
  this.wiredRxBytes = c.wiredRxBytes;
  this.wiredTxBytes = c.wiredTxBytes;
  // Not `c.minRtt / 32` alone: the prime's undefined would make NaN, a double.
  this.minRttMs = c.minRtt === undefined ? (undefined as unknown as number) : c.minRtt / 32;
  this.avgRttMs = c.avgRtt === undefined ? (undefined as unknown as number) : c.avgRtt / 32;
  this.varRttMs = c.varRtt === undefined ? (undefined as unknown as number) : c.varRtt / 16;
} as unknown as CountsRecordConstructor;
CountsRecord.prototype = Object.prototype as StreamCounts;

let countsPrimed = false;
function primeCounts(): void {
  countsPrimed = true;
  new CountsRecord({} as Counts);
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

/**
 * Streams are built by this constructor rather than as an object literal so that all their fields
 * sit inside the object (issue 17, heap per stream). A literal gets exactly the slots of its own
 * keys; the ~17 fields a stream gains from its first descriptor and its counts then go to a
 * separate property array that V8 regrows three slots at a time (six reallocations, 160 B kept for
 * a TCP stream). A constructor's objects get spare in-object slots instead, which V8 trims, after
 * its first few objects ("slack tracking"), to the most fields any of them then has; prime() makes
 * that "most" a whole TCP stream (29 fields, rates included), so later streams never need the
 * property array (256 B in one object instead of 120 + 160). `prototype` is Object.prototype:
 * the objects are plain (prototype, `constructor`, deep equality to a literal, util.inspect), and
 * key order is the literal's. The fields absent at creation stay absent until the data exists.
 */
interface StreamRecordConstructor {
  new (srcref: bigint, provider: StreamProvider, kind: ProviderName | 'unknown', providerId: number, userland: boolean, now: number, shapeOnly?: boolean): Stream;
}
const StreamRecord = function (this: Stream, srcref: bigint, provider: StreamProvider, kind: ProviderName | 'unknown', providerId: number, userland: boolean, now: number, shapeOnly?: boolean) {
  this.id = srcref.toString();
  this.srcref = srcref;
  this.provider = provider;
  this.providerKind = kind;
  this.providerId = providerId;
  this.userland = userland;
  this.interface = 'unknown';
  this.listener = false;
  this.failed = false;
  this.firstSeen = now;
  this.lastUpdated = now;
  this.closed = false;
  // Only for prime(). V8 sizes a constructor's objects from the `this.x =` assignments in its body
  // (plus eight), so these also make room for the fields below before slack tracking trims it.
  if (shapeOnly) {
    this.descriptor = undefined;
    this.local = undefined;
    this.remote = undefined;
    this.family = 4;
    this.ifindex = 0;
    this.state = '';
    this.direction = 'outbound';
    this.pid = 0;
    this.process = '';
    this.epid = 0;
    this.upid = 0;
    this.eupid = 0;
    this.uuid = '';
    this.euuid = '';
    this.counts = undefined;
    this.rxBytesPerSec = undefined;
    this.txBytesPerSec = undefined;
  }
} as unknown as StreamRecordConstructor;
StreamRecord.prototype = Object.prototype as Stream;

let primed = false;
/**
 * Build throwaway records with a TCP stream's final fields, in the order a stream gains them,
 * while slack tracking watches the constructor's first objects (V8 watches seven). Their times
 * and rates are not numbers, so V8 keeps those four fields as plain references rather than
 * boxing a double per stream (a field's representation is chosen by the first values it holds):
 * a live clock's ms since 1970 are beyond small integers, and every stream updated in one poll
 * then shares that poll's `now`, and an idle stream's zero rates need no box (−28 B per stream
 * with a wall clock, `build/bench/memory.js`).
 */
function prime(): void {
  primed = true;
  for (let i = 0; i < 8; i++) new StreamRecord(0n, 'tcp', 'tcp', 0, false, undefined as unknown as number, true);
}

export function newStream(dialect: Dialect, srcref: bigint, providerIdNum: number, now: number): Stream {
  const kind = providerName(dialect, providerIdNum);
  const [provider, userland, subflow] = kind ? PUBLIC_PROVIDER[kind] : (['unknown', false] as [StreamProvider, boolean]);
  if (!primed) prime();
  const s = new StreamRecord(srcref, provider, kind ?? 'unknown', providerIdNum, userland, now);
  if (subflow) s.subflow = true;
  if (dialect.inferred) s.layout = 'inferred';
  return s;
}

/** Same address, port and scope: what the summary (and `update` events) consider. */
function sameSummaryEndpoint(a: Endpoint | undefined, b: Endpoint | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.address === b.address && a.port === b.port && a.scopeId === b.scopeId);
}

/** Every field a decoded Endpoint can carry is equal, so one object can stand for the other. */
function identicalEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.family === b.family && a.address === b.address && a.port === b.port && a.scopeId === b.scopeId && a.flowInfo === b.flowInfo && a.saLen === b.saLen;
}

function isBitmap(v: unknown): v is ActivityBitmap {
  return typeof v === 'object' && v !== null && typeof (v as ActivityBitmap).bits === 'string' && typeof (v as ActivityBitmap).start === 'number';
}

const interfaceKinds = new WeakMap<Dialect, Map<number | undefined, InterfaceKind>>();
/** interfaceKind() memoised per dialect (a handful of distinct ifnet_properties values). */
function interfaceKindOf(dialect: Dialect, props: number | undefined): InterfaceKind {
  let m = interfaceKinds.get(dialect);
  if (!m) interfaceKinds.set(dialect, (m = new Map()));
  let k = m.get(props);
  if (k === undefined) {
    k = interfaceKind(dialect, props);
    if (m.size < 1024) m.set(props, k);
  }
  return k;
}

function isUnspecifiedPeer(e: Endpoint): boolean {
  return e.port === 0 && (e.address === '0.0.0.0' || e.address === '::');
}

/**
 * Apply a descriptor; returns true when something user-visible changed (addresses, state, pid,
 * process, interface, ifindex). The descriptor is owned by the stream from here on: endpoints and
 * the activity bitmap equal to the ones the stream already holds are replaced by those, so the
 * fresh copies die young instead of being promoted every poll.
 */
export function applyDescriptor(dialect: Dialect, s: Stream, d: Descriptor): boolean {
  const pLocal = s.local;
  const pRemote = s.remote;
  const pState = s.state;
  const pPid = s.pid;
  const pProcess = s.process;
  const pInterface = s.interface;
  const pIfindex = s.ifindex;
  let local = isEndpoint(d.local) ? d.local : undefined;
  // An unconnected socket (UDP, a listener) has no peer: the kernel reports the unspecified
  // address with port 0, which is absent data, not a peer at 0.0.0.0:0.
  let remote = isEndpoint(d.remote) && !isUnspecifiedPeer(d.remote) ? d.remote : undefined;
  if (local && pLocal && local !== pLocal && identicalEndpoint(local, pLocal)) d.local = local = pLocal;
  if (remote && pRemote && remote !== pRemote && identicalEndpoint(remote, pRemote)) d.remote = remote = pRemote;
  const pBitmap = s.descriptor?.activityBitmap;
  const bitmap = d.activityBitmap;
  if (isBitmap(pBitmap) && isBitmap(bitmap) && pBitmap !== bitmap && pBitmap.start === bitmap.start && pBitmap.bits === bitmap.bits) d.activityBitmap = pBitmap;
  s.descriptor = d;
  if (local) s.local = local;
  else if (pLocal) delete s.local;
  if (remote) s.remote = remote;
  else if (pRemote) delete s.remote;
  const fam = local?.family ?? remote?.family;
  if (fam) s.family = fam;
  if (typeof d.ifindex === 'number') s.ifindex = d.ifindex;
  if (s.providerKind === 'ifnet') {
    if (typeof d.name === 'string') s.ifname = d.name;
  } else {
    s.interface = interfaceKindOf(dialect, d.ifnetProperties);
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
  return (
    !sameSummaryEndpoint(s.local, pLocal) ||
    !sameSummaryEndpoint(s.remote, pRemote) ||
    s.state !== pState ||
    s.pid !== pPid ||
    s.process !== pProcess ||
    s.interface !== pInterface ||
    s.ifindex !== pIfindex
  );
}

/** Every field of the new counts equals the stream's current ones (optional fields included). */
function sameCounts(p: StreamCounts, c: Counts): boolean {
  return (
    p.rxPackets === c.rxPackets &&
    p.rxBytes === c.rxBytes &&
    p.txPackets === c.txPackets &&
    p.txBytes === c.txBytes &&
    p.rxDuplicateBytes === c.rxDuplicateBytes &&
    p.rxOutOfOrderBytes === c.rxOutOfOrderBytes &&
    p.txRetransmit === c.txRetransmit &&
    p.connectAttempts === c.connectAttempts &&
    p.connectSuccesses === c.connectSuccesses &&
    p.minRtt === c.minRtt &&
    p.avgRtt === c.avgRtt &&
    p.varRtt === c.varRtt &&
    p.cellRxBytes === c.cellRxBytes &&
    p.cellTxBytes === c.cellTxBytes &&
    p.wifiRxBytes === c.wifiRxBytes &&
    p.wifiTxBytes === c.wifiTxBytes &&
    p.wiredRxBytes === c.wiredRxBytes &&
    p.wiredTxBytes === c.wiredTxBytes
  );
}

/**
 * Apply counts at time `now` (ms); computes rates against the previous sample. Counts equal to
 * the current ones (an idle source: most sources at most polls) keep the current object, so an
 * idle stream allocates nothing that outlives the poll.
 */
export function applyCounts(s: Stream, c: Counts, now: number): boolean {
  const prev = s.counts;
  let changed = true;
  if (prev) {
    changed = prev.rxBytes !== c.rxBytes || prev.txBytes !== c.txBytes || prev.rxPackets !== c.rxPackets || prev.txPackets !== c.txPackets;
    const dt = (now - s.lastUpdated) / 1000;
    if (dt > 0) setRates(s, Math.max(0, (c.rxBytes - prev.rxBytes) / dt), Math.max(0, (c.txBytes - prev.txBytes) / dt));
  }
  if (!prev || changed || !sameCounts(prev, c)) s.counts = toStreamCounts(c);
  s.lastUpdated = now;
  return changed;
}

/**
 * applyCounts for counts equal to the stream's current ones (the poll hot path knows they are
 * without building a Counts object): the same effect — rates 0 over an elapsed interval, the
 * sample time moves, nothing changed.
 */
export function touchCounts(s: Stream, now: number): void {
  if (now - s.lastUpdated > 0) setRates(s, 0, 0);
  s.lastUpdated = now;
}

/**
 * The rates, added (first sample pair) as references: stored `undefined` first, so the new fields'
 * representation is "any value" in whichever hidden class the stream has reached (its optional
 * fields make several; prime() covers only a TCP stream's). Otherwise the first rate decides: an
 * idle stream's 0 makes the field a small integer, the next fractional rate widens it to a double,
 * which replaces the hidden class (every stream made before moves when next touched: a reader sees
 * two classes for one key list, issue 17) and boxes every stream's rates from then on.
 */
function setRates(s: Stream, rx: number, tx: number): void {
  if (s.rxBytesPerSec === undefined) {
    s.rxBytesPerSec = undefined;
    s.txBytesPerSec = undefined;
  }
  s.rxBytesPerSec = rx;
  s.txBytesPerSec = tx;
}

/** Mark a stream ended; a TCP connection that tried and never connected is `failed`. */
export function closeStream(s: Stream, now: number): void {
  s.closed = true;
  s.lastUpdated = now;
  if (TCP_LIKE.has(s.providerKind as ProviderName) && !s.listener && s.counts) {
    s.failed = s.counts.connectAttempts > 0 && s.counts.connectSuccesses === 0;
  }
}
