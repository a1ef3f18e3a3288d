/**
 * A transport wrapper that records every datagram in both directions to an ntcap file
 * (`--record FILE`), then passes it on unchanged.
 */
import type { Transport, TransportHandlers } from './transport.js';
import { Direction, NtcapWriter, type NtcapHeader } from './ntcap.js';

export class RecordingTransport implements Transport {
  readonly kind: string;
  private readonly writer: NtcapWriter;
  private flushTimer?: NodeJS.Timeout;

  constructor(private readonly inner: Transport, path: string, header: NtcapHeader) {
    this.kind = `${inner.kind}+record`;
    this.writer = new NtcapWriter(path, { created: new Date().toISOString(), ...header });
  }

  start(handlers: TransportHandlers): void {
    // Flush at least every 200 ms so a crash loses little (records are written whole).
    this.flushTimer = setInterval(() => this.writer.flush(), 200);
    this.flushTimer.unref?.();
    this.inner.start({
      onDatagram: (d, truncated) => {
        this.writer.write(Direction.FromKernel, d, truncated);
        handlers.onDatagram(d, truncated);
      },
      onClose: (err) => {
        this.finish();
        handlers.onClose(err);
      },
    });
  }

  send(datagram: Uint8Array): void {
    this.writer.write(Direction.ToKernel, datagram);
    this.inner.send(datagram);
  }

  pause(): void {
    this.inner.pause();
  }

  resume(): void {
    this.inner.resume();
  }

  setReceiveBufferSize(bytes: number): number | undefined {
    return this.inner.setReceiveBufferSize?.(bytes);
  }

  private finish(): void {
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = undefined;
    this.writer.close();
  }

  close(): void {
    this.inner.close();
    this.finish();
  }
}
