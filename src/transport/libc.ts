/**
 * The handful of libc calls the fd transports need, as an injectable binding table.
 *
 * Everything above this file (DatagramFdTransport, the Darwin control socket, the socketpair
 * helper) talks to a `Libc` object, never to koffi directly, so tests can inject recording fakes
 * and assert exact calls and bytes (the serialport "binding" pattern, DESIGN.md §8).
 *
 * koffi is loaded lazily, only by `loadLibc()`: importing ntstat never loads native code
 * (DESIGN.md §2). Platform constants are data tables below, each with the header it comes from;
 * docs/darwin.md repeats them and test/transport-darwin.test.ts checks them.
 */
import { createRequire } from 'node:module';
import { NtstatError } from '../errors.js';
import { makeBatchReceiver, makeBatchSender } from './batch-libc.js';

// ---------------------------------------------------------------------------------------------
// Constant tables

/** The errno names ntstat reports; numbers differ per OS. */
export type ErrnoName =
  | 'EPERM' | 'ENOENT' | 'ESRCH' | 'EINTR' | 'EIO' | 'EBADF' | 'ENOMEM' | 'EACCES' | 'EFAULT'
  | 'EBUSY' | 'EINVAL' | 'ENFILE' | 'EMFILE' | 'ENOTTY' | 'EPIPE' | 'EAGAIN' | 'EALREADY'
  | 'ENOTSOCK' | 'EMSGSIZE' | 'EPROTOTYPE' | 'EPROTONOSUPPORT' | 'ENOTSUP' | 'EAFNOSUPPORT'
  | 'ECONNRESET' | 'ENOBUFS' | 'ENOTCONN' | 'ECONNREFUSED' | 'EHOSTUNREACH' | 'EOPNOTSUPP';

/**
 * Darwin user-space errno values: XNU bsd/sys/errno.h (checked in xnu-11417.121.6). EOPNOTSUPP is
 * 102 for __DARWIN_UNIX03 code (what libSystem returns), distinct from ENOTSUP 45
 * (BEHAVIOUR.md §0 lists the kernel values the protocol carries; they agree).
 */
export const DARWIN_ERRNO: Readonly<Record<ErrnoName, number>> = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, EBADF: 9, ENOMEM: 12, EACCES: 13, EFAULT: 14,
  EBUSY: 16, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOTTY: 25, EPIPE: 32, EAGAIN: 35, EALREADY: 37,
  ENOTSOCK: 38, EMSGSIZE: 40, EPROTOTYPE: 41, EPROTONOSUPPORT: 43, ENOTSUP: 45, EAFNOSUPPORT: 47,
  ECONNRESET: 54, ENOBUFS: 55, ENOTCONN: 57, ECONNREFUSED: 61, EHOSTUNREACH: 65, EOPNOTSUPP: 102,
};

/**
 * Linux errno values: include/uapi/asm-generic/errno-base.h and errno.h (the same on x86-64,
 * arm64, arm, riscv64; alpha/mips/parisc/sparc differ and are not supported). ENOTSUP is
 * EOPNOTSUPP (95) in glibc.
 */
export const LINUX_ERRNO: Readonly<Record<ErrnoName, number>> = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, EBADF: 9, ENOMEM: 12, EACCES: 13, EFAULT: 14,
  EBUSY: 16, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOTTY: 25, EPIPE: 32, EAGAIN: 11, EALREADY: 114,
  ENOTSOCK: 88, EMSGSIZE: 90, EPROTOTYPE: 91, EPROTONOSUPPORT: 93, ENOTSUP: 95, EAFNOSUPPORT: 97,
  ECONNRESET: 104, ENOBUFS: 105, ENOTCONN: 107, ECONNREFUSED: 111, EHOSTUNREACH: 113, EOPNOTSUPP: 95,
};

/** Byte offsets of `struct msghdr` (LP64) — the one struct whose layout differs between the two. */
export interface MsghdrLayout {
  size: number;
  iov: number;
  iovlen: number;
  /** Width of msg_iovlen: Darwin `int` (4), glibc `size_t` (8). */
  iovlenSize: 4 | 8;
  flags: number;
}

