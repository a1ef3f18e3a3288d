/**
 * SourceTable: srcref -> Stream, fed with decoded kernel messages, producing stream events.
 * Pure state machine (the caller supplies time), shared by the live client and replay.
 *
 * Rules (BEHAVIOUR.md §3, §9.6–9.7):
 *  - SRC_ADDED creates a pending source; `added` is emitted once its first descriptor arrives
 *    (SRC_DESC or SRC_UPDATE), so every `added` carries process and addresses.
 *  - A descriptor or counts for an unknown srcref (first sight in a sweep) creates the source.
 *  - CLOSING-flagged counts/desc/update are final values: stored, no `update` emitted.
 *  - SRC_REMOVED emits `removed` with the final values; unknown srcrefs are ignored.
 *  - After `removed`, late goodbye messages are ignored; a poll reply for that srcref means the
 *    source is alive after all (reaped by mistake, or a reused 32-bit srcref): it is added again.
 */
import type { Dialect } from '../protocol/dialect.js';
import { HeaderFlag } from '../protocol/constants.js';
import type { Message } from '../protocol/messages.js';
import { applyDomain } from '../model/domain.js';
import { applyCounts, applyDescriptor, closeStream, newStream, touchCounts, type Stream } from '../model/stream.js';
import type { Counts, Descriptor } from '../protocol/messages.js';

import type { StreamEvent } from '../model/events.js';
import type { InterfaceNames } from '../model/interface-names.js';
import { ANNOUNCED, PENDING_COUNTS, SourceSlots } from './source-slots.js';

// Event types live in model/ (consumers import them from there); re-exported for old imports.
export type { StreamEvent, StreamEventKind } from '../model/events.js';

export interface SourceTableStats {
  live: number;
  added: number;
  removed: number;
  /** Messages about srcrefs the table never heard of (e.g. SRC_REMOVED after a drop). */
  unknownRemovals: number;
  /** Messages naming srcref 0, which no source ever has (ignored). */
  srcrefZero: number;
}

/** In-place reading of an SRC_UPDATE at `at`, against what a stream holds (client/fast-update.ts). */
export interface InPlaceUpdate {
  /** Decoding the update's descriptor would give the held one's values, `timestamp` aside. */
  sameDescriptor(b: Uint8Array, dv: DataView, at: number, descriptor: Descriptor): boolean;
  /** Decoding the update's counts would give the held ones' values. */
  sameCounts(dv: DataView, at: number, counts: Counts): boolean;
  /** The update's counts, decoded (as the full decoder would). */
  readCounts(dv: DataView, at: number): Counts;
  /** The update's header flags (CLOSING: final values, stored without an event). */
  flags(dv: DataView, at: number): number;
  /**
   * The update's descriptor when it differs from the held one in numeric fields only: a copy of
   * the held one with its numbers re-read, deep-equal to the decoded descriptor; else undefined.
   */
  renumbered(b: Uint8Array, dv: DataView, at: number, held: Descriptor): Descriptor | undefined;
  /** Store the volatile descriptor field (timestamp) of the update into the held descriptor. */
  refresh(b: Uint8Array, dv: DataView, at: number, descriptor: Descriptor): void;
}

/** How the SRC_COUNTS hot path reads a message in place (client/fast-update.ts); `at` is the message's offset. */
export interface InPlaceCounts {
  /** Decoding the message's counts would give the held ones' values. */
  sameCounts(dv: DataView, at: number, counts: Counts): boolean;
  /** The message's counts, decoded (as the full decoder would). */
  readCounts(dv: DataView, at: number): Counts;
  /** The message's header flags (CLOSING: final values, stored without an event). */
  flags(dv: DataView, at: number): number;
}

/** A srcref as a table key: a number when exact (up to 2^53), else the bigint itself. */
export type SrcrefKey = number | bigint;
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

export function srcrefKey(srcref: bigint): SrcrefKey {
  return srcref <= MAX_EXACT ? Number(srcref) : srcref;
}

