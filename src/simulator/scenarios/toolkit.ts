/**
 * Building blocks for scenarios: a Mac's interfaces and routes, app processes, and flow
 * "scripts" (a TCP connection's life from socket() to TIME_WAIT, a UDP socket, a userland
 * flow, an NECP client) scheduled on the world's simulated clock. All randomness comes from the
 * world's seeded PRNG, so a scenario replays exactly.
 */
import type { Endpoint } from '../../protocol/index.js';
import type { Rng } from '../prng.js';
import { APPS, endpoint, necpTlv, remoteV4, remoteV6, type AppProfile } from '../world/catalog.js';
import { TCPS, type DomainAttribution, type KernelSocket, type NetInterface, type Process, type UserlandFlow } from '../world/entities.js';
import type { World, WorldCapabilities } from '../world/world.js';
import { backgroundTraffic, CELLULAR_LINK, nonFlowTraffic, WIFI_LINK } from '../world/interfaces.js';

export interface ScenarioContext {
  readonly world: World;
  readonly rng: Rng;
  readonly caps: WorldCapabilities;
  /** Multiplies every rate and population (tests run scenarios scaled down). */
  readonly scale: number;
}

/** Hints for whoever drives a client against the scenario (e.g. backpressure-storm's slow reader). */
export interface ClientHints {
  /** Read at most this many records per read pass. */
  readBudget?: number;
  /** Milliseconds of simulated time between read passes. */
  readIntervalMs?: number;
  /** Suggested SO_RCVBUF. */
  receiveBuffer?: number;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly hints?: ClientHints;
  install(ctx: ScenarioContext): void;
}

export interface Machine {
  lo0: NetInterface;
  en0: NetInterface;
  en5?: NetInterface;
  awdl0: NetInterface;
  utun0: NetInterface;
  cell?: NetInterface;
  /** Default outbound interface. */
  primary: NetInterface;
}

/** A laptop: loopback, Wi-Fi (IPv4 + IPv6 + link-local), AWDL, a VPN tunnel, optional wired/cell. */
export function standardMachine(w: World, opts: { wired?: boolean; cellular?: boolean } = {}): Machine {
  const lo0 = w.addInterface({ ifindex: 1, name: 'lo0', kind: 'loopback', description: 'loopback', v4: '127.0.0.1', v6: '::1' });
  const en0 = w.addInterface({
    ifindex: 4,
    name: 'en0',
    kind: 'wifi',
    description: 'Wi-Fi',
    v4: '192.168.1.23',
    v6: '2001:db8:1:2::23',
    linkLocal: 'fe80::1c2a:3bff:fe4d:5e6f',
    gatewayV4: '192.168.1.1',
    gatewayV6: 'fe80::1',
  });
  const awdl0 = w.addInterface({ ifindex: 9, name: 'awdl0', kind: 'awdl', description: 'AWDL', linkLocal: 'fe80::a4c1:5dff:fe11:2233' });
  const utun0 = w.addInterface({ ifindex: 12, name: 'utun0', kind: 'utun', description: 'utun', v4: '10.8.0.2' });
  let en5: NetInterface | undefined;
  let cell: NetInterface | undefined;
  if (opts.wired) {
    en5 = w.addInterface({ ifindex: 7, name: 'en5', kind: 'wired', description: 'USB 10/100/1000 LAN', v4: '10.0.20.179', v6: '2001:db8:20::179', linkLocal: 'fe80::8a66:5aff:fe01:4242', gatewayV4: '10.0.20.1' });
  }
  if (opts.cellular) {
    cell = w.addInterface({ ifindex: 15, name: 'pdp_ip0', kind: 'cellular', description: 'Cellular', v4: '10.64.12.7', v6: '2001:db8:ce11::7' });
  }
  const primary = en5 ?? en0;
  w.addRoute({ dst: '0.0.0.0', prefixLen: 0, ifp: primary, gateway: primary === en0 ? '192.168.1.1' : '10.0.20.1', flags: 0x800 });
  w.addRoute({ dst: '127.0.0.0', prefixLen: 8, ifp: lo0 });
  w.addRoute({ dst: '127.0.0.1', prefixLen: 32, ifp: lo0 });
  w.addRoute({ dst: '192.168.1.0', prefixLen: 24, ifp: en0 });
  w.addRoute({ dst: '10.8.0.0', prefixLen: 24, ifp: utun0 });
  if (en5) w.addRoute({ dst: '10.0.20.0', prefixLen: 24, ifp: en5 });
  if (cell) w.addRoute({ dst: '10.64.0.0', prefixLen: 16, ifp: cell });
  w.addRoute({ dst: '::', prefixLen: 0, ifp: primary, gateway: 'fe80::1' });
  w.addRoute({ dst: '::1', prefixLen: 128, ifp: lo0 });
  w.addRoute({ dst: '2001:db8:1:2::', prefixLen: 64, ifp: en0 });
  w.addRoute({ dst: 'fe80::', prefixLen: 64, ifp: en0 });
  interfaceLife(w, { lo0, en0, en5, cell });
  return { lo0, en0, en5, awdl0, utun0, cell, primary };
}

