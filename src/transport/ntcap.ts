/**
 * ntcap: ntstat's capture format (docs/capture-format.md). Versioned, self-describing,
 * append-only. A file is a fixed preamble, a JSON header naming the recording kernel and its
 * dialect, then one record per datagram. Crash-safe by construction: each record is written with
 * one write call, so a killed recorder leaves complete records plus at most one torn tail, which
 * the reader reports and skips. Readers never allocate more than the file holds.
 */
import { closeSync, fstatSync, openSync, writeSync, fsyncSync } from 'node:fs';
import { NtstatError } from '../errors.js';
import { FileWindow } from './file-window.js';

export const NTCAP_MAGIC = [0x4e, 0x54, 0x43, 0x41, 0x50, 0x00]; // "NTCAP\0"
export const NTCAP_MAJOR = 1;
export const NTCAP_MINOR = 0;
/** Largest JSON header accepted (the writer's are a few hundred bytes). */
export const NTCAP_MAX_HEADER = 64 * 1024;
/** Largest record accepted: a kernel record is at most 65535 + a little (BEHAVIOUR.md §4). */
export const NTCAP_MAX_RECORD = 1024 * 1024;
const RECORD_MARK = 0xd7;
const RECORD_HEADER = 16;
const PREAMBLE = 12; // magic 6, major u8, minor u8, header length u32

export const Direction = { FromKernel: 0, ToKernel: 1 } as const;
export type Direction = (typeof Direction)[keyof typeof Direction];

export interface NtcapHeader {
  /** XNU version string of the recording machine (or of the simulated kernel). */
  xnu: string;
  /** Layout family at recording time (informational; the reader re-derives it from `xnu`). */
  dialect?: string;
  /** Whole kern.version, when known. */
  kernelVersion?: string;
  macos?: string;
  simulated?: boolean;
  created?: string;
  tool?: string;
  [key: string]: unknown;
}

export interface NtcapRecord {
  direction: Direction;
  /** Nanoseconds since the Unix epoch. */
  timeNs: bigint;
  /** The datagram was truncated when it was read (MSG_TRUNC). */
  truncated: boolean;
  data: Uint8Array;
  offset: number;
}

export interface NtcapTornTail {
  offset: number;
  bytes: number;
  reason: string;
}

function corrupt(message: string, offset: number): NtstatError {
  return new NtstatError('ERR_NTSTAT_CAPTURE', `ntcap: ${message} (at byte ${offset})`, { offset });
}

export function encodeNtcapPreamble(header: NtcapHeader): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  if (json.length > NTCAP_MAX_HEADER) throw corrupt('header too large', 0);
  const out = new Uint8Array(PREAMBLE + json.length);
  out.set(NTCAP_MAGIC, 0);
  out[6] = NTCAP_MAJOR;
  out[7] = NTCAP_MINOR;
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, PREAMBLE);
  return out;
}

export function encodeNtcapRecord(direction: Direction, timeNs: bigint, data: Uint8Array, truncated = false): Uint8Array {
  if (data.length > NTCAP_MAX_RECORD) throw corrupt(`record of ${data.length} bytes exceeds the ${NTCAP_MAX_RECORD}-byte limit`, 0);
  const out = new Uint8Array(RECORD_HEADER + data.length);
  const dv = new DataView(out.buffer);
  out[0] = RECORD_MARK;
  out[1] = direction;
  dv.setUint16(2, truncated ? 1 : 0, true);
  dv.setUint32(4, data.length, true);
  dv.setBigUint64(8, timeNs, true);
  out.set(data, RECORD_HEADER);
  return out;
}

/** Does this look like an ntcap file? (first bytes) */
export function isNtcap(head: Uint8Array): boolean {
  return head.length >= 6 && NTCAP_MAGIC.every((b, i) => head[i] === b);
}

/** Random-access byte source: a file or an in-memory buffer. */
interface Source {
  size: number;
  read(offset: number, length: number): Uint8Array;
  /** The bytes read are this reader's own (never reused or written): records may be views of them. */
  owned?: boolean;
  close(): void;
}

function memorySource(bytes: Uint8Array): Source {
  return { size: bytes.length, read: (o, n) => bytes.subarray(o, o + n), close: () => undefined };
}

function fileSource(path: string): Source {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new NtstatError('ERR_NTSTAT_CAPTURE', `cannot open ${path}: ${(e as Error).message}`, { cause: e });
  }
  // Chunked reads (file-window.ts): one readSync per 1 MiB, records as views into the chunk.
  const file = new FileWindow(fd, fstatSync(fd).size);
  return { size: file.size, read: (o, n) => file.read(o, n), owned: true, close: () => closeSync(fd) };
}

export interface NtcapReader {
  header: NtcapHeader;
  version: { major: number; minor: number };
  /** Complete records in file order. A torn tail is skipped and reported in `tornTail`. */
  records(): Generator<NtcapRecord>;
  /** Set once iteration reached a torn (incomplete) final record. */
  tornTail?: NtcapTornTail;
  close(): void;
}

