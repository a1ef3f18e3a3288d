/** Recording sources for replay: libntstat files and ntcap files, as kernel records only. */
import { NtstatError } from '../errors.js';
import { LibntstatFileCursor } from '../transport/libntstat-reader.js';
import { Direction, type NtcapReader } from '../transport/ntcap.js';
import type { ReplayRecord } from '../transport/replay.js';

const REQUEST_TYPE_MIN = 1001;
const REQUEST_TYPE_MAX = 1008;

/**
 * Is this libntstat record a client request (types 1001..1008)? libntstat records both
 * directions without saying which; the first header's type tells.
 */
export function isRequestRecord(data: Uint8Array): boolean {
  if (data.byteLength < 16) return false;
  // Little-endian u32 at 8, read bytewise (no DataView per record).
  const type = (data[8] | (data[9] << 8) | (data[10] << 16) | (data[11] << 24)) >>> 0;
  return type >= REQUEST_TYPE_MIN && type <= REQUEST_TYPE_MAX;
}

/** What a replay source reports besides the kernel records it yields. */
export interface RecordHooks {
  /** A request the recorded client sent (not yielded). */
  request?(data: Uint8Array): void;
  /** A kernel record, just before it is yielded (the record's byte offset, for errors). */
  kernel?(data: Uint8Array, offset: number): void;
}

/** Kernel records of a libntstat recording, times in ms; requests go to `hooks.request`. */
export function* libntstatRecords(path: string, hooks: RecordHooks = {}): Generator<ReplayRecord> {
  const c = new LibntstatFileCursor(path);
  try {
    while (c.next()) {
      const data = c.data;
      if (isRequestRecord(data)) {
        hooks.request?.(data);
        continue;
      }
      hooks.kernel?.(data, c.offset);
      yield { time: c.time * 1000, data, offset: c.offset };
    }
  } finally {
    c.close();
  }
}

/** Kernel records of an ntcap file, times in ms (with the recorded fraction); requests go to `hooks.request`. */
export function* ntcapRecords(r: NtcapReader, hooks: RecordHooks = {}): Generator<ReplayRecord> {
  for (const rec of r.records()) {
    if (rec.direction === Direction.ToKernel) hooks.request?.(rec.data);
    if (rec.direction !== Direction.FromKernel) continue;
    hooks.kernel?.(rec.data, rec.offset);
    yield { time: Number(rec.timeNs / 1000n) / 1000, data: rec.data, truncated: rec.truncated, offset: rec.offset };
  }
}

/** Name the record in errors about it. */
export function atRecord(e: unknown, offset: number): unknown {
  return e instanceof NtstatError ? new NtstatError(e.code, `record at byte ${offset}: ${e.message}`, { offset, cause: e }) : e;
}
