/**
 * Minute buckets packed per (hour, dimensions): one row holds up to 60 minutes as a byte string
 * of [minute 0-59][rx bytes][tx bytes][rx packets][tx packets][flows], unsigned LEB128 varints,
 * minutes ascending. A row per minute costs ~30 B in SQLite; packed it is ~12 B, which is what
 * keeps a busy laptop's 7 days of minute buckets (200 processes active every minute) in ~25 MB.
 */
export interface MinuteSlot {
  minute: number; // 0-59 within the hour
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
  flows: number;
}

function putVarint(out: number[], v: number): void {
  // Counters are non-negative integers below 2^53; division keeps them exact past 2^31.
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

export function encodeMinutes(slots: readonly MinuteSlot[]): Uint8Array {
  const out: number[] = [];
  for (const s of [...slots].sort((a, b) => a.minute - b.minute)) {
    out.push(s.minute);
    putVarint(out, s.rxBytes);
    putVarint(out, s.txBytes);
    putVarint(out, s.rxPackets);
    putVarint(out, s.txPackets);
    putVarint(out, s.flows);
  }
  return Uint8Array.from(out);
}

/** Decode; a malformed blob (not written by this module) throws a RangeError. */
export function decodeMinutes(b: Uint8Array): MinuteSlot[] {
  const out: MinuteSlot[] = [];
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (i >= b.length || mul > 2 ** 56) throw new RangeError('truncated minute bucket');
      const x = b[i++];
      v += (x & 0x7f) * mul;
      if (x < 0x80) return v;
      mul *= 0x80;
    }
  };
  while (i < b.length) {
    const minute = b[i++];
    if (minute > 59) throw new RangeError(`minute ${minute} out of range`);
    out.push({ minute, rxBytes: varint(), txBytes: varint(), rxPackets: varint(), txPackets: varint(), flows: varint() });
  }
  return out;
}

/** Add `add` into the packed slots (same minute: summed). */
export function mergeMinutes(packed: Uint8Array | undefined, add: readonly MinuteSlot[]): Uint8Array {
  const byMinute = new Map<number, MinuteSlot>();
  if (packed) for (const s of decodeMinutes(packed)) byMinute.set(s.minute, s);
  for (const a of add) {
    const s = byMinute.get(a.minute);
    if (!s) byMinute.set(a.minute, { ...a });
    else {
      s.rxBytes += a.rxBytes;
      s.txBytes += a.txBytes;
      s.rxPackets += a.rxPackets;
      s.txPackets += a.txPackets;
      s.flows += a.flows;
    }
  }
  return encodeMinutes([...byMinute.values()]);
}