export class SourceTable {
  /** @internal */
  /**
   * srcrefKey() -> slot in `slots`: a number key for every srcref up to 2^53 (all real ones), no
   * BigInt hashing; a number value, no per-source object (source-slots.ts).
   */
  private readonly entries = new Map<SrcrefKey, number>();
  /** @internal */
  private readonly slots = new SourceSlots();
  /** @internal */
  /** Counts that arrived before a source's first descriptor, by slot (PENDING_COUNTS). */
  private readonly pending = new Map<number, Counts>();
  /** @internal */
  /**
   * Recently ended srcrefs, so late messages about them (e.g. in the same aggregated batch)
   * cannot resurrect a stream. Bounded FIFO: memory stays flat under churn.
   */
  private readonly ended = new Set<SrcrefKey>();
  /** @internal */
  private readonly endedOrder: SrcrefKey[] = [];
  /** @internal */
  private endedHead = 0;
  static readonly ENDED_MEMORY = 8192;
  /** @internal */
  private generation = 0;
  /** Set by the owner while the initial ADD_ALL walk is being received. */
  initialPhase = false;
  /** Names flows' interfaces (`ifname` from `ifindex`) when the owner knows the machine's interfaces. */
  interfaceNames?: InterfaceNames;
  readonly stats: SourceTableStats = { live: 0, added: 0, removed: 0, unknownRemovals: 0, srcrefZero: 0 };

  constructor(readonly dialect: Dialect) {}

  get size(): number {
    return this.entries.size;
  }

  /** Live streams that have been announced with `added`. */
  *streams(): IterableIterator<Stream> {
    const { flags, stream } = this.slots;
    for (const slot of this.entries.values()) if (flags[slot] & ANNOUNCED) yield stream[slot]!;
  }

  get(srcref: bigint): Stream | undefined {
    const slot = this.entries.get(srcrefKey(srcref));
    return slot !== undefined && this.slots.flags[slot] & ANNOUNCED ? this.slots.stream[slot] : undefined;
  }

  has(srcref: bigint): boolean {
    return this.entries.has(srcrefKey(srcref));
  }

  /** Apply one message; returns the events it causes (usually zero or one). */
  apply(msg: Message, now: number, out: StreamEvent[] = []): StreamEvent[] {
    // srcref 0 is never assigned (BEHAVIOUR.md A.1, §7): a message naming it is not about a source.
    if ('srcref' in msg && msg.srcref === 0n) {
      this.stats.srcrefZero++;
      return out;
    }
    const key = 'srcref' in msg ? srcrefKey(msg.srcref) : 0;
    switch (msg.kind) {
      case 'srcAdded': {
        if (this.entries.has(key)) return out;
        if (this.ended.has(key)) {
          // 32-bit srcrefs (10.11 and older) are reused after wrap-around (BEHAVIOUR.md §3.1);
          // from 10.12 they never are, so a re-add of an ended srcref is bogus.
          if (this.dialect.srcrefSize === 8) return out;
          this.ended.delete(key);
        }
        this.entries.set(key, this.slots.alloc(this.generation));
        return out;
      }
      case 'srcDesc':
        this.onDescriptor(key, msg.srcref, msg.provider, msg.flags, now, out, msg.descriptor);
        return out;
      case 'srcUpdate': {
        const n = out.length;
        this.onDescriptor(key, msg.srcref, msg.provider, msg.flags, now, out, msg.descriptor, msg.counts);
        const slot = this.entries.get(key);
        const s = slot === undefined ? undefined : this.slots.stream[slot];
        // A domain learnt from an extended update (§6) is news: an `update` unless one was just emitted.
        if (s && msg.extensions && applyDomain(s, msg.extensions) && out.length === n && this.slots.flags[slot!] & ANNOUNCED && !(msg.flags & HeaderFlag.CLOSING)) {
          out.push({ event: 'update', time: now, stream: s });
        }
        return out;
      }
      case 'srcCounts': {
        const slot = this.entries.get(key);
        if (slot === undefined) return out;
        const slots = this.slots;
        slots.seen[slot] = this.generation;
        slots.missed[slot] = 0;
        const s = slots.stream[slot];
        if (!s) {
          this.pending.set(slot, msg.counts);
          slots.flags[slot] |= PENDING_COUNTS;
          return out;
        }
        const changed = applyCounts(s, msg.counts, now);
        if (slots.flags[slot] & ANNOUNCED && changed && !(msg.flags & HeaderFlag.CLOSING)) out.push({ event: 'update', time: now, stream: s });
        return out;
      }
      case 'srcRemoved':
        this.removeKey(key, now, out);
        return out;
      default:
        return out;
    }
  }

