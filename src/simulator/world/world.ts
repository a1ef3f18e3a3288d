/**
 * The simulated machine: processes, interfaces, routes, kernel sockets and userland flows that
 * change over SIMULATED time. The world knows nothing about ntstat clients; it calls `hooks` at
 * the points where XNU calls into ntstat (`nstat_tcp_new_pcb`, `nstat_pcb_detach`,
 * `ntstat_userland_stats_open`, `nstat_route_new_entry`, …) and the kernel model reacts.
 *
 * This class is the facade scenarios drive; the parts live beside it: kernel-sockets.ts (inpcbs),
 * userland-flows.ts (NECP flows, generic providers), routes.ts, traffic.ts, interface-spec.ts,
 * addresses.ts, hooks.ts.
 */
import type { Endpoint } from '../../protocol/index.js';
import { Rng } from '../prng.js';
import { localEndpointOn, type InterfaceAddresses } from './addresses.js';
import type { ConnFlow, DomainAttribution, Flow, KernelSocket, NetInterface, Process, RouteEntry, UdpSubflow, UserlandFlow } from './entities.js';
import { NOOP_HOOKS, type WorldHooks } from './hooks.js';
import { interfaceAddresses, newInterface, type InterfaceSpec } from './interface-spec.js';
import { KernelSockets } from './kernel-sockets.js';
import { RouteTable } from './routes.js';
import { Scheduler } from './scheduler.js';
import { setRtt, transfer } from './traffic.js';
import { UserlandFlows } from './userland-flows.js';

export type { FlowEvent, WorldHooks } from './hooks.js';
export { mediumOf, type InterfaceSpec } from './interface-spec.js';
export { addrBytes, prefixMatch, type InterfaceAddresses } from './addresses.js';

export interface WorldCapabilities {
  /** Userland TCP/UDP providers exist (10.12+). */
  userland: boolean;
  quic: boolean;
  conn: boolean;
  udpSubflow: boolean;
}

export interface WorldOptions {
  seed?: number;
  capabilities?: Partial<WorldCapabilities>;
  /** Machine uptime when the simulation starts (ms); timestamps are relative to boot. */
  bootUptimeMs?: number;
  /** mach_continuous_time ticks per ms: 24000 on Apple silicon (125/3 ns), 1e6 on Intel. */
  ticksPerMs?: number;
  /** TCP 2×MSL (net.inet.tcp.msl = 15 s on macOS). */
  timeWaitMs?: number;
}

export class World {
  readonly rng: Rng;
  readonly sched = new Scheduler();
  hooks: WorldHooks = NOOP_HOOKS;
  readonly caps: WorldCapabilities;
  readonly bootUptimeMs: number;
  readonly ticksPerMs: number;
  readonly timeWaitMs: number;

  readonly processes = new Map<number, Process>();
  readonly interfaces = new Map<number, NetInterface>();
  readonly addresses = new Map<number, InterfaceAddresses>();
  /** Routing table, insertion order (ADD_ALL walks it in this order). */
  readonly routes: Map<number, RouteEntry>;
  /** tcbinfo/udbinfo lists: live pcbs incl. TIME_WAIT (ADD_ALL walks them newest first). */
  readonly tcpPcbs = new Map<number, KernelSocket>();
  readonly udpPcbs = new Map<number, KernelSocket>();
  /** `nstat_userprot_shad_head`: live userland flows. */
  readonly userlandFlows = new Map<number, UserlandFlow>();
  /** Generic provider objects (CONN, UDP_SUBFLOW). */
  readonly connFlows = new Map<number, ConnFlow>();
  readonly subflows = new Map<number, UdpSubflow>();

  /** @internal */
  private nextId = 1;
  /** @internal */
  private nextPid = 300;
  /** @internal */
  private nextUpid = 1000;
  /** @internal */
  private readonly routing = new RouteTable(this);
  /** @internal */
  private readonly sockets = new KernelSockets(this, this.routing);
  /** @internal */
  private readonly flows = new UserlandFlows(this);

  constructor(opts: WorldOptions = {}) {
    this.rng = new Rng(opts.seed ?? 1);
    this.caps = { userland: false, quic: false, conn: false, udpSubflow: false, ...opts.capabilities };
    this.bootUptimeMs = opts.bootUptimeMs ?? 3 * 86_400_000 + 4_321_000;
    this.ticksPerMs = opts.ticksPerMs ?? 24_000;
    this.timeWaitMs = opts.timeWaitMs ?? 30_000;
    this.routes = this.routing.routes;
  }

