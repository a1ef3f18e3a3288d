/**
 * The kernel-global part of ntstat: the list of client connections, per-provider watcher
 * counts, the world hooks (where XNU calls into ntstat), the 60 s idle check, ifnet threshold
 * notices and sysinfo reports. One KernelCore per simulated machine; one Connection per client.
 */
import { DEFAULT_LOCK_YIELD_CHANCE, LockYield, type NstatStats } from './lock-yield.js';
import { encodeMessage } from '../../protocol/index.js';
import type { KernelProfile } from '../profile.js';
import { RTF_UP, type ConnFlow, type Flow, type IfnetObject, type KernelSocket, type NetInterface, type Process, type RouteEntry, type UdpSubflow, type UserlandFlow, type WorldObject } from '../world/entities.js';
import type { FlowEvent, World, WorldHooks } from '../world/world.js';
import { bitsFor } from './bits.js';
import { Connection, type ConnectionOptions, type KernelServices } from './connection.js';
import { buildProviders, flowIfFlags, providerForKind, type Provider } from './providers.js';

/** The idle check period (`nstat_idle_check`, 60 s). */
export const IDLE_CHECK_MS = 60_000;

export interface KernelCoreOptions {
  /** `net.statistics_privcheck` (default 0 on macOS). */
  privcheck?: boolean;
  /** How often subscribed clients get a SYSINFO_COUNTS report at an idle check (default 30 min). */
  sysinfoIntervalMs?: number;
  /** macOS 15+: chance that a paced chunk yields after each source past the fifth (default DEFAULT_LOCK_YIELD_CHANCE; 0 = off). */
  lockYieldChance?: number;
  /** Seed of the lock-yield draws. */
  seed?: number;
}

export class KernelCore implements KernelServices, WorldHooks {
  readonly providers: ReadonlyMap<number, Provider>;
  readonly privcheck: boolean;
  /** Newest first, like `nstat_controls`. */
  private conns: Connection[] = [];
  private readonly watcherCounts = new Map<number, number>();
  private idleArmed = false;
  private readonly sysinfoIntervalMs: number;
  private lastSysinfo = -Infinity;
  /** Idle-check passes run so far (ground truth for tests). */
  idleChecks = 0;
  readonly nstatStats: NstatStats = { flushAccumulatedMsgsFailures: 0 };
  readonly lockYield?: LockYield;

  constructor(
    readonly world: World,
    readonly profile: KernelProfile,
    opts: KernelCoreOptions = {},
  ) {
    this.providers = buildProviders(profile);
    this.privcheck = opts.privcheck ?? false;
    this.sysinfoIntervalMs = opts.sysinfoIntervalMs ?? 30 * 60_000;
    if (profile.b15) this.lockYield = new LockYield(opts.lockYieldChance ?? DEFAULT_LOCK_YIELD_CHANCE, opts.seed ?? 1);
    world.hooks = this;
  }

  connections(): Iterable<Connection> {
    return this.conns;
  }

  /** `nstat_control_connect`: REQCOUNTS set, the global idle timer armed by the first client. */
  connect(opts: ConnectionOptions = {}): Connection {
    const c = new Connection(this, opts);
    this.conns.unshift(c);
    if (!this.idleArmed) {
      this.idleArmed = true;
      this.world.sched.after(IDLE_CHECK_MS, () => this.idleCheck());
    }
    return c;
  }

  disconnect(c: Connection): void {
    const i = this.conns.indexOf(c);
    if (i < 0) return;
    this.conns.splice(i, 1);
    c.disconnect();
  }

  watchersChanged(providerId: number, delta: number): void {
    this.watcherCounts.set(providerId, Math.max(0, (this.watcherCounts.get(providerId) ?? 0) + delta));
  }

  watchers(providerId: number | undefined): number {
    return providerId === undefined ? 0 : this.watcherCounts.get(providerId) ?? 0;
  }

  /** `nstat_ifnet_release`: recompute the threshold as the minimum over all ifnet sources. */
  releaseCookie(provider: Provider, obj: WorldObject): void {
    if (provider.name !== 'ifnet') return;
    const cookie = obj as IfnetObject;
    let min = Infinity;
    // The kernel scans every client's ifnet sources, whatever their interface.
    for (const c of this.conns) for (const s of c.sources) if (s.provider.name === 'ifnet' && s.obj !== obj) min = Math.min(min, (s.obj as IfnetObject).threshold);
    if (cookie.ifp.attached) cookie.ifp.threshold = min === Infinity ? 0 : min;
  }