export interface OsConstants {
  readonly os: 'darwin' | 'linux';
  readonly AF_UNIX: number;
  readonly SOCK_DGRAM: number;
  readonly SOL_SOCKET: number;
  readonly SO_SNDBUF: number;
  readonly SO_RCVBUF: number;
  readonly MSG_TRUNC: number;
  readonly MSG_DONTWAIT: number;
  readonly F_GETFD: number;
  readonly F_SETFD: number;
  readonly F_GETFL: number;
  readonly F_SETFL: number;
  readonly FD_CLOEXEC: number;
  readonly O_NONBLOCK: number;
  readonly errno: Readonly<Record<ErrnoName, number>>;
  readonly msghdr: MsghdrLayout;
}

/**
 * Darwin: bsd/sys/socket.h (AF_UNIX, SOCK_DGRAM, SOL_SOCKET, SO_SNDBUF, SO_RCVBUF, MSG_TRUNC,
 * MSG_DONTWAIT, struct msghdr), bsd/sys/fcntl.h (F_*, FD_CLOEXEC, O_NONBLOCK). Same on x86-64 and
 * arm64. msghdr: name@0 (8) namelen@8 (u32) iov@16 (8) iovlen@24 (int) control@32 (8)
 * controllen@40 (u32) flags@44 (int) = 48 bytes.
 */
export const DARWIN: OsConstants = {
  os: 'darwin',
  AF_UNIX: 1, SOCK_DGRAM: 2,
  SOL_SOCKET: 0xffff, SO_SNDBUF: 0x1001, SO_RCVBUF: 0x1002,
  MSG_TRUNC: 0x10, MSG_DONTWAIT: 0x80,
  F_GETFD: 1, F_SETFD: 2, F_GETFL: 3, F_SETFL: 4, FD_CLOEXEC: 1, O_NONBLOCK: 0x4,
  errno: DARWIN_ERRNO,
  msghdr: { size: 48, iov: 16, iovlen: 24, iovlenSize: 4, flags: 44 },
};

/**
 * Linux (x86-64/arm64 and other asm-generic ABIs): include/linux/socket.h (AF_UNIX, MSG_TRUNC
 * 0x20, MSG_DONTWAIT 0x40), asm-generic/socket.h (SOL_SOCKET 1, SO_SNDBUF 7, SO_RCVBUF 8),
 * asm-generic/fcntl.h (O_NONBLOCK 04000), glibc bits/socket.h struct msghdr: iovlen and
 * controllen are size_t, so flags@48 and the struct is 56 bytes.
 */
export const LINUX: OsConstants = {
  os: 'linux',
  AF_UNIX: 1, SOCK_DGRAM: 2,
  SOL_SOCKET: 1, SO_SNDBUF: 7, SO_RCVBUF: 8,
  MSG_TRUNC: 0x20, MSG_DONTWAIT: 0x40,
  F_GETFD: 1, F_SETFD: 2, F_GETFL: 3, F_SETFL: 4, FD_CLOEXEC: 1, O_NONBLOCK: 0x800,
  errno: LINUX_ERRNO,
  msghdr: { size: 56, iov: 16, iovlen: 24, iovlenSize: 8, flags: 48 },
};

/** Linux CPUs whose socket/fcntl/errno numbers are the asm-generic ones above. */
const LINUX_GENERIC_ARCHS = new Set(['x64', 'arm64', 'arm', 'ia32', 'riscv64', 'loong64']);

/** The table for this process, or undefined where ntstat has none (Windows, BSDs, mips…). */
export function hostConstants(
  platform: string = process.platform,
  arch: string = process.arch,
): OsConstants | undefined {
  if (platform === 'darwin') return DARWIN;
  if (platform === 'linux' && LINUX_GENERIC_ARCHS.has(arch)) return LINUX;
  return undefined;
}

/** 'EAGAIN', … or 'errno N' for a number not in the table. */
export function errnoName(os: OsConstants, errno: number): string {
  for (const [name, value] of Object.entries(os.errno)) {
    // EOPNOTSUPP aliases ENOTSUP on Linux; prefer the first (ENOTSUP) consistently.
    if (value === errno) return name;
  }
  return `errno ${errno}`;
}

/**
 * NtstatError.errno is documented as a *Darwin* number (errors.ts), so that client code can compare
 * with one table whether it runs over the real socket or a Linux socketpair: map by name.
 */
