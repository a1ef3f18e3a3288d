/**
 * The simulated machine: processes, interfaces, routes, kernel sockets and userland flows that
 * change over SIMULATED time. The world knows nothing about ntstat clients; it calls `hooks` at
 * the points where XNU calls into ntstat (`nstat_tcp_new_pcb`, `nstat_pcb_detach`,
 * `ntstat_userland_stats_open`, `nstat_route_new_entry`, …) and the kernel model reacts.
 */
import type { Endpoint } from '../../protocol/index.js';
import { Rng } from '../prng.js';
import { endpoint } from './catalog.js';
import {
  RTF_GATEWAY,
  RTF_HOST,
  RTF_UP,
  RTF_WASCLONED,
  TCPS,
  zeroCounts,
  type ConnFlow,
  type DomainAttribution,
  type Flow,
  type InterfaceKind,
  type KernelSocket,
  type Medium,
  type NetInterface,
  type Process,
  type RouteEntry,
  type UdpSubflow,
  type UserlandFlow,
} from './entities.js';
import { Scheduler } from './scheduler.js';

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

const NOOP_HOOKS: WorldHooks = {
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

export interface InterfaceSpec {
  ifindex: number;
  name: string;
  kind: InterfaceKind;
  description?: string;
  expensive?: boolean;
  constrained?: boolean;
  /** Local addresses on this interface. */
  v4?: string;
  v6?: string;
  /** Link-local IPv6 (scope id = ifindex). */
  linkLocal?: string;
  gatewayV4?: string;
  gatewayV6?: string;
}

const IFT: Record<InterfaceKind, number> = {
  loopback: 24,
  wifi: 6,
  wired: 6,
  cellular: 0xff,
  awdl: 6,
  llw: 6,
  utun: 1,
  companionBt: 1,
  other: 1,
};

export function mediumOf(ifp: NetInterface | undefined): Medium {
  if (!ifp) return 'other';
  switch (ifp.kind) {
    case 'cellular':
      return 'cell';
    case 'wifi':
    case 'awdl':
    case 'llw':
      return 'wifi';
    case 'wired':
      return 'wired';
    case 'loopback':
      return 'loopback';
    case 'companionBt':
      return 'bt';
    default:
      return 'other';
  }
}

export interface InterfaceAddresses {
  v4?: string;
  v6?: string;
  linkLocal?: string;
  gatewayV4?: string;
  gatewayV6?: string;
}

/** MSS-sized segments: packets counted from bytes. */
const SEG = 1448;

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
  readonly routes = new Map<number, RouteEntry>();
  /** tcbinfo/udbinfo lists: live pcbs incl. TIME_WAIT (ADD_ALL walks them newest first). */
  readonly tcpPcbs = new Map<number, KernelSocket>();
  readonly udpPcbs = new Map<number, KernelSocket>();
  /** `nstat_userprot_shad_head`: live userland flows. */
  readonly userlandFlows = new Map<number, UserlandFlow>();
  /** Generic provider objects (CONN, UDP_SUBFLOW). */
  readonly connFlows = new Map<number, ConnFlow>();
  readonly subflows = new Map<number, UdpSubflow>();

  private nextId = 1;
  private nextPid = 300;
  private nextUpid = 1000;
  private readonly subflowsBySocket = new Map<number, Map<string, UdpSubflow>>();
  private readonly clonedRoutes = new Map<string, RouteEntry>();

  constructor(opts: WorldOptions = {}) {
    this.rng = new Rng(opts.seed ?? 1);
    this.caps = { userland: false, quic: false, conn: false, udpSubflow: false, ...opts.capabilities };
    this.bootUptimeMs = opts.bootUptimeMs ?? 3 * 86_400_000 + 4_321_000;
    this.ticksPerMs = opts.ticksPerMs ?? 24_000;
    this.timeWaitMs = opts.timeWaitMs ?? 30_000;
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
    const ifp: NetInterface = {
      ifindex: spec.ifindex,
      name: spec.name,
      kind: spec.kind,
      ifType: IFT[spec.kind],
      description: spec.description ?? spec.name,
      expensive: spec.expensive ?? spec.kind === 'cellular',
      constrained: spec.constrained ?? false,
      attached: true,
      rxBytes: 0,
      txBytes: 0,
      rxPackets: 0,
      txPackets: 0,
      threshold: 0,
      thresholdBase: 0,
      lastThresholdNotice: -Infinity,
    };
    this.interfaces.set(ifp.ifindex, ifp);
    this.addresses.set(ifp.ifindex, {
      v4: spec.v4,
      v6: spec.v6,
      linkLocal: spec.linkLocal,
      gatewayV4: spec.gatewayV4,
      gatewayV6: spec.gatewayV6,
    });
    return ifp;
  }

  detachInterface(ifp: NetInterface): void {
    ifp.attached = false;
    for (const r of this.routes.values()) if (r.ifp === ifp) this.routeDown(r);
  }

  // ------------------------------------------------------------------ routes

  addRoute(spec: { dst: string; prefixLen: number; ifp: NetInterface; gateway?: string; flags?: number }): RouteEntry {
    const id = this.id();
    const fam = spec.dst.includes(':') ? 6 : 4;
    const maskEp = spec.prefixLen === (fam === 4 ? 32 : 128) ? undefined : maskEndpoint(fam, spec.prefixLen);
    const hash = (n: number) => (0xffffff8000000000n + BigInt(n) * 0x1c0n).toString();
    const r: RouteEntry = {
      id,
      kind: 'route',
      version: 0,
      routeId: hash(id),
      parentId: '0',
      gatewayId: '0',
      dst: endpoint(spec.dst, 0),
      mask: maskEp,
      prefixLen: spec.prefixLen,
      gateway: spec.gateway ? endpoint(spec.gateway, 0) : undefined,
      ifp: spec.ifp,
      flags: (spec.flags ?? 0) | RTF_UP | (spec.gateway ? RTF_GATEWAY : 0) | (maskEp ? 0 : RTF_HOST),
      counts: zeroCounts(),
      connectAttempts: 0,
      connectSuccesses: 0,
    };
    this.routes.set(id, r);
    this.hooks.routeNew(r);
    return r;
  }

  /** Route no longer UP: its sources become "gone" (reaped by idle check / polls, §5.6). */
  routeDown(r: RouteEntry): void {
    if ((r.flags & RTF_UP) === 0) return;
    r.flags &= ~RTF_UP;
    r.version++;
    this.routes.delete(r.id);
  }

  /** Longest-prefix match (rt_lookup without mask), scoped to `ifindex` when non-zero. */
  lookupRoute(address: string, ifindex = 0): RouteEntry | undefined {
    const fam = address.includes(':') ? 6 : 4;
    const bytes = addrBytes(address);
    let best: RouteEntry | undefined;
    for (const r of this.routes.values()) {
      if (r.dst.family !== fam) continue;
      if (ifindex !== 0 && r.ifp.ifindex !== ifindex) continue;
      if (!prefixMatch(bytes, addrBytes(r.dst.address), r.prefixLen)) continue;
      if (!best || r.prefixLen > best.prefixLen) best = r;
    }
    return best;
  }

  /** Exact match (rt_lookup with a mask). */
  lookupRouteExact(address: string, prefixLen: number, ifindex = 0): RouteEntry | undefined {
    for (const r of this.routes.values()) {
      if (r.prefixLen !== prefixLen || (ifindex !== 0 && r.ifp.ifindex !== ifindex)) continue;
      if (sameAddress(r.dst.address, address)) return r;
    }
    return undefined;
  }

  /**
   * The cloned host route a connection to `remote` uses (RTF_WASCLONED, created on first use,
   * expiring after a minute without connections, like `rtexpire`).
   */
  private routeFor(remote: Endpoint, ifp: NetInterface): RouteEntry | undefined {
    const key = `${ifp.ifindex}/${remote.address}`;
    let r = this.clonedRoutes.get(key);
    if (!r || (r.flags & RTF_UP) === 0) {
      const parent = this.lookupRoute(remote.address, ifp.ifindex) ?? this.lookupRoute(remote.address);
      if (!parent) return undefined;
      r = this.addRoute({
        dst: remote.address,
        prefixLen: remote.family === 4 ? 32 : 128,
        ifp: parent.ifp,
        gateway: parent.gateway?.address,
        flags: RTF_WASCLONED | RTF_HOST,
      });
      r.parentId = parent.routeId;
      this.clonedRoutes.set(key, r);
    }
    const route = r;
    route.version++;
    const stamp = this.now;
    route.lastUse = stamp;
    this.sched.after(60_000, () => {
      if (route.lastUse === stamp) {
        this.clonedRoutes.delete(key);
        this.routeDown(route);
      }
    });
    return route;
  }

  // ------------------------------------------------------------------ kernel TCP

  private newSocket(kind: 'tcp' | 'udp', proc: Process, family: 4 | 6): KernelSocket {
    return {
      id: this.id(),
      kind,
      version: 0,
      proc,
      family,
      createdAt: this.now,
      counts: zeroCounts(),
      activity: 0n,
      trafficClass: 0,
      viaCellFallback: false,
      closed: false,
      state: TCPS.CLOSED,
      pcbDead: false,
      inbound: false,
      connected: false,
      ccAlgo: kind === 'tcp' ? 'cubic' : '',
      sndbufSize: kind === 'tcp' ? 131072 : 9216,
      sndbufUsed: 0,
      rcvbufSize: kind === 'tcp' ? 131072 : 786896,
      rcvbufUsed: 0,
      txUnacked: 0,
      txWindow: 0,
      txCwindow: 0,
      background: false,
      connstatus: 0,
      fallbackMode: 0,
    };
  }

  /** socket(): the source exists from here, with a zero tuple and state CLOSED (§3.1). */
  tcpSocket(proc: Process, family: 4 | 6, opts: { delegate?: Process; fuuid?: string; domain?: DomainAttribution } = {}): KernelSocket {
    const s = this.newSocket('tcp', proc, family);
    s.delegate = opts.delegate;
    s.fuuid = opts.fuuid;
    s.domain = opts.domain;
    s.vuuid = opts.delegate ? proc.uuid : undefined;
    this.tcpPcbs.set(s.id, s);
    this.hooks.tcpNewPcb(s);
    return s;
  }

  tcpConnect(s: KernelSocket, remote: Endpoint, ifp: NetInterface, rttMs: number): void {
    s.local = this.localEndpoint(s.family, ifp, this.rng.int(49152, 65535), remote);
    s.remote = remote;
    s.outIf = ifp;
    s.state = TCPS.SYN_SENT;
    s.txWindow = 65535;
    s.txCwindow = 14480;
    this.setRtt(s, rttMs);
    s.version++;
    const r = this.routeFor(remote, ifp);
    if (r) {
      r.connectAttempts++;
      s.route = r;
    }
    this.hooks.pcbEvent(s, 'outbound');
  }

  tcpListen(s: KernelSocket, local: Endpoint): void {
    s.local = local;
    s.state = TCPS.LISTEN;
    s.version++;
    this.hooks.pcbEvent(s, 'listen');
  }

  /**
   * An incoming connection on `listener`: `sonewconn` creates the socket (attach → source with
   * a zero tuple), then it is filled in and moves to SYN_RECEIVED (§5.1: its own source).
   */
  tcpAccept(listener: KernelSocket, remote: Endpoint, ifp: NetInterface, rttMs: number, owner?: Process): KernelSocket {
    const s = this.newSocket('tcp', owner ?? listener.proc, listener.family);
    s.inbound = true;
    this.tcpPcbs.set(s.id, s);
    this.hooks.tcpNewPcb(s);
    const lport = listener.local?.port ?? 0;
    s.local = this.localEndpoint(s.family, ifp, lport, remote);
    s.remote = remote;
    s.outIf = ifp;
    s.state = TCPS.SYN_RECEIVED;
    this.setRtt(s, rttMs);
    s.version++;
    return s;
  }

  tcpSetState(s: KernelSocket, state: number): void {
    if (s.pcbDead || s.state === state) return;
    s.state = state;
    s.version++;
    const r = s.route;
    if (state === TCPS.ESTABLISHED && r) {
      r.connectSuccesses++;
      r.version++;
    }
  }

  /** add_to_time_wait: the pcb is detached from ntstat now; freed after 2×MSL (§3.2). */
  tcpTimeWait(s: KernelSocket): void {
    if (s.pcbDead) return;
    s.state = TCPS.TIME_WAIT;
    s.version++;
    this.hooks.pcbDetach(s);
    this.sched.after(this.timeWaitMs, () => this.pcbFree(s));
  }

  /** Close without TIME_WAIT (RST, passive close after LAST_ACK, never connected). */
  tcpClose(s: KernelSocket): void {
    if (s.pcbDead) return;
    if (s.state !== TCPS.CLOSED) {
      s.state = TCPS.CLOSED;
      s.version++;
    }
    this.pcbFree(s);
  }

  /** in_pcbdetach: `nstat_pcb_detach`, then INPCB_STATE_DEAD; the pcb leaves the list. */
  pcbFree(s: KernelSocket): void {
    if (s.pcbDead) return;
    this.hooks.pcbDetach(s);
    s.pcbDead = true;
    s.closed = true;
    s.closedAt = this.now;
    s.version++;
    if (s.kind === 'tcp') this.tcpPcbs.delete(s.id);
    else {
      this.udpPcbs.delete(s.id);
      const subs = this.subflowsBySocket.get(s.id);
      if (subs) {
        for (const f of subs.values()) this.closeGeneric(f);
        this.subflowsBySocket.delete(s.id);
      }
    }
  }

  // ------------------------------------------------------------------ kernel UDP

  udpSocket(proc: Process, family: 4 | 6, opts: { domain?: DomainAttribution } = {}): KernelSocket {
    const s = this.newSocket('udp', proc, family);
    s.domain = opts.domain;
    this.udpPcbs.set(s.id, s);
    this.hooks.udpNewPcb(s);
    return s;
  }

  udpBind(s: KernelSocket, local: Endpoint): void {
    s.local = local;
    s.version++;
  }

  udpConnect(s: KernelSocket, remote: Endpoint, ifp: NetInterface): void {
    this.hooks.udpInvalidateCache(s);
    if (!s.local || s.local.port === 0) s.local = this.localEndpoint(s.family, ifp, this.rng.int(49152, 65535), remote);
    s.remote = remote;
    s.outIf = ifp;
    s.connected = true;
    s.version++;
  }

  /** udp_disconnect: `nstat_pcb_cache` keeps the last tuple for existing sources (§5.2). */
  udpDisconnect(s: KernelSocket): void {
    if (!s.connected) return;
    this.hooks.udpCache(s);
    s.remote = undefined;
    s.connected = false;
    if (s.local) s.local = { ...s.local, address: s.local.family === 4 ? '0.0.0.0' : '::', scopeId: undefined };
    s.version++;
  }

  udpClose(s: KernelSocket): void {
    this.pcbFree(s);
  }

  /**
   * A datagram between an unconnected UDP socket and `peer`: on dialects with UDP_SUBFLOW a
   * per-peer flow appears on first sight (`soflow_get_flow`, §5.5). Returns the subflow if any.
   */
  udpSendTo(s: KernelSocket, peer: Endpoint, ifp: NetInterface, rx: number, tx: number): UdpSubflow | undefined {
    if (!s.outIf) {
      s.outIf = ifp;
      s.version++;
    }
    this.transfer(s, rx, tx);
    if (!this.caps.udpSubflow || s.connected) return undefined;
    let m = this.subflowsBySocket.get(s.id);
    if (!m) this.subflowsBySocket.set(s.id, (m = new Map()));
    const key = `${peer.address}/${peer.port}`;
    let f = m.get(key);
    if (!f) {
      const current = this.rng.chance(0.85) ? s.proc : [...this.processes.values()][this.rng.int(0, this.processes.size - 1)] ?? s.proc;
      f = {
        id: this.id(),
        kind: 'udpSubflow',
        version: 0,
        parent: s,
        proc: current,
        delegate: s.delegate,
        family: s.family,
        local: s.local ?? this.localEndpoint(s.family, ifp, this.rng.int(49152, 65535), peer),
        remote: peer,
        outIf: ifp,
        createdAt: this.now,
        counts: zeroCounts(),
        activity: 0n,
        trafficClass: 0,
        viaCellFallback: false,
        closed: false,
        fuuid: this.rng.uuid(),
        domain: s.domain,
      };
      m.set(key, f);
      this.subflows.set(f.id, f);
      this.hooks.genericOpen(f);
    }
    this.transfer(f, rx, tx);
    return f;
  }

  // ------------------------------------------------------------------ userland and generic

  openUserland(
    kind: 'tcpUserland' | 'udpUserland' | 'quic',
    proc: Process,
    remote: Endpoint,
    ifp: NetInterface,
    rttMs: number,
    opts: { domain?: DomainAttribution; necpTlv?: Uint8Array; delegate?: Process } = {},
  ): UserlandFlow {
    const family = remote.family;
    const f: UserlandFlow = {
      id: this.id(),
      kind,
      version: 0,
      proc,
      delegate: opts.delegate,
      family,
      local: this.localEndpoint(family, ifp, this.rng.int(49152, 65535), remote),
      remote,
      outIf: ifp,
      createdAt: this.now,
      counts: zeroCounts(),
      activity: 0n,
      trafficClass: 0,
      viaCellFallback: false,
      closed: false,
      fuuid: this.rng.uuid(),
      domain: opts.domain,
      necpTlv: opts.necpTlv,
      originalDomain: opts.domain,
      originalNecpTlv: opts.necpTlv,
      state: kind === 'udpUserland' ? 0 : TCPS.SYN_SENT,
      live: true,
      timeWait: false,
      ccAlgo: kind === 'udpUserland' ? '' : 'cubic',
    };
    this.setRtt(f, rttMs);
    this.userlandFlows.set(f.id, f);
    this.hooks.userlandOpen(f);
    return f;
  }

  userlandSetState(f: UserlandFlow, state: number): void {
    if (f.closed || f.state === state) return;
    f.state = state;
    f.version++;
  }

  /** NECP_CLIENT_STATISTICS_EVENT_TIME_WAIT: closes the sources unless TCP_NO_EARLY_CLOSE (§2.4). */
  userlandTimeWait(f: UserlandFlow): void {
    if (f.closed) return;
    f.state = TCPS.TIME_WAIT;
    f.timeWait = true;
    f.version++;
    this.hooks.userlandTimeWait(f);
  }

  closeUserland(f: UserlandFlow): void {
    if (f.closed) return;
    this.hooks.userlandClose(f);
    f.closed = true;
    f.live = false;
    f.closedAt = this.now;
    f.version++;
    this.userlandFlows.delete(f.id);
  }

  openConn(proc: Process, ifp: NetInterface, ifFlags: number, opts: { domain?: DomainAttribution; necpTlv?: Uint8Array; parent?: ConnFlow } = {}): ConnFlow {
    const f: ConnFlow = {
      id: this.id(),
      kind: 'conn',
      version: 0,
      proc,
      family: 4,
      outIf: ifp,
      createdAt: this.now,
      counts: zeroCounts(),
      activity: 0n,
      trafficClass: 0,
      viaCellFallback: false,
      closed: false,
      cuuid: this.rng.uuid(),
      puuid: opts.parent?.cuuid,
      domain: opts.domain,
      necpTlv: opts.necpTlv,
      initialIfFlags: ifFlags,
    };
    this.connFlows.set(f.id, f);
    this.hooks.genericOpen(f);
    return f;
  }

  /** A flow registration under this NECP client: fuuid assigned/changed (events, B13+). */
  connAssignFlow(f: ConnFlow, fuuid: string): void {
    const had = f.fuuid !== undefined;
    f.fuuid = fuuid;
    f.version++;
    this.hooks.genericEvent(f, had ? 'flowUuidChanged' : 'flowUuidAssigned');
  }

  closeGeneric(f: ConnFlow | UdpSubflow): void {
    if (f.closed) return;
    this.hooks.genericClose(f);
    f.closed = true;
    f.closedAt = this.now;
    f.version++;
    if (f.kind === 'conn') this.connFlows.delete(f.id);
    else this.subflows.delete(f.id);
  }

  // ------------------------------------------------------------------ traffic

  setRtt(f: Flow, rttMs: number): void {
    const c = f.counts;
    // Kernel units: srtt/rttbest in 1/32 ms, rttvar in 1/16 ms (§5.1); min clamped to ≤ avg.
    const avg = Math.max(1, Math.round(rttMs * 32));
    const best = c.minRtt === 0 ? avg : Math.min(c.minRtt, avg);
    c.avgRtt = avg;
    c.minRtt = Math.min(best, avg);
    c.varRtt = Math.max(1, Math.round(rttMs * 16 * 0.25));
  }

  /**
   * Move bytes on a flow: totals, packets, per-medium bytes by the interface in use, the
   * activity bitmap, the interface's counters and the route's.
   */
  transfer(f: Flow, rx: number, tx: number, extra: { dup?: number; ooo?: number; retx?: number } = {}): void {
    if (rx <= 0 && tx <= 0) return;
    const c = f.counts;
    rx = Math.floor(rx);
    tx = Math.floor(tx);
    c.rxBytes += rx;
    c.txBytes += tx;
    c.rxPackets += rx > 0 ? Math.ceil(rx / SEG) : 0;
    c.txPackets += tx > 0 ? Math.ceil(tx / SEG) : 0;
    c.rxDuplicateBytes += extra.dup ?? 0;
    c.rxOutOfOrderBytes += extra.ooo ?? 0;
    c.txRetransmit += extra.retx ?? 0;
    const ifp = f.outIf;
    switch (mediumOf(ifp)) {
      case 'cell':
        c.cellRxBytes += rx;
        c.cellTxBytes += tx;
        break;
      case 'wifi':
        c.wifiRxBytes += rx;
        c.wifiTxBytes += tx;
        break;
      case 'wired':
        c.wiredRxBytes += rx;
        c.wiredTxBytes += tx;
        break;
      case 'bt':
        c.btRxBytes += rx;
        c.btTxBytes += tx;
        c.btRxPackets += rx > 0 ? Math.ceil(rx / SEG) : 0;
        c.btTxPackets += tx > 0 ? Math.ceil(tx / SEG) : 0;
        break;
      default:
        break;
    }
    const slot = Math.floor((this.now - f.createdAt) / 8000);
    if (slot < 128) f.activity |= 1n << BigInt(slot);
    f.version++;
    if (f.kind === 'tcp' || f.kind === 'udp') {
      const s = f as KernelSocket;
      s.rcvbufUsed = rx > 0 ? Math.min(s.rcvbufSize, rx % 65536) : 0;
      s.sndbufUsed = tx > 0 ? Math.min(s.sndbufSize, tx % 32768) : 0;
      s.txUnacked = tx > 0 ? Math.min(tx, 65535) : 0;
      s.txCwindow = Math.min(1 << 20, s.txCwindow + Math.floor(tx / 4));
      s.version++;
      const r = s.route;
      if (r) {
        r.counts.rxBytes += rx;
        r.counts.txBytes += tx;
        r.counts.rxPackets += rx > 0 ? Math.ceil(rx / SEG) : 0;
        r.counts.txPackets += tx > 0 ? Math.ceil(tx / SEG) : 0;
        r.counts.txRetransmit += extra.retx ?? 0;
        // Route RTT: weighted average with weight 1/8 (§5.6).
        r.counts.avgRtt = r.counts.avgRtt === 0 ? c.avgRtt : Math.round((r.counts.avgRtt * 7 + c.avgRtt) / 8);
        r.counts.minRtt = r.counts.minRtt === 0 ? c.minRtt : Math.min(r.counts.minRtt, c.minRtt);
        r.counts.varRtt = r.counts.varRtt === 0 ? c.varRtt : Math.round((r.counts.varRtt * 7 + c.varRtt) / 8);
      }
    }
    if (ifp) {
      ifp.rxBytes += rx;
      ifp.txBytes += tx;
      ifp.rxPackets += rx > 0 ? Math.ceil(rx / SEG) : 0;
      ifp.txPackets += tx > 0 ? Math.ceil(tx / SEG) : 0;
      if (ifp.threshold > 0) this.hooks.ifnetTraffic(ifp);
    }
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
    const a = this.addresses.get(ifp.ifindex) ?? {};
    if (family === 4) return endpoint(ifp.kind === 'loopback' ? '127.0.0.1' : a.v4 ?? '0.0.0.0', port);
    if (ifp.kind === 'loopback') return endpoint('::1', port);
    if (remote?.address.startsWith('fe80:') && a.linkLocal) return endpoint(a.linkLocal, port, ifp.ifindex);
    return endpoint(a.v6 ?? '::', port);
  }
}

