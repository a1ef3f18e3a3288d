/**
 * Sequential reads of a file in large chunks for the capture readers: one `readSync` per chunk
 * (1 MiB by default) instead of two per record, and records handed out as views into the chunk
 * (no copy). A chunk is never reused once handed out (each refill allocates a new one), so a view
 * stays valid for as long as its holder keeps it, even after later reads.
 */
import { readSync } from 'node:fs';

export const FILE_CHUNK_BYTES = 1 << 20;

export class FileWindow {
  private chunk = new Uint8Array(0);
  /** File offset of chunk[0]. */
  private start = 0;

  constructor(private readonly fd: number, readonly size: number, private readonly chunkBytes = FILE_CHUNK_BYTES) {}

  /**
   * `length` bytes at `offset` (fewer only at the end of the file), as a view into the current
   * chunk; a read outside it loads a new chunk starting at `offset`, at least `length` long.
   */
  read(offset: number, length: number): Uint8Array {
    const from = offset - this.start;
    if (from < 0 || from + length > this.chunk.length) {
      this.load(offset, length);
      return this.chunk.subarray(0, Math.min(length, this.chunk.length));
    }
    return this.chunk.subarray(from, from + length);
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
    this.chunk = got === want ? b : b.subarray(0, got);
    this.start = offset;
  }
}
