/**
 * The usage ledger: turns stream events into monotonic usage. Each flow contributes the growth of
 * its counters since it was last seen (never negative), attributed to its process group and its
 * interface, and to the minute bucket of the wall clock at which the growth was seen. Closed flows
 * keep counting (unlike `nettop -P`). Pure accounting: no timers, no I/O, the caller gives times.
 */
import type { Stream } from '../model/stream.js';
import { endpointText, flowIdentity, IdentityPool } from './identity.js';
import type { ClosedFlow, OpenFlowState, Totals, UsageDelta } from '../store/records.js';

export interface GroupTotals extends Totals {
  key: string;
  process: string;
  pid?: number;
  app?: string;
  flows: number;
  liveFlows: number;
  rxBytesPerSec: number;
  txBytesPerSec: number;
  lastSeen: number;
}

export interface InterfaceTotals extends Totals {
  key: string;
  name: string;
  kind: string;
}

interface FlowEntry extends Totals {
  stream: Stream;
  group: GroupTotals;
  iface: InterfaceTotals;
  start: number;
  /**
   * What `group` and `iface` were looked up from, and the pending bucket of the last growth:
   * an event whose stream still says the same reuses them, so the per-event key strings (issue
   * 17: ~0.4 ms/s at 2 000 streams) are built only when a flow changes hands, interface or minute.
   */
  gProcess: string;
  gPid: number | undefined;
  gApp: string | undefined;
  iIfname: string | undefined;
  iIfindex: number | undefined;
  iKind: string;
  bucket: UsageDelta | undefined;
  bucketMinute: number;
  bucketBatch: number;
  bucketGroup: GroupTotals | undefined;
  bucketIface: InterfaceTotals | undefined;
}

const MINUTE = 60_000;
/**
 * How long (2 min: TIME_WAIT is 2 MSL = 30 s on macOS, plus margin) a closed flow's identity and final counters are remembered (and persisted with the
 * open flows): a TCP socket in TIME_WAIT stays on the kernel's pcb list, so a new session's
 * ADD_ALL reports it again with its full counters (BEHAVIOUR.md §2.3, §3.2), as does a source the
 * client brings back after reaping it. Without this memory those bytes would count twice.
 */
const CLOSED_MEMORY_MS = 2 * MINUTE;

/** The interface of flows that have none (ifindex 0: unconnected UDP sockets, listeners). */
export const NO_INTERFACE = '?';

/**
 * A flow's interface as stored and exported: its BSD name (en0), given by the client from the
 * machine's interface table; `if<index>` where the source cannot enumerate interfaces (a relay
 * from a Mac over --socket, an old capture); NO_INTERFACE without an ifindex.
 */
export function interfaceName(s: Stream): string {
  return s.ifname ?? (s.ifindex ? `if${s.ifindex}` : NO_INTERFACE);
}

function add(t: Totals, rx: number, tx: number, rp: number, tp: number): void {
  t.rxBytes += rx;
  t.txBytes += tx;
  t.rxPackets += rp;
  t.txPackets += tp;
}

export class UsageLedger {
  private readonly flows = new Map<string, FlowEntry>();
  private readonly groups = new Map<string, GroupTotals>();
  private readonly ifaces = new Map<string, InterfaceTotals>();
  /** pid -> process name, to name a flow's responsible (effective) process. */
  private readonly names = new Map<number, string>();
  /** Counters stored by an earlier session for flows that were open then, by identity. */
  private readonly restored = new IdentityPool();
  /** Flows that ended recently: final counters and when (see CLOSED_MEMORY_MS). */
  private readonly recentlyClosed = new IdentityPool();
  private pending = new Map<string, UsageDelta>();
  /** Counts takeBatch calls: a flow's cached bucket belongs to the batch it was made in. */
  private batch = 0;
  private closed: ClosedFlow[] = [];
  /** liveStreams() until a flow opens or ends (each /metrics scrape reads it). */
  private live?: Stream[];

  /**
   * Counters of flows open at the last flush of an earlier session (see `open`). Kept as long as
   * recently closed flows: a source may be announced only some sweeps after the subscription;
   * entries nobody claims belong to flows that ended while no agent ran (that growth is lost).
   */
  restore(states: readonly OpenFlowState[], now: number): void {
    for (const st of states) this.restored.add(st.identity, st, now);
  }

  /** Stored states not yet claimed by a live flow. */
  unclaimed(): OpenFlowState[] {
    return this.restored.entries();
  }

