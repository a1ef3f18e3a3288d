/**
 * A Transport over any connected datagram socket fd: the Darwin kernel-control socket, or one end
 * of an AF_UNIX socketpair (tests, the simulator's fd server). Same code path for both
 * (DESIGN.md §7), so what the tests exercise on Linux is what runs on a Mac.
 *
 * Reading never blocks and never spins: a libuv poll handle (koffi.node.poll) tells us when the fd
 * is readable; we then drain with non-blocking recv(2) until EAGAIN (bounded per wake-up so a
 * flood cannot starve the event loop — level-triggered polling brings us back).
 *
 * Records are read into one buffer the transport owns, `capacity + 1` bytes long: a record that
 * fills it was longer than the capacity, i.e. truncated (the rest of a datagram is discarded on
 * both Darwin and Linux, as recvmsg's MSG_TRUNC would have said). A handler that borrows
 * (TransportHandlers.borrow, the client) is handed views of that buffer; others get copies.
 *
 * Where the C library has a batch read (Linux recvmmsg, Darwin recvmsg_x: batch-libc.ts), one call
 * per loop turn reads up to DEFAULT_BATCH_SLOTS records into slots of capacity + 1 bytes each, and
 * a short batch stands for the EAGAIN read (issue 17). Records of a batch not yet delivered when
 * the handler pauses wait in their slots and are delivered, in order, on resume.
 */
import { debuglog } from 'node:util';
import { NtstatError } from '../errors.js';
import type { Transport, TransportHandlers } from './transport.js';
import { errnoError, getIntSockopt, makeNonBlockingCloexec } from './fd-util.js';
import { DARWIN_ERRNO, errnoName, loadLibc, type BatchReceiver, type Libc, type Poller } from './libc.js';

export { errnoError, getIntSockopt, makeNonBlockingCloexec };

/**
 * BEHAVIOUR.md §4: kernel records reach 4096 (aggregated), ~2.9 KB (sysinfo), 24+2048 (ERROR) and up
 * to 65532 (extended updates with NECP TLVs): a 64 KiB buffer never truncates a real record.
 */
export const DEFAULT_RECEIVE_CAPACITY = 65536;

/** Records delivered per poll wake-up before yielding to the event loop. */
const MAX_RECORDS_PER_WAKEUP = 256;

/**
 * Datagrams per batch read (recvmmsg / recvmsg_x). Measured on the 10 k bench world: a chunk's
 * reply (100 sources, BEHAVIOUR.md §2.6) is 13–14 records, so 16 slots read a Mac-like reply in
 * one call; bigger bursts (the first ADD_ALL) take a few calls. Well below XNU's per-call caps
 * (somaxrecvmsgx: 100 in 10.11–11, 256 since), so a full batch is never clipped, and small for
 * XNU's older path, which builds one uio per slot per call. Each slot is capacity + 1 bytes
 * rounded up to whole pages (16 × 68 KiB = 1.1 MiB of address space); only the pages records
 * touch become resident (docs/performance.md, "The 10 k poll cycle").
 */
export const DEFAULT_BATCH_SLOTS = 16;

export interface DatagramFdTransportOptions {
  /** libc binding table; default: the koffi one (loaded now, lazily). */
  libc?: Libc;
  /** Transport.kind; default 'fd'. */
  kind?: string;
  /** recvmsg buffer size; records larger than this arrive truncated. Default 64 KiB. */
  receiveCapacity?: number;
  /**
   * Datagrams per batch read when the Libc has one (default DEFAULT_BATCH_SLOTS); 0 or 1 reads
   * one record per recv(2).
   */
  batchSlots?: number;
  /**
   * Told once why the batch read is not used (symbol missing, or the first call failed). Default:
   * Node's debug log, shown with NODE_DEBUG=ntstat.
   */
  debug?: (message: string) => void;
}