  // ------------------------------------------------------------------------ idle check

  /** `nstat_idle_check` (§3.4): reap gone sources with a goodbye, then re-arm while clients exist. */
  private idleCheck(): void {
    this.idleChecks++;
    const released: [Connection, WorldObject, Provider][] = [];
    for (const c of this.conns) {
      if (this.profile.b15 || !c.reqcounts) {
        for (const src of [...c.sources]) {
          if (src.provider.gone(src.obj)) {
            c.unlink(src);
            c.sendGoodbye(src);
            released.push([c, src.obj, src.provider]);
          }
        }
      }
      if (!this.profile.b15) c.reqcounts = false;
    }
    if (this.conns.length > 0) this.world.sched.after(IDLE_CHECK_MS, () => this.idleCheck());
    else this.idleArmed = false;
    this.sysinfoReport();
    for (const [, obj, p] of released) this.releaseCookie(p, obj);
  }

  /** SYSINFO_COUNTS to subscribed clients when a subsystem report is due (§5.8). Non-critical. */
  private sysinfoReport(): void {
    const now = this.world.now;
    if (now - this.lastSysinfo < this.sysinfoIntervalMs) return;
    this.lastSysinfo = now;
    const d = this.profile.dialect;
    const key = (n: string, fallback: number) => (typeof d.constants[n] === 'number' ? (d.constants[n] as number) : fallback);
    let rx = 0;
    let tx = 0;
    for (const ifp of this.world.interfaces.values()) {
      rx += ifp.rxBytes;
      tx += ifp.txBytes;
    }
    const mk = (k: number, v: number) => ({ key: k, flags: 0, scalar: BigInt(v), distribution: 0, value: new Uint8Array(0), valsize: 8 });
    const keyvals = [
      mk(key('NSTAT_SYSINFO_KEY_IPV4_AVGRTT', 3), 25 * 32),
      mk(key('NSTAT_SYSINFO_KEY_IPV6_AVGRTT', 4), 31 * 32),
      mk(key('NSTAT_SYSINFO_KEY_SEND_PLR', 5), 12),
      mk(key('NSTAT_SYSINFO_KEY_RECV_PLR', 6), 7),
      mk(key('NSTAT_SYSINFO_MPTCP_HANDOVER_CELL_BYTES', 7), Math.floor((rx + tx) / 1024)),
    ];
    for (const c of this.conns) {
      if (!c.sysinfoSubscribed) continue;
      // valsize only exists from 10.13; the codec ignores it before.
      const bytes = encodeSysinfo(c, keyvals);
      c.enqueue(bytes, false, 'sysinfoCounts', 0n, 0);
    }
  }

  // ------------------------------------------------------------------------ world hooks

  private providerOf(kind: WorldObject['kind']): Provider | undefined {
    const id = providerForKind(this.profile, kind);
    return id === undefined ? undefined : this.providers.get(id);
  }

  /** `nstat_tcp_new_pcb` / `nstat_udp_new_pcb`: a source for every client watching. */
  tcpNewPcb(s: KernelSocket): void {
    this.newObject(s);
  }

  udpNewPcb(s: KernelSocket): void {
    this.newObject(s);
  }

  private newObject(obj: Flow | RouteEntry): void {
    const p = this.providerOf(obj.kind);
    if (!p || this.watchers(p.id) === 0) return;
    for (const c of this.conns) if (c.watching.has(p.id)) c.sourceAdd(0n, p, obj);
  }

  /** The first source of `obj` in each client's list gets a goodbye and is removed (§3.2). */
  private goodbyeAll(obj: WorldObject, onlyWatching?: number): void {
    for (const c of this.conns) {
      if (onlyWatching !== undefined && !c.watching.has(onlyWatching)) continue;
      const src = c.sources.firstFor(obj);
      if (!src) continue;
      c.sendGoodbye(src);
      c.unlink(src);
      c.cleanupSource(src, false);
    }
  }

  /** `nstat_pcb_detach`: skipped entirely when nobody watches TCP or UDP (§3.2). */
  pcbDetach(s: KernelSocket): void {
    if (this.watchers(this.profile.providers.tcp) === 0 && this.watchers(this.profile.providers.udp) === 0) return;
    this.goodbyeAll(s);
  }

