/**
 * The ntstat providers (BEHAVIOUR.md §5): for each, how its objects are looked up (ADD_SRC),
 * walked (ADD_ALL), counted, described, filtered and whether they are "gone". Descriptor
 * values use the decoder's camelCase field names; the dialect's layout decides which of them
 * exist on the wire (`writeStruct` writes only the fields the layout has).
 */
import type { Counts, ProviderName, StructLayout } from '../../protocol/index.js';
import { DESCRIPTOR_STRUCT } from '../../protocol/index.js';
import type { KernelProfile } from '../profile.js';
import {
  RTF_UP,
  TCPS,
  type ConnFlow,
  type Flow,
  type IfnetObject,
  type KernelSocket,
  type NetInterface,
  type RouteEntry,
  type UdpSubflow,
  type UserlandFlow,
  type WorldObject,
} from '../world/entities.js';
import { writeStruct } from '../../protocol/fields.js';
import { addrBytes, type World } from '../world/world.js';
import type { Bits } from './bits.js';
import type { Source } from './sources.js';
import { ifnetLinkStatusField } from './ifnet-provider.js';

export const EPERM = 1;
export const ENOENT = 2;
export const EIO = 5;
export const ENOMEM = 12;
export const EINVAL = 22;
export const EAGAIN = 35;
export const EALREADY = 37;
export const EMSGSIZE = 40;
export const ENOTSUP = 45;
export const EAFNOSUPPORT = 47;
export const ENOBUFS = 55;
export const EOPNOTSUPP = 102;

export interface ProviderFilter {
  flags: bigint;
  events: bigint;
  pid: number;
  /** target_uuid, lowercase text; all zeros when unset. */
  uuid: string;
  /** Extension ids requested and granted: bit k = extension k (`npf_extensions`). */
  extensions: bigint;
}

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export function emptyFilter(): ProviderFilter {
  return { flags: 0n, events: 0n, pid: 0, uuid: ZERO_UUID, extensions: 0n };
}

export interface ProviderEnv {
  readonly profile: KernelProfile;
  readonly bits: Bits;
  readonly world: World;
}

export type CountsResult = { errno: 0; counts: Counts; gone: boolean } | { errno: number; gone: boolean };
export type LookupResult = { errno: number } | { errno: 0; obj: WorldObject };
/** An extension's size as first reported, and the bytes copied (undefined: copy failed → filler). */
export interface ExtensionData {
  size: number;
  data?: Uint8Array;
}

export type Descriptor = Record<string, unknown>;

export interface Provider {
  readonly name: ProviderName;
  readonly id: number;
  readonly layout?: StructLayout;
  /** `nstat_descriptor_length` (0: no descriptor). */
  readonly descLength: number;
  readonly hasCounts: boolean;
  /** ifnet has no watcher: ADD_ALL → ENOTSUP. */
  readonly hasWatcher: boolean;
  /** What the ADD_ALL walk does when a SRC_ADDED cannot be queued (§2.3). */
  walkFailure(profile: KernelProfile): 'stop-success' | 'stop-error' | 'continue';
  lookup(env: ProviderEnv, param: Uint8Array): LookupResult;
  /** Objects an ADD_ALL walk visits, in the kernel's order. */
  walk(env: ProviderEnv): WorldObject[];
  gone(obj: WorldObject): boolean;
  counts(env: ProviderEnv, obj: WorldObject): CountsResult;
  /** Descriptor values, or an errno when it cannot be built (dead pcb, detached interface). */
  descriptor(env: ProviderEnv, obj: WorldObject, src: Source): Descriptor | number;
  reportingAllowed(env: ProviderEnv, obj: WorldObject, filter: ProviderFilter, suppression: bigint): boolean;
  extension(env: ProviderEnv, obj: WorldObject, id: number): ExtensionData | undefined;
  cookieEqual(a: WorldObject, b: WorldObject): boolean;
  /** Generic providers: open-time properties (INITIAL_PROPERTIES, §2.4). */
  initialProperties?(env: ProviderEnv, obj: WorldObject): number;
}

// --------------------------------------------------------------------------- interface flags

/** `nstat_ifnet_to_flags`: interface functional type → NSTAT_IFNET_IS_* (dialect values). */
export function ifnetFlags(env: ProviderEnv, ifp: NetInterface): number {
  const b = env.bits;
  let f = 0;
  switch (ifp.kind) {
    case 'loopback':
      f |= b.ifLoopback;
      break;
    case 'wired':
      f |= b.ifWired;
      break;
    case 'wifi':
      f |= b.ifWifi | b.ifWifiInfra;
      break;
    case 'awdl':
      f |= b.ifWifi | b.ifAwdl;
      break;
    case 'llw':
      f |= b.ifWifi | b.ifLlw;
      break;
    case 'cellular':
      f |= b.ifCellular;
      break;
    case 'companionBt':
      f |= b.ifCompanion | b.ifCompanionBt;
      break;
    default:
      f |= b.ifUnknown;
      break;
  }
  if (ifp.expensive) f |= b.ifExpensive;
  if (ifp.constrained) f |= b.ifConstrained;
  // IS_VPN is only set by B15 kernels (§5.9).
  if (ifp.kind === 'utun' && env.profile.b15) f |= b.ifVpn;
  return f;
}