function openReader(src: Source): NtcapReader {
  if (src.size < PREAMBLE) {
    src.close();
    throw corrupt(`file of ${src.size} bytes is shorter than the ${PREAMBLE}-byte preamble`, 0);
  }
  const pre = src.read(0, PREAMBLE);
  if (!isNtcap(pre)) {
    src.close();
    throw corrupt('not an ntcap file (bad magic)', 0);
  }
  const major = pre[6];
  const minor = pre[7];
  if (major !== NTCAP_MAJOR) {
    src.close();
    throw corrupt(`unsupported ntcap major version ${major} (this reader knows ${NTCAP_MAJOR})`, 6);
  }
  const hlen = new DataView(pre.buffer, pre.byteOffset, pre.byteLength).getUint32(8, true);
  if (hlen > NTCAP_MAX_HEADER || hlen > src.size - PREAMBLE) {
    src.close();
    throw corrupt(`header length ${hlen} exceeds ${Math.min(NTCAP_MAX_HEADER, src.size - PREAMBLE)} bytes`, 8);
  }
  let header: NtcapHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(src.read(PREAMBLE, hlen))) as NtcapHeader;
  } catch (e) {
    src.close();
    throw corrupt(`header is not valid JSON: ${(e as Error).message}`, PREAMBLE);
  }
  if (typeof header !== 'object' || header === null || typeof header.xnu !== 'string') {
    src.close();
    throw corrupt('header lacks the "xnu" version string', PREAMBLE);
  }
  const reader: NtcapReader = {
    header,
    version: { major, minor },
    *records() {
      let at = PREAMBLE + hlen;
      while (at < src.size) {
        const left = src.size - at;
        if (left < RECORD_HEADER) {
          reader.tornTail = { offset: at, bytes: left, reason: 'partial record header' };
          return;
        }
        const h = src.read(at, RECORD_HEADER);
        const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
        if (h[0] !== RECORD_MARK) throw corrupt('record marker missing: file is corrupt', at);
        const direction = h[1] as Direction;
        if (direction > 1) throw corrupt(`unknown record direction ${direction}`, at + 1);
        const len = dv.getUint32(4, true);
        if (len > NTCAP_MAX_RECORD) throw corrupt(`record length ${len} exceeds the ${NTCAP_MAX_RECORD}-byte limit`, at + 4);
        if (len > left - RECORD_HEADER) {
          reader.tornTail = { offset: at, bytes: left, reason: `record of ${len} bytes cut short at ${left - RECORD_HEADER}` };
          return;
        }
        const view = src.read(at + RECORD_HEADER, len);
        const data = src.owned ? view : view.slice();
        yield { direction, timeNs: dv.getBigUint64(8, true), truncated: (dv.getUint16(2, true) & 1) !== 0, data, offset: at };
        at += RECORD_HEADER + len;
      }
    },
    close: () => src.close(),
  };
  return reader;
}

export function openNtcapFile(path: string): NtcapReader {
  return openReader(fileSource(path));
}

export function parseNtcap(bytes: Uint8Array): NtcapReader {
  return openReader(memorySource(bytes));
}

/**
 * Append-only writer. Records are buffered briefly and written whole (one write call per flush
 * of whole records), so a crash loses at most the unflushed records and never corrupts earlier
 * ones. `flush()` forces them out; `close()` flushes and fsyncs.
 */
export class NtcapWriter {
  /** @internal */
  private fd: number | undefined;
  /** @internal */
  private buffered: Uint8Array[] = [];
  /** @internal */
  private bufferedBytes = 0;
  /** @internal */
  private closedFlag = false;
  recordsWritten = 0;

  constructor(path: string, header: NtcapHeader, /** @internal */ private readonly flushBytes = 64 * 1024) {
    try {
      this.fd = openSync(path, 'wx');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new NtstatError(
        'ERR_NTSTAT_CAPTURE',
        code === 'EEXIST' ? `${path} exists; ntstat does not overwrite recordings` : `cannot create ${path}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    writeSync(this.fd, encodeNtcapPreamble(header));
  }

  write(direction: Direction, data: Uint8Array, truncated = false, timeNs = BigInt(Date.now()) * 1_000_000n): void {
    if (this.closedFlag) return;
    const rec = encodeNtcapRecord(direction, timeNs, data, truncated);
    this.buffered.push(rec);
    this.bufferedBytes += rec.length;
    this.recordsWritten++;
    if (this.bufferedBytes >= this.flushBytes) this.flush();
  }

  flush(): void {
    if (this.fd === undefined || this.buffered.length === 0) return;
    const all = new Uint8Array(this.bufferedBytes);
    let at = 0;
    for (const r of this.buffered) {
      all.set(r, at);
      at += r.length;
    }
    this.buffered = [];
    this.bufferedBytes = 0;
    let off = 0;
    while (off < all.length) off += writeSync(this.fd, all, off);
  }

  close(): void {
    if (this.closedFlag) return;
    this.flush();
    this.closedFlag = true;
    if (this.fd !== undefined) {
      try {
        fsyncSync(this.fd);
      } catch {
        // fsync is best effort (e.g. on pipes)
      }
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
