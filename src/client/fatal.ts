/**
 * Which transport errors end the session. A full queue (ENOBUFS, also EAGAIN on a non-blocking
 * socket, BEHAVIOUR.md §2.1) is a loss to count and recover from; anything else send() reports
 * (ECONNREFUSED from a vanished `--socket` peer, EBADF, EPIPE, ...) means no request can reach the
 * kernel again, so the client must end with ERR_NTSTAT_TRANSPORT instead of failing every sweep.
 */
import { NtstatError } from '../errors.js';
import { DarwinErrno } from '../protocol/constants.js';

export function isFatalTransportError(e: unknown): e is NtstatError {
  return e instanceof NtstatError && e.code === 'ERR_NTSTAT_TRANSPORT' && e.errno !== DarwinErrno.ENOBUFS && e.errno !== DarwinErrno.ENOMEM;
}