  /** @internal */
  private onDescriptor(
    key: SrcrefKey,
    srcref: bigint,
    provider: number,
    flags: number,
    now: number,
    out: StreamEvent[],
    descriptor: Descriptor | undefined,
    counts?: Counts,
  ): void {
    const slots = this.slots;
    let slot = this.entries.get(key);
    if (slot === undefined) {
      // A live entry is never in `ended` (remove() moves it there): only an unknown srcref needs
      // the check. A goodbye (CLOSING) for an ended source is late news: ignore it. Anything else
      // proves the source is alive: the kernel never mentions a srcref after its SRC_REMOVED
      // (goodbye messages precede it; polls only walk live sources, BEHAVIOUR.md §2.6, §3.2), so
      // it was reaped wrongly (lost batches, a lying peer) or reused (32-bit srcrefs wrap, §3.1).
      if (this.ended.has(key)) {
        if (flags & HeaderFlag.CLOSING) return;
        this.ended.delete(key);
      }
      slot = slots.alloc(this.generation);
      this.entries.set(key, slot);
    }
    slots.seen[slot] = this.generation;
    slots.missed[slot] = 0;
    let s = slots.stream[slot];
    if (!s) slots.stream[slot] = s = newStream(this.dialect, srcref, provider, now);
    let changed = descriptor ? applyDescriptor(this.dialect, s, descriptor) : false;
    if (descriptor && this.interfaceNames && s.providerKind !== 'ifnet') changed = nameInterface(s, this.interfaceNames) || changed;
    if (slots.flags[slot] & PENDING_COUNTS) {
      applyCounts(s, this.pending.get(slot)!, now);
      this.pending.delete(slot);
      slots.flags[slot] &= ~PENDING_COUNTS;
    }
    if (counts) changed = applyCounts(s, counts, now) || changed;
    if (!(slots.flags[slot] & ANNOUNCED)) {
      slots.flags[slot] |= ANNOUNCED;
      this.stats.live++;
      this.stats.added++;
      out.push(this.initialPhase ? { event: 'added', time: now, stream: s, initial: true } : { event: 'added', time: now, stream: s });
    } else if (changed && !(flags & HeaderFlag.CLOSING)) {
      out.push({ event: 'update', time: now, stream: s });
    }
  }

  /**
   * @internal The poll hot path (issue 17, client/fast-update.ts): an SRC_UPDATE about an announced
   * stream whose descriptor repeats the held one but for its timestamp (`u` compares in place). It
   * is applied as apply() would: seen this sweep, the timestamp refreshed (in the held descriptor),
   * counts applied (unchanged: rates 0, nothing allocated; changed: read alone, an `update` event
   * unless CLOSING), without decoding the descriptor. A descriptor whose numbers alone moved is
   * built from the held one (no strings, addresses or UUIDs decoded) and applied as apply() does.
   * False, and nothing done, for anything else (including an update that would rename the
   * stream's interface): decode and apply().
   */
  applyInPlace(key: number, provider: number, u: InPlaceUpdate, b: Uint8Array, dv: DataView, at: number, now: number, out: StreamEvent[]): boolean {
    const slot = this.entries.get(key);
    const slots = this.slots;
    if (slot === undefined || slots.flags[slot] !== ANNOUNCED) return false;
    const s = slots.stream[slot]!;
    if (s.providerId !== provider || s.descriptor === undefined || s.counts === undefined) return false;
    if (!u.sameDescriptor(b, dv, at, s.descriptor)) {
      // Only numbers moved (an active flow's buffers and window): the decoded descriptor is the
      // held one with them re-read; from here this is apply() of the decoded update.
      const d = u.renumbered(b, dv, at, s.descriptor);
      if (d === undefined) return false;
      this.onDescriptor(key, s.srcref, provider, u.flags(dv, at), now, out, d, u.readCounts(dv, at));
      return true;
    }
    // apply() names the interface on every descriptor: a name learnt since is news it must bring.
    if (this.interfaceNames !== undefined && s.providerKind !== 'ifnet' && wouldRename(s, this.interfaceNames)) return false;
    slots.seen[slot] = this.generation;
    slots.missed[slot] = 0;
    u.refresh(b, dv, at, s.descriptor);
    if (u.sameCounts(dv, at, s.counts)) {
      touchCounts(s, now);
    } else if (applyCounts(s, u.readCounts(dv, at), now) && !(u.flags(dv, at) & HeaderFlag.CLOSING)) {
      out.push({ event: 'update', time: now, stream: s });
    }
    return true;
  }

  /**
   * @internal The SRC_COUNTS hot path (issue 17, client/fast-update.ts): apply() of an SRC_COUNTS
   * about srcref `key` (a number: the srcref up to 2^53), read in place by `u`, with the same
   * effect: srcref 0 counted and ignored, an unknown source ignored, counts before the descriptor
   * kept as pending, counts equal to the held ones touched (rates 0, nothing allocated), moved
   * ones applied with an `update` event unless CLOSING.
   */
  applyCountsInPlace(key: number, u: InPlaceCounts, dv: DataView, at: number, now: number, out: StreamEvent[]): void {
    if (key === 0) {
      this.stats.srcrefZero++;
      return;
    }
    const slot = this.entries.get(key);
    if (slot === undefined) return;
    const slots = this.slots;
    slots.seen[slot] = this.generation;
    slots.missed[slot] = 0;
    const s = slots.stream[slot];
    if (!s) {
      this.pending.set(slot, u.readCounts(dv, at));
      slots.flags[slot] |= PENDING_COUNTS;
      return;
    }
    if (s.counts !== undefined && u.sameCounts(dv, at, s.counts)) {
      touchCounts(s, now);
      return;
    }
    const changed = applyCounts(s, u.readCounts(dv, at), now);
    if (slots.flags[slot] & ANNOUNCED && changed && !(u.flags(dv, at) & HeaderFlag.CLOSING)) out.push({ event: 'update', time: now, stream: s });
  }