export function toDarwinErrno(os: OsConstants, errno: number): number {
  if (os.os === 'darwin') return errno;
  for (const [name, value] of Object.entries(os.errno)) {
    if (value === errno) return DARWIN_ERRNO[name as ErrnoName];
  }
  return errno;
}

// ---------------------------------------------------------------------------------------------
// The binding table

/** What `recvmsg` reports for one record. */
export interface RecvResult {
  /** A copy of the bytes received (at most the capacity asked for). */
  data: Uint8Array;
  /** msg_flags as returned by the kernel (MSG_TRUNC…). */
  flags: number;
}

/**
 * Receives up to `count` datagrams per call into slots it owns (views of one ArrayBuffer, so a
 * borrowed view stays readable memory for as long as anyone holds it).
 */
export interface BatchReceiver {
  /** The C call, for messages: 'recvmmsg()' or 'recvmsg_x()'. */
  readonly call: string;
  /** Slot i receives the i-th datagram of the last `receive`; each is `slotSize` bytes. */
  readonly slots: readonly Uint8Array[];
  /**
   * Receive up to `max` (1..slots.length) datagrams: the number received (0 = end of stream: the
   * socket can receive no more and nothing is queued), or -1 with errno() set.
   */
  receive(fd: number, max: number, flags: number): number;
  /** Bytes of datagram i of the last receive that landed in slot i (a truncated one fills it). */
  length(i: number): number;
}

/** Sends several datagrams in one call (Linux sendmmsg). */
export interface BatchSender {
  /**
   * Send `datagrams` in order: how many the socket took (a prefix; the rest did not fit), or -1
   * with errno() set when it took none.
   */
  send(fd: number, datagrams: readonly Uint8Array[], flags: number): number;
}

/** A readiness watcher on one fd (koffi.node.poll: a libuv uv_poll_t). */
export interface Poller {
  /** (Re)start watching; `onEvent(status, disconnect)` runs on the event loop when readable. */
  start(onEvent: (status: number, disconnect: boolean) => void): void;
  stop(): void;
  /** Stop for good; no callback runs after this returns. */
  close(): void;
}

/**
 * C calls, one-to-one, returning the C result (-1 on failure, then `errno()` tells why).
 * Pointer arguments are byte arrays the callee reads or fills in place.
 */
export interface Libc {
  readonly os: OsConstants;
  /** errno of the most recent failed call; read it right after the call. */
  errno(): number;
  socket(domain: number, type: number, protocol: number): number;
  /** `fds` receives the two descriptors. */
  socketpair(domain: number, type: number, protocol: number, fds: Int32Array): number;
  /** addrlen = addr.length */
  connect(fd: number, addr: Uint8Array): number;
  /** addrlen = addr.length (Unix-socket relays only; optional for test fakes). */
  bind?(fd: number, addr: Uint8Array): number;
  /** recvfrom(2) into a buffer of `capacity` bytes; the sender's address in `from`; null on failure. */
  recvfrom?(fd: number, capacity: number, flags: number): { data: Uint8Array; from: Uint8Array } | null;
  /** Variadic in C; called with one pointer argument. */
  ioctl(fd: number, request: number, arg: Uint8Array): number;
  /** Variadic in C; `arg` (an int) only for the F_SET* commands. */
  fcntl(fd: number, cmd: number, arg?: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array): number;
  /** `len` is socklen_t in/out: value.length on entry, bytes written on return. */
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, len: Uint32Array): number;
  send(fd: number, data: Uint8Array, flags: number): number;
  /** recvmsg(2) with one iovec of `capacity` bytes; null on failure (see errno()). */
  recvmsg(fd: number, capacity: number, flags: number): RecvResult | null;
  /**
   * recv(2) into `buf` (len = buf.length), in place: the byte count, or -1 (see errno()). Optional;
   * DatagramFdTransport prefers it to `recvmsg` (no msghdr, no copy: issue 17).
   */
  recv?(fd: number, buf: Uint8Array, flags: number): number;
  /**
   * A batch receiver (Linux recvmmsg(2), Darwin recvmsg_x) with `count` slots of `slotSize` bytes,
   * or undefined when this C library lacks the call. Optional; DatagramFdTransport falls back to
   * `recv` without it (issue 17: one syscall per wake-up instead of one per record).
   */
  batchReceiver?(slotSize: number, count: number): BatchReceiver | undefined;
  /**
   * A batch sender (Linux sendmmsg(2)), or undefined when the C library lacks it. Optional; the
   * simulator's fd server sends a reply in one call with it, as XNU enqueues a reply (issue 17).
   */
  batchSender?(): BatchSender | undefined;
  close(fd: number): number;
  /** Darwin only. `oldlen` is size_t in/out. */
  sysctlbyname(name: string, old: Uint8Array | null, oldlen: BigUint64Array): number;
  poll(fd: number): Poller;
}

