/** Recording sources for replay: libntstat files and ntcap files, as kernel records only. */
import { NtstatError } from '../errors.js';
import { readLibntstatFile } from '../transport/libntstat-reader.js';
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
  const type = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(8, true);
  return type >= REQUEST_TYPE_MIN && type <= REQUEST_TYPE_MAX;
}

/** Kernel records of a libntstat recording (requests skipped), times in ms. */
export function* libntstatRecords(path: string): Generator<ReplayRecord> {
  for (const r of readLibntstatFile(path)) {
    if (isRequestRecord(r.data)) continue;
    yield { time: r.time * 1000, data: r.data, offset: r.offset };
  }
}

/** Kernel records of an ntcap file (requests skipped), times in ms. */
export function* ntcapRecords(r: NtcapReader): Generator<ReplayRecord> {
  for (const rec of r.records()) {
    if (rec.direction !== Direction.FromKernel) continue;
    yield { time: Number(rec.timeNs / 1_000_000n), data: rec.data, truncated: rec.truncated, offset: rec.offset };
  }
}

/** Name the record in errors about it. */
export function atRecord(e: unknown, offset: number): unknown {
  return e instanceof NtstatError ? new NtstatError(e.code, `record at byte ${offset}: ${e.message}`, { offset, cause: e }) : e;
}
