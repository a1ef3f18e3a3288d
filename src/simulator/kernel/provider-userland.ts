/**
 * The userland TCP/UDP/QUIC providers (NECP flows, BEHAVIOUR.md §5.3, §5.4) and the generic
 * providers CONN and UDP_SUBFLOW (§5.5).
 */
import type { StructLayout } from '../../protocol/index.js';
import type { ConnFlow, UdpSubflow, UserlandFlow } from '../world/entities.js';
import { ENOTSUP, type Provider } from './provider-api.js';
import { activityBitmap, domainItem, effectiveIds, flowIfFlags, ifAllowed, kernelProcName, tcpCounts, timestamps, totalsCounts, userAllowed, uuidBytes } from './provider-common.js';
// --------------------------------------------------------------------------- userland

export function userlandProvider(name: 'tcpUserland' | 'udpUserland' | 'quic', id: number, layout: StructLayout | undefined): Provider {
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

export function genericProvider(name: 'conn' | 'udpSubflow', id: number, layout: StructLayout | undefined): Provider {
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