// ---------------------------------------------------------------------------------------------
// koffi implementation (loaded on demand)

/** The slice of the koffi module this file uses (koffi ships its own .d.ts; kept minimal here). */
export interface KoffiLike {
  load(path: string | null): { func(decl: string): (...args: unknown[]) => unknown };
  errno(): number;
  alloc(type: string, length: number): unknown;
  encode(ref: unknown, offset: number, type: string, value: unknown): void;
  decode(ref: unknown, offset: number, type: string, length?: number): unknown;
  view(ref: unknown, length: number): ArrayBuffer;
  /** The address a pointer-like value (an ArrayBuffer: its bytes) stands for. */
  address?(value: unknown): bigint;
  free(ref: unknown): void;
  node: {
    poll(fd: number, opts: object, cb: (...args: unknown[]) => void): {
      start(opts: object, cb: (...args: unknown[]) => void): void;
      stop(): void;
      close(): void;
    };
  };
}

export interface LoadLibcOptions {
  /** Replaces `require('koffi')` (tests use it to simulate a missing or broken koffi). */
  requireKoffi?: () => unknown;
  platform?: string;
  arch?: string;
}

let cached: Libc | undefined;

/**
 * The koffi-backed Libc for this process (cached). Throws ERR_NTSTAT_NATIVE when koffi cannot be
 * loaded and ERR_NTSTAT_UNSUPPORTED_OS on a platform without a constant table.
 */
export function loadLibc(options: LoadLibcOptions = {}): Libc {
  const custom = options.requireKoffi !== undefined || options.platform !== undefined;
  if (cached && !custom) return cached;
  const { koffi, lib, os } = openLibcLibrary(options);
  const libc = bindKoffi(koffi, lib, os);
  if (!custom) cached = libc;
  return libc;
}

/** koffi and this platform's C library (libSystem / libc.so.6), for bindings beyond `Libc` (ifnames.ts). */
export function openLibcLibrary(options: LoadLibcOptions = {}): { koffi: KoffiLike; lib: ReturnType<KoffiLike['load']>; os: OsConstants } {
  const platform = options.platform ?? process.platform;
  const os = hostConstants(platform, options.arch ?? process.arch);
  if (!os) {
    throw new NtstatError(
      'ERR_NTSTAT_UNSUPPORTED_OS',
      `ntstat has no native socket bindings for ${platform}/${options.arch ?? process.arch}; ` +
        'use `ntstat --simulate` or `ntstat replay FILE` (both work without native code)',
    );
  }
  let koffi: KoffiLike;
  let lib: ReturnType<KoffiLike['load']>;
  try {
    const req = options.requireKoffi ?? (() => createRequire(import.meta.url)('koffi'));
    const mod = req() as KoffiLike & { default?: KoffiLike };
    koffi = typeof mod.load === 'function' ? mod : (mod.default as KoffiLike);
    lib = os.os === 'darwin' ? koffi.load('/usr/lib/libSystem.B.dylib') : loadLinuxLibc(koffi);
  } catch (cause) {
    throw nativeError(cause);
  }
  return { koffi, lib, os };
}

function loadLinuxLibc(koffi: KoffiLike): ReturnType<KoffiLike['load']> {
  // glibc's soname is libc.so.6; musl (Alpine) has none, but dlopen(NULL) reaches its libc.
  try {
    return koffi.load('libc.so.6');
  } catch {
    return koffi.load(null);
  }
}

/** ERR_NTSTAT_NATIVE with what to do about it. */
export function nativeError(cause: unknown): NtstatError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new NtstatError(
    'ERR_NTSTAT_NATIVE',
    `could not load the native FFI module koffi (${why}). ntstat needs koffi 3.x for live ` +
      'kernel access and socketpair transports: reinstall with `npm install koffi` (it ships ' +
      'prebuilt binaries, no compiler needed); when bundling (esbuild, webpack, Electron asar) keep ' +
      'koffi external/unpacked. `ntstat --simulate` and `ntstat replay FILE` work without it.',
    { cause },
  );
}