  /** Remove a source (SRC_REMOVED, or absence from a complete sweep). */
  remove(srcref: bigint, now: number, out: StreamEvent[] = []): StreamEvent[] {
    return this.removeKey(srcrefKey(srcref), now, out);
  }

  /** @internal */
  private removeKey(key: SrcrefKey, now: number, out: StreamEvent[]): StreamEvent[] {
    const slot = this.entries.get(key);
    if (slot === undefined) {
      if (!this.ended.has(key)) this.stats.unknownRemovals++;
      return out;
    }
    this.entries.delete(key);
    this.rememberEnded(key);
    const s = this.slots.stream[slot];
    const announced = this.slots.flags[slot] & ANNOUNCED;
    if (this.slots.flags[slot] & PENDING_COUNTS) this.pending.delete(slot);
    this.slots.release(slot);
    if (announced && s) {
      closeStream(s, now);
      this.stats.live--;
      this.stats.removed++;
      out.push({ event: 'removed', time: now, stream: s });
    }
    return out;
  }

  /** Start a liveness sweep: sources not seen before `endSweep` are gone. */
  beginSweep(): number {
    return ++this.generation;
  }

  /** Sources unseen since sweep `generation` began. */
  unseenSince(generation: number): bigint[] {
    const out: bigint[] = [];
    const seen = this.slots.seen;
    // forEach, not `for (const [key, slot] of …)`: the entry iterator allocates an array per source
    // and sweep (issue 17: a fifth of the client's garbage per sweep at 2 000 sources).
    this.entries.forEach((slot, key) => {
      if (seen[slot] < generation) out.push(BigInt(key));
    });
    return out;
  }

  /** Was this source seen since sweep `generation` began? */
  seenSince(srcref: bigint, generation: number): boolean {
    const slot = this.entries.get(srcrefKey(srcref));
    return slot !== undefined && this.slots.seen[slot] >= generation;
  }

  /**
   * End a complete sweep: a source absent from more than `grace` consecutive complete sweeps is
   * removed (BEHAVIOUR.md §4 resync: its SRC_REMOVED was lost). A grace guards against
   * aggregated batches the kernel dropped silently inside an otherwise complete sweep, where no
   * loss-free sweep exists to confirm the absence.
   * Returns the number of sources removed this way.
   */
  endSweep(generation: number, now: number, out: StreamEvent[] = [], grace = 0): number {
    let removed = 0;
    const { seen, missed } = this.slots;
    // Deleting the current key during forEach is well defined (later keys are still visited); no
    // entry array per source as with an iterator (see unseenSince).
    this.entries.forEach((slot, key) => {
      if (seen[slot] >= generation) return;
      if (++missed[slot] > grace) {
        this.removeKey(key, now, out);
        removed++;
      }
    });
    return removed;
  }

  /** @internal */
  private rememberEnded(srcref: SrcrefKey): void {
    this.ended.add(srcref);
    const cap = SourceTable.ENDED_MEMORY;
    if (this.endedOrder.length < cap) {
      this.endedOrder.push(srcref);
      return;
    }
    this.ended.delete(this.endedOrder[this.endedHead]);
    this.endedOrder[this.endedHead] = srcref;
    this.endedHead = (this.endedHead + 1) % cap;
  }
}

/**
 * A flow's BSD interface name from its ifindex (descriptors carry no name). A name the table no
 * longer knows (the interface went away) stays until the flow moves to another known one or to none.
 */
function nameInterface(s: Stream, names: InterfaceNames): boolean {
  if (!wouldRename(s, names)) return false;
  const n = names.name(s.ifindex);
  if (n !== undefined) s.ifname = n;
  else delete s.ifname;
  return true;
}

/** nameInterface would change the stream's `ifname`. */
function wouldRename(s: Stream, names: InterfaceNames): boolean {
  const n = names.name(s.ifindex);
  if (n !== undefined) return n !== s.ifname;
  return !s.ifindex && s.ifname !== undefined;
}
