/**
 * MemoryTransport: the client talks to an in-process kernel side (normally the simulator) with
 * the semantics of a SOCK_DGRAM kernel-control socket (BEHAVIOUR.md §1, §4; transport.ts):
 *  - send() runs the kernel's request handling synchronously, like send(2); its failures
 *    (EMSGSIZE, EINVAL, ENOBUFS) throw ERR_NTSTAT_TRANSPORT with the Darwin errno;
 *  - queued records reach onDatagram asynchronously, in batches (setImmediate), like a reader
 *    thread calling recv(2) with a buffer of `receiveBufferBytes` (truncation = MSG_TRUNC);
 *  - while paused nothing is read: the kernel-side queue fills and the kernel drops;
 *  - setReceiveBufferSize is SO_RCVBUF on the kernel-side queue.
 * No real timers beyond setImmediate; nothing here advances simulated time.
 */
import { NtstatError } from '../errors.js';
import type { Transport, TransportHandlers } from './transport.js';

/** One record read from the kernel side (recv(2) result). */
export interface KernelRecord {
  data: Uint8Array;
  truncated: boolean;
}

/**
 * The kernel end of an in-memory datagram channel. `Simulator` satisfies it through
 * `simulatorEndpoint()`; `memoryPair()` gives a plain peer for transport tests.
 */
export interface KernelEndpoint {
  /** Handle one request datagram; throw an object with a numeric `errno` to fail send(2). */
  send(datagram: Uint8Array): void;
  /** recv(2): the next record, copied into at most `bufferSize` bytes. */
  recv(bufferSize: number): KernelRecord | undefined;
  /** Called whenever a record is queued; returns an unsubscribe function. */
  onReadable(fn: () => void): () => void;
  /** Called once when the kernel side goes away. */
  onClose?(fn: () => void): void;
  /** SO_RCVBUF; returns the size in effect. */
  setReceiveBufferSize?(bytes: number): number;
  close(): void;
}

export interface MemoryTransportOptions {
  /** The reader's recv() buffer (default 64 KiB, the size BEHAVIOUR.md §9 recommends). */
  receiveBufferBytes?: number;
  /** Records delivered per event-loop turn before yielding (default 256). */
  batch?: number;
}

/** Minimal shape of the simulator this module needs (kept structural: no import cycle). */
export interface SimulatorLike {
  send(datagram: Uint8Array): void;
  recv(bufferSize?: number): { data: Uint8Array; truncated: boolean } | undefined;
  onReadable(fn: () => void): () => void;
  setReceiveBufferSize(bytes: number): number;
  close(): void;
  readonly closed: boolean;
  /** Called when the kernel side closes on its own. */
  onClose?(fn: () => void): () => void;
}

/** Adapt a Simulator to the KernelEndpoint interface. */
export function simulatorEndpoint(sim: SimulatorLike): KernelEndpoint {
  const closers: (() => void)[] = [];
  // The kernel side closing on its own (Simulator.close) ends the channel as a socket would.
  sim.onClose?.(() => {
    for (const c of closers.splice(0)) c();
  });
  return {
    send: (d) => sim.send(d),
    recv: (n) => sim.recv(n),
    onReadable: (fn) => sim.onReadable(fn),
    onClose: (fn) => void closers.push(fn),
    setReceiveBufferSize: (b) => sim.setReceiveBufferSize(b),
    close: () => {
      if (sim.closed) return;
      sim.close();
      for (const c of closers.splice(0)) c();
    },
  };
}

const DARWIN_ENOBUFS = 55;

function transportError(what: string, e: unknown): NtstatError {
  const errno = typeof (e as { errno?: unknown })?.errno === 'number' ? (e as { errno: number }).errno : undefined;
  return new NtstatError('ERR_NTSTAT_TRANSPORT', `${what} failed${errno !== undefined ? ` (errno ${errno})` : ''}`, errno !== undefined ? { errno, cause: e } : { cause: e });
}

export class MemoryTransport implements Transport {
  readonly kind = 'memory';
  /** @internal */
  private handlers: TransportHandlers | undefined;
  /** @internal */
  private paused = false;
  /** @internal */
  private closed = false;
  /** @internal */
  private scheduled = false;
  /** @internal */
  private unsubscribe: (() => void) | undefined;
  /** @internal */
  private readonly bufferBytes: number;
  /** @internal */
  private readonly batch: number;
  /** @internal */
  private readonly endpoint: KernelEndpoint;

  /** `kernel`: a Simulator (anything with its shape) or a KernelEndpoint. */
  constructor(kernel: SimulatorLike | KernelEndpoint, opts: MemoryTransportOptions = {}) {
    // A KernelEndpoint announces its own close; a Simulator is adapted.
    this.endpoint = typeof (kernel as KernelEndpoint).onClose === 'function' ? (kernel as KernelEndpoint) : simulatorEndpoint(kernel as SimulatorLike);
    this.bufferBytes = opts.receiveBufferBytes ?? 65536;
    this.batch = opts.batch ?? 256;
    this.endpoint.onClose?.(() => this.finish());
  }