function bindKoffi(koffi: KoffiLike, lib: ReturnType<KoffiLike['load']>, os: OsConstants): Libc {
  const f = (decl: string) => lib.func(decl);
  const socket = f('int socket(int domain, int type, int protocol)');
  const socketpair = f('int socketpair(int domain, int type, int protocol, void *sv)');
  const connect = f('int connect(int fd, const void *addr, uint32_t len)');
  const bind = f('int bind(int fd, const void *addr, uint32_t len)');
  const recvfrom = f('intptr_t recvfrom(int fd, void *buf, size_t len, int flags, void *addr, void *addrlen)');
  // Variadic functions must be declared variadic: on Apple arm64 the variadic arguments travel on
  // the stack, not in registers, so a fixed-arity declaration would pass garbage (DESIGN.md §2).
  const ioctl = f('int ioctl(int fd, unsigned long request, ...)');
  const fcntl = f('int fcntl(int fd, int cmd, ...)');
  const setsockopt = f('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)');
  const getsockopt = f('int getsockopt(int fd, int level, int name, void *value, void *len)');
  const send = f('intptr_t send(int fd, const void *buf, size_t len, int flags)');
  const recvmsg = f('intptr_t recvmsg(int fd, void *msg, int flags)');
  const recv = f('intptr_t recv(int fd, void *buf, size_t len, int flags)');
  const close = f('int close(int fd)');
  // Batch calls are resolved on first use: recvmsg_x is a private libsystem_kernel export and
  // sendmmsg/recvmmsg may be missing from an old or non-glibc libc.
  const optional = (decl: string) => {
    try {
      return f(decl);
    } catch {
      return undefined;
    }
  };
  let recvBatchFn: ((...args: unknown[]) => unknown) | null | undefined;
  const recvBatch = () => {
    if (recvBatchFn === undefined) {
      recvBatchFn =
        (os.os === 'darwin'
          ? optional('intptr_t recvmsg_x(int s, void *msgp, uint32_t cnt, int flags)')
          : optional('int recvmmsg(int fd, void *msgvec, uint32_t vlen, int flags, void *timeout)')) ?? null;
    }
    return recvBatchFn;
  };
  let sendBatchFn: ((...args: unknown[]) => unknown) | null | undefined;
  let sysctlbyname: ((...args: unknown[]) => unknown) | undefined;
  if (os.os === 'darwin') {
    sysctlbyname = f('int sysctlbyname(const char *name, void *old, void *oldlen, void *newp, size_t newlen)');
  }

  // recvmsg needs a msghdr that points at an iovec that points at the data buffer: these must be
  // stable native memory (koffi.alloc), not JS buffers that the GC may move. One scratch set per
  // Libc is enough: calls are synchronous on the JS thread.
  let capacity = 0;
  let data: unknown;
  let dataBytes: Uint8Array | undefined;
  let iov: unknown;
  let msg: unknown;
  /** msghdr as 32-bit words (msg_flags is 4-aligned on both layouts): no koffi.decode per record. */
  let msgWords: Int32Array | undefined;
  /** iov_len as last encoded: re-encoded only when a caller asks for another capacity. */
  let iovLen = -1;
  const ensureScratch = (need: number) => {
    if (need <= capacity) return;
    if (capacity > 0) for (const p of [data, iov, msg]) koffi.free(p);
    capacity = Math.max(need, 65536);
    data = koffi.alloc('uint8_t', capacity);
    // One ArrayBuffer view of the native buffer for the Libc's life: copying out of it allocates
    // nothing native. (koffi.decode with a length builds a new array type per call and never
    // frees it: ~19 B of native memory per record in koffi 3.3.4.)
    dataBytes = new Uint8Array(koffi.view(data, capacity));
    iov = koffi.alloc('uint8_t', 16);
    msg = koffi.alloc('uint8_t', os.msghdr.size);
    msgWords = new Int32Array(koffi.view(msg, os.msghdr.size));
    iovLen = -1;
    koffi.encode(iov, 0, 'void *', data);
    const m = os.msghdr;
    for (let off = 0; off < m.size; off += 4) koffi.encode(msg, off, 'uint32_t', 0);
    koffi.encode(msg, m.iov, 'void *', iov);
    koffi.encode(msg, m.iovlen, m.iovlenSize === 8 ? 'uint64_t' : 'int', 1);
  };

  return {
    os,
    errno: () => koffi.errno(),
    socket: (d, t, p) => socket(d, t, p) as number,
    socketpair: (d, t, p, fds) => socketpair(d, t, p, fds) as number,
    connect: (fd, addr) => connect(fd, addr, addr.length) as number,
    bind: (fd, addr) => bind(fd, addr, addr.length) as number,
    recvfrom(fd, cap, flags) {
      // Synchronous call: koffi pins the JS buffers for its duration.
      const buf = new Uint8Array(cap);
      const from = new Uint8Array(128);
      const len = new Uint32Array([from.length]);
      const n = Number(recvfrom(fd, buf, cap, flags, from, len));
      if (n < 0) return null;
      return { data: buf.slice(0, Math.min(n, cap)), from: from.slice(0, Math.min(len[0], from.length)) };
    },
    ioctl: (fd, req, arg) => ioctl(fd, req, 'void *', arg) as number,
    fcntl: (fd, cmd, arg) => (arg === undefined ? fcntl(fd, cmd) : fcntl(fd, cmd, 'int', arg)) as number,
    setsockopt: (fd, level, name, value) => setsockopt(fd, level, name, value, value.length) as number,
    getsockopt: (fd, level, name, value, len) => getsockopt(fd, level, name, value, len) as number,
    send: (fd, buf, flags) => Number(send(fd, buf, buf.length, flags)),
    // koffi hands the callee a pointer to the typed array's own bytes for a synchronous call.
    recv: (fd, buf, flags) => Number(recv(fd, buf, buf.length, flags)),
    recvmsg(fd, cap, flags) {
      ensureScratch(cap);
      if (iovLen !== cap) {
        koffi.encode(iov, 8, 'size_t', cap);
        iovLen = cap;
      }
      const n = Number(recvmsg(fd, msg, flags));
      if (n < 0) return null;
      const msgFlags = msgWords![os.msghdr.flags >> 2];
      // Copied out of native memory, into a buffer of its own (the Transport contract): the record
      // survives the next recvmsg and may be kept or transferred.
      const bytes = dataBytes!.slice(0, Math.min(n, cap));
      return { data: bytes, flags: msgFlags };
    },
    batchReceiver(slotSize, count) {
      const fn = recvBatch();
      return fn ? makeBatchReceiver(koffi, os, fn, slotSize, count) : undefined;
    },
    batchSender() {
      if (sendBatchFn === undefined) {
        sendBatchFn = (os.os === 'linux' ? optional('int sendmmsg(int fd, void *msgvec, uint32_t vlen, int flags)') : undefined) ?? null;
      }
      if (!sendBatchFn) return undefined;
      return makeBatchSender(koffi, sendBatchFn);
    },
    close: (fd) => close(fd) as number,
    sysctlbyname(name, old, oldlen) {
      if (!sysctlbyname) throw new NtstatError('ERR_NTSTAT_UNSUPPORTED_OS', 'sysctlbyname exists only on macOS');
      return sysctlbyname(name, old, oldlen, null, 0) as number;
    },
    poll(fd) {
      let handle: ReturnType<KoffiLike['node']['poll']> | undefined;
      let closed = false;
      return {
        start(onEvent) {
          if (closed) return;
          // koffi 3.3.4 calls back with (status, {readable, writable, disconnect}) — its .d.ts says
          // (events) only; src/koffi/src/uv.cc OnPoll passes both. Accept either shape.
          const cb = (a: unknown, b: unknown) => {
            const ev = (typeof a === 'object' ? a : b) as { disconnect?: boolean } | undefined;
            onEvent(typeof a === 'number' ? a : 0, ev?.disconnect === true);
          };
          const opts = { readable: true, disconnect: true };
          if (handle) handle.start(opts, cb);
          else handle = koffi.node.poll(fd, opts, cb);
        },
        stop() {
          handle?.stop();
        },
        close() {
          closed = true;
          handle?.close();
          handle = undefined;
        },
      };
    },
  };
}
