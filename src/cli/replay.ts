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

/** Kernel records of a libntstat recording, times in ms; requests go to `onRequest`. */
export function* libntstatRecords(path: string, onRequest?: (data: Uint8Array) => void): Generator<ReplayRecord> {
  for (const r of readLibntstatFile(path)) {
    if (isRequestRecord(r.data)) {
      onRequest?.(r.data);
      continue;
    }
    yield { time: r.time * 1000, data: r.data, offset: r.offset };
  }
}

/** Kernel records of an ntcap file, times in ms (with the recorded fraction); requests go to `onRequest`. */
export function* ntcapRecords(r: NtcapReader, onRequest?: (data: Uint8Array) => void): Generator<ReplayRecord> {
  for (const rec of r.records()) {
    if (rec.direction === Direction.ToKernel) onRequest?.(rec.data);
    if (rec.direction !== Direction.FromKernel) continue;
    yield { time: Number(rec.timeNs / 1000n) / 1000, data: rec.data, truncated: rec.truncated, offset: rec.offset };
  }
}

/** Name the record in errors about it. */
export function atRecord(e: unknown, offset: number): unknown {
  return e instanceof NtstatError ? new NtstatError(e.code, `record at byte ${offset}: ${e.message}`, { offset, cause: e }) : e;
}