  get now(): number {
    return this.sched.now;
  }

  /** mach_continuous_time() at simulated time `ms` (default now). */
  machTicks(ms = this.now): number {
    return Math.round((this.bootUptimeMs + ms) * this.ticksPerMs);
  }

  /** Uptime seconds (activity bitmap start). */
  uptimeSeconds(ms = this.now): number {
    return Math.floor((this.bootUptimeMs + ms) / 1000);
  }

  id(): number {
    return this.nextId++;
  }

  /** Advance simulated time to `t`, running every scheduled action on the way. */
  runUntil(t: number): void {
    this.sched.runUntil(t);
    this.hooks.tick(this.now);
  }

  // ------------------------------------------------------------------ processes & interfaces

  spawn(name: string, opts: { pid?: number; uid?: number; personaId?: number } = {}): Process {
    const pid = opts.pid ?? this.nextPid++;
    const p: Process = {
      pid,
      upid: this.nextUpid++,
      name,
      uuid: this.rng.uuid(),
      uid: opts.uid ?? 501,
      personaId: opts.personaId ?? 0,
      alive: true,
    };
    this.processes.set(pid, p);
    return p;
  }

  exit(p: Process): void {
    if (!p.alive) return;
    p.alive = false;
    this.processes.delete(p.pid);
    this.hooks.processDefunct(p);
  }

  addInterface(spec: InterfaceSpec): NetInterface {
    const ifp = newInterface(spec);
    this.interfaces.set(ifp.ifindex, ifp);
    this.addresses.set(ifp.ifindex, interfaceAddresses(spec));
    return ifp;
  }

  detachInterface(ifp: NetInterface): void {
    ifp.attached = false;
    for (const r of this.routes.values()) if (r.ifp === ifp) this.routeDown(r);
  }

  // ------------------------------------------------------------------ routes

  addRoute(spec: { dst: string; prefixLen: number; ifp: NetInterface; gateway?: string; flags?: number }): RouteEntry {
    return this.routing.add(spec);
  }

  /** Route no longer UP: its sources become "gone" (reaped by idle check / polls, §5.6). */
  routeDown(r: RouteEntry): void {
    this.routing.down(r);
  }

  /** Longest-prefix match (rt_lookup without mask), scoped to `ifindex` when non-zero. */
  lookupRoute(address: string, ifindex = 0): RouteEntry | undefined {
    return this.routing.lookup(address, ifindex);
  }

  /** Exact match (rt_lookup with a mask). */
  lookupRouteExact(address: string, prefixLen: number, ifindex = 0): RouteEntry | undefined {
    return this.routing.lookupExact(address, prefixLen, ifindex);
  }

  // ------------------------------------------------------------------ kernel TCP and UDP (kernel-sockets.ts)

  /** socket(): the source exists from here, with a zero tuple and state CLOSED (§3.1). */
  tcpSocket(proc: Process, family: 4 | 6, opts: { delegate?: Process; fuuid?: string; domain?: DomainAttribution } = {}): KernelSocket {
    return this.sockets.tcpSocket(proc, family, opts);
  }

  tcpConnect(s: KernelSocket, remote: Endpoint, ifp: NetInterface, rttMs: number): void {
    this.sockets.tcpConnect(s, remote, ifp, rttMs);
  }

  tcpListen(s: KernelSocket, local: Endpoint): void {
    this.sockets.tcpListen(s, local);
  }

  /** An incoming connection on `listener` (`sonewconn`; §5.1: its own source). */
  tcpAccept(listener: KernelSocket, remote: Endpoint, ifp: NetInterface, rttMs: number, owner?: Process): KernelSocket {
    return this.sockets.tcpAccept(listener, remote, ifp, rttMs, owner);
  }

  tcpSetState(s: KernelSocket, state: number): void {
    this.sockets.tcpSetState(s, state);
  }

  /** add_to_time_wait: the pcb is detached from ntstat now; freed after 2×MSL (§3.2). */
  tcpTimeWait(s: KernelSocket): void {
    this.sockets.tcpTimeWait(s);
  }

  /** Close without TIME_WAIT (RST, passive close after LAST_ACK, never connected). */
  tcpClose(s: KernelSocket): void {
    this.sockets.tcpClose(s);
  }

  /** in_pcbdetach: `nstat_pcb_detach`, then INPCB_STATE_DEAD; the pcb leaves the list. */
  pcbFree(s: KernelSocket): void {
    this.sockets.pcbFree(s);
  }

