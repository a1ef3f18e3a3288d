/**
 * Reader for libntstat recordings (DESIGN.md §5): each record is a u32 little-endian unix time,
 * a u32 little-endian length, then that many bytes as read from or sent to the socket (one
 * kernel record, possibly several aggregated messages, or one client request).
 * Never allocates more than the file holds: a length beyond the end is a typed error.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { NtstatError } from '../errors.js';
import { FileWindow } from './file-window.js';

export interface LibntstatRecord {
  /** Unix time in seconds, as recorded. */
  time: number;
  data: Uint8Array;
  /** Byte offset of the record header in the file. */
  offset: number;
}

const RECORD_HEADER = 8;

function truncated(offset: number, what: string): NtstatError {
  return new NtstatError('ERR_NTSTAT_CAPTURE', `libntstat recording is truncated: ${what} at byte ${offset}`, { offset });
}

/** Parse a whole recording held in memory. */
export function* parseLibntstat(bytes: Uint8Array): Generator<LibntstatRecord> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.byteLength) {
    if (bytes.byteLength - at < RECORD_HEADER) throw truncated(at, `${bytes.byteLength - at}-byte partial record header`);
    const time = dv.getUint32(at, true);
    const len = dv.getUint32(at + 4, true);
    const start = at + RECORD_HEADER;
    if (len > bytes.byteLength - start) throw truncated(at, `record claims ${len} bytes but ${bytes.byteLength - start} remain`);
    yield { time, data: bytes.subarray(start, start + len), offset: at };
    at = start + len;
  }
}

/**
 * A recording on disk, read record by record without a per-record object: `next()` moves to the
 * next record and sets `time`, `data` and `offset` (replay's hot path; readLibntstatFile wraps it).
 * Records are views into 1 MiB chunks (file-window.ts), not one fresh buffer and two reads each.
 */
export class LibntstatFileCursor {
  time = 0;
  data = new Uint8Array(0);
  /** Byte offset of the current record's header. */
  offset = 0;
  /** @internal */
  private next_ = 0;
  /** @internal */
  private fd: number | undefined;
  /** @internal */
  private readonly file: FileWindow;

  constructor(path: string) {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new NtstatError('ERR_NTSTAT_CAPTURE', `cannot open ${path}: ${(e as Error).message}`, { cause: e });
    }
    this.fd = fd;
    try {
      this.file = new FileWindow(fd, fstatSync(fd).size);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Move to the next record (false at the end of the file); a torn record is a typed error. */
  next(): boolean {
    const file = this.file;
    const size = file.size;
    const at = this.next_;
    if (at >= size) return false;
    if (size - at < RECORD_HEADER) throw truncated(at, `${size - at}-byte partial record header`);
    const h = file.locate(at, RECORD_HEADER);
    const time = file.view.getUint32(h, true);
    const len = file.view.getUint32(h + 4, true);
    if (len > size - at - RECORD_HEADER) throw truncated(at, `record claims ${len} bytes but ${size - at - RECORD_HEADER} remain`);
    const d = file.locate(at + RECORD_HEADER, len);
    this.time = time;
    this.data = file.bytes.subarray(d, d + len);
    this.offset = at;
    this.next_ = at + RECORD_HEADER + len;
    return true;
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Stream a recording from disk without reading it all at once. */
export function* readLibntstatFile(path: string): Generator<LibntstatRecord> {
  const c = new LibntstatFileCursor(path);
  try {
    while (c.next()) yield { time: c.time, data: c.data, offset: c.offset };
  } finally {
    c.close();
  }
}

/** Build a recording (used by tests and by `--record --format libntstat`). */
export function encodeLibntstatRecord(time: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, time >>> 0, true);
  dv.setUint32(4, data.length, true);
  out.set(data, RECORD_HEADER);
  return out;
}