  start(handlers: TransportHandlers): void {
    if (this.closed) throw new NtstatError('ERR_NTSTAT_CLOSED', 'memory transport is closed');
    if (this.handlers) throw new NtstatError('ERR_NTSTAT_USAGE', 'memory transport already started');
    this.handlers = handlers;
    this.unsubscribe = this.endpoint.onReadable(() => this.schedule());
    this.schedule();
  }

  send(datagram: Uint8Array): void {
    if (this.closed) throw new NtstatError('ERR_NTSTAT_CLOSED', 'memory transport is closed');
    try {
      this.endpoint.send(datagram);
    } catch (e) {
      if (e instanceof NtstatError) throw e;
      throw transportError('send()', e);
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.schedule();
  }

  setReceiveBufferSize(bytes: number): number | undefined {
    if (!this.endpoint.setReceiveBufferSize) return undefined;
    try {
      return this.endpoint.setReceiveBufferSize(bytes);
    } catch (e) {
      throw transportError(`setsockopt(SO_RCVBUF, ${bytes})`, (e as { errno?: number })?.errno !== undefined ? e : { errno: DARWIN_ENOBUFS });
    }
  }

  close(): void {
    if (this.closed) return;
    this.endpoint.close();
    this.finish();
  }

  /** @internal */
  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    const h = this.handlers;
    this.handlers = undefined;
    h?.onClose(undefined);
  }

  /** @internal */
  private schedule(): void {
    if (this.scheduled || this.closed || this.paused || !this.handlers) return;
    this.scheduled = true;
    setImmediate(this.drain);
  }

  /** @internal */
  /** One reader pass: up to `batch` recv()s, then yield to the event loop. */
  private readonly drain = (): void => {
    this.scheduled = false;
    for (let i = 0; i < this.batch; i++) {
      if (this.closed || this.paused || !this.handlers) return;
      const r = this.endpoint.recv(this.bufferBytes);
      if (!r) return;
      // Copies: a delivered datagram is never reused or shared with the kernel side.
      this.handlers.onDatagram(r.data.slice(), r.truncated);
    }
    this.schedule();
  };
}

/**
 * A plain in-memory datagram channel: `peer` plays the kernel with raw bytes (no protocol),
 * for the transport contract suite. `peer.send` queues a record for the transport;
 * `peer.onReceive` sees what the transport sends.
 */
export function memoryPair(opts: MemoryTransportOptions = {}): { transport: MemoryTransport; peer: MemoryPeer } {
  const peer = new MemoryPeer();
  return { transport: new MemoryTransport(peer, opts), peer };
}

export class MemoryPeer implements KernelEndpoint {
  /** @internal */
  private readonly queue: Uint8Array[] = [];
  /** @internal */
  private readonly readable = new Set<() => void>();
  /** @internal */
  private readonly closers: (() => void)[] = [];
  /** @internal */
  private readonly receivers: ((d: Uint8Array) => void)[] = [];
  /** @internal */
  private closed = false;

  // ---- the peer's side
  /** Queue one datagram for the transport (always accepted). */
  sendToTransport(datagram: Uint8Array): boolean {
    if (this.closed) return false;
    this.queue.push(datagram.slice());
    for (const f of this.readable) f();
    return true;
  }

  onReceive(cb: (d: Uint8Array) => void): void {
    this.receivers.push(cb);
  }

  // ---- KernelEndpoint (the transport's side)
  send(datagram: Uint8Array): void {
    if (this.closed) throw Object.assign(new Error('peer closed'), { errno: 57 /* ENOTCONN */ });
    const copy = datagram.slice();
    for (const r of this.receivers) r(copy);
  }

  recv(bufferSize: number): KernelRecord | undefined {
    const d = this.queue.shift();
    if (!d) return undefined;
    return d.length > bufferSize ? { data: d.subarray(0, bufferSize), truncated: true } : { data: d, truncated: false };
  }

  onReadable(fn: () => void): () => void {
    this.readable.add(fn);
    return () => this.readable.delete(fn);
  }

  onClose(fn: () => void): void {
    this.closers.push(fn);
  }

  /**
   * Close the channel. From the peer's side, data already queued is still delivered first
   * (like a socket's queue), then the transport's onClose fires.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const fire = () => {
      if (this.queue.length > 0 && this.readable.size > 0) {
        setTimeout(fire, 1);
        return;
      }
      for (const c of this.closers.splice(0)) c();
    };
    setImmediate(fire);
  }
}
