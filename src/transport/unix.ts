/**
 * The protocol over a Unix datagram socket (`--socket PATH`): a relay from a Mac or an external
 * simulator (`ntstat serve`). Each datagram carries exactly what the kernel control would: one
 * request, or one kernel record. The client binds a private address (datagram servers reply to
 * it) and connects to PATH; from then on it is the same DatagramFdTransport the Darwin socket uses.
 */
import { mkdtempSync, rmSync, unlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NtstatError } from '../errors.js';
import { DatagramFdTransport, errnoError, makeNonBlockingCloexec } from './fd.js';
import { loadLibc, type Libc, type OsConstants } from './libc.js';

/** struct sockaddr_un: Darwin {u8 len, u8 family, char path[104]}; Linux {u16 family, char path[108]}. */
export function encodeSockaddrUn(os: OsConstants, path: string): Uint8Array {
  const p = new TextEncoder().encode(path);
  const max = os.os === 'darwin' ? 104 : 108;
  if (p.length >= max) throw new NtstatError('ERR_NTSTAT_USAGE', `socket path is longer than ${max - 1} bytes: ${path}`);
  const out = new Uint8Array(2 + max);
  if (os.os === 'darwin') {
    out[0] = 2 + p.length + 1;
    out[1] = os.AF_UNIX;
  } else {
    new DataView(out.buffer).setUint16(0, os.AF_UNIX, true);
  }
  out.set(p, 2);
  return out.subarray(0, 2 + p.length + 1);
}

class UnixClientTransport extends DatagramFdTransport {
  constructor(fd: number, libc: Libc, private readonly cleanupDir: string) {
    super(fd, { libc, kind: 'unix' });
  }

  override close(): void {
    super.close();
    rmSync(this.cleanupDir, { recursive: true, force: true });
  }
}

function needs(libc: Libc): Required<Pick<Libc, 'bind' | 'recvfrom'>> {
  if (!libc.bind || !libc.recvfrom) throw new NtstatError('ERR_NTSTAT_NATIVE', 'this libc binding has no bind/recvfrom');
  return { bind: libc.bind.bind(libc), recvfrom: libc.recvfrom.bind(libc) };
}

/** Connect to a datagram server at `path`. */
export function connectUnixDatagram(path: string, libc: Libc = loadLibc()): DatagramFdTransport {
  const { bind } = needs(libc);
  const c = libc.os;
  const fd = libc.socket(c.AF_UNIX, c.SOCK_DGRAM, 0);
  if (fd < 0) throw errnoError(libc, 'socket(AF_UNIX, SOCK_DGRAM)', libc.errno());
  const dir = mkdtempSync(join(tmpdir(), 'ntstat-client-'));
  try {
    if (bind(fd, encodeSockaddrUn(c, join(dir, 'c.sock'))) < 0) throw errnoError(libc, 'bind', libc.errno());
    if (libc.connect(fd, encodeSockaddrUn(c, path)) < 0) {
      throw errnoError(libc, `connect(${path})`, libc.errno(), 'is `ntstat serve --socket PATH`, or your relay, running?');
    }
    makeNonBlockingCloexec(libc, fd);
  } catch (e) {
    libc.close(fd);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return new UnixClientTransport(fd, libc, dir);
}

export interface UnixDatagramListener {
  /** Resolves with a socket connected to the first client and its first datagram; the fd is then the caller's. */
  accept(): Promise<{ fd: number; first: Uint8Array }>;
  close(): void;
}

/** Bind `path` and wait for one client (datagram sockets have no accept: the first sender wins). */
export function listenUnixDatagram(path: string, libc: Libc = loadLibc()): UnixDatagramListener {
  const { bind, recvfrom } = needs(libc);
  const c = libc.os;
  if (existsSync(path)) throw new NtstatError('ERR_NTSTAT_USAGE', `${path} exists; remove it or choose another path`);
  const fd = libc.socket(c.AF_UNIX, c.SOCK_DGRAM, 0);
  if (fd < 0) throw errnoError(libc, 'socket(AF_UNIX, SOCK_DGRAM)', libc.errno());
  if (bind(fd, encodeSockaddrUn(c, path)) < 0) {
    const err = errnoError(libc, `bind(${path})`, libc.errno());
    libc.close(fd);
    throw err;
  }
  makeNonBlockingCloexec(libc, fd);
  const poller = libc.poll(fd);
  let closed = false;
  /** After accept() the fd belongs to the caller: close() must not close it again. */
  let handedOff = false;
  const close = () => {
    if (closed) return;
    closed = true;
    poller.close();
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  };
  return {
    accept() {
      return new Promise((resolve, reject) => {
        poller.start(() => {
          const r = recvfrom(fd, 65536, c.MSG_DONTWAIT);
          if (!r) return; // spurious wake-up (EAGAIN)
          poller.stop();
          if (libc.connect(fd, r.from) < 0) {
            reject(errnoError(libc, 'connect(client)', libc.errno()));
            return;
          }
          poller.close();
          handedOff = true;
          resolve({ fd, first: r.data });
        });
      });
    },
    close() {
      close();
      if (!handedOff) libc.close(fd);
    },
  };
}
