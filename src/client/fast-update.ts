/**
 * The poll hot path (issue 17). A GET_UPDATE(ALL) sweep brings an SRC_UPDATE for every source
 * (BEHAVIOUR.md §2.6), and most of them repeat what the client holds: an idle source's counts are
 * unchanged and its descriptor differs only in `timestamp`; an active one's descriptor is the same
 * too, only its counts moved. Decoding each into a message, a counts object and a ~35-field
 * descriptor only to find the descriptor unchanged was most of a poll's cost (and its garbage).
 * Here the descriptor is compared in place (protocol/match.ts): when it repeats, the update is
 * applied without being decoded (only new counts are read); anything else is decoded and applied
 * as before.
 *
 * Which messages: SRC_UPDATE (not extended: its domain items are news) on a verified dialect, of
 * exactly the update header plus the provider's descriptor, whose 64-bit numbers all decode
 * (protocol/match.ts rangeCheck: a message that would fail to decode is never deferred, so a
 * record still fails whole, as decodeDatagram makes it), for a provider whose descriptor layout
 * can be compared in place.
 */
import { HeaderFlag, MessageType } from '../protocol/constants.js';
import { decodeWith, type DecodeOptions, type DeferredMessage } from '../protocol/decode.js';
import { countsReaderFor, type CountsReader } from '../protocol/counts-reader.js';
import type { Dialect, StructLayout } from '../protocol/dialect.js';
import { readU64Number } from '../protocol/fields.js';
import { countsMatcher, countsRangeCheck, descriptorMatcher, numericSplit, rangeCheck, volatileOffset, type CountsMatcher, type DescriptorMatcher, type NumericSplit, type RangeCheck } from '../protocol/match.js';
import type { Counts, Descriptor, Message } from '../protocol/messages.js';
import { planFor } from '../protocol/plan.js';
import type { SourceTable, StreamEvent, InPlaceCounts, InPlaceUpdate } from './source-table.js';

interface ProviderPlan {
  /** Exact message length: update header + descriptor. */
  len: number;
  match: DescriptorMatcher;
  /** Non-numeric fields compared alone, and the numbers re-read (protocol/match.ts numericSplit). */
  split: NumericSplit | undefined;
  inRange: RangeCheck;
  /** Offset of `timestamp` in the descriptor, or -1. */
  volatile: number;
}

/** Provider ids are small (BEHAVIOUR.md A.1): plans sit in an array, no Map lookup per update. */
const MAX_PROVIDER_ID = 64;

export class UpdateFastPath implements InPlaceUpdate {
  private readonly providers: (ProviderPlan | undefined)[] = [];
  private providerCount = 0;
  private readonly srcrefAt: number;
  private readonly srcref64: boolean;
  private readonly providerAt: number;
  private readonly countsAt: number;
  private readonly descAt: number;
  private readonly eventFlagsAt: number;
  private readonly counts: CountsMatcher | undefined;
  private readonly countsInRange: RangeCheck | undefined;
  private readonly countsRead: CountsReader | undefined;
  private readonly hasFlags: boolean;
  /** The provider of the message being matched (set by apply, read by sameDescriptor/refresh). */
  private current: ProviderPlan | undefined;
  /** SRC_COUNTS applied in place (exact length only; -1: never), and its field offsets. */
  private readonly srcCountsLen: number;
  private readonly srcCounts: InPlaceCounts;
  private readonly srcCountsSrcrefAt: number;
  private readonly srcCountsAt: number;
  private readonly srcCountsEventFlagsAt: number;

  constructor(readonly dialect: Dialect) {
    const plan = planFor(dialect);
    const m = plan.srcUpdate;
    this.srcrefAt = m?.f.srcref ?? 0;
    this.srcref64 = dialect.srcrefSize === 8;
    this.providerAt = m?.f.provider ?? 0;
    this.countsAt = m?.f.counts ?? 0;
    this.descAt = m?.size ?? 0;
    this.eventFlagsAt = m?.f.event_flags ?? -1;
    this.hasFlags = dialect.hasLength;
    // Only verified tables, where every length is exact; unverified kernels take the full path.
    const usable = m !== undefined && plan.counts !== undefined && dialect.verified && dialect.hasLength && m.f.counts !== undefined;
    this.counts = usable ? countsMatcher(plan.counts!) : undefined;
    this.countsInRange = usable ? countsRangeCheck(plan.counts!) : undefined;
    this.countsRead = usable ? countsReaderFor(plan.counts!) : undefined;
    const c = plan.srcCounts;
    this.srcCountsLen = usable && c !== undefined && c.f.srcref !== undefined && c.f.counts !== undefined ? c.size : -1;
    this.srcCountsSrcrefAt = c?.f.srcref ?? 0;
    this.srcCountsEventFlagsAt = c?.f.event_flags ?? -1;
    const countsAt = (this.srcCountsAt = c?.f.counts ?? 0);
    const hasFlags = this.hasFlags;
    const match = this.counts;
    const read = this.countsRead;
    this.srcCounts = {
      sameCounts: (dv, at, counts) => match!(dv, at + countsAt, counts),
      readCounts: (dv, at) => read!(dv, at + countsAt),
      flags: (dv, at) => (hasFlags ? dv.getUint16(at + 14, true) : 0),
    };
    if (!usable) return;
    for (const [id, layout] of plan.descriptors) {
      const p = id >= 0 && id < MAX_PROVIDER_ID ? providerPlan(layout, m.size) : undefined;
      if (p) {
        this.providers[id] = p;
        this.providerCount++;
      }
    }
  }

