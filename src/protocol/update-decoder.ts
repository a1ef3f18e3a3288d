/**
 * The SRC_UPDATE hot path of decodeDatagram (issue 17): polls and the aggregated replies of
 * GET_UPDATE(ALL) are almost all SRC_UPDATEs (BEHAVIOUR.md §2.6), so this one message kind gets
 * a decoder built once per dialect: provider -> descriptor reader in an array, no per-message map
 * lookups or error-text building, the message built by one literal.
 *
 * It decodes exactly what decode.ts decodeOne does for the same bytes (same values, same keys in
 * the same order, same errors): it only takes a message whose length is the exact size for its
 * provider on a verified dialect, and answers undefined for anything else, which decodeOne then
 * decodes (and reports) as before. test/decode-fast.test.ts holds it to decodeOne.
 */
import { structReader, type StructReader } from './fields.js';
import type { CodecPlan } from './plan.js';
import type { Counts, Descriptor, SrcUpdateMessage } from './messages.js';
import { countsReaderFor } from './counts-reader.js';
import { SrcrefCache } from './intern.js';
import { MessageType } from './constants.js';

type DescReader = StructReader;

export interface UpdateDecoder {
  /** SRC_UPDATE of exactly the expected size on a verified dialect, else undefined. */
  decode(b: Uint8Array, dv: DataView, at: number, len: number, context: bigint, flags: number): SrcUpdateMessage | undefined;
}

const srcrefs = new SrcrefCache();

class Fast implements UpdateDecoder {
  constructor(
    private readonly size: number,
    private readonly srcrefOff: number,
    private readonly srcref64: boolean,
    private readonly eventOff: number,
    private readonly countsOff: number,
    private readonly providerOff: number,
    private readonly readCounts: (dv: DataView, base: number) => Counts,
    /** By provider id: total message length and descriptor reader, or undefined. */
    private readonly lengths: Int32Array,
    private readonly readers: (DescReader | undefined)[],
  ) {}

  decode(b: Uint8Array, dv: DataView, at: number, len: number, context: bigint, flags: number): SrcUpdateMessage | undefined {
    if (len <= this.size) return undefined;
    const provider = dv.getUint32(at + this.providerOff, true);
    if (provider >= this.lengths.length || this.lengths[provider] !== len) return undefined;
    const read = this.readers[provider]!;
    const ref = at + this.srcrefOff;
    // A srcref below 2^32 (the kernel numbers sources from 1) is a fresh BigInt: one small
    // allocation in new space costs less than a cache lookup, whose per-source slots are cold
    // by the time the source comes round again (issue 17: +11 % at d10002, A/B).
    const hi = this.srcref64 ? dv.getUint32(ref + 4, true) : 0;
    const srcref = hi === 0 ? BigInt(dv.getUint32(ref, true)) : srcrefs.get(dv.getUint32(ref, true), hi);
    let eventFlags = 0n;
    if (this.eventOff >= 0) {
      const e = at + this.eventOff;
      if (dv.getUint32(e, true) !== 0 || dv.getUint32(e + 4, true) !== 0) eventFlags = dv.getBigUint64(e, true);
    }
    const counts = this.readCounts(dv, at + this.countsOff);
    const descriptor = read(b, dv, at + this.size) as Descriptor;
    return { kind: 'srcUpdate', context, flags, srcref, eventFlags, counts, provider, descriptor };
  }
}

const decoders = new WeakMap<CodecPlan, UpdateDecoder | null>();

/** The SRC_UPDATE fast path for a plan (verified dialects with the update struct), or undefined. */
export function updateDecoder(plan: CodecPlan): UpdateDecoder | undefined {
  let u = decoders.get(plan);
  if (u !== undefined) return u ?? undefined;
  const m = plan.srcUpdate;
  if (!plan.dialect.verified || !plan.types.has(MessageType.SRC_UPDATE) || !m || !plan.counts || m.f.srcref === undefined || m.f.counts === undefined || m.f.provider === undefined) {
    decoders.set(plan, null);
    return undefined;
  }
  let max = 0;
  for (const id of plan.descriptors.keys()) max = Math.max(max, id + 1);
  const lengths = new Int32Array(max).fill(-1);
  const readers: (DescReader | undefined)[] = new Array<DescReader | undefined>(max).fill(undefined);
  for (const [id, layout] of plan.descriptors) {
    lengths[id] = m.size + layout.size;
    readers[id] = structReader(layout);
  }
  u = new Fast(m.size, m.f.srcref, plan.dialect.srcrefSize === 8, m.f.event_flags ?? -1, m.f.counts, m.f.provider, countsReaderFor(plan.counts), lengths, readers);
  decoders.set(plan, u);
  return u;
}
