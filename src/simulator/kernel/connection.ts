/**
 * One client connection's kernel state (`nstat_control_state` / `nstat_client`) and the message
 * primitives of ntstat.c that act on it: source add, counts/description/update (direct and
 * aggregated), removed, goodbye, success/error. Request handlers (requests.ts, polls.ts) and the
 * world hooks (kernel.ts) are written in terms of these.
 */
import type { LockYield, NstatStats } from './lock-yield.js';
import type { Counts, ExtensionItem } from '../../protocol/index.js';
import { HeaderFlag, MessageType } from '../../protocol/index.js';
import type { KernelProfile } from '../profile.js';
import { ReceiveBuffer, type SockbufOptions } from '../sockbuf.js';
import type { WorldObject } from '../world/entities.js';
import type { World } from '../world/world.js';
import { bitsFor, type Bits } from './bits.js';
import {
  EAGAIN,
  EINVAL,
  ENOBUFS,
  EOPNOTSUPP,
  emptyFilter,
  type Provider,
  type ProviderEnv,
  type ProviderFilter,
} from './providers.js';
import { SourceList, type Source } from './sources.js';
import { descriptorBytes, roundup8, Wire } from './wire.js';

/** Kinds of messages the model accounts for in its drop ledger. */
export type MessageKindName = 'success' | 'error' | 'srcAdded' | 'srcRemoved' | 'srcCounts' | 'srcDesc' | 'srcUpdate' | 'sysinfoCounts' | 'batch';

export interface DropRecord {
  /** Simulated time (ms). */
  time: number;
  kind: MessageKindName;
  srcref?: bigint;
  context: bigint;
  flags: number;
  /** Unsolicited (world-driven) vs request-path. */
  unsolicited: boolean;
  /** For a lost batch: the messages it held. */
  messages?: { kind: MessageKindName; srcref: bigint }[];
}

export interface DropLedger {
  /** Failed enqueues of every kind (a lost batch counts once here). */
  total: number;
  byKind: Record<MessageKindName, number>;
  /** Messages inside lost aggregated batches, by kind. */
  inBatches: Record<MessageKindName, number>;
  /** Objects whose SRC_ADDED could not be queued: never became sources (§3.1). */
  sourcesNeverAdded: number;
  /** SRC_REMOVED lost (the source is gone anyway, §4). */
  removedLost: number;
  /** Last drops, oldest first (bounded). */
  log: DropRecord[];
}

function zeroKinds(): Record<MessageKindName, number> {
  return { success: 0, error: 0, srcAdded: 0, srcRemoved: 0, srcCounts: 0, srcDesc: 0, srcUpdate: 0, sysinfoCounts: 0, batch: 0 };
}

export interface ConnectionOptions extends SockbufOptions {
  /** The credential of the thread calling send() has PRIV_NET_PRIVILEGED_NETWORK_STATISTICS (root/entitled). */
  privileged?: boolean;
  /** Keep at most this many drop records (default 100 000). */
  dropLogLimit?: number;
  /** Remember every removed srcref (ground truth `removedSrcrefs`). Default true. */
  recordRemoved?: boolean;
}

/** What the kernel object (SimKernel) offers a connection. */
export interface KernelServices {
  readonly world: World;
  readonly profile: KernelProfile;
  readonly providers: ReadonlyMap<number, Provider>;
  /** `nstat_privcheck` sysctl (0 on macOS). */
  readonly privcheck: boolean;
  /** A provider's global watcher count (`nstat_tcp_watchers` …) changes by `delta`. */
  watchersChanged(providerId: number, delta: number): void;
  /** Release a source's cookie (`nstat_ifnet_release` recomputes the interface threshold). */
  releaseCookie(provider: Provider, obj: WorldObject): void;
  /** Every live connection (ifnet lowering notifies all clients). */
  connections(): Iterable<Connection>;
  /** Global `nstat_stats` counters (sysctl net.stats.stats). */
  readonly nstatStats: NstatStats;
  /** B15 lock-yield model for paced polls (lock-yield.ts); absent before macOS 15. */
  readonly lockYield?: LockYield;
}

