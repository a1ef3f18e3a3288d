/**
 * Buffered stdout for the event views: lines are gathered and written once per event-loop turn
 * (or every 64 KiB), not once per event; one write per event was 15% of a replay's time. A live
 * view still shows each batch as soon as it is formatted (the flush is scheduled with
 * setImmediate); the command calls flush() before it returns, so nothing is left behind.
 * Text (JSON, CSV lines) is gathered as a string; the log view encodes its lines straight into
 * bytes (`bytes()`, byte-sink.ts), handed to `writeBytes` when the process can take them (else
 * decoded for `out.write`). Order is kept: text pending when bytes start is encoded first, and
 * text after bytes is encoded behind them.
 * On EPIPE (`ntstat json | head`) the bin wrapper exits quietly, and buffered lines are moot.
 */
import { ByteSink } from './byte-sink.js';
import type { CliIo } from './io.js';

export const OUTPUT_FLUSH_BYTES = 64 * 1024;

export class BufferedOutput {
  private buf = '';
  private readonly sink: ByteSink;
  private scheduled?: NodeJS.Immediate;

  constructor(
    private readonly out: CliIo['stdout'],
    private readonly limit = OUTPUT_FLUSH_BYTES,
    private readonly writeBytes?: CliIo['writeBytes'],
  ) {
    this.sink = new ByteSink(limit + 4096);
  }

  write(text: string): void {
    if (this.sink.len > 0) this.sink.text(text);
    else this.buf += text;
    this.written();
  }

  /** The byte sink to encode into now (pending text is moved into it first); call written() after. */
  bytes(): ByteSink {
    if (this.buf.length > 0) {
      this.sink.text(this.buf);
      this.buf = '';
    }
    return this.sink;
  }

  /** After a write: flush past the limit, else once this event-loop turn is over. */
  written(): void {
    if (this.buf.length + this.sink.len >= this.limit) this.flush();
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
    if (this.sink.len > 0) {
      if (this.writeBytes) this.writeBytes(this.sink.take());
      else {
        const text = this.sink.toString();
        this.sink.clear();
        this.out.write(text);
      }
      return;
    }
    if (this.buf.length === 0) return;
    const text = this.buf;
    this.buf = '';
    this.out.write(text);
  }
}
