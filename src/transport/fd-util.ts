/**
 * Small fd helpers shared by the datagram transports (fd.ts, socketpair.ts, darwin.ts, unix.ts):
 * non-blocking close-on-exec setup, errno errors, int socket options.
 */
import { NtstatError } from '../errors.js';
import { errnoName, toDarwinErrno, type Libc } from './libc.js';

/** Set O_NONBLOCK and FD_CLOEXEC, each only if not already set. Throws ERR_NTSTAT_TRANSPORT. */
export function makeNonBlockingCloexec(libc: Libc, fd: number): void {
  const c = libc.os;
  const fdFlags = libc.fcntl(fd, c.F_GETFD);
  if (fdFlags < 0) throw errnoError(libc, 'fcntl(F_GETFD)', libc.errno());
  if ((fdFlags & c.FD_CLOEXEC) === 0 && libc.fcntl(fd, c.F_SETFD, fdFlags | c.FD_CLOEXEC) < 0) {
    throw errnoError(libc, 'fcntl(F_SETFD, FD_CLOEXEC)', libc.errno());
  }
  const flFlags = libc.fcntl(fd, c.F_GETFL);
  if (flFlags < 0) throw errnoError(libc, 'fcntl(F_GETFL)', libc.errno());
  if ((flFlags & c.O_NONBLOCK) === 0 && libc.fcntl(fd, c.F_SETFL, flFlags | c.O_NONBLOCK) < 0) {
    throw errnoError(libc, 'fcntl(F_SETFL, O_NONBLOCK)', libc.errno());
  }
}

/** ERR_NTSTAT_TRANSPORT naming the call and the errno; `errno` is the Darwin number. */
export function errnoError(libc: Libc, what: string, errno: number, hint = ''): NtstatError {
  const name = errnoName(libc.os, errno);
  return new NtstatError('ERR_NTSTAT_TRANSPORT', `${what} failed: ${name}${hint ? ` (${hint})` : ''}`, {
    errno: toDarwinErrno(libc.os, errno),
  });
}

/** getsockopt(SOL_SOCKET, name) as an int, or undefined on failure. */
export function getIntSockopt(libc: Libc, fd: number, name: number): number | undefined {
  const v = new Uint8Array(4);
  const len = new Uint32Array([4]);
  if (libc.getsockopt(fd, libc.os.SOL_SOCKET, name, v, len) < 0) return undefined;
  return new DataView(v.buffer).getInt32(0, true);
}