type MsgResult = { errno: number; gone: boolean };

export class Connection {
  readonly profile: KernelProfile;
  readonly bits: Bits;
  readonly env: ProviderEnv;
  readonly wire: Wire;
  readonly queue: ReceiveBuffer;
  readonly sources = new SourceList();
  readonly watching = new Set<number>();
  /** B14 `ncs_added_src`. */
  readonly addedSrc = new Set<number>();
  readonly filters = new Map<number, ProviderFilter>();
  updateMode = false;
  /** NSTAT_FLAG_REQCOUNTS: set at connect and by QUERY_SRC(ALL) (§3.4). */
  reqcounts = true;
  sysinfoSubscribed = false;
  cleanup = false;
  /** Paced-query state (`ncs_context`, `ncs_seq`). */
  queryContext = 0n;
  querySeq = 0;
  privileged: boolean;
  /** @internal */
  private nextSrcref32 = 1;
  /** @internal */
  private nextSrcref = 0n;
  /** @internal */
  private accumulated: { parts: Uint8Array[]; size: number; kinds: { kind: MessageKindName; srcref: bigint }[] } | undefined;
  /** True while handling a request (drops are then request-path, not unsolicited). */
  inRequest = false;
  readonly drops: DropLedger = { total: 0, byKind: zeroKinds(), inBatches: zeroKinds(), sourcesNeverAdded: 0, removedLost: 0, log: [] };
  readonly removedSrcrefs = new Set<bigint>();
  removedCount = 0;
  /** Messages successfully queued, by kind (records, not batches). */
  readonly produced = zeroKinds();
  producedMessages = 0;
  /** @internal */
  private readonly dropLogLimit: number;
  /** @internal */
  private readonly recordRemoved: boolean;
  /** Called after every successful enqueue (transports wake their reader). */
  onEnqueue?: () => void;

  constructor(
    readonly kernel: KernelServices,
    opts: ConnectionOptions = {},
  ) {
    this.profile = kernel.profile;
    this.bits = bitsFor(this.profile.dialect);
    this.env = { profile: this.profile, bits: this.bits, world: kernel.world };
    this.wire = new Wire(this.profile.dialect);
    this.queue = new ReceiveBuffer({ criticalClass: this.profile.criticalClass, ...opts });
    this.privileged = opts.privileged ?? false;
    this.dropLogLimit = opts.dropLogLimit ?? 100_000;
    this.recordRemoved = opts.recordRemoved ?? true;
  }

  filterFor(providerId: number): ProviderFilter {
    let f = this.filters.get(providerId);
    if (!f) this.filters.set(providerId, (f = emptyFilter()));
    return f;
  }

  // ------------------------------------------------------------------ queueing

  /** @internal */
  private recordDrop(kind: MessageKindName, context: bigint, flags: number, srcref?: bigint, messages?: { kind: MessageKindName; srcref: bigint }[]): void {
    const d = this.drops;
    d.total++;
    d.byKind[kind]++;
    if (messages) for (const m of messages) d.inBatches[m.kind]++;
    if (d.log.length >= this.dropLogLimit) d.log.shift();
    const rec: DropRecord = { time: this.kernel.world.now, kind, context, flags, unsolicited: !this.inRequest };
    if (srcref !== undefined) rec.srcref = srcref;
    if (messages) rec.messages = messages;
    d.log.push(rec);
  }

  /** ctl_enqueuedata / ctl_enqueuembuf: one record. Returns 0 or ENOBUFS. */
  enqueue(bytes: Uint8Array, critical: boolean, kind: MessageKindName, context: bigint, flags: number, srcref?: bigint): number {
    const err = this.queue.enqueue(bytes, critical, false);
    if (err !== 0) {
      this.recordDrop(kind, context, flags, srcref);
      return err;
    }
    this.produced[kind]++;
    this.producedMessages++;
    this.onEnqueue?.();
    return 0;
  }