export class DatagramFdTransport implements Transport {
  readonly kind: string;
  readonly fd: number;
  readonly libc: Libc;
  /** @internal */
  private readonly capacity: number;
  /** @internal */
  private handlers: TransportHandlers | undefined;
  /** @internal */
  private poller: Poller | undefined;
  /** @internal */
  private paused = false;
  /** @internal */
  private closed = false;
  /** @internal Receive buffer (capacity + 1 bytes) when the Libc has recv(). */
  private rx: Uint8Array | undefined;
  /** @internal The handler borrows datagrams: deliver views of `rx` (TransportHandlers.borrow). */
  private lend = false;
  /** @internal A drain is running (a handler must not start another one that reuses `rx`). */
  private draining = false;
  /** @internal */
  private readonly batchSlots: number;
  /** @internal */
  private readonly debug: (message: string) => void;
  /** @internal The batch reader, while it is in use (dropped for good if it proves unusable). */
  private batch: BatchReceiver | undefined;
  /** @internal A batch call has succeeded: its failures are real errors from now on. */
  private batchProven = false;
  /** @internal Records of the last batch not delivered yet (a pause or the budget stopped us). */
  private next = 0;
  /** @internal */
  private received = 0;
  /** @internal The last batch was short (fewer than asked, none truncated): the queue was empty. */
  private batchWasShort = false;
  /**
   * @internal A request went out during this drain (the client sends a GET_UPDATE continuation
   * from its handler): its reply may already be queued, so a short batch does not end the drain.
   */
  private sentInDrain = false;
  /** @internal A read-after-send microtask is queued. */
  private readAfterSendQueued = false;
  /** @internal A drain of held records is scheduled (resume() with records held). */
  private resumeScheduled = false;

  /** Takes ownership of `fd` (an open, connected datagram socket): close() closes it. */
  constructor(fd: number, options: DatagramFdTransportOptions = {}) {
    this.libc = options.libc ?? loadLibc();
    this.fd = fd;
    this.kind = options.kind ?? 'fd';
    this.capacity = options.receiveCapacity ?? DEFAULT_RECEIVE_CAPACITY;
    this.batchSlots = options.batchSlots ?? DEFAULT_BATCH_SLOTS;
    this.debug = options.debug ?? ((m: string) => debuglog('ntstat')(m));
    makeNonBlockingCloexec(this.libc, fd);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  start(handlers: TransportHandlers): void {
    if (this.closed) throw new NtstatError('ERR_NTSTAT_CLOSED', `${this.kind} transport is closed`);
    if (this.handlers) throw new NtstatError('ERR_NTSTAT_USAGE', `${this.kind} transport already started`);
    this.handlers = handlers;
    // recv(2) into a buffer of our own, one byte longer than the capacity: a record that fills it
    // was longer than the capacity (truncated). A borrowing handler gets views of it (no copy).
    if (this.libc.recv) this.rx = new Uint8Array(this.capacity + 1);
    // Batch slots hold capacity + 1 bytes each for the same reason.
    if (this.batchSlots > 1) {
      if (this.libc.batchReceiver) {
        this.batch = this.libc.batchReceiver(this.capacity + 1, this.batchSlots);
        if (!this.batch) this.debug(`${this.kind}: no batch receive call in this C library; reading one record per call`);
      }
    }
    this.lend = handlers.borrow === true;
    this.poller = this.libc.poll(this.fd);
    if (!this.paused) this.poller.start(this.onEvent);
  }

  /**
   * Send one datagram; false (nothing sent) when the socket's queue is full (EAGAIN/ENOBUFS).
   * Other failures throw ERR_NTSTAT_TRANSPORT with the Darwin errno.
   */
  trySend(datagram: Uint8Array): boolean {
    if (this.closed) throw new NtstatError('ERR_NTSTAT_CLOSED', `${this.kind} transport is closed`);
    const { libc } = this;
    const e = libc.os.errno;
    for (;;) {
      const n = libc.send(this.fd, datagram, libc.os.MSG_DONTWAIT);
      if (n === datagram.length) {
        this.afterSend();
        return true;
      }
      if (n >= 0) {
        // Cannot happen on SOCK_DGRAM (atomic); say so rather than pretend it was sent.
        throw new NtstatError('ERR_NTSTAT_TRANSPORT', `send() wrote ${n} of ${datagram.length} bytes`);
      }
      const errno = libc.errno();
      if (errno === e.EINTR) continue;
      if (errno === e.EAGAIN || errno === e.ENOBUFS) return false;
      const hint =
        errno === e.EMSGSIZE ? 'datagram larger than the socket send buffer (2048 on the kernel control, BEHAVIOUR.md §1)' : '';
      throw errnoError(libc, 'send()', errno, hint);
    }
  }

  /**
   * @internal Read after send: XNU queues a request's replies inside send(2) (BEHAVIOUR.md §2.1),
   * so on a Mac they are waiting as soon as send() returns. Read them before the event loop turns
   * (a microtask: never inside the caller's send), saving the poll wake-up. Sent from a handler,
   * the drain under way reads once more instead.
   */
  private afterSend(): void {
    if (this.batch === undefined || this.closed || this.paused || !this.handlers) return;
    if (this.draining) {
      this.sentInDrain = true;
      return;
    }
    if (this.readAfterSendQueued) return;
    this.readAfterSendQueued = true;
    queueMicrotask(() => {
      this.readAfterSendQueued = false;
      if (!this.closed && !this.paused) this.drain(false);
    });
  }

  /**
   * Transport.send: one request. A full queue is an error here, reported like the kernel's own
   * ENOBUFS (BEHAVIOUR.md §2.1: "if even the ERROR cannot be queued, send() fails with ENOBUFS").
   */
  send(datagram: Uint8Array): void {
    if (!this.trySend(datagram)) {
      throw new NtstatError(
        'ERR_NTSTAT_TRANSPORT',
        'send() failed: ENOBUFS (kernel queue full: EAGAIN on a non-blocking socket; drain and retry)',
        { errno: DARWIN_ERRNO.ENOBUFS },
      );
    }
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.poller?.stop();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.closed && this.poller) this.poller.start(this.onEvent);
    // Records already taken from the kernel wait in the batch slots: the poll handle will not
    // fire for them if the socket is now empty, so deliver them on the next turn.
    if (!this.closed && this.next < this.received && !this.resumeScheduled) {
      this.resumeScheduled = true;
      setImmediate(() => {
        this.resumeScheduled = false;
        if (!this.closed && !this.paused) this.drain(false);
      });
    }
  }