  apply(event: 'added' | 'update' | 'removed', s: Stream, now: number): void {
    if (s.pid !== undefined && s.process !== undefined) this.names.set(s.pid, s.process);
    let f = this.flows.get(s.id);
    if (!f) {
      if (event === 'removed' && !s.counts) return; // gone before anything was known about it
      f = this.open(s, now);
    } else {
      // The socket may change hands (pid, delegate) or interface: later growth counts for the new owner.
      const process = s.process ?? '?';
      const app = this.appOf(s);
      if (process !== f.gProcess || s.pid !== f.gPid || app !== f.gApp) {
        const g = this.groupFor(s, process, app, now);
        if (g !== f.group) {
          f.group.liveFlows--;
          g.liveFlows++;
          f.group = g;
        }
        f.gProcess = process;
        f.gPid = s.pid;
        f.gApp = app;
      }
      if (s.ifname !== f.iIfname || s.ifindex !== f.iIfindex || s.interface !== f.iKind) {
        f.iface = this.ifaceFor(s);
        f.iIfname = s.ifname;
        f.iIfindex = s.ifindex;
        f.iKind = s.interface;
      }
    }
    const c = s.counts;
    if (c) this.grow(f, c, now);
    f.group.lastSeen = now;
    if (event === 'removed') {
      this.flows.delete(s.id);
      this.live = undefined;
      f.group.liveFlows--;
      this.closed.push(this.closedRecord(f, now));
      this.recentlyClosed.add(flowIdentity(s), f, now);
    }
  }

  private open(s: Stream, now: number): FlowEntry {
    const identity = flowIdentity(s);
    const process = s.process ?? '?';
    const app = this.appOf(s);
    const group = this.groupFor(s, process, app, now);
    const iface = this.ifaceFor(s);
    const f: FlowEntry = {
      stream: s,
      group,
      iface,
      start: s.firstSeen,
      rxBytes: 0,
      txBytes: 0,
      rxPackets: 0,
      txPackets: 0,
      gProcess: process,
      gPid: s.pid,
      gApp: app,
      iIfname: s.ifname,
      iIfindex: s.ifindex,
      iKind: s.interface,
      bucket: undefined,
      bucketMinute: 0,
      bucketBatch: -1,
      bucketGroup: undefined,
      bucketIface: undefined,
    };
    group.liveFlows++;
    const stored = this.claim(identity, s);
    if (stored) {
      // Seen by an earlier session: only growth beyond what that session stored counts.
      f.rxBytes = stored.rxBytes;
      f.txBytes = stored.txBytes;
      f.rxPackets = stored.rxPackets;
      f.txPackets = stored.txPackets;
    } else {
      // New to us. A flow first seen with non-zero counters (open before any agent saw it)
      // counts in full in this first bucket: the kernel cannot say when those bytes moved.
      group.flows++;
      this.bucket(f, now).flows++;
    }
    this.flows.set(s.id, f);
    this.live = undefined;
    return f;
  }

  /** Counters this flow had when last recorded (by an earlier session, or before it was reaped). */
  private claim(identity: string, s: Stream): Totals | undefined {
    return this.recentlyClosed.claim(identity, s.counts) ?? this.restored.claim(identity, s.counts);
  }

  private grow(f: FlowEntry, c: Totals, now: number): void {
    const drx = c.rxBytes - f.rxBytes;
    const dtx = c.txBytes - f.txBytes;
    const drp = c.rxPackets - f.rxPackets;
    const dtp = c.txPackets - f.txPackets;
    if (drx <= 0 && dtx <= 0 && drp <= 0 && dtp <= 0) return;
    // Counters never go down; a smaller value (a lying or reused source) adds nothing.
    const rx = Math.max(0, drx);
    const tx = Math.max(0, dtx);
    const rp = Math.max(0, drp);
    const tp = Math.max(0, dtp);
    f.rxBytes += rx;
    f.txBytes += tx;
    f.rxPackets += rp;
    f.txPackets += tp;
    add(f.group, rx, tx, rp, tp);
    add(f.iface, rx, tx, rp, tp);
    add(this.bucket(f, now), rx, tx, rp, tp);
  }