  /** @internal */
  /** Cheap pre-check for non-critical messages so dropped ones are never encoded. */
  private fits(len: number): boolean {
    const q = this.queue;
    if (!this.profile.criticalClass) return q.space() >= len;
    const space = q.space();
    return !(space < q.hiwat >> 2 || space < len);
  }

  sendSuccess(context: bigint, flags: number): number {
    return this.enqueue(this.wire.success(context, flags), true, 'success', context, flags);
  }

  /** `nstat_send_error`: a bare ERROR (no echo), critical. */
  sendError(context: bigint, errno: number): number {
    return this.enqueue(this.wire.error(context, errno), true, 'error', context, 0);
  }

  // ------------------------------------------------------------------ sources

  /** @internal */
  private allocSrcref(): bigint {
    if (!this.profile.srcref32) return ++this.nextSrcref;
    // 10.11: 32-bit counter from 1, skipping refs in use, wrapping before ALL, giving up after
    // 1000 collisions (`nstat_control_next_src_ref`).
    for (let i = 0; i < 1000; i++) {
      if (this.nextSrcref32 === 0 || this.nextSrcref32 === 0xffffffff) this.nextSrcref32 = 1;
      const r = BigInt(this.nextSrcref32++);
      if (!this.sources.has(r)) return r;
    }
    return 0n;
  }

  /**
   * `nstat_control_source_add`: SRC_ADDED (non-critical, unless suppressed) and insertion at the
   * head. If the SRC_ADDED cannot be queued the source is discarded and the error returned.
   */
  sourceAdd(context: bigint, provider: Provider, obj: WorldObject): number {
    const pf = this.filterFor(provider.id).flags;
    const tell = (pf & this.bits.suppressSrcAdded) === 0n;
    let srcFilter = (pf & this.bits.providerNoZeroBytes) !== 0n && this.bits.providerNoZeroBytes !== 0n ? this.bits.srcNoZeroBytes : 0;
    if (this.bits.tcpNoEarlyClose !== 0n && (pf & this.bits.tcpNoEarlyClose) !== 0n) srcFilter |= Number(this.bits.tcpNoEarlyClose);
    const srcref = this.allocSrcref();
    if (this.cleanup || srcref === 0n) return EINVAL;
    if (tell) {
      const size = this.wire.sizes.srcAdded;
      if (!this.fits(size)) {
        this.recordDrop('srcAdded', context, 0, srcref);
        this.drops.sourcesNeverAdded++;
        return ENOBUFS;
      }
      const err = this.enqueue(this.wire.srcAdded(context, srcref, provider.id), false, 'srcAdded', context, 0, srcref);
      if (err !== 0) {
        this.drops.sourcesNeverAdded++;
        return err;
      }
    }
    const src: Source = {
      srcref,
      provider,
      obj,
      filter: srcFilter,
      seq: 0,
      reported: false,
      announced: tell,
      addedContext: context,
      addedAt: this.kernel.world.now,
      roleCache: 0,
      cachedIfindex: 0,
      dead: false,
    };
    this.sources.insertHead(src);
    return 0;
  }

  reportingAllowed(src: Source, suppression: bigint): boolean {
    return src.provider.reportingAllowed(this.env, src.obj, this.filterFor(src.provider.id), suppression);
  }

  // ------------------------------------------------------------------ building blocks

  /** @internal */
  private descriptorOf(src: Source): Uint8Array | number {
    const p = src.provider;
    if (!p.layout) return EOPNOTSUPP;
    const v = p.descriptor(this.env, src.obj, src);
    if (typeof v === 'number') return v;
    return descriptorBytes(p.layout, v);
  }

  /** @internal */
  private zeroBytesFiltered(src: Source, c: Counts): boolean {
    return (src.filter & this.bits.srcNoZeroBytes) !== 0 && c.rxBytes === 0 && c.txBytes === 0;
  }

