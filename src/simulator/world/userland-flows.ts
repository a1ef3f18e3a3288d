/**
 * Userland flows (NECP clients' TCP/UDP/QUIC flows, `ntstat_userland_stats_open`, §2.4) and the
 * generic providers' objects (CONN clients and their flow registrations, UDP subflows closing).
 * The world's public methods delegate here.
 */
import type { Endpoint } from '../../protocol/index.js';
import { TCPS, zeroCounts, type ConnFlow, type DomainAttribution, type NetInterface, type Process, type UdpSubflow, type UserlandFlow } from './entities.js';
import type { World } from './world.js';

export class UserlandFlows {
  constructor(private readonly w: World) {}

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
      id: this.w.id(),
      kind,
      version: 0,
      proc,
      delegate: opts.delegate,
      family,
      local: this.w.localEndpoint(family, ifp, this.w.rng.int(49152, 65535), remote),
      remote,
      outIf: ifp,
      createdAt: this.w.now,
      counts: zeroCounts(),
      activity: 0n,
      trafficClass: 0,
      viaCellFallback: false,
      closed: false,
      fuuid: this.w.rng.uuid(),
      domain: opts.domain,
      necpTlv: opts.necpTlv,
      originalDomain: opts.domain,
      originalNecpTlv: opts.necpTlv,
      state: kind === 'udpUserland' ? 0 : TCPS.SYN_SENT,
      live: true,
      timeWait: false,
      ccAlgo: kind === 'udpUserland' ? '' : 'cubic',
    };
    this.w.setRtt(f, rttMs);
    this.w.userlandFlows.set(f.id, f);
    this.w.hooks.userlandOpen(f);
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
    this.w.hooks.userlandTimeWait(f);
  }

  closeUserland(f: UserlandFlow): void {
    if (f.closed) return;
    this.w.hooks.userlandClose(f);
    f.closed = true;
    f.live = false;
    f.closedAt = this.w.now;
    f.version++;
    this.w.userlandFlows.delete(f.id);
  }

  openConn(proc: Process, ifp: NetInterface, ifFlags: number, opts: { domain?: DomainAttribution; necpTlv?: Uint8Array; parent?: ConnFlow } = {}): ConnFlow {
    const f: ConnFlow = {
      id: this.w.id(),
      kind: 'conn',
      version: 0,
      proc,
      family: 4,
      outIf: ifp,
      createdAt: this.w.now,
      counts: zeroCounts(),
      activity: 0n,
      trafficClass: 0,
      viaCellFallback: false,
      closed: false,
      cuuid: this.w.rng.uuid(),
      puuid: opts.parent?.cuuid,
      domain: opts.domain,
      necpTlv: opts.necpTlv,
      initialIfFlags: ifFlags,
    };
    this.w.connFlows.set(f.id, f);
    this.w.hooks.genericOpen(f);
    return f;
  }

  /** A flow registration under this NECP client: fuuid assigned/changed (events, B13+). */
  connAssignFlow(f: ConnFlow, fuuid: string): void {
    const had = f.fuuid !== undefined;
    f.fuuid = fuuid;
    f.version++;
    this.w.hooks.genericEvent(f, had ? 'flowUuidChanged' : 'flowUuidAssigned');
  }

  closeGeneric(f: ConnFlow | UdpSubflow): void {
    if (f.closed) return;
    this.w.hooks.genericClose(f);
    f.closed = true;
    f.closedAt = this.w.now;
    f.version++;
    if (f.kind === 'conn') this.w.connFlows.delete(f.id);
    else this.w.subflows.delete(f.id);
  }
}