  /** SO_RCVBUF: ask for `bytes`, return what the kernel granted (Linux reports double). */
  setReceiveBufferSize(bytes: number): number | undefined {
    const { libc } = this;
    const v = new Uint8Array(4);
    new DataView(v.buffer).setInt32(0, bytes, true);
    if (libc.setsockopt(this.fd, libc.os.SOL_SOCKET, libc.os.SO_RCVBUF, v) < 0) {
      throw errnoError(libc, `setsockopt(SO_RCVBUF, ${bytes})`, libc.errno());
    }
    return this.getReceiveBufferSize();
  }

  /** Current SO_RCVBUF, or undefined if the kernel will not say. */
  getReceiveBufferSize(): number | undefined {
    return getIntSockopt(this.libc, this.fd, this.libc.os.SO_RCVBUF);
  }

  close(): void {
    this.finish(undefined);
  }

  /** @internal */
  private finish(error: NtstatError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    // Stop watching before closing: a closed (and possibly reused) fd must never be polled.
    this.poller?.close();
    this.poller = undefined;
    this.libc.close(this.fd);
    const h = this.handlers;
    this.handlers = undefined;
    h?.onClose(error);
  }

  /** @internal */
  private readonly onEvent = (status: number, disconnect: boolean): void => {
    if (this.closed) return;
    if (status < 0) {
      // libuv status is a negated host errno.
      this.finish(errnoError(this.libc, 'poll', -status));
      return;
    }
    // Read side shut: a short batch must not stand for "empty" then (drain until EAGAIN).
    const drained = this.drain(disconnect);
    // Read side shut (EPOLLRDHUP / EV_EOF) and nothing left to read: the peer is gone.
    if (drained && disconnect) this.finish(undefined);
  };

  /**
   * @internal Read until EAGAIN (true), or until paused/closed/the per-wake-up budget (false).
   * `confirmEmpty`: a short batch is not taken as proof the queue is empty.
   */
  private drain(confirmEmpty: boolean): boolean {
    if (this.draining) return false;
    this.draining = true;
    try {
      return this.batch !== undefined || this.next < this.received
        ? this.drainBatches(confirmEmpty)
        : this.drainRecords(MAX_RECORDS_PER_WAKEUP);
    } finally {
      this.draining = false;
    }
  }