  private bucket(f: FlowEntry, now: number): UsageDelta {
    const minute = Math.floor(now / MINUTE) * MINUTE;
    const cached = f.bucket;
    // Same minute, same batch (takeBatch starts a new map), same group and interface: same key.
    // The key is (minute, group, interface), and each group or interface key has one object.
    if (cached && f.bucketMinute === minute && f.bucketBatch === this.batch && f.bucketGroup === f.group && f.bucketIface === f.iface) return cached;
    const key = `${minute}\u0000${f.group.key}\u0000${f.iface.key}`;
    let b = this.pending.get(key);
    if (!b) {
      b = { minute, process: f.group.process, ifname: f.iface.name, ifkind: f.iface.kind, rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, flows: 0 };
      if (f.group.pid !== undefined) b.pid = f.group.pid;
      if (f.group.app !== undefined) b.app = f.group.app;
      this.pending.set(key, b);
    }
    f.bucket = b;
    f.bucketMinute = minute;
    f.bucketBatch = this.batch;
    f.bucketGroup = f.group;
    f.bucketIface = f.iface;
    return b;
  }

  /** The name of the flow's responsible process when another one is (a delegated socket), as last seen. */
  private appOf(s: Stream): string | undefined {
    return s.epid && s.epid !== s.pid ? this.names.get(s.epid) : undefined;
  }

  private groupFor(s: Stream, process: string, app: string | undefined, now: number): GroupTotals {
    const key = `name:${process}${app !== undefined && app !== process ? `|app:${app}` : ''}|pid:${s.pid ?? '?'}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { key, process, rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, flows: 0, liveFlows: 0, rxBytesPerSec: 0, txBytesPerSec: 0, lastSeen: now };
      if (s.pid !== undefined) g.pid = s.pid;
      if (app !== undefined && app !== process) g.app = app;
      this.groups.set(key, g);
    }
    return g;
  }

  private ifaceFor(s: Stream): InterfaceTotals {
    const name = interfaceName(s);
    const key = `${name}\u0000${s.interface}`;
    let i = this.ifaces.get(key);
    if (!i) this.ifaces.set(key, (i = { key, name, kind: s.interface, rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 }));
    return i;
  }

  private closedRecord(f: FlowEntry, now: number): ClosedFlow {
    const s = f.stream;
    const r: ClosedFlow = {
      provider: s.userland ? `${s.provider}-userland` : s.provider,
      process: f.group.process,
      ifname: f.iface.name,
      ifkind: f.iface.kind,
      start: f.start,
      end: now,
      rxBytes: f.rxBytes,
      txBytes: f.txBytes,
      rxPackets: f.rxPackets,
      txPackets: f.txPackets,
    };
    if (f.group.pid !== undefined) r.pid = f.group.pid;
    if (f.group.app !== undefined) r.app = f.group.app;
    if (s.local) r.local = endpointText(s.local);
    if (s.remote) r.remote = endpointText(s.remote);
    return r;
  }

  /** Current rates per group: the sum of its live streams' last-window rates. */
  updateRates(): void {
    for (const g of this.groups.values()) {
      g.rxBytesPerSec = 0;
      g.txBytesPerSec = 0;
    }
    for (const f of this.flows.values()) {
      f.group.rxBytesPerSec += f.stream.rxBytesPerSec ?? 0;
      f.group.txBytesPerSec += f.stream.txBytesPerSec ?? 0;
    }
  }

  /** Everything not yet flushed; the ledger starts a new batch. */
  takeBatch(now: number): { deltas: UsageDelta[]; closed: ClosedFlow[]; open: OpenFlowState[] } {
    const deltas = [...this.pending.values()];
    const closed = this.closed;
    this.pending = new Map();
    this.batch++;
    this.closed = [];
    const open: OpenFlowState[] = [];
    // Remembered by the agent's clock; one that jumped back keeps entries a little longer.
    this.recentlyClosed.expire(now - CLOSED_MEMORY_MS);
    this.restored.expire(now - CLOSED_MEMORY_MS);
    open.push(...this.restored.entries(), ...this.recentlyClosed.entries());
    // The identity as of now: a UDP socket's remote end, for one, appears only once it connects.
    for (const f of this.flows.values()) open.push({ identity: flowIdentity(f.stream), rxBytes: f.rxBytes, txBytes: f.txBytes, rxPackets: f.rxPackets, txPackets: f.txPackets });
    return { deltas, closed, open };
  }

  groupList(): GroupTotals[] {
    return [...this.groups.values()];
  }

  interfaceList(): InterfaceTotals[] {
    return [...this.ifaces.values()];
  }

  /** The live flows' streams, in the order they were first seen; the same array until one opens or ends. */
  liveStreams(): readonly Stream[] {
    if (this.live) return this.live;
    const out: Stream[] = [];
    for (const f of this.flows.values()) out.push(f.stream);
    return (this.live = out);
  }

  get liveCount(): number {
    return this.flows.size;
  }
}