  /** @internal */
  /** Extension items the client asked for and the source has (sizes first, like the kernel). */
  private extensionItems(src: Source, aggregated: boolean): { items: ExtensionItem[]; bytes: number } {
    const mask = this.filterFor(src.provider.id).extensions;
    if (mask === 0n || !this.profile.extensions) return { items: [], bytes: 0 };
    const found: { id: number; size: number; data?: Uint8Array }[] = [];
    let total = 0;
    for (let id = 1; id <= this.bits.extensionMax; id++) {
      if ((mask & (1n << BigInt(id))) === 0n) continue;
      const e = src.provider.extension(this.env, src.obj, id);
      if (!e || e.size === 0) continue;
      found.push({ id, size: e.size, data: e.data });
      total += roundup8(e.size);
    }
    const hdr = this.wire.sizes.itemHdr;
    const items: ExtensionItem[] = [];
    let remaining = total;
    for (let i = 0; i < found.length; i++) {
      const f = found[i];
      if (!f.data || f.data.length === 0 || f.data.length > remaining) {
        // Copy failed or grew: a type-0 item covering the rest (`nstat_control_send_update`).
        const rest = remaining + hdr * (found.length - i - 1);
        items.push({ type: 0, length: rest, data: new Uint8Array(rest) });
        break;
      }
      const padded = roundup8(f.data.length);
      let data = f.data;
      if (padded !== f.data.length) {
        data = new Uint8Array(padded);
        data.set(f.data);
      }
      items.push({ type: f.id, length: aggregated ? padded : f.data.length, data });
      remaining -= padded;
    }
    return { items, bytes: total + hdr * found.length };
  }

  // ------------------------------------------------------------------ direct sends

  /** `nstat_control_send_counts`: one SRC_COUNTS (non-critical); EAGAIN when NOZEROBYTES hides it. */
  sendCounts(src: Source, context: bigint, flags: number): MsgResult {
    if (!src.provider.hasCounts) return { errno: 0, gone: false };
    const r = src.provider.counts(this.env, src.obj);
    if (r.errno !== 0) return { errno: r.errno, gone: r.gone };
    const c = (r as { counts: Counts }).counts;
    if (this.zeroBytesFiltered(src, c)) return { errno: EAGAIN, gone: r.gone };
    const size = this.wire.sizes.srcCounts;
    if (!this.fits(size)) {
      this.recordDrop('srcCounts', context, flags, src.srcref);
      return { errno: ENOBUFS, gone: r.gone };
    }
    return { errno: this.enqueue(this.wire.counts(context, flags, src.srcref, c), false, 'srcCounts', context, flags, src.srcref), gone: r.gone };
  }

  /** `nstat_control_send_description`. */
  sendDescription(src: Source, context: bigint, flags: number): number {
    const p = src.provider;
    if (p.descLength === 0) return EOPNOTSUPP;
    const d = this.descriptorOf(src);
    if (typeof d === 'number') return d;
    const size = this.wire.descSize(p.descLength);
    if (!this.fits(size)) {
      this.recordDrop('srcDesc', context, flags, src.srcref);
      return ENOBUFS;
    }
    return this.enqueue(this.wire.desc(context, flags, src.srcref, p.id, d), false, 'srcDesc', context, flags, src.srcref);
  }

  /** `nstat_control_send_update` (10.11+): descriptor, extensions, counts; NOZEROBYTES → EAGAIN. */
  sendUpdate(src: Source, context: bigint, event: bigint, flags: number): MsgResult {
    const p = src.provider;
    if (p.descLength === 0 && !p.hasCounts) return { errno: EOPNOTSUPP, gone: false };
    const { items, bytes } = this.extensionItems(src, false);
    const d = this.descriptorOf(src);
    if (typeof d === 'number') return { errno: d, gone: false };
    const r = p.counts(this.env, src.obj);
    if (r.errno !== 0) return { errno: r.errno, gone: r.gone };
    const c = (r as { counts: Counts }).counts;
    if (this.zeroBytesFiltered(src, c)) return { errno: EAGAIN, gone: r.gone };
    const size = this.wire.sizes.updHdr + p.descLength + bytes;
    if (!this.fits(size)) {
      this.recordDrop('srcUpdate', context, flags, src.srcref);
      return { errno: ENOBUFS, gone: r.gone };
    }
    const msg = this.wire.update(context, flags, src.srcref, event, c, p.id, d, items);
    const err = this.enqueue(msg, false, 'srcUpdate', context, flags, src.srcref);
    if (err === 0) src.reported = true;
    return { errno: err, gone: r.gone };
  }

