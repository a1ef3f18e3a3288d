/**
 * Where XNU calls into ntstat (`nstat_tcp_new_pcb`, `nstat_pcb_detach`,
 * `ntstat_userland_stats_open`, `nstat_route_new_entry`, …): the world calls these hooks and the
 * kernel model reacts.
 */
import type { ConnFlow, KernelSocket, NetInterface, Process, RouteEntry, UdpSubflow, UserlandFlow } from './entities.js';

/** Symbolic events; the kernel maps them to the dialect's NSTAT_EVENT_SRC_* bits. */
export type FlowEvent = 'enterCellFallback' | 'exitCellFallback' | 'listen' | 'outbound' | 'flowUuidAssigned' | 'flowUuidChanged' | 'attributionChange';

/** Where XNU calls into ntstat. Every hook is synchronous, like the kernel calls. */
export interface WorldHooks {
  tcpNewPcb(s: KernelSocket): void;
  udpNewPcb(s: KernelSocket): void;
  /** `nstat_pcb_detach`: socket close, entry into TIME_WAIT, final free. */
  pcbDetach(s: KernelSocket): void;
  pcbEvent(s: KernelSocket, ev: FlowEvent): void;
  /** `nstat_pcb_cache` (UDP disconnect) / `nstat_pcb_invalidate_cache` (UDP connect). */
  udpCache(s: KernelSocket): void;
  udpInvalidateCache(s: KernelSocket): void;
  userlandOpen(f: UserlandFlow): void;
  userlandClose(f: UserlandFlow): void;
  userlandTimeWait(f: UserlandFlow): void;
  userlandEvent(f: UserlandFlow, ev: FlowEvent): void;
  genericOpen(f: ConnFlow | UdpSubflow): void;
  genericClose(f: ConnFlow | UdpSubflow): void;
  genericEvent(f: ConnFlow | UdpSubflow, ev: FlowEvent): void;
  routeNew(r: RouteEntry): void;
  processDefunct(p: Process): void;
  /** Interface byte counters moved (threshold checks, §3.3). */
  ifnetTraffic(ifp: NetInterface): void;
  /** A world step finished: the kernel runs its own timers (idle check). */
  tick(now: number): void;
}

export const NOOP_HOOKS: WorldHooks = {
  tcpNewPcb() {},
  udpNewPcb() {},
  pcbDetach() {},
  pcbEvent() {},
  udpCache() {},
  udpInvalidateCache() {},
  userlandOpen() {},
  userlandClose() {},
  userlandTimeWait() {},
  userlandEvent() {},
  genericOpen() {},
  genericClose() {},
  genericEvent() {},
  routeNew() {},
  processDefunct() {},
  ifnetTraffic() {},
  tick() {},
};