  private eventBit(ev: FlowEvent): bigint {
    const p = this.profile;
    if (!p.events) return 0n;
    const b = bitsFor(p.dialect);
    switch (ev) {
      case 'enterCellFallback':
        return b.evEnterCellFallback;
      case 'exitCellFallback':
        return b.evExitCellFallback;
      case 'listen':
        return p.flowStateEvents ? b.evListen : 0n;
      case 'outbound':
        return p.flowStateEvents ? b.evOutbound : 0n;
      case 'flowUuidAssigned':
        return b.evFlowUuidAssigned;
      case 'flowUuidChanged':
        return b.evFlowUuidChanged;
      case 'attributionChange':
        return b.evAttributionChange;
    }
  }

  /** `nstat_control_send_event`: only in update mode, subscribed, and passing the filter (15+). */
  private sendEvent(c: Connection, obj: WorldObject, providerIds: (number | undefined)[], bit: bigint): void {
    if (!providerIds.some((id) => id !== undefined && (c.filterFor(id).events & bit) !== 0n)) return;
    const src = c.sources.firstFor(obj);
    if (!src || (c.filterFor(src.provider.id).events & bit) === 0n) return;
    if (c.reportingAllowed(src, 0n) && c.updateMode) c.sendUpdate(src, 0n, bit, 0);
  }

  /** `nstat_pcb_event` (SO_STATISTICS_EVENT, tcp_usrreq listen/connect). */
  pcbEvent(s: KernelSocket, ev: FlowEvent): void {
    const bit = this.eventBit(ev);
    if (bit === 0n) return;
    const { tcp, udp } = this.profile.providers;
    if (this.watchers(tcp) === 0 && this.watchers(udp) === 0) return;
    for (const c of this.conns) this.sendEvent(c, s, [tcp, udp], bit);
  }

  /** `nstat_pcb_cache`: existing UDP sources keep the connected tuple after a disconnect (§5.2). */
  udpCache(s: KernelSocket): void {
    if (this.watchers(this.profile.providers.udp) === 0) return;
    for (const c of this.conns) {
      const src = c.sources.firstFor(s);
      if (!src) continue;
      src.udpCache = { local: s.local, remote: s.remote, ifindex: s.outIf?.ifindex ?? 0, ifnetProps: flowIfFlags(c.env, s) };
      if (s.outIf) src.cachedIfindex = s.outIf.ifindex;
    }
  }

  udpInvalidateCache(s: KernelSocket): void {
    if (this.watchers(this.profile.providers.udp) === 0) return;
    for (const c of this.conns) {
      const src = c.sources.firstFor(s);
      if (src) src.udpCache = undefined;
    }
  }

  private userlandWatched(): boolean {
    const { tcpUserland, udpUserland, quic } = this.profile.providers;
    return this.watchers(tcpUserland) + this.watchers(udpUserland) + this.watchers(quic) > 0;
  }

  /** `ntstat_userland_stats_open`: no global watcher check, per-client watching bit. */
  userlandOpen(f: UserlandFlow): void {
    const p = this.providerOf(f.kind);
    const watchId = f.kind === 'tcpUserland' ? this.profile.providers.tcpUserland : f.kind === 'udpUserland' ? this.profile.providers.udpUserland : this.profile.providers.quic;
    if (!p || watchId === undefined) return;
    for (const c of this.conns) if (c.watching.has(watchId)) c.sourceAdd(0n, p, f);
  }

  userlandClose(f: UserlandFlow): void {
    if (!this.userlandWatched()) return;
    this.goodbyeAll(f);
  }

  /** NECP TIME_WAIT event: goodbye unless the source has TCP_NO_EARLY_CLOSE (§2.4). */
  userlandTimeWait(f: UserlandFlow): void {
    if (!this.userlandWatched()) return;
    for (const c of this.conns) {
      const src = c.sources.firstFor(f);
      if (!src) continue;
      if (c.bits.tcpNoEarlyClose !== 0n && (src.filter & Number(c.bits.tcpNoEarlyClose)) !== 0) continue;
      c.sendGoodbye(src);
      c.unlink(src);
      c.cleanupSource(src, false);
    }
  }