  /** `nstat_control_send_removed`: critical, context 0. */
  sendRemoved(src: Source, flags: number): number {
    const err = this.enqueue(this.wire.srcRemoved(src.srcref, flags), true, 'srcRemoved', 0n, flags, src.srcref);
    if (err !== 0) this.drops.removedLost++;
    return err;
  }

  // ------------------------------------------------------------------ aggregation

  /** `nstat_flush_accumulated_msgs`: the batch is one record; on failure it is lost whole. */
  flushAccumulated(): number {
    const acc = this.accumulated;
    this.accumulated = undefined;
    if (!acc || acc.size === 0) return 0;
    const bytes = new Uint8Array(acc.size);
    let at = 0;
    for (const p of acc.parts) {
      bytes.set(p, at);
      at += p.length;
    }
    const err = this.queue.enqueue(bytes, false, true);
    if (err !== 0) {
      this.kernel.nstatStats.flushAccumulatedMsgsFailures++;
      this.recordDrop('batch', 0n, 0, undefined, acc.kinds);
      return err;
    }
    for (const k of acc.kinds) this.produced[k.kind]++;
    this.producedMessages += acc.kinds.length;
    this.onEnqueue?.();
    return 0;
  }

  /** @internal */
  /** `nstat_accumulate_msg`: append to the 4 KB batch, flushing first when it does not fit. */
  private accumulate(msg: Uint8Array, kind: MessageKindName, srcref: bigint): number {
    const MAX = 4096;
    if (this.accumulated && MAX - this.accumulated.size < msg.length) this.flushAccumulated();
    if (!this.accumulated) this.accumulated = { parts: [], size: 0, kinds: [] };
    this.accumulated.parts.push(msg);
    this.accumulated.size += msg.length;
    this.accumulated.kinds.push({ kind, srcref });
    // The copy into the batch mbuf itself cannot fail here; a flush failure above is silent.
    return 0;
  }

  /** `nstat_control_append_counts`. */
  appendCounts(src: Source): MsgResult {
    if (!src.provider.hasCounts) return { errno: 0, gone: false };
    const r = src.provider.counts(this.env, src.obj);
    if (r.errno !== 0) return { errno: r.errno, gone: r.gone };
    const c = (r as { counts: Counts }).counts;
    if (this.zeroBytesFiltered(src, c)) return { errno: EAGAIN, gone: r.gone };
    return { errno: this.accumulate(this.wire.counts(0n, 0, src.srcref, c), 'srcCounts', src.srcref), gone: r.gone };
  }

  /** `nstat_control_append_description`: descriptions over 512 B are skipped (EOPNOTSUPP). */
  appendDescription(src: Source): number {
    const p = src.provider;
    const size = this.wire.descSize(p.descLength);
    if (size > this.profile.aggregatedDescCap || p.descLength === 0) return EOPNOTSUPP;
    const d = this.descriptorOf(src);
    if (typeof d === 'number') return d;
    return this.accumulate(this.wire.desc(0n, 0, src.srcref, p.id, d), 'srcDesc', src.srcref);
  }

