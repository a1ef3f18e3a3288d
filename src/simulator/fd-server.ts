/**
 * Serve a Simulator over a real datagram fd (one end of a socketpair, or any FdEndpoint), so a
 * client runs through the same DatagramFdTransport code path it uses on a Mac.
 *
 * The simulator's receive queue stays the authority on what the kernel would drop: a record
 * leaves the model only when the socket accepts it, and (on Linux, where SIOCOUTQ tells how
 * many sent bytes the reader has not consumed yet) it stays *charged* to the model until the
 * client has read it, with at most `windowRecords` records in the socket at a time. So a client
 * that stops reading fills the model's 8 KB queue exactly as it would fill the kernel's, not the
 * socketpair's much larger buffer. Where SIOCOUTQ is unavailable the server falls back to
 * releasing records as soon as the socket takes them ('eager'; the socket then adds buffering).
 *
 * Limitation: a failing send(2) (EMSGSIZE, EINVAL, ENOBUFS) cannot be reported through a
 * socketpair — the client's send already succeeded. Such requests are counted in
 * `stats.sendErrors` and otherwise dropped.
 */
import type { BatchSender } from '../transport/libc.js';
import type { FdEndpoint } from '../transport/socketpair.js';
import { SendError, type Simulator } from './simulator.js';

/** Linux TIOCOUTQ/SIOCOUTQ: unread bytes this socket has sent (AF_UNIX: receiver not yet read). */
const SIOCOUTQ_LINUX = 0x5411;

export interface FdServerOptions {
  /** Records allowed in the socket (sent, unread) at once in 'outq' mode (default 1). */
  windowRecords?: number;
  /** 'outq' (default on Linux) or 'eager'. */
  pace?: 'outq' | 'eager';
  /**
   * 'eager' only: send all queued records in one sendmmsg(2) (default true where the C library
   * has it); false sends one send(2) per record.
   */
  burst?: boolean;
}

/** Records per sendmmsg(2): UIO_MAXIOV, what Linux takes per call. */
const MAX_BURST = 1024;

export interface FdServerStats {
  requests: number;
  /** send(2) failures the simulator reported, by errno (not deliverable over a socketpair). */
  sendErrors: Map<number, number>;
  recordsSent: number;
  /** Times the socket refused a record (EAGAIN) and the record stayed in the model queue. */
  socketFull: number;
  /** sendmmsg(2) calls ('eager' with a batch sender). */
  bursts: number;
}

export interface FdServer {
  readonly stats: FdServerStats;
  readonly pace: 'outq' | 'eager';
  /** Stop serving; closes the endpoint (the client sees end of stream) and the simulator connection. */
  close(): void;
  /** Resolves when the client side closed or close() was called. */
  readonly closed: Promise<void>;
}

export function serveSimulatorOverFd(sim: Simulator, endpoint: FdEndpoint, opts: FdServerOptions = {}): FdServer {
  const queue = sim.conn.queue;
  const libc = endpoint.transport.libc;
  const fd = endpoint.transport.fd;
  const outqBuf = new Uint8Array(4);
  const outq = (): number | undefined => {
    if (libc.ioctl(fd, SIOCOUTQ_LINUX, outqBuf) < 0) return undefined;
    return new DataView(outqBuf.buffer).getInt32(0, true);
  };
  let pace: 'outq' | 'eager' = opts.pace ?? (process.platform === 'linux' && outq() !== undefined ? 'outq' : 'eager');
  const window = Math.max(1, opts.windowRecords ?? 1);
  const stats: FdServerStats = { requests: 0, sendErrors: new Map(), recordsSent: 0, socketFull: 0, bursts: 0 };
  const sender = opts.burst === false ? undefined : libc.batchSender?.();
  const burst: Uint8Array[] = [];
  let stopped = false;
  let scheduled = false;
  let idleTries = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));

  const schedule = (soon: boolean) => {
    if (stopped || scheduled) return;
    scheduled = true;
    if (soon || idleTries < 8) setImmediate(pump);
    else timer = setTimeout(pump, Math.min(5, idleTries - 7));
  };

  function pump(): void {
    scheduled = false;
    timer = undefined;
    if (stopped || endpoint.transport.isClosed) return;
    let progress = false;
    if (pace === 'outq' && queue.inFlight > 0) {
      const n = outq();
      if (n === undefined) {
        pace = 'eager';
        queue.releaseSent();
      } else if (n === 0) {
        queue.releaseSent();
        progress = true;
      }
    }
    if (pace === 'eager' && sender) {
      if (sendBurst(sender)) progress = true;
    } else for (;;) {
      if (pace === 'outq' && queue.inFlight >= window) break;
      const rec = queue.peekUnsent();
      if (!rec) break;
      let ok: boolean;
      try {
        ok = endpoint.send(rec);
      } catch {
        stop();
        return;
      }
      if (!ok) {
        stats.socketFull++;
        break;
      }
      stats.recordsSent++;
      progress = true;
      if (pace === 'outq') queue.markSent();
      else queue.read(Number.MAX_SAFE_INTEGER);
    }
    idleTries = progress ? 0 : idleTries + 1;
    if (queue.inFlight > 0 || queue.peekUnsent()) schedule(false);
  }

  /**
   * 'eager': everything queued goes to the socket in one sendmmsg(2), as XNU enqueues a reply's
   * records inside the client's send(2) (BEHAVIOUR.md §2.1): the client's one wake-up finds them
   * together instead of racing this process's send loop. A record leaves the model queue only
   * once the socket took it; on a full socket (EAGAIN mid-burst) the rest stays queued, in order.
   * True when anything was sent.
   */
  function sendBurst(batch: BatchSender): boolean {
    burst.length = 0;
    for (let rec = queue.peekUnsent(); rec && burst.length < MAX_BURST; rec = queue.peekUnsent(burst.length)) burst.push(rec);
    if (burst.length === 0) return false;
    const e = libc.os.errno;
    let n: number;
    for (;;) {
      n = batch.send(fd, burst, libc.os.MSG_DONTWAIT);
      if (n >= 0 || libc.errno() !== e.EINTR) break;
    }
    if (n < 0) {
      const errno = libc.errno();
      if (errno !== e.EAGAIN && errno !== e.ENOBUFS) {
        stop();
        return false;
      }
      n = 0;
    }
    for (let i = 0; i < n; i++) queue.read(Number.MAX_SAFE_INTEGER);
    stats.recordsSent += n;
    stats.bursts++;
    if (n < burst.length) stats.socketFull++;
    burst.length = 0;
    return n > 0;
  }

  function stop(): void {
    if (stopped) return;
    stopped = true;
    if (timer) clearTimeout(timer);
    unsubscribe();
    sim.close();
    endpoint.close();
    resolveClosed();
  }

  const unsubscribe = sim.onReadable(() => schedule(true));
  endpoint.onReceive((datagram) => {
    stats.requests++;
    try {
      sim.send(datagram);
    } catch (e) {
      if (!(e instanceof SendError)) throw e;
      stats.sendErrors.set(e.errno, (stats.sendErrors.get(e.errno) ?? 0) + 1);
    }
    schedule(true);
  });
  endpoint.onClose(() => stop());
  schedule(true);

  return {
    stats,
    get pace() {
      return pace;
    },
    close: stop,
    closed,
  };
}
