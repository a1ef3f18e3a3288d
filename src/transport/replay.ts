/**
 * ReplayTransport: a recording played back as if the kernel were sending it, so replay goes
 * through the same client, source table and stream model as a live session. Records are
 * delivered in order, paced by their timestamps (`speed` > 0) or as fast as the consumer takes
 * them (speed 0, yielding to the event loop between batches). A reading error (corrupt or
 * truncated file) closes the transport with that error.
 */
import { NtstatError } from '../errors.js';
import type { Transport, TransportHandlers } from './transport.js';

export interface ReplayRecord {
  /** ms since the epoch */
  time: number;
  data: Uint8Array;
  /** The record was truncated when it was captured. */
  truncated?: boolean;
  offset: number;
}

export interface ReplayOptions {
  /** 0 = as fast as possible (default); 1 = real time; 2 = twice as fast. */
  speed?: number;
  /** Records delivered per event-loop turn when not pacing (default 256). */
  batch?: number;
}

export class ReplayTransport implements Transport {
  readonly kind = 'replay';
  /** Time of the record being delivered (ms); the client's clock in replay. */
  now = 0;
  private handlers?: TransportHandlers;
  private iterator?: Iterator<ReplayRecord>;
  private paused = false;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;
  private firstTime?: number;
  private startedAt = 0;
  private pending?: ReplayRecord;

  constructor(private readonly records: Iterable<ReplayRecord>, private readonly opts: ReplayOptions = {}) {}

  start(handlers: TransportHandlers): void {
    if (this.handlers) throw new NtstatError('ERR_NTSTAT_USAGE', 'replay transport already started');
    this.handlers = handlers;
    this.iterator = this.records[Symbol.iterator]();
    this.schedule(0);
  }

  /** A recording cannot be talked to: requests are accepted and ignored. */
  send(_datagram: Uint8Array): void {
    if (this.closed) throw new NtstatError('ERR_NTSTAT_CLOSED', 'replay transport is closed');
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.schedule(0);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.handlers?.onClose();
  }

  /**
   * Next batch: at once on the next event-loop turn (setImmediate: setTimeout(0) is clamped to
   * 1 ms, which was a fifth of an unpaced replay spent idle), or after `ms` when pacing.
   */
  private schedule(ms: number): void {
    if (this.closed || this.paused || this.timer || this.immediate) return;
    if (ms <= 0) {
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.pump();
      });
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, ms);
  }

  private pump(): void {
    const speed = this.opts.speed ?? 0;
    const batch = this.opts.batch ?? 256;
    for (let i = 0; i < batch; i++) {
      if (this.closed || this.paused) return;
      let rec = this.pending;
      this.pending = undefined;
      if (!rec) {
        let r: IteratorResult<ReplayRecord>;
        try {
          r = this.iterator!.next();
        } catch (e) {
          this.closed = true;
          this.handlers!.onClose(e instanceof NtstatError ? e : new NtstatError('ERR_NTSTAT_CAPTURE', String(e), { cause: e }));
          return;
        }
        if (r.done) {
          this.close();
          return;
        }
        rec = r.value;
      }
      if (speed > 0) {
        if (this.firstTime === undefined) {
          this.firstTime = rec.time;
          this.startedAt = Date.now();
        }
        const due = this.startedAt + (rec.time - this.firstTime) / speed;
        const wait = due - Date.now();
        if (wait > 1) {
          this.pending = rec;
          this.schedule(wait);
          return;
        }
      }
      this.now = rec.time;
      this.handlers!.onDatagram(rec.data, rec.truncated ?? false);
    }
    this.schedule(0);
  }
}
