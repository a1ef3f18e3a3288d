/**
 * The route provider (`nstat_route_lookup`, rt_lookup, §5.6) and the ifnet provider (ADD_SRC only,
 * with a byte threshold, §3.3).
 */
import type { StructLayout } from '../../protocol/index.js';
import { type IfnetObject, type RouteEntry, RTF_UP } from '../world/entities.js';
import { addrBytes } from '../world/addresses.js';
import { EAFNOSUPPORT, EINVAL, ENOENT, type LookupResult, type Provider, type ProviderEnv } from './provider-api.js';
import { ifAllowed, ifnetFlags, parseSockaddr, u64 } from './provider-common.js';
import { ifnetLinkStatusField } from './ifnet-provider.js';
// --------------------------------------------------------------------------- route

export function routeProvider(id: number, layout: StructLayout | undefined): Provider {
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

export function ifnetProvider(id: number, layout: StructLayout | undefined): Provider {
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
