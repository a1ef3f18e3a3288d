/**
 * AF_UNIX SOCK_DGRAM socketpairs: a real kernel datagram channel for tests and for the simulator's
 * fd server, so the client runs through the same DatagramFdTransport code the Darwin socket uses.
 * Knows nothing about the ntstat protocol.
 */
import { DatagramFdTransport, errnoError, makeNonBlockingCloexec } from './fd.js';
import { loadLibc, type Libc } from './libc.js';

export interface SocketPairOptions {
  libc?: Libc;
  /**
   * SO_SNDBUF and SO_RCVBUF for both ends (default 1 MiB). macOS caps AF_UNIX datagrams at the
   * sender's SO_SNDBUF (net.local.dgram.maxdgram, 2048 by default) and queues them against the
   * receiver's SO_RCVBUF (4096 by default): without this, 64 KiB kernel-size records cannot pass.
   * Linux clamps to net.core.{w,r}mem_max; failures here are ignored (best effort).
   */
  bufferSize?: number;
}

/** Two connected, non-blocking, close-on-exec AF_UNIX SOCK_DGRAM fds. */
export function openDatagramSocketPair(options: SocketPairOptions = {}): [number, number] {
  const libc = options.libc ?? loadLibc();
  const c = libc.os;
  const fds = new Int32Array(2);
  if (libc.socketpair(c.AF_UNIX, c.SOCK_DGRAM, 0, fds) < 0) {
    throw errnoError(libc, 'socketpair(AF_UNIX, SOCK_DGRAM)', libc.errno());
  }
  const pair: [number, number] = [fds[0], fds[1]];
  try {
    const size = options.bufferSize ?? 1 << 20;
    const v = new Uint8Array(4);
    new DataView(v.buffer).setInt32(0, size, true);
    for (const fd of pair) {
      makeNonBlockingCloexec(libc, fd);
      libc.setsockopt(fd, c.SOL_SOCKET, c.SO_SNDBUF, v);
      libc.setsockopt(fd, c.SOL_SOCKET, c.SO_RCVBUF, v);
    }
  } catch (e) {
    for (const fd of pair) libc.close(fd);
    throw e;
  }
  return pair;
}

/**
 * The far end of a datagram channel, for whoever plays the kernel (a simulator) or the peer in a
 * test: raw datagrams in and out, nothing else.
 */
export class FdEndpoint {
  readonly transport: DatagramFdTransport;
  /** @internal */
  private receivers: ((datagram: Uint8Array, truncated: boolean) => void)[] = [];
  /** @internal */
  private closers: (() => void)[] = [];
  /** @internal */
  private started = false;

  /** Takes ownership of `fd`. */
  constructor(fd: number, options: { libc?: Libc } = {}) {
    const opts: { libc?: Libc; kind: string } = { kind: 'fd-peer' };
    if (options.libc) opts.libc = options.libc;
    this.transport = new DatagramFdTransport(fd, opts);
  }

  /**
   * Send one datagram. Returns false, sending nothing, when the other side's queue is full —
   * exactly when the kernel would drop (BEHAVIOUR.md §4); the caller decides whether to drop.
   */
  send(datagram: Uint8Array): boolean {
    return this.transport.trySend(datagram);
  }

  /** Receive datagrams (reading starts with the first subscriber). */
  onReceive(cb: (datagram: Uint8Array, truncated: boolean) => void): void {
    this.receivers.push(cb);
    this.ensureStarted();
  }

  /** Called once when the other side closes (or this end fails). */
  onClose(cb: () => void): void {
    this.closers.push(cb);
    this.ensureStarted();
  }

  /**
   * Close this end. A datagram socketpair does not tell the other side that its peer went away
   * (Linux af_unix propagates shutdown only to stream/seqpacket peers; macOS sets ECONNRESET
   * without waking the reader), so first send a zero-length datagram, which DatagramFdTransport
   * reads as end of stream.
   */
  close(): void {
    if (this.transport.isClosed) return;
    try {
      this.transport.trySend(new Uint8Array(0));
    } catch {
      // The other end may already be gone; closing is all that is left to do.
    }
    this.transport.close();
  }

  /** @internal */
  private ensureStarted(): void {
    if (this.started || this.transport.isClosed) return;
    this.started = true;
    this.transport.start({
      onDatagram: (d, t) => {
        for (const r of this.receivers) r(d, t);
      },
      onClose: () => {
        for (const c of this.closers) c();
      },
    });
  }
}