  /**
   * @internal One batch call per loop turn. A short batch (fewer than asked, the last not
   * truncated) means the socket queue was empty: no EAGAIN read to confirm it. (Older XNU stops a
   * recvmsg_x batch after a truncated datagram; a sysctl can cap the count: both merely end the
   * drain early, and the level-triggered poll handle fires again for what is left.)
   */
  private drainBatches(confirmEmpty: boolean): boolean {
    const { libc, capacity } = this;
    const flags = libc.os.MSG_DONTWAIT;
    let budget = MAX_RECORDS_PER_WAKEUP;
    for (;;) {
      // Deliver what the last batch holds, in order, before reading again: a view of slot i stays
      // valid until the next read (borrow), and a pause or close may stop us between records.
      while (this.next < this.received) {
        if (this.closed || this.paused || !this.handlers) return false;
        if (budget === 0) return false;
        const i = this.next++;
        budget--;
        const n = this.batch!.length(i);
        const slot = this.batch!.slots[i];
        if (n === 0) {
          // End of stream (see drainRecords); anything after it in the batch is never delivered.
          this.received = this.next;
          this.finish(undefined);
          return false;
        }
        const truncated = n > capacity;
        const len = truncated ? capacity : n;
        this.handlers.onDatagram(this.lend ? slot.subarray(0, len) : slot.slice(0, len), truncated);
      }
      if (this.batchWasShort) {
        this.batchWasShort = false;
        // Read after send: XNU queues a request's replies inside send(2) (BEHAVIOUR.md §2.1), so
        // on a Mac the reply to a request sent from the handler is waiting now: read it in this
        // turn rather than in a wake-up of its own.
        if (!confirmEmpty && !this.sentInDrain) return true;
      }
      this.sentInDrain = false;
      if (this.closed || this.paused || !this.handlers) return false;
      if (budget === 0) return false;
      const batch = this.batch;
      if (batch === undefined) return this.drainRecords(budget);
      const want = Math.min(batch.slots.length, budget);
      const got = batch.receive(this.fd, want, flags);
      if (got < 0) {
        const errno = libc.errno();
        const e = libc.os.errno;
        if (errno === e.EAGAIN) {
          this.batchProven = true;
          return true;
        }
        if (errno === e.EINTR) continue;
        if (!this.batchProven) {
          // EOPNOTSUPP, EINVAL, ENOSYS…: the call does not work on this socket or kernel. recv(2)
          // from now on; it reports any real error itself on the next read.
          this.batch = undefined;
          this.debug(`${this.kind}: ${batch.call} failed (${errnoName(libc.os, errno)}); reading one record per recv() from now on`);
          return this.drainRecords(budget);
        }
        this.failedRead(batch.call);
        return false;
      }
      this.batchProven = true;
      if (got === 0) {
        // Darwin's recvmsg_x: nothing queued and the socket can receive no more (soreceive_m_list).
        this.finish(undefined);
        return false;
      }
      this.next = 0;
      this.received = got;
      this.batchWasShort = got < want && batch.length(got - 1) <= capacity;
    }
  }

  /** @internal One record per recv(2)/recvmsg(2), at most `budget` of them. */
  private drainRecords(budget: number): boolean {
    const { libc, rx, capacity } = this;
    const flags = libc.os.MSG_DONTWAIT;
    for (let i = 0; i < budget; i++) {
      if (this.closed || this.paused || !this.handlers) return false;
      let data: Uint8Array;
      let truncated: boolean;
      if (rx !== undefined) {
        const n = libc.recv!(this.fd, rx, flags);
        if (n < 0) {
          if (this.failedRead('recv()')) return true;
          if (this.closed) return false;
          continue;
        }
        truncated = n > capacity;
        const len = truncated ? capacity : n;
        data = this.lend ? rx.subarray(0, len) : rx.slice(0, len);
      } else {
        const r = libc.recvmsg(this.fd, capacity, flags);
        if (r === null) {
          if (this.failedRead('recvmsg()')) return true;
          if (this.closed) return false;
          continue;
        }
        data = r.data;
        truncated = (r.flags & libc.os.MSG_TRUNC) !== 0;
      }
      if (data.length === 0 && !truncated) {
        // Zero-length record = end of stream: what recv() returns once the socket can receive no
        // more, and the marker FdEndpoint.close() sends. The kernel control never queues an empty
        // record (every message has a 16-byte header, BEHAVIOUR.md App. A.1).
        this.finish(undefined);
        return false;
      }
      this.handlers.onDatagram(data, truncated);
    }
    return false;
  }

  /**
   * @internal A failed read: true on EAGAIN (drained); false to go on (EINTR), or after closing
   * the transport on any other errno.
   */
  private failedRead(call: string): boolean {
    const { libc } = this;
    const e = libc.os.errno;
    const errno = libc.errno();
    if (errno === e.EAGAIN) return true;
    if (errno === e.EINTR) return false;
    // A Darwin AF_UNIX peer closing leaves ECONNRESET (uipc_usrreq.c unp_drop).
    this.finish(errnoError(libc, call, errno, errno === e.ECONNRESET ? 'peer closed' : ''));
    return false;
  }
}