  /**
   * The client's poll-reply test (context = ours, or 0 on a message that is neither a goodbye nor
   * an event: aggregated replies) for a deferred SRC_UPDATE, read in place.
   */
  isPollReply(dv: DataView, at: number, pollContext: bigint): boolean {
    const lo = dv.getUint32(at, true);
    const hi = dv.getUint32(at + 4, true);
    if (lo !== 0 || hi !== 0) return dv.getBigUint64(at, true) === pollContext;
    if (pollContext === 0n) return true;
    if (dv.getUint16(at + 14, true) & HeaderFlag.CLOSING) return false;
    const ef = dv.getUint32(at + 8, true) === MessageType.SRC_COUNTS ? this.srcCountsEventFlagsAt : this.eventFlagsAt;
    return ef < 0 || (dv.getUint32(at + ef, true) === 0 && dv.getUint32(at + ef + 4, true) === 0);
  }

  /**
   * decodeWith's `defer`: an SRC_UPDATE this path may apply without decoding, or an SRC_COUNTS of
   * the exact size whose counters all decode (a message that would fail to decode is never
   * deferred: the record still fails whole).
   */
  readonly defer = (type: number, dv: DataView, at: number, len: number): boolean => {
    if (type === MessageType.SRC_COUNTS) return len === this.srcCountsLen && this.countsInRange!(dv, at + this.srcCountsAt);
    // The provider field lies inside the update header: read it only once the header is there.
    if (type !== MessageType.SRC_UPDATE || len < this.descAt) return false;
    const p = this.providers[dv.getUint32(at + this.providerAt, true)];
    return p !== undefined && p.len === len && this.countsInRange!(dv, at + this.countsAt) && p.inRange(dv, at + this.descAt);
  };

  /** Decode a datagram, leaving the SRC_UPDATEs this path may apply as markers (decode.ts decodeWith). */
  decode(bytes: Uint8Array, options: DecodeOptions): (Message | DeferredMessage)[] {
    return decodeWith(bytes, this.dialect, options, this.providerCount > 0 ? this.defer : undefined);
  }

  /**
   * Apply a deferred SRC_UPDATE in place when its descriptor repeats what its stream holds
   * (timestamp aside): true, with any `update` event in `out`. Unchanged counts cost nothing; new
   * counts are read alone (no descriptor, no message). False when it must be decoded and applied
   * (a descriptor field changed, or its stream is not known yet).
   */
  apply(table: SourceTable, b: Uint8Array, dv: DataView, at: number, now: number, out: StreamEvent[]): boolean {
    if (dv.getUint32(at + 8, true) === MessageType.SRC_COUNTS) return this.applySrcCounts(table, dv, at, now, out);
    const lo = dv.getUint32(at + this.srcrefAt, true);
    const hi = this.srcref64 ? dv.getUint32(at + this.srcrefAt + 4, true) : 0;
    if (hi > 0x1fffff) return false; // not an exact number: the table keys it by bigint
    const provider = dv.getUint32(at + this.providerAt, true);
    this.current = this.providers[provider];
    if (this.current === undefined) return false;
    // A small srcref stays a small integer (no heap number for the key).
    return table.applyInPlace(hi === 0 ? lo : hi * 0x1_0000_0000 + lo, provider, this, b, dv, at, now, out);
  }

  /**
   * A deferred SRC_COUNTS, applied as SourceTable.apply() applies the decoded message (no Message,
   * no BigInt srcref; counts equal to the held ones are compared in place and allocate nothing).
   * False only for a srcref beyond 2^53 (the table keys it by bigint): decode and apply().
   */
  private applySrcCounts(table: SourceTable, dv: DataView, at: number, now: number, out: StreamEvent[]): boolean {
    const lo = dv.getUint32(at + this.srcCountsSrcrefAt, true);
    const hi = this.srcref64 ? dv.getUint32(at + this.srcCountsSrcrefAt + 4, true) : 0;
    if (hi > 0x1fffff) return false;
    table.applyCountsInPlace(hi === 0 ? lo : hi * 0x1_0000_0000 + lo, this.srcCounts, dv, at, now, out);
    return true;
  }

  sameDescriptor(b: Uint8Array, dv: DataView, at: number, descriptor: Descriptor): boolean {
    return this.current!.match(b, dv, at + this.descAt, descriptor);
  }

  sameCounts(dv: DataView, at: number, counts: Counts): boolean {
    return this.counts!(dv, at + this.countsAt, counts);
  }

  readCounts(dv: DataView, at: number): Counts {
    return this.countsRead!(dv, at + this.countsAt);
  }

  flags(dv: DataView, at: number): number {
    return this.hasFlags ? dv.getUint16(at + 14, true) : 0;
  }

  renumbered(b: Uint8Array, dv: DataView, at: number, held: Descriptor): Descriptor | undefined {
    const split = this.current!.split;
    if (split === undefined || !split.others(b, dv, at + this.descAt, held)) return undefined;
    const d = { ...held };
    split.patch(b, dv, at + this.descAt, d);
    return d;
  }

  refresh(_b: Uint8Array, dv: DataView, at: number, descriptor: Descriptor): void {
    const v = this.current!.volatile;
    if (v >= 0) descriptor.timestamp = readU64Number(dv, at + this.descAt + v);
  }
}

function providerPlan(layout: StructLayout, headerSize: number): ProviderPlan | undefined {
  const match = descriptorMatcher(layout);
  if (!match) return undefined;
  return { len: headerSize + layout.size, match, split: numericSplit(layout), inRange: rangeCheck(layout), volatile: volatileOffset(layout) ?? -1 };
}

const paths = new WeakMap<Dialect, UpdateFastPath>();

/** The fast path for a dialect (built once: its matchers are compiled from the dialect's tables). */
export function fastPathFor(dialect: Dialect): UpdateFastPath {
  let p = paths.get(dialect);
  if (!p) paths.set(dialect, (p = new UpdateFastPath(dialect)));
  return p;
}
