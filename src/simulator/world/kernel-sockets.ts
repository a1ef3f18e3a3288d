/**
 * Kernel sockets (inpcbs): TCP from socket() through TIME_WAIT to in_pcbdetach (§3.1, §3.2),
 * UDP bind/connect/disconnect with `nstat_pcb_cache` (§5.2), and the per-peer UDP subflows of
 * unconnected sockets (`soflow_get_flow`, §5.5). The world's public methods delegate here.
 */
import type { Endpoint } from '../../protocol/index.js';
import { TCPS, zeroCounts, type DomainAttribution, type KernelSocket, type NetInterface, type Process, type UdpSubflow } from './entities.js';
import type { RouteTable } from './routes.js';
import type { World } from './world.js';

export class KernelSockets {
  private readonly subflowsBySocket = new Map<number, Map<string, UdpSubflow>>();

  constructor(
    private readonly w: World,
    private readonly routing: RouteTable,
  ) {}

  private newSocket(kind: 'tcp' | 'udp', proc: Process, family: 4 | 6): KernelSocket {
    return {
      id: this.w.id(),
      kind,
      version: 0,
      proc,
      family,
      createdAt: this.w.now,
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
    this.w.tcpPcbs.set(s.id, s);
    this.w.hooks.tcpNewPcb(s);
    return s;
  }

  tcpConnect(s: KernelSocket, remote: Endpoint, ifp: NetInterface, rttMs: number): void {
    s.local = this.w.localEndpoint(s.family, ifp, this.w.rng.int(49152, 65535), remote);
    s.remote = remote;
    s.outIf = ifp;
    s.state = TCPS.SYN_SENT;
    s.txWindow = 65535;
    s.txCwindow = 14480;
    this.w.setRtt(s, rttMs);
    s.version++;
    const r = this.routing.routeFor(remote, ifp);
    if (r) {
      r.connectAttempts++;
      s.route = r;
    }
    this.w.hooks.pcbEvent(s, 'outbound');
  }

  tcpListen(s: KernelSocket, local: Endpoint): void {
    s.local = local;
    s.state = TCPS.LISTEN;
    s.version++;
    this.w.hooks.pcbEvent(s, 'listen');
  }

  /**
   * An incoming connection on `listener`: `sonewconn` creates the socket (attach → source with
   * a zero tuple), then it is filled in and moves to SYN_RECEIVED (§5.1: its own source).
   */
  tcpAccept(listener: KernelSocket, remote: Endpoint, ifp: NetInterface, rttMs: number, owner?: Process): KernelSocket {
    const s = this.newSocket('tcp', owner ?? listener.proc, listener.family);
    s.inbound = true;
    this.w.tcpPcbs.set(s.id, s);
    this.w.hooks.tcpNewPcb(s);
    const lport = listener.local?.port ?? 0;
    s.local = this.w.localEndpoint(s.family, ifp, lport, remote);
    s.remote = remote;
    s.outIf = ifp;
    s.state = TCPS.SYN_RECEIVED;
    this.w.setRtt(s, rttMs);
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
    this.w.hooks.pcbDetach(s);
    this.w.sched.after(this.w.timeWaitMs, () => this.pcbFree(s));
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
    this.w.hooks.pcbDetach(s);
    s.pcbDead = true;
    s.closed = true;
    s.closedAt = this.w.now;
    s.version++;
    if (s.kind === 'tcp') this.w.tcpPcbs.delete(s.id);
    else {
      this.w.udpPcbs.delete(s.id);
      const subs = this.subflowsBySocket.get(s.id);
      if (subs) {
        for (const f of subs.values()) this.w.closeGeneric(f);
        this.subflowsBySocket.delete(s.id);
      }
    }
  }

  // ------------------------------------------------------------------ kernel UDP

  udpSocket(proc: Process, family: 4 | 6, opts: { domain?: DomainAttribution } = {}): KernelSocket {
    const s = this.newSocket('udp', proc, family);
    s.domain = opts.domain;
    this.w.udpPcbs.set(s.id, s);
    this.w.hooks.udpNewPcb(s);
    return s;
  }

  udpBind(s: KernelSocket, local: Endpoint): void {
    s.local = local;
    s.version++;
  }

  udpConnect(s: KernelSocket, remote: Endpoint, ifp: NetInterface): void {
    this.w.hooks.udpInvalidateCache(s);
    if (!s.local || s.local.port === 0) s.local = this.w.localEndpoint(s.family, ifp, this.w.rng.int(49152, 65535), remote);
    s.remote = remote;
    s.outIf = ifp;
    s.connected = true;
    s.version++;
  }

  /** udp_disconnect: `nstat_pcb_cache` keeps the last tuple for existing sources (§5.2). */
  udpDisconnect(s: KernelSocket): void {
    if (!s.connected) return;
    this.w.hooks.udpCache(s);
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
    this.w.transfer(s, rx, tx);
    if (!this.w.caps.udpSubflow || s.connected) return undefined;
    let m = this.subflowsBySocket.get(s.id);
    if (!m) this.subflowsBySocket.set(s.id, (m = new Map()));
    const key = `${peer.address}/${peer.port}`;
    let f = m.get(key);
    if (!f) {
      const current = this.w.rng.chance(0.85) ? s.proc : [...this.w.processes.values()][this.w.rng.int(0, this.w.processes.size - 1)] ?? s.proc;
      f = {
        id: this.w.id(),
        kind: 'udpSubflow',
        version: 0,
        parent: s,
        proc: current,
        delegate: s.delegate,
        family: s.family,
        local: s.local ?? this.w.localEndpoint(s.family, ifp, this.w.rng.int(49152, 65535), peer),
        remote: peer,
        outIf: ifp,
        createdAt: this.w.now,
        counts: zeroCounts(),
        activity: 0n,
        trafficClass: 0,
        viaCellFallback: false,
        closed: false,
        fuuid: this.w.rng.uuid(),
        domain: s.domain,
      };
      m.set(key, f);
      this.w.subflows.set(f.id, f);
      this.w.hooks.genericOpen(f);
    }
    this.w.transfer(f, rx, tx);
    return f;
  }
}