/**
 * What the interfaces counted before the simulation started (the rx side of en0 above 2^32, as
 * on any laptop after a few days: 64-bit counters, BEHAVIOUR.md §5.7), LAN chatter no flow
 * carries, and the drivers' link status reports. Constants, not the PRNG: scenarios keep their
 * random sequences.
 */
function interfaceLife(w: World, m: { lo0: NetInterface; en0: NetInterface; en5?: NetInterface; cell?: NetInterface }): void {
  nonFlowTraffic(w, m.lo0, 231_456_789, 231_456_789);
  nonFlowTraffic(w, m.en0, 6_710_886_400 + 12_345, 1_181_116_006, { rx: 4_980_000, tx: 2_110_000 });
  m.en0.link = WIFI_LINK;
  backgroundTraffic(w, m.en0, { rx: 420, tx: 180 });
  if (m.en5) {
    nonFlowTraffic(w, m.en5, 3_221_225_472, 402_653_184, { rx: 2_300_000, tx: 610_000 });
    backgroundTraffic(w, m.en5, { rx: 300, tx: 120 });
  }
  if (m.cell) {
    nonFlowTraffic(w, m.cell, 83_886_080, 9_437_184);
    m.cell.link = CELLULAR_LINK;
  }
}

export class AppPool {
  /** @internal */
  private readonly procs: { app: AppProfile; proc: Process }[] = [];
  constructor(
    /** @internal */ private readonly ctx: ScenarioContext,
    apps: readonly AppProfile[] = APPS,
  ) {
    for (const app of apps) this.procs.push({ app, proc: ctx.world.spawn(app.name) });
  }

  pick(): { app: AppProfile; proc: Process } {
    return this.ctx.rng.weighted(
      this.procs,
      this.procs.map((p) => p.app.weight),
    );
  }

  all(): readonly { app: AppProfile; proc: Process }[] {
    return this.procs;
  }

  /** A process exits and a new instance of the same app starts (new pid, new upid). */
  respawn(i: number): void {
    const e = this.procs[i];
    this.ctx.world.exit(e.proc);
    e.proc = this.ctx.world.spawn(e.app.name);
  }
}

export function remoteFor(rng: Rng, family: 4 | 6, port: number): Endpoint {
  return endpoint(family === 4 ? remoteV4(rng) : remoteV6(rng), port);
}

export function domainFor(rng: Rng, app: AppProfile): DomainAttribution | undefined {
  if (!app.domains || app.domains.length === 0) return undefined;
  const name = rng.pick(app.domains);
  return {
    domainName: name,
    domainOwner: name.endsWith('.org') ? 'Example Org' : 'Example Inc.',
    domainTrackerCtxt: name.startsWith('tracker') ? 'analytics' : undefined,
    domainAttributedBundleId: app.bundleId,
    isTracker: name.startsWith('tracker'),
    isNonAppInitiated: rng.chance(0.05),
  };
}

export type CloseStyle = 'active' | 'passive' | 'reset' | 'fail';

export interface TcpClientPlan {
  proc: Process;
  remote: Endpoint;
  ifp: NetInterface;
  rttMs: number;
  rxBytes: number;
  txBytes: number;
  lifeMs: number;
  close: CloseStyle;
  bursts?: number;
  domain?: DomainAttribution;
  delegate?: Process;
  lossy?: boolean;
}

/**
 * One outgoing TCP connection, socket() to teardown: the source appears at socket creation
 * with a zero tuple (§3.1), then SYN_SENT, ESTABLISHED, transfers, and a close that ends in
 * TIME_WAIT (detach, §3.2), LAST_ACK→CLOSED, a reset, or a failed connect.
 */
export function tcpClient(ctx: ScenarioContext, plan: TcpClientPlan): KernelSocket {
  const w = ctx.world;
  const rng = ctx.rng;
  const s = w.tcpSocket(plan.proc, plan.remote.family, { domain: plan.domain, delegate: plan.delegate, fuuid: plan.domain ? rng.uuid() : undefined });
  const connectDelay = rng.real(0, 3);
  w.sched.after(connectDelay, () => {
    if (s.pcbDead) return;
    w.tcpConnect(s, plan.remote, plan.ifp, plan.rttMs);
    if (plan.close === 'fail') {
      w.transfer(s, 0, 0);
      w.sched.after(Math.min(plan.lifeMs, 75_000), () => w.tcpClose(s));
      return;
    }
    w.sched.after(plan.rttMs, () => {
      if (s.pcbDead) return;
      w.tcpSetState(s, TCPS.ESTABLISHED);
      const n = Math.max(1, plan.bursts ?? rng.int(1, 4));
      for (let i = 0; i < n; i++) {
        const at = (plan.lifeMs * (i + 1)) / (n + 1);
        w.sched.after(at, () => {
          if (s.pcbDead || s.state !== TCPS.ESTABLISHED) return;
          const rx = plan.rxBytes / n;
          const tx = plan.txBytes / n;
          const extra = plan.lossy ? { dup: Math.floor(rx * 0.004), ooo: Math.floor(rx * 0.01), retx: Math.floor(tx * 0.02) } : {};
          w.transfer(s, rx, tx, extra);
          w.setRtt(s, plan.rttMs * rng.real(0.8, 1.6));
        });
      }
      w.sched.after(plan.lifeMs, () => closeTcp(ctx, s, plan.close, plan.rttMs));
    });
  });
  return s;
}

