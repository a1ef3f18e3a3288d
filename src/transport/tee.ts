/**
 * A transport wrapper that records every datagram in both directions to an ntcap file
 * (`--record FILE`), then passes it on unchanged.
 */
import type { Transport, TransportHandlers } from './transport.js';
import { Direction, NtcapWriter, type NtcapHeader } from './ntcap.js';

export class RecordingTransport implements Transport {
  readonly kind: string;
  /** @internal */
  private readonly writer: NtcapWriter;
  /** @internal */
  private flushTimer?: NodeJS.Timeout;

  /**
   * `clock` (ms since the epoch, default Date.now) stamps each record: pass the client's clock so
   * a replay sees the times the live client saw (the same rates and event times).
   */
  constructor(
    /** @internal */ private readonly inner: Transport,
    path: string,
    header: NtcapHeader,
    /** @internal */ private readonly clock: () => number = Date.now,
  ) {
    this.kind = `${inner.kind}+record`;
    this.writer = new NtcapWriter(path, { created: new Date().toISOString(), ...header });
  }

  start(handlers: TransportHandlers): void {
    // Flush at least every 200 ms so a crash loses little (records are written whole).
    this.flushTimer = setInterval(() => this.writer.flush(), 200);
    this.flushTimer.unref?.();
    this.inner.start({
      onDatagram: (d, truncated) => {
        this.writer.write(Direction.FromKernel, d, truncated, this.timeNs());
        handlers.onDatagram(d, truncated);
      },
      onClose: (err) => {
        this.finish();
        handlers.onClose(err);
      },
    });
  }

  send(datagram: Uint8Array): void {
    this.writer.write(Direction.ToKernel, datagram, false, this.timeNs());
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

  /** @internal */
  private timeNs(): bigint {
    // Microseconds, exactly representable both ways (ns since the epoch exceed 2^53).
    return BigInt(Math.round(this.clock() * 1000)) * 1000n;
  }

  /** @internal */
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