function isLocalPeer(remote: { address: string } | undefined): boolean {
  if (!remote) return false;
  const a = remote.address;
  return a.startsWith('fe80:') || a === '::1' || a.startsWith('127.') || a.startsWith('10.') || a.startsWith('192.168.') || a.startsWith('169.254.');
}

/** `nstat_inpcb_to_flags`: interface flags of the last output interface (+ local, cell fallback). */
export function flowIfFlags(env: ProviderEnv, f: Flow): number {
  const b = env.bits;
  let flags = f.outIf ? ifnetFlags(env, f.outIf) : b.ifUnknown;
  if (b.ifLocal) flags |= isLocalPeer(f.remote) ? b.ifLocal : b.ifNonLocal;
  if (f.viaCellFallback) flags |= b.ifCellFallback;
  return flags >>> 0;
}

// --------------------------------------------------------------------------- helpers

/** p_comm (16 bytes) up to B14, p_name (32 bytes) from B15, cut on a UTF-8 boundary. */
export function kernelProcName(env: ProviderEnv, name: string): string {
  const max = env.profile.pnameBytes;
  const enc = new TextEncoder().encode(name);
  if (enc.length <= max) return name;
  let n = max;
  while (n > 0 && (enc[n] & 0xc0) === 0x80) n--;
  return new TextDecoder().decode(enc.subarray(0, n));
}

function activityBitmap(env: ProviderEnv, f: Flow): { start: number; bits: string } {
  return { start: env.world.uptimeSeconds(f.createdAt), bits: f.activity.toString(16).padStart(32, '0').slice(-32) };
}

function timestamps(env: ProviderEnv, f: Flow): { startTimestamp: number; timestamp: number } {
  return { startTimestamp: env.world.machTicks(f.createdAt), timestamp: env.world.machTicks() };
}

function u64(v: number): number {
  return Math.max(0, Math.floor(v));
}

/** Totals and per-medium bytes only (UDP, subflows): the other fields stay 0 (§5.2). */
function totalsCounts(f: Flow, perMedium: boolean): Counts {
  const c = f.counts;
  return {
    rxPackets: c.rxPackets,
    rxBytes: c.rxBytes,
    txPackets: c.txPackets,
    txBytes: c.txBytes,
    rxDuplicateBytes: 0,
    rxOutOfOrderBytes: 0,
    txRetransmit: 0,
    connectAttempts: 0,
    connectSuccesses: 0,
    minRtt: 0,
    avgRtt: 0,
    varRtt: 0,
    cellRxBytes: perMedium ? c.cellRxBytes : 0,
    cellTxBytes: perMedium ? c.cellTxBytes : 0,
    wifiRxBytes: perMedium ? c.wifiRxBytes : 0,
    wifiTxBytes: perMedium ? c.wifiTxBytes : 0,
    wiredRxBytes: perMedium ? c.wiredRxBytes : 0,
    wiredTxBytes: perMedium ? c.wiredTxBytes : 0,
  };
}

/** `nstat_tcp_counts`: attempts/successes from the FSM state, RTT with min clamped to avg. */
function tcpCounts(f: KernelSocket | UserlandFlow): Counts {
  const c = f.counts;
  return {
    ...totalsCounts(f, true),
    rxDuplicateBytes: c.rxDuplicateBytes,
    rxOutOfOrderBytes: c.rxOutOfOrderBytes,
    txRetransmit: c.txRetransmit,
    connectAttempts: f.state >= TCPS.SYN_SENT ? 1 : 0,
    connectSuccesses: f.state >= TCPS.ESTABLISHED ? 1 : 0,
    minRtt: Math.min(c.minRtt, c.avgRtt),
    avgRtt: c.avgRtt,
    varRtt: c.varRtt,
  };
}

/** Epid/eupid/euuid rules of `nstat_tcp_copy_descriptor` (§5.1). */
function effectiveIds(env: ProviderEnv, f: Flow): { eupid: number; epid: number; euuid?: string } {
  if (f.delegate) return { eupid: f.delegate.upid, epid: f.delegate.pid, euuid: f.delegate.uuid };
  if (f.responsibleUuid && env.profile.b14AddSrcRules) return { eupid: 0, epid: 0, euuid: f.responsibleUuid };
  return { eupid: f.proc.upid, epid: f.proc.pid, euuid: f.proc.uuid };
}