/**
 * Parsed addresses, memoised (bounded): route lookups parse every route's destination for every
 * new connection, which was a fifth of `ntstat json --simulate` startup. Frozen: callers only read.
 */
const addrCache = new Map<string, readonly number[]>();

export function addrBytes(address: string): readonly number[] {
  let bytes = addrCache.get(address);
  if (bytes === undefined) {
    bytes = Object.freeze(parseAddrBytes(address));
    if (addrCache.size >= 4096) addrCache.clear();
    addrCache.set(address, bytes);
  }
  return bytes;
}

function parseAddrBytes(address: string): number[] {
  if (!address.includes(':')) return address.split('.').map(Number);
  const [head, tail = ''] = address.split('%')[0].split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out: number[] = [];
  for (const g of groups) {
    const v = parseInt(g, 16);
    out.push(v >> 8, v & 0xff);
  }
  return out;
}

function sameAddress(a: string, b: string): boolean {
  const x = addrBytes(a);
  const y = addrBytes(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

export function prefixMatch(a: readonly number[], b: readonly number[], len: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length && len > 0; i++, len -= 8) {
    const m = len >= 8 ? 0xff : (0xff << (8 - len)) & 0xff;
    if ((a[i] & m) !== (b[i] & m)) return false;
  }
  return true;
}

function maskEndpoint(fam: 4 | 6, len: number): Endpoint {
  const bytes: number[] = [];
  for (let i = 0; i < (fam === 4 ? 4 : 16); i++, len -= 8) bytes.push(len >= 8 ? 0xff : len > 0 ? (0xff << (8 - len)) & 0xff : 0);
  if (fam === 4) return { family: 4, address: bytes.join('.'), port: 0 };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return { family: 6, address: compressV6(groups), port: 0 };
}

function compressV6(groups: string[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}
