/**
 * Buffered stdout for the event views: lines are gathered and written once per event-loop turn
 * (or every 64 KiB), not once per event; one write per event was 15% of a replay's time. A live
 * view still shows each batch as soon as it is formatted (the flush is scheduled with
 * setImmediate); the command calls flush() before it returns, so nothing is left behind.
 * On EPIPE (`ntstat json | head`) the bin wrapper exits quietly, and buffered lines are moot.
 */
import type { CliIo } from './io.js';

export const OUTPUT_FLUSH_BYTES = 64 * 1024;

export class BufferedOutput {
  private buf = '';
  private scheduled?: NodeJS.Immediate;

  constructor(private readonly out: CliIo['stdout'], private readonly limit = OUTPUT_FLUSH_BYTES) {}

  write(text: string): void {
    this.buf += text;
    if (this.buf.length >= this.limit) this.flush();
    else this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      this.flush();
    });
  }

  flush(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    if (this.buf.length === 0) return;
    const text = this.buf;
    this.buf = '';
    this.out.write(text);
  }
}
