/**
 * The kernel TCP and UDP providers (BEHAVIOUR.md §5.1, §5.2): pcb lookup for ADD_SRC, the
 * tcbinfo/udbinfo walks, counts and descriptors (with the UDP disconnect cache).
 */
import type { StructLayout } from '../../protocol/index.js';
import { type KernelSocket, TCPS } from '../world/entities.js';
import type { Source } from './sources.js';
import { type Descriptor, EINVAL, ENOENT, ENOTSUP, type LookupResult, type Provider, type ProviderEnv } from './provider-api.js';
import { activityBitmap, domainItem, effectiveIds, flowIfFlags, ifAllowed, isAny, kernelProcName, parseSockaddr, sameAddr, tcpCounts, timestamps, totalsCounts, userAllowed } from './provider-common.js';
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

export function kernelSocketProvider(name: 'tcp' | 'udp', id: number, layout: StructLayout | undefined): Provider {
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
