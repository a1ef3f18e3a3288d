/**
 * Response encoding for the simulated kernel: every message is built by the protocol codec
 * (`encodeMessage`); descriptors are written with the dialect's layout (`writeStruct`) and
 * passed as the message's raw data. Sizes are computed from the same layouts so the kernel
 * model can decide on queue space before paying for encoding.
 */
import { encodeMessage, type Counts, type Dialect, type ExtensionItem, type StructLayout } from '../../protocol/index.js';
import { writeStruct } from '../../protocol/fields.js';

export interface WireSizes {
  hdr: number;
  error: number;
  srcAdded: number;
  srcRemoved: number;
  srcCounts: number;
  /** Fixed part of SRC_DESC (offsetof data). */
  descHdr: number;
  /** Fixed part of SRC_UPDATE (offsetof data); 0 when the dialect has no SRC_UPDATE. */
  updHdr: number;
  itemHdr: number;
}

function dataOffset(d: Dialect, name: string): number {
  const s = d.structs.get(name);
  if (!s) return 0;
  return s.byName.get('data')?.offset ?? s.size;
}

export function wireSizes(d: Dialect): WireSizes {
  const size = (n: string) => d.structs.get(n)?.size ?? 0;
  return {
    hdr: size('nstat_msg_hdr') || 16,
    error: size('nstat_msg_error'),
    srcAdded: size('nstat_msg_src_added'),
    srcRemoved: size('nstat_msg_src_removed'),
    srcCounts: size('nstat_msg_src_counts'),
    descHdr: dataOffset(d, 'nstat_msg_src_description'),
    updHdr: d.structs.has('nstat_msg_src_update') ? dataOffset(d, 'nstat_msg_src_update') : 0,
    itemHdr: size('nstat_msg_src_extended_item_hdr') || 8,
  };
}

/** Descriptor bytes for `layout` from camelCase values (zeroed, reserved bytes stay zero). */
export function descriptorBytes(layout: StructLayout, values: Record<string, unknown>): Uint8Array {
  const b = new Uint8Array(layout.size);
  writeStruct(layout, b, new DataView(b.buffer), 0, values);
  return b;
}

export const roundup8 = (n: number) => (n + 7) & ~7;

export class Wire {
  readonly sizes: WireSizes;
  constructor(readonly dialect: Dialect) {
    this.sizes = wireSizes(dialect);
  }

  success(context: bigint, flags: number): Uint8Array {
    return encodeMessage(this.dialect, { kind: 'success', context, flags });
  }

  error(context: bigint, errno: number, echo?: Uint8Array): Uint8Array {
    return encodeMessage(this.dialect, echo ? { kind: 'error', context, flags: 0, errno, request: echo } : { kind: 'error', context, flags: 0, errno });
  }

  srcAdded(context: bigint, srcref: bigint, provider: number): Uint8Array {
    return encodeMessage(this.dialect, { kind: 'srcAdded', context, flags: 0, srcref, provider });
  }

  srcRemoved(srcref: bigint, flags: number): Uint8Array {
    return encodeMessage(this.dialect, { kind: 'srcRemoved', context: 0n, flags, srcref });
  }

  counts(context: bigint, flags: number, srcref: bigint, counts: Counts): Uint8Array {
    return encodeMessage(this.dialect, { kind: 'srcCounts', context, flags, srcref, eventFlags: 0n, counts });
  }

  desc(context: bigint, flags: number, srcref: bigint, provider: number, descriptor: Uint8Array): Uint8Array {
    return encodeMessage(this.dialect, { kind: 'srcDesc', context, flags, srcref, eventFlags: 0n, provider, raw: descriptor });
  }

  /**
   * SRC_UPDATE, or SRC_EXTENDED_UPDATE when `items` is non-empty. Item lengths are given by the
   * caller (exact for single updates, padded for aggregated ones, §6); the data of every item,
   * the last included, is padded to 8 as the kernel sizes the message with ROUNDUP64.
   */
  update(context: bigint, flags: number, srcref: bigint, eventFlags: bigint, counts: Counts, provider: number, descriptor: Uint8Array, items: ExtensionItem[]): Uint8Array {
    return encodeMessage(
      this.dialect,
      { kind: 'srcUpdate', context, flags, srcref, eventFlags, counts, provider, raw: descriptor, extended: items.length > 0, extensions: items },
      { padItems: true },
    );
  }

  descSize(descLength: number): number {
    return this.sizes.descHdr + descLength;
  }
}