export function closeTcp(ctx: ScenarioContext, s: KernelSocket, style: CloseStyle, rttMs: number): void {
  const w = ctx.world;
  if (s.pcbDead) return;
  switch (style) {
    case 'active':
      w.tcpSetState(s, TCPS.FIN_WAIT_1);
      w.sched.after(rttMs / 2, () => {
        w.tcpSetState(s, TCPS.FIN_WAIT_2);
        w.sched.after(rttMs / 2, () => w.tcpTimeWait(s));
      });
      break;
    case 'passive':
      w.tcpSetState(s, TCPS.CLOSE_WAIT);
      w.sched.after(0.2, () => {
        w.tcpSetState(s, TCPS.LAST_ACK);
        w.sched.after(rttMs, () => w.tcpClose(s));
      });
      break;
    default:
      w.tcpClose(s);
  }
}

export interface UserlandPlan {
  kind: 'tcpUserland' | 'udpUserland' | 'quic';
  proc: Process;
  remote: Endpoint;
  ifp: NetInterface;
  rttMs: number;
  rxBytes: number;
  txBytes: number;
  lifeMs: number;
  domain?: DomainAttribution;
  /** Also register a CONN_USERLAND NECP client (Network.framework). */
  withConn?: boolean;
}

/** A Network.framework flow (userland TCP/UDP/QUIC) with its NECP client where the dialect has CONN. */
export function userlandFlow(ctx: ScenarioContext, plan: UserlandPlan): UserlandFlow {
  const w = ctx.world;
  const rng = ctx.rng;
  const tlv = plan.domain ? necpTlv(rng, plan.domain.domainName) : undefined;
  const conn = plan.withConn && ctx.caps.conn ? w.openConn(plan.proc, plan.ifp, 0x8, { domain: plan.domain, necpTlv: tlv }) : undefined;
  const f = w.openUserland(plan.kind, plan.proc, plan.remote, plan.ifp, plan.rttMs, { domain: plan.domain, necpTlv: tlv });
  if (conn) w.sched.after(0.5, () => w.connAssignFlow(conn, f.fuuid!));
  const tcpLike = plan.kind !== 'udpUserland';
  w.sched.after(plan.rttMs, () => {
    if (tcpLike) w.userlandSetState(f, TCPS.ESTABLISHED);
    const n = rng.int(1, 4);
    for (let i = 0; i < n; i++) {
      w.sched.after((plan.lifeMs * (i + 1)) / (n + 1), () => {
        if (f.closed) return;
        w.transfer(f, plan.rxBytes / n, plan.txBytes / n);
        w.setRtt(f, plan.rttMs * rng.real(0.8, 1.5));
      });
    }
    w.sched.after(plan.lifeMs, () => {
      if (f.closed) return;
      if (plan.kind === 'tcpUserland') {
        w.userlandSetState(f, TCPS.FIN_WAIT_1);
        w.sched.after(plan.rttMs, () => {
          w.userlandTimeWait(f);
          w.sched.after(2000, () => {
            w.closeUserland(f);
            if (conn) w.closeGeneric(conn);
          });
        });
      } else {
        w.closeUserland(f);
        if (conn) w.closeGeneric(conn);
      }
    });
  });
  return f;
}

/** Schedule `fn` as a Poisson process of `perSecond` events per second, forever. */
export function poisson(ctx: ScenarioContext, perSecond: number, fn: () => void): void {
  if (perSecond <= 0) return;
  const w = ctx.world;
  const next = () => {
    w.sched.after(ctx.rng.expMs(perSecond), () => {
      fn();
      next();
    });
  };
  next();
}

/** Schedule `fn` every `periodMs` (with jitter), forever. */
export function periodic(ctx: ScenarioContext, periodMs: number, fn: () => void, jitter = 0.2): void {
  const w = ctx.world;
  const next = () => {
    w.sched.after(periodMs * ctx.rng.real(1 - jitter, 1 + jitter), () => {
      fn();
      next();
    });
  };
  next();
}

/** RTT for a remote: LAN-ish for private/link-local, 8–180 ms for the documentation ranges. */
export function rttFor(rng: Rng, remote: Endpoint): number {
  if (remote.address.startsWith('fe80:') || remote.address.startsWith('192.168.') || remote.address.startsWith('10.')) return rng.real(0.5, 4);
  if (remote.address === '127.0.0.1' || remote.address === '::1') return rng.real(0.03, 0.2);
  return rng.logUniform(8, 180);
}
