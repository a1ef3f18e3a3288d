/**
 * Sequential reads of a file in large chunks for the capture readers: one `readSync` per chunk
 * (1 MiB by default) instead of two per record, and records handed out as views into the chunk
 * (no copy). A chunk is never reused once handed out (each refill allocates a new one), so a view
 * stays valid for as long as its holder keeps it, even after later reads.
 */
import { readSync } from 'node:fs';

export const FILE_CHUNK_BYTES = 1 << 20;

export class FileWindow {
  /** The current chunk; `locate` says where in it a range of the file is. */
  bytes = new Uint8Array(0);
  /** A DataView over `bytes` (one per chunk, not one per record). */
  view = new DataView(this.bytes.buffer);
  /** File offset of bytes[0]. */
  private start = 0;

  constructor(private readonly fd: number, readonly size: number, private readonly chunkBytes = FILE_CHUNK_BYTES) {}

  /**
   * `length` bytes at `offset` (fewer only at the end of the file), as a view into the current
   * chunk; a read outside it loads a new chunk starting at `offset`, at least `length` long.
   */
  read(offset: number, length: number): Uint8Array {
    const from = this.locate(offset, length);
    return this.bytes.subarray(from, Math.min(from + length, this.bytes.length));
  }

  /**
   * Make `length` bytes at file `offset` (fewer only at the end of the file) lie in `bytes`, and
   * return their index there: a header is read through `view` without a view object per record.
   */
  locate(offset: number, length: number): number {
    const from = offset - this.start;
    if (from < 0 || from + length > this.bytes.length) {
      this.load(offset, length);
      return 0;
    }
    return from;
  }

  private load(offset: number, length: number): void {
    const want = Math.min(Math.max(this.chunkBytes, length), Math.max(0, this.size - offset));
    const b = new Uint8Array(want);
    let got = 0;
    while (got < want) {
      const r = readSync(this.fd, b, got, want - got, offset + got);
      if (r === 0) break;
      got += r;
    }
    this.bytes = got === want ? b : b.subarray(0, got);
    this.view = new DataView(b.buffer, 0, got);
    this.start = offset;
  }
}