  udpSocket(proc: Process, family: 4 | 6, opts: { domain?: DomainAttribution } = {}): KernelSocket {
    return this.sockets.udpSocket(proc, family, opts);
  }

  udpBind(s: KernelSocket, local: Endpoint): void {
    this.sockets.udpBind(s, local);
  }

  udpConnect(s: KernelSocket, remote: Endpoint, ifp: NetInterface): void {
    this.sockets.udpConnect(s, remote, ifp);
  }

  /** udp_disconnect: `nstat_pcb_cache` keeps the last tuple for existing sources (§5.2). */
  udpDisconnect(s: KernelSocket): void {
    this.sockets.udpDisconnect(s);
  }

  udpClose(s: KernelSocket): void {
    this.sockets.udpClose(s);
  }

  /** A datagram between an unconnected UDP socket and `peer` (may open a UDP subflow, §5.5). */
  udpSendTo(s: KernelSocket, peer: Endpoint, ifp: NetInterface, rx: number, tx: number): UdpSubflow | undefined {
    return this.sockets.udpSendTo(s, peer, ifp, rx, tx);
  }

  // ------------------------------------------------------------------ userland and generic (userland-flows.ts)

  openUserland(
    kind: 'tcpUserland' | 'udpUserland' | 'quic',
    proc: Process,
    remote: Endpoint,
    ifp: NetInterface,
    rttMs: number,
    opts: { domain?: DomainAttribution; necpTlv?: Uint8Array; delegate?: Process } = {},
  ): UserlandFlow {
    return this.flows.openUserland(kind, proc, remote, ifp, rttMs, opts);
  }

  userlandSetState(f: UserlandFlow, state: number): void {
    this.flows.userlandSetState(f, state);
  }

  /** NECP_CLIENT_STATISTICS_EVENT_TIME_WAIT: closes the sources unless TCP_NO_EARLY_CLOSE (§2.4). */
  userlandTimeWait(f: UserlandFlow): void {
    this.flows.userlandTimeWait(f);
  }

  closeUserland(f: UserlandFlow): void {
    this.flows.closeUserland(f);
  }

  openConn(proc: Process, ifp: NetInterface, ifFlags: number, opts: { domain?: DomainAttribution; necpTlv?: Uint8Array; parent?: ConnFlow } = {}): ConnFlow {
    return this.flows.openConn(proc, ifp, ifFlags, opts);
  }

  /** A flow registration under this NECP client: fuuid assigned/changed (events, B13+). */
  connAssignFlow(f: ConnFlow, fuuid: string): void {
    this.flows.connAssignFlow(f, fuuid);
  }

  closeGeneric(f: ConnFlow | UdpSubflow): void {
    this.flows.closeGeneric(f);
  }

  // ------------------------------------------------------------------ traffic (traffic.ts)

  setRtt(f: Flow, rttMs: number): void {
    setRtt(f, rttMs);
  }

  /**
   * Move bytes on a flow: totals, packets, per-medium bytes by the interface in use, the
   * activity bitmap, the interface's counters and the route's.
   */
  transfer(f: Flow, rx: number, tx: number, extra: { dup?: number; ooo?: number; retx?: number } = {}): void {
    transfer(f, rx, tx, extra, this.now, this.hooks);
  }

  /** Switch a flow to the cellular interface (cell fallback) and back, with events (15+). */
  setCellFallback(f: KernelSocket | UserlandFlow, on: boolean, cell: NetInterface | undefined, wifi: NetInterface | undefined): void {
    if (f.viaCellFallback === on) return;
    f.viaCellFallback = on;
    f.outIf = on ? cell ?? f.outIf : wifi ?? f.outIf;
    f.version++;
    if (f.kind === 'tcp' || f.kind === 'udp') this.hooks.pcbEvent(f, on ? 'enterCellFallback' : 'exitCellFallback');
    else this.hooks.userlandEvent(f as UserlandFlow, on ? 'enterCellFallback' : 'exitCellFallback');
  }

  // ------------------------------------------------------------------ addresses

  /** Local address for a connection to `remote` over `ifp` (link-local remotes keep the scope). */
  localEndpoint(family: 4 | 6, ifp: NetInterface, port: number, remote?: Endpoint): Endpoint {
    return localEndpointOn(this.addresses.get(ifp.ifindex) ?? {}, family, ifp, port, remote);
  }
}
