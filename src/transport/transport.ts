import type { NtstatError } from '../errors.js';

/**
 * What the client needs from "something that speaks datagrams with the kernel":
 * the Darwin control socket, any datagram fd (a socketpair in tests), an in-process
 * simulator, or a capture being replayed.
 *
 * Semantics follow a SOCK_DGRAM kernel-control socket (BEHAVIOUR.md §1, §4):
 *  - `send` is one datagram = one request; it is synchronous like send(2) and throws an
 *    NtstatError (code ERR_NTSTAT_TRANSPORT, `errno` set: EMSGSIZE, ENOBUFS, EINVAL...) on failure.
 *  - Each received datagram is one kernel record (possibly several aggregated messages).
 *    `truncated` is true when the record was larger than the receive buffer (MSG_TRUNC):
 *    the rest of that record is lost, a drop the client must count.
 *  - While paused, the transport does not read: the kernel-side queue fills and the kernel
 *    drops, exactly as with a slow reader.
 */
export interface TransportHandlers {
  /**
   * One received record. Unless `borrow` is set, `datagram` is the handler's own: it owns its
   * bytes and may keep them.
   */
  onDatagram(datagram: Uint8Array, truncated: boolean): void;
  /**
   * Set by a handler that only *borrows* each datagram: it reads it during `onDatagram` and copies
   * whatever it keeps past the call. A transport may then lend a view into a receive buffer it
   * reuses for the next record (DatagramFdTransport does: no copy and no ArrayBuffer per record,
   * issue 17), so a borrowed datagram kept after `onDatagram` returns is later overwritten.
   * Transports that cannot lend ignore it; handlers that leave it unset always get copies.
   */
  readonly borrow?: boolean;
  /** The peer closed or the transport failed; `error` is undefined for an orderly close. */
  onClose(error?: NtstatError): void;
}

export interface Transport {
  /** Short name for diagnostics: 'darwin', 'fd', 'memory', 'replay', 'unix'. */
  readonly kind: string;
  /** Begin delivering datagrams to `handlers`. Called once. */
  start(handlers: TransportHandlers): void;
  /** Send one request datagram. Throws NtstatError on failure. */
  send(datagram: Uint8Array): void;
  /** Stop reading (back-pressure builds up on the kernel side). */
  pause(): void;
  /** Resume reading. */
  resume(): void;
  /** SO_RCVBUF: ask for a receive queue of `bytes`; returns the size in effect (or undefined if unknown). */
  setReceiveBufferSize?(bytes: number): number | undefined;
  /**
   * SO_RCVBUF already set by whoever opened the transport, as read back. The client then does not
   * set it again: on macOS 15 a second identical request fails once the queue is at sb_max
   * (BEHAVIOUR.md §1, sbreserve), which made a spurious warning.
   */
  readonly receiveBufferSize?: number | undefined;
  /** Close; idempotent. After close no handler is called except a single onClose. */
  close(): void;
}