  userlandEvent(f: UserlandFlow, ev: FlowEvent): void {
    const bit = this.eventBit(ev);
    if (bit === 0n || !this.userlandWatched()) return;
    const { tcpUserland, udpUserland, quic } = this.profile.providers;
    for (const c of this.conns) this.sendEvent(c, f, [tcpUserland, udpUserland, quic], bit);
  }

  /** `nstat_provider_stats_open`: INITIAL_PROPERTIES may keep a new object from being added. */
  genericOpen(f: ConnFlow | UdpSubflow): void {
    const p = this.providerOf(f.kind);
    if (!p) return;
    for (const c of this.conns) {
      if (!c.watching.has(p.id)) continue;
      const flags = c.filterFor(p.id).flags;
      if (c.bits.initialProperties !== 0n && (flags & c.bits.initialProperties) !== 0n && p.initialProperties) {
        const mask = flags & (this.profile.ifnetFilterMask | BigInt((this.profile.dialect.constants['NSTAT_FILTER_CONN_FLAGS'] as number | undefined) ?? 0));
        if (mask !== 0n && (mask & BigInt(p.initialProperties(c.env, f) >>> 0)) === 0n) continue;
      }
      c.sourceAdd(0n, p, f);
    }
  }

  genericClose(f: ConnFlow | UdpSubflow): void {
    const p = this.providerOf(f.kind);
    if (!p || this.watchers(p.id) === 0) return;
    this.goodbyeAll(f, p.id);
  }

  /** `nstat_provider_stats_event`: clears nts_reported; sends the event to subscribers. */
  genericEvent(f: ConnFlow | UdpSubflow, ev: FlowEvent): void {
    const p = this.providerOf(f.kind);
    if (!p || this.watchers(p.id) === 0) return;
    const bit = this.eventBit(ev);
    for (const c of this.conns) {
      if (!c.watching.has(p.id)) continue;
      const filt = c.filterFor(p.id);
      const boring = c.bits.suppressBoringClose | c.bits.suppressBoringPoll;
      if ((bit === 0n || (filt.events & bit) === 0n) && (filt.flags & boring) === 0n) continue;
      const src = c.sources.firstFor(f);
      if (!src) continue;
      src.reported = false;
      if (bit !== 0n && (filt.events & bit) !== 0n && c.reportingAllowed(src, 0n) && c.updateMode) c.sendUpdate(src, 0n, bit, 0);
    }
  }

  /** `nstat_route_new_entry`. */
  routeNew(r: RouteEntry): void {
    if ((r.flags & RTF_UP) === 0) return;
    this.newObject(r);
  }

  /** B13+ `nstats_userland_stats_defunct_for_process`: the process's userland flows say goodbye. */
  processDefunct(p: Process): void {
    if (!['B13', 'B14', 'B15'].includes(this.profile.era)) return;
    for (const f of [...this.world.userlandFlows.values()]) {
      if (f.proc !== p) continue;
      if (this.userlandWatched()) this.goodbyeAll(f);
      f.live = false;
    }
  }

  /**
   * `ifnet_notify_data_threshold` → `nstat_ifnet_threshold_reached`: SRC_COUNTS (context 0) to
   * every ifnet source of the interface; at most one per 2 s from 10.13 (§3.3).
   */
  ifnetTraffic(ifp: NetInterface): void {
    if (ifp.threshold <= 0) return;
    const total = ifp.rxBytes + ifp.txBytes;
    if (total - ifp.thresholdBase <= ifp.threshold) return;
    ifp.thresholdBase = total;
    const now = this.world.now;
    if (this.profile.ifnetThresholdRateLimit && now - ifp.lastThresholdNotice < 2000) return;
    ifp.lastThresholdNotice = now;
    for (const c of this.conns) {
      for (const src of c.sources) {
        if (src.provider.name === 'ifnet' && (src.obj as IfnetObject).ifp.ifindex === ifp.ifindex) c.sendCounts(src, 0n, 0);
      }
    }
  }

  tick(): void {}
}

function encodeSysinfo(c: Connection, keyvals: { key: number; flags: number; scalar: bigint; distribution: number; value: Uint8Array; valsize: number }[]): Uint8Array {
  return encodeMessage(c.profile.dialect, { kind: 'sysinfoCounts', context: 0n, flags: 0, srcref: 0n, keyvals });
}