function domainItem(env: ProviderEnv, f: Flow, original: boolean): ExtensionData | undefined {
  const layout = env.profile.dialect.structs.get('nstat_domain_info');
  if (!layout) return undefined;
  const dom = original ? (f as UserlandFlow).originalDomain : f.domain;
  const isKernel = f.kind === 'tcp' || f.kind === 'udp' || f.kind === 'udpSubflow';
  if (!dom && !isKernel) return undefined;
  // Kernel TCP/UDP always answer with a (possibly empty) nstat_domain_info (`nstat_inp_domain_info`).
  const values: Record<string, unknown> = {};
  if (dom && !dom.isSilent) {
    values.domainName = dom.domainName;
    if (dom.domainOwner) values.domainOwner = dom.domainOwner;
    if (dom.domainTrackerCtxt) values.domainTrackerCtxt = dom.domainTrackerCtxt;
    if (!isKernel && dom.domainAttributedBundleId) values.domainAttributedBundleId = dom.domainAttributedBundleId;
    if (!isKernel && f.remote) values.remote = f.remote;
    values.isTracker = dom.isTracker ?? false;
    values.isNonAppInitiated = dom.isNonAppInitiated ?? false;
  }
  if (dom?.isSilent) values.isSilent = true;
  return { size: layout.size, data: writeValues(layout, values) };
}

/** writeStruct into a fresh zeroed buffer (used for extension payloads). */
export function writeValues(layout: StructLayout, values: Record<string, unknown>): Uint8Array {
  const b = new Uint8Array(layout.size);
  writeStruct(layout, b, new DataView(b.buffer), 0, values);
  return b;
}