  /** `nstat_control_append_update`: over the cap (512 / 2048 B) → EOPNOTSUPP, silently skipped. */
  appendUpdate(src: Source): MsgResult {
    const p = src.provider;
    if (p.descLength === 0 && !p.hasCounts) return { errno: EOPNOTSUPP, gone: false };
    const { items, bytes } = this.extensionItems(src, true);
    const size = this.wire.sizes.updHdr + p.descLength + bytes;
    if (size > this.profile.aggregatedUpdateCap) return { errno: EOPNOTSUPP, gone: false };
    const d = this.descriptorOf(src);
    if (typeof d === 'number') return { errno: d, gone: false };
    const r = p.counts(this.env, src.obj);
    if (r.errno !== 0) return { errno: r.errno, gone: r.gone };
    const c = (r as { counts: Counts }).counts;
    if (this.zeroBytesFiltered(src, c)) return { errno: EAGAIN, gone: r.gone };
    const err = this.accumulate(this.wire.update(0n, 0, src.srcref, 0n, c, p.id, d, items), 'srcUpdate', src.srcref);
    if (err === 0) src.reported = true;
    return { errno: err, gone: r.gone };
  }

  // ------------------------------------------------------------------ removal

  /**
   * `nstat_control_send_goodbye` (§3.2): CLOSING update (update mode) or CLOSING counts + desc,
   * if the filters allow, then SRC_REMOVED with CLOSED_AFTER_* flags (12.1+).
   */
  sendGoodbye(src: Source): number {
    const pre11 = !this.profile.hasLength;
    const closing = pre11 ? 0 : HeaderFlag.CLOSING;
    let hdrFlags = this.bits.closedAfterFilter;
    const suppression = src.reported ? this.bits.suppressBoringClose : 0n;
    if (this.reportingAllowed(src, this.profile.closedAfterFlags ? suppression : 0n)) {
      hdrFlags = 0;
      if (this.updateMode) {
        if (this.sendUpdate(src, 0n, 0n, closing).errno !== 0) hdrFlags = this.bits.closedAfterDrop;
      } else {
        if (this.sendCounts(src, 0n, closing).errno !== 0) hdrFlags = this.bits.closedAfterDrop;
        if (this.sendDescription(src, 0n, closing) !== 0) hdrFlags = this.bits.closedAfterDrop;
      }
    }
    return this.sendRemoved(src, this.profile.closedAfterFlags ? hdrFlags : 0);
  }

  /** Take a source off the list (before its goodbye/cleanup), recording ground truth. */
  unlink(src: Source): void {
    if (src.dead) return;
    this.sources.remove(src);
    this.removedCount++;
    if (this.recordRemoved) this.removedSrcrefs.add(src.srcref);
  }

  /** `nstat_control_cleanup_source`: optional SRC_REMOVED (flags 0), then release the cookie. */
  cleanupSource(src: Source, sendRemoved: boolean): void {
    if (sendRemoved) this.sendRemoved(src, 0);
    this.kernel.releaseCookie(src.provider, src.obj);
  }

  /** Disconnect: every source released silently (`nstat_control_disconnect`). */
  disconnect(): void {
    this.cleanup = true;
    for (const id of this.watching) this.kernel.watchersChanged(id, -1);
    this.watching.clear();
    this.accumulated = undefined;
    const all = [...this.sources];
    for (const s of all) this.unlink(s);
    for (const s of all) this.kernel.releaseCookie(s.provider, s.obj);
  }

  /** Type of a message in the codec's numbering, for logs. */
  static typeOf(kind: MessageKindName): number {
    switch (kind) {
      case 'success':
        return MessageType.SUCCESS;
      case 'error':
        return MessageType.ERROR;
      case 'srcAdded':
        return MessageType.SRC_ADDED;
      case 'srcRemoved':
        return MessageType.SRC_REMOVED;
      case 'srcCounts':
        return MessageType.SRC_COUNTS;
      case 'srcDesc':
        return MessageType.SRC_DESC;
      case 'srcUpdate':
        return MessageType.SRC_UPDATE;
      case 'sysinfoCounts':
        return MessageType.SYSINFO_COUNTS;
      default:
        return -1;
    }
  }
}