function uuidBytes(text: string): Uint8Array {
  const hex = text.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * `check_reporting_for_user` / the SPECIFIC_USER part of `nstat_tcpudp_reporting_allowed`.
 * For kernel sockets the EPID test reproduces the kernel's mis-parenthesised expression
 * `npf_pid == (so_flags & SOF_DELEGATED) ? e_upid : last_pid`, true for nearly any socket (§2.4).
 */
function userAllowed(env: ProviderEnv, filter: ProviderFilter, f: Flow, kernelSocket: boolean): boolean {
  const b = env.bits;
  const fl = filter.flags;
  if ((fl & b.specificUser) === 0n) return true;
  const uuid = f.proc.uuid;
  const eff = effectiveIds(env, f);
  if ((fl & b.byPid) !== 0n && filter.pid === f.proc.pid) return true;
  if ((fl & b.byEpid) !== 0n) {
    if (kernelSocket) {
      const delegatedBit = f.delegate ? 0x40000000 : 0;
      const v = filter.pid === delegatedBit ? (f.delegate ? f.delegate.upid : 0) : f.proc.pid;
      if (v !== 0) return true;
    } else if (filter.pid === eff.epid) return true;
  }
  if ((fl & b.byUuid) !== 0n && filter.uuid === uuid) return true;
  if ((fl & b.byEuuid) !== 0n && filter.uuid === (kernelSocket ? (f.delegate ? f.delegate.uuid : uuid) : eff.euuid ?? ZERO_UUID)) return true;
  return false;
}

/** Interface part of the reporting filter; `mask` is the version's IFNET_FLAGS mask. */
function ifAllowed(env: ProviderEnv, filter: ProviderFilter, flags: number): boolean {
  const ifFilter = filter.flags & env.profile.ifnetFilterMask;
  if (ifFilter === 0n) return true;
  return (ifFilter & BigInt(flags >>> 0)) !== 0n;
}

// --------------------------------------------------------------------------- kernel TCP / UDP

function parseSockaddr(b: Uint8Array, dv: DataView, off: number): { len: number; family: number; port: number; addr: string; scope: number } {
  const len = b[off];
  const family = b[off + 1];
  const port = dv.getUint16(off + 2, false);
  let addr = '';
  let scope = 0;
  if (family === 2) addr = `${b[off + 4]}.${b[off + 5]}.${b[off + 6]}.${b[off + 7]}`;
  else if (family === 30) {
    const g: string[] = [];
    for (let i = 0; i < 8; i++) g.push(dv.getUint16(off + 8 + 2 * i, false).toString(16));
    addr = g.join(':');
    scope = dv.getUint32(off + 24, true);
  }
  return { len, family, port, addr, scope };
}

function sameAddr(a: string, b: string): boolean {
  const x = addrBytes(a);
  const y = addrBytes(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}
function isAny(a: string): boolean {
  return addrBytes(a).every((v) => v === 0);
}

/**
 * `nstat_tcpudp_lookup` (before B14): validate the 56-byte param, then `in_pcblookup_hash`
 * with wildcard (a listener bound to the local port matches when the remote is zero).
 */
function tcpudpLookup(env: ProviderEnv, param: Uint8Array, list: Iterable<KernelSocket>): LookupResult {
  const layout = env.profile.dialect.structs.get('nstat_tcp_add_param');
  const size = layout?.size ?? 56;
  if (param.length < size) return { errno: EINVAL };
  const dv = new DataView(param.buffer, param.byteOffset, param.byteLength);
  const local = parseSockaddr(param, dv, 0);
  const remote = parseSockaddr(param, dv, 28);
  if (remote.family !== 0 && remote.family !== local.family) return { errno: EINVAL };
  if (local.family === 2) {
    if (local.len !== 16 || (remote.family !== 0 && remote.len !== 16)) return { errno: EINVAL };
  } else if (local.family === 30) {
    if (local.len !== 28 || (remote.family !== 0 && remote.len !== 28)) return { errno: EINVAL };
  } else return { errno: EINVAL };
  let wild: KernelSocket | undefined;
  for (const s of list) {
    if (s.pcbDead || !s.local || s.local.port !== local.port) continue;
    if ((s.local.family === 4 ? 2 : 30) !== local.family) continue;
    if (s.remote && remote.family !== 0 && s.remote.port === remote.port && sameAddr(s.remote.address, remote.addr) && (sameAddr(s.local.address, local.addr) || isAny(s.local.address))) {
      return { errno: 0, obj: s };
    }
    if (!s.remote && (isAny(s.local.address) || sameAddr(s.local.address, local.addr))) wild ??= s;
  }
  return wild ? { errno: 0, obj: wild } : { errno: ENOENT };
}

function tcpDescriptor(env: ProviderEnv, s: KernelSocket, src: Source): Descriptor | number {
  if (s.pcbDead) return EINVAL;
  const b = env.bits;
  let props = flowIfFlags(env, s);
  if (env.profile.wideIfnetProps) {
    if (s.inbound) props |= b.roleInbound;
    else if (s.state === TCPS.LISTEN) {
      props |= b.roleListener;
      src.roleCache = b.roleListener;
    } else if (s.state !== TCPS.CLOSED) {
      props |= b.roleOutbound;
      src.roleCache = b.roleOutbound;
    } else props |= src.roleCache;
  } else props &= 0xffff;
  const zero = s.family === 4 ? { family: 4 as const, address: '0.0.0.0', port: 0 } : { family: 6 as const, address: '::', port: 0 };
  return {
    local: s.local ?? zero,
    remote: s.remote ?? zero,
    ifindex: s.outIf?.ifindex ?? 0,
    state: s.state,
    sndbufsize: s.sndbufSize,
    sndbufused: s.sndbufUsed,
    rcvbufsize: s.rcvbufSize,
    rcvbufused: s.rcvbufUsed,
    txunacked: s.txUnacked,
    txwindow: s.txWindow,
    txcwindow: s.txCwindow,
    trafficClass: s.trafficClass,
    trafficMgtFlags: s.background ? 1 : 0,
    ccAlgo: s.ccAlgo,
    upid: s.proc.upid,
    pid: s.proc.pid,
    pname: kernelProcName(env, s.proc.name),
    uuid: s.proc.uuid,
    vuuid: s.vuuid,
    ...effectiveIds(env, s),
    fuuid: s.fuuid,
    personaId: s.proc.personaId,
    uid: s.proc.uid,
    connstatus: s.connstatus,
    ifnetProperties: props >>> 0,
    fallbackMode: s.fallbackMode,
    activityBitmap: activityBitmap(env, s),
    rxTransferSize: 0,
    txTransferSize: 0,
    ...timestamps(env, s),
  };
}

function udpDescriptor(env: ProviderEnv, s: KernelSocket, src: Source): Descriptor | number {
  if (s.pcbDead) return EINVAL;
  const zero = s.family === 4 ? { family: 4 as const, address: '0.0.0.0', port: 0 } : { family: 6 as const, address: '::', port: 0 };
  let local = s.local ?? zero;
  let remote = s.remote ?? zero;
  let props = flowIfFlags(env, s);
  if (src.udpCache) {
    local = src.udpCache.local ?? zero;
    remote = src.udpCache.remote ?? zero;
    props = src.udpCache.ifnetProps;
  }
  if (!env.profile.wideIfnetProps) props &= 0xffff;
  if (s.outIf) src.cachedIfindex = s.outIf.ifindex;
  return {
    local,
    remote,
    ifindex: s.outIf?.ifindex ?? src.cachedIfindex,
    rcvbufsize: s.rcvbufSize,
    rcvbufused: s.rcvbufUsed,
    trafficClass: s.trafficClass,
    upid: s.proc.upid,
    pid: s.proc.pid,
    pname: kernelProcName(env, s.proc.name),
    uuid: s.proc.uuid,
    vuuid: s.vuuid,
    ...effectiveIds(env, s),
    fuuid: s.fuuid,
    personaId: s.proc.personaId,
    uid: s.proc.uid,
    ifnetProperties: props >>> 0,
    fallbackMode: s.fallbackMode,
    activityBitmap: activityBitmap(env, s),
    ...timestamps(env, s),
  };
}

function kernelSocketProvider(name: 'tcp' | 'udp', id: number, layout: StructLayout | undefined): Provider {
  const isUdp = name === 'udp';
  return {
    name,
    id,
    layout,
    descLength: layout?.size ?? 0,
    hasCounts: true,
    hasWatcher: true,
    walkFailure: () => 'stop-success',
    lookup(env, param) {
      // B14 (xnu-8796.141.3+): "Looking up a specific connection is not supported".
      if (env.profile.b14AddSrcRules) return { errno: ENOTSUP };
      return tcpudpLookup(env, param, (isUdp ? env.world.udpPcbs : env.world.tcpPcbs).values());
    },
    walk(env) {
      // LIST_FOREACH over ipi_listhead: newest first, TIME_WAIT included, dead pcbs skipped.
      return [...(isUdp ? env.world.udpPcbs : env.world.tcpPcbs).values()].reverse();
    },
    gone: (obj) => (obj as KernelSocket).pcbDead,
    counts(_env, obj) {
      const s = obj as KernelSocket;
      return { errno: 0, counts: isUdp ? totalsCounts(s, true) : tcpCounts(s), gone: s.pcbDead };
    },
    descriptor: (env, obj, src) => (isUdp ? udpDescriptor(env, obj as KernelSocket, src) : tcpDescriptor(env, obj as KernelSocket, src)),
    reportingAllowed(env, obj, filter) {
      const s = obj as KernelSocket;
      if (env.profile.era === 'pre11') return true;
      const b = env.bits;
      if ((filter.flags & (env.profile.ifnetFilterMask | b.specificUser)) === 0n) return true;
      if ((filter.flags & env.profile.ifnetFilterMask) !== 0n) {
        let flags = flowIfFlags(env, s);
        if (!env.profile.wideIfnetProps) flags &= 0xffff;
        if (!ifAllowed(env, filter, flags)) {
          // UDP (12+): allowed anyway when bytes were counted on a requested medium.
          if (!isUdp || env.profile.era === '11') return false;
          const c = s.counts;
          const fl = filter.flags;
          const ok =
            ((fl & (b.acceptCellular | b.acceptExpensive)) !== 0n && (c.cellRxBytes > 0 || c.cellTxBytes > 0)) ||
            ((fl & b.acceptWifi) !== 0n && (c.wifiRxBytes > 0 || c.wifiTxBytes > 0)) ||
            ((fl & b.acceptWired) !== 0n && (c.wiredRxBytes > 0 || c.wiredTxBytes > 0)) ||
            ((fl & b.acceptCompanionBt) !== 0n && (c.btRxBytes > 0 || c.btTxBytes > 0));
          if (!ok) return false;
        }
      }
      return userAllowed(env, filter, s, true);
    },
    extension(env, obj, extId) {
      const s = obj as KernelSocket;
      if (s.pcbDead) return undefined;
      if (extId === 1) return domainItem(env, s, false);
      if (extId === 6) {
        // BLUETOOTH_COUNTS (B15, `nstat_inp_bluetooth_counts`): sized only when BT bytes were
        // counted; the copy needs a tcpcb, so for UDP it fails and the kernel writes a type-0
        // filler item over the space it had reserved (§6).
        const c = s.counts;
        if (c.btRxBytes === 0 && c.btTxBytes === 0) return undefined;
        if (isUdp) return { size: 32 };
        const data = new Uint8Array(32);
        const dv = new DataView(data.buffer);
        dv.setBigUint64(0, BigInt(c.btRxPackets), true);
        dv.setBigUint64(8, BigInt(c.btRxBytes), true);
        dv.setBigUint64(16, BigInt(c.btTxPackets), true);
        dv.setBigUint64(24, BigInt(c.btTxBytes), true);
        return { size: 32, data };
      }
      return undefined;
    },
    cookieEqual: (a, b) => a === b,
  };
}

// --------------------------------------------------------------------------- userland

function userlandProvider(name: 'tcpUserland' | 'udpUserland' | 'quic', id: number, layout: StructLayout | undefined): Provider {
  const udp = name === 'udpUserland';
  return {
    name,
    id,
    layout,
    descLength: layout?.size ?? 0,
    hasCounts: true,
    hasWatcher: true,
    walkFailure: (p) => (p.userlandWalk === 'continue' ? 'continue' : 'stop-error'),
    lookup: () => ({ errno: ENOTSUP }),
    walk(env) {
      // nstat_userprot_shad_head: TAILQ_INSERT_HEAD → newest first; only this provider's live flows.
      const kind = name;
      return [...env.world.userlandFlows.values()].reverse().filter((f) => f.kind === kind && f.live);
    },
    gone: () => false,
    counts(_env, obj) {
      const f = obj as UserlandFlow;
      return { errno: 0, counts: f.kind === 'udpUserland' ? totalsCounts(f, true) : tcpCounts(f), gone: false };
    },
    descriptor(env, obj) {
      const f = obj as UserlandFlow;
      const zero = f.family === 4 ? { family: 4 as const, address: '0.0.0.0', port: 0 } : { family: 6 as const, address: '::', port: 0 };
      return {
        local: f.local ?? zero,
        remote: f.remote ?? zero,
        ifindex: f.outIf?.ifindex ?? 0,
        state: udp ? undefined : f.state,
        txwindow: udp ? undefined : 65535,
        txcwindow: udp ? undefined : 14480,
        ccAlgo: f.ccAlgo || undefined,
        upid: f.proc.upid,
        pid: f.proc.pid,
        pname: kernelProcName(env, f.proc.name),
        uuid: f.proc.uuid,
        ...effectiveIds(env, f),
        fuuid: f.fuuid,
        personaId: f.proc.personaId,
        uid: f.proc.uid,
        // u16 on the wire until B11 (the writer keeps the low 16 bits), u32 from 12.x.
        ifnetProperties: flowIfFlags(env, f),
        activityBitmap: activityBitmap(env, f),
        ...timestamps(env, f),
      };
    },
    reportingAllowed(env, obj, filter) {
      const f = obj as UserlandFlow;
      if (!ifAllowed(env, filter, flowIfFlags(env, f))) return false;
      return userAllowed(env, filter, f, false);
    },
    extension(env, obj, extId) {
      const f = obj as UserlandFlow;
      switch (extId) {
        case 1:
          return domainItem(env, f, false);
        case 2:
          return f.necpTlv ? { size: f.necpTlv.length, data: f.necpTlv } : undefined;
        case 3:
          return f.originalNecpTlv ? { size: f.originalNecpTlv.length, data: f.originalNecpTlv } : undefined;
        case 4:
          return f.originalDomain ? domainItem(env, f, true) : undefined;
        case 5:
          return f.fuuid ? { size: 16, data: uuidBytes(f.fuuid) } : undefined;
        default:
          return undefined;
      }
    },
    cookieEqual: (a, b) => a === b,
  };
}

// --------------------------------------------------------------------------- generic (CONN, UDP_SUBFLOW)

function genericProvider(name: 'conn' | 'udpSubflow', id: number, layout: StructLayout | undefined): Provider {
  const isConn = name === 'conn';
  return {
    name,
    id,
    layout,
    descLength: layout?.size ?? 0,
    hasCounts: true,
    hasWatcher: true,
    walkFailure: () => 'stop-error',
    lookup: () => ({ errno: ENOTSUP }),
    walk(env) {
      return [...(isConn ? env.world.connFlows : env.world.subflows).values()].reverse();
    },
    gone: () => false,
    counts(_env, obj) {
      const f = obj as ConnFlow | UdpSubflow;
      // CONN counts are always zero (`necp_request_conn_netstats`); subflows report totals only.
      const c = totalsCounts(f, false);
      if (isConn) {
        c.rxPackets = c.rxBytes = c.txPackets = c.txBytes = 0;
      }
      return { errno: 0, counts: c, gone: false };
    },
    descriptor(env, obj) {
      const f = obj as ConnFlow | UdpSubflow;
      const common = {
        upid: f.proc.upid,
        pid: f.proc.pid,
        pname: kernelProcName(env, f.proc.name),
        uuid: f.proc.uuid,
        ...effectiveIds(env, f),
        fuuid: f.fuuid,
        personaId: f.proc.personaId,
        uid: f.proc.uid,
        ifnetProperties: flowIfFlags(env, f),
        ...timestamps(env, f),
      };
      if (isConn) {
        const c = f as ConnFlow;
        return { ...common, cuuid: c.cuuid, puuid: c.puuid };
      }
      const s = f as UdpSubflow;
      return { ...common, local: s.local, remote: s.remote, ifindex: s.outIf?.ifindex ?? 0, rcvbufsize: s.parent.rcvbufSize, activityBitmap: activityBitmap(env, s) };
    },
    reportingAllowed(env, obj, filter, suppression) {
      const f = obj as ConnFlow | UdpSubflow;
      const b = env.bits;
      // `nstat_generic_provider_reporting_allowed`: BORING suppression first.
      if ((filter.flags & (b.suppressBoringClose | b.suppressBoringPoll)) !== 0n && (filter.flags & suppression) !== 0n) return false;
      if (!ifAllowed(env, filter, flowIfFlags(env, f))) return false;
      if ((filter.flags & b.specificUser) === 0n) return true;
      if ((filter.flags & b.byPid) !== 0n && filter.pid === f.proc.pid) return true;
      if ((filter.flags & b.byUuid) !== 0n && filter.uuid === f.proc.uuid) return true;
      if ((filter.flags & (b.byEpid | b.byEuuid)) !== 0n) {
        if (isConn) {
          // "Filtering by effective uuid or effective pid is currently not supported": the bits
          // are cleared from the client's filter and the source is reported (§5.4).
          filter.flags &= ~(b.byEpid | b.byEuuid);
          return true;
        }
        const eff = effectiveIds(env, f);
        if ((filter.flags & b.byEpid) !== 0n && filter.pid === eff.epid) return true;
        if ((filter.flags & b.byEuuid) !== 0n && filter.uuid === eff.euuid) return true;
      }
      return false;
    },
    extension(env, obj, extId) {
      const f = obj as ConnFlow | UdpSubflow;
      if (extId === 1) return domainItem(env, f, false);
      if (isConn && extId === 2 && f.necpTlv) return { size: f.necpTlv.length, data: f.necpTlv };
      if (extId === 5 && f.fuuid) return { size: 16, data: uuidBytes(f.fuuid) };
      return undefined;
    },
    cookieEqual: (a, b) => a === b,
    initialProperties(env, obj) {
      const f = obj as ConnFlow | UdpSubflow;
      return f.kind === 'conn' ? f.initialIfFlags : flowIfFlags(env, f);
    },
  };
}

// --------------------------------------------------------------------------- route

function routeProvider(id: number, layout: StructLayout | undefined): Provider {
  return {
    name: 'route',
    id,
    layout,
    descLength: layout?.size ?? 0,
    hasCounts: true,
    hasWatcher: true,
    walkFailure: () => 'stop-error',
    lookup(env, param) {
      return routeLookup(env, param);
    },
    walk(env) {
      // rnh_walktree over each family's table (AF_INET before AF_INET6), UP routes only.
      const all = [...env.world.routes.values()].filter((r) => (r.flags & RTF_UP) !== 0);
      return [...all.filter((r) => r.dst.family === 4), ...all.filter((r) => r.dst.family === 6)];
    },
    gone: (obj) => ((obj as RouteEntry).flags & RTF_UP) === 0,
    counts(_env, obj) {
      const r = obj as RouteEntry;
      const c = r.counts;
      return {
        errno: 0,
        gone: (r.flags & RTF_UP) === 0,
        counts: {
          rxPackets: c.rxPackets,
          rxBytes: c.rxBytes,
          txPackets: c.txPackets,
          txBytes: c.txBytes,
          rxDuplicateBytes: c.rxDuplicateBytes,
          rxOutOfOrderBytes: c.rxOutOfOrderBytes,
          txRetransmit: c.txRetransmit,
          connectAttempts: r.connectAttempts,
          connectSuccesses: r.connectSuccesses,
          minRtt: c.minRtt,
          avgRtt: c.avgRtt,
          varRtt: c.varRtt,
          cellRxBytes: 0,
          cellTxBytes: 0,
          wifiRxBytes: 0,
          wifiTxBytes: 0,
          wiredRxBytes: 0,
          wiredTxBytes: 0,
        },
      };
    },
    descriptor(_env, obj) {
      const r = obj as RouteEntry;
      return {
        id: r.routeId,
        parentId: r.parentId,
        gatewayId: r.gatewayId,
        dst: r.dst,
        mask: r.mask,
        gateway: r.gateway,
        ifindex: r.ifp.ifindex,
        flags: r.flags >>> 0,
      };
    },
    reportingAllowed(env, obj, filter) {
      // `nstat_route_reporting_allowed` (12+): interface flags of rt_ifp.
      if (env.profile.era === 'pre11' || env.profile.era === '11') return true;
      return ifAllowed(env, filter, ifnetFlags(env, (obj as RouteEntry).ifp));
    },
    extension: () => undefined,
    cookieEqual: (a, b) => a === b,
  };
}

/** `nstat_route_lookup`: validate dst/mask sockaddrs, then rt_lookup (§2.2). */
function routeLookup(env: ProviderEnv, param: Uint8Array): LookupResult {
  if (param.length < 60) return { errno: EINVAL };
  const dv = new DataView(param.buffer, param.byteOffset, param.byteLength);
  const dst = parseSockaddr(param, dv, 0);
  const mask = parseSockaddr(param, dv, 28);
  const ifindex = dv.getUint32(56, true);
  const AF_MAX = 40;
  if (dst.family === 0 || dst.family > AF_MAX || (mask.family !== 0 && mask.family !== dst.family)) return { errno: EINVAL };
  if (dst.len > 28) return { errno: EINVAL };
  if ((dst.family === 2 && dst.len < 16) || (dst.family === 30 && dst.len < 28)) return { errno: EINVAL };
  if (dst.family !== 2 && dst.family !== 30) return { errno: EAFNOSUPPORT };
  let r: RouteEntry | undefined;
  if (mask.family !== 0) {
    const bytes = addrBytes(mask.addr);
    let len = 0;
    for (const v of bytes) for (let bit = 7; bit >= 0; bit--) if (v & (1 << bit)) len++;
    r = env.world.lookupRouteExact(dst.addr, len, ifindex);
  } else r = env.world.lookupRoute(dst.addr, ifindex);
  return r ? { errno: 0, obj: r } : { errno: ENOENT };
}

// --------------------------------------------------------------------------- ifnet

export const IFNET_MIN_THRESHOLD = 1024 * 1024;

function ifnetProvider(id: number, layout: StructLayout | undefined): Provider {
  return {
    name: 'ifnet',
    id,
    layout,
    descLength: layout?.size ?? 0,
    hasCounts: true,
    hasWatcher: false,
    walkFailure: () => 'stop-error',
    // The lookup needs the kernel (privilege, threshold bookkeeping): done in requests.ts.
    lookup: () => ({ errno: EINVAL }),
    walk: () => [],
    gone: (obj) => !(obj as IfnetObject).ifp.attached,
    counts(_env, obj) {
      const ifp = (obj as IfnetObject).ifp;
      if (!ifp.attached) return { errno: EINVAL, gone: true };
      return {
        errno: 0,
        gone: false,
        counts: {
          rxPackets: ifp.rxPackets,
          rxBytes: ifp.rxBytes,
          txPackets: ifp.txPackets,
          txBytes: ifp.txBytes,
          rxDuplicateBytes: 0,
          rxOutOfOrderBytes: 0,
          txRetransmit: 0,
          connectAttempts: 0,
          connectSuccesses: 0,
          minRtt: 0,
          avgRtt: 0,
          varRtt: 0,
        },
      };
    },
    descriptor(env, obj) {
      const ifp = (obj as IfnetObject).ifp;
      if (!ifp.attached) return EINVAL;
      return {
        name: ifp.name,
        ifindex: ifp.ifindex,
        threshold: u64(ifp.threshold),
        type: ifp.ifType,
        description: ifp.description,
        ...ifnetLinkStatusField(env, ifp),
      };
    },
    reportingAllowed: () => true,
    extension: () => undefined,
    // `nstat_ifnet_cookie_equal`: same if_index.
    cookieEqual: (a, b) => (a as IfnetObject).ifp.ifindex === (b as IfnetObject).ifp.ifindex,
  };
}

// --------------------------------------------------------------------------- registry

/** The providers registered by this kernel (sysinfo is never a provider: ENOENT, §A.1). */
export function buildProviders(profile: KernelProfile): Map<number, Provider> {
  const d = profile.dialect;
  const p = profile.providers;
  const out = new Map<number, Provider>();
  const layout = (n: ProviderName) => d.structs.get(DESCRIPTOR_STRUCT[n]);
  if (p.route !== undefined) out.set(p.route, routeProvider(p.route, layout('route')));
  if (p.tcp !== undefined) out.set(p.tcp, kernelSocketProvider('tcp', p.tcp, layout('tcp')));
  if (p.udp !== undefined) out.set(p.udp, kernelSocketProvider('udp', p.udp, layout('udp')));
  if (p.tcpUserland !== undefined) out.set(p.tcpUserland, userlandProvider('tcpUserland', p.tcpUserland, layout('tcpUserland')));
  if (p.udpUserland !== undefined) out.set(p.udpUserland, userlandProvider('udpUserland', p.udpUserland, layout('udpUserland')));
  if (p.quic !== undefined) out.set(p.quic, userlandProvider('quic', p.quic, layout('quic')));
  if (p.conn !== undefined) out.set(p.conn, genericProvider('conn', p.conn, layout('conn')));
  if (p.udpSubflow !== undefined) out.set(p.udpSubflow, genericProvider('udpSubflow', p.udpSubflow, layout('udpSubflow')));
  if (p.ifnet !== undefined) out.set(p.ifnet, ifnetProvider(p.ifnet, layout('ifnet')));
  return out;
}

/** The provider whose objects have this world kind. */
export function providerForKind(profile: KernelProfile, kind: WorldObject['kind']): number | undefined {
  const p = profile.providers;
  switch (kind) {
    case 'tcp':
      return p.tcp;
    case 'udp':
      return p.udp;
    case 'tcpUserland':
      return p.tcpUserland;
    case 'udpUserland':
      // 10.12 bug: new UDP-userland flows are attached with the TCP-userland provider (§5.3).
      return profile.udpUserlandAsTcpBug ? p.tcpUserland : p.udpUserland;
    case 'quic':
      return p.quic;
    case 'conn':
      return p.conn;
    case 'udpSubflow':
      return p.udpSubflow;
    case 'route':
      return p.route;
    case 'ifnet':
      return p.ifnet;
  }
}
