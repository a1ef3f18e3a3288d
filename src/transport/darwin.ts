/**
 * The live transport on macOS: the kernel control socket com.apple.network.statistics
 * (BEHAVIOUR.md §1), opened through an injectable libc table so that every call and byte is
 * testable on any OS. Native code (koffi) is loaded only when this is called, and only on darwin.
 *
 * Constants are Darwin's, each listed with its XNU header in docs/darwin.md and checked in
 * test/transport-darwin.test.ts. Structs are built byte by byte here (no Apple header text).
 */
import { NtstatError } from '../errors.js';
import { DARWIN, errnoName, loadLibc, type Libc } from './libc.js';
import { DatagramFdTransport, errnoError, getIntSockopt, makeNonBlockingCloexec } from './fd.js';

export const NSTAT_CONTROL_NAME = 'com.apple.network.statistics';

/** bsd/sys/socket.h: AF_SYSTEM 32, PF_SYSTEM = AF_SYSTEM; SOCK_DGRAM 2. */
export const AF_SYSTEM = 32;
export const PF_SYSTEM = AF_SYSTEM;
export const SOCK_DGRAM = 2;
/** bsd/sys/sys_domain.h: SYSPROTO_CONTROL 2, AF_SYS_CONTROL 2. */
export const SYSPROTO_CONTROL = 2;
export const AF_SYS_CONTROL = 2;
/** bsd/sys/kern_control.h: MAX_KCTL_NAME 96; struct ctl_info = u32 + char[96] = 100 bytes. */
export const MAX_KCTL_NAME = 96;
export const CTL_INFO_SIZE = 4 + MAX_KCTL_NAME;
/** bsd/sys/kern_control.h struct sockaddr_ctl: u8 len, u8 family, u16 sysaddr, u32 id, u32 unit, u32[5]. */
export const SOCKADDR_CTL_SIZE = 32;
/** bsd/sys/ioccom.h */
export const IOC_OUT = 0x40000000;
export const IOC_IN = 0x80000000;
export const IOCPARM_MASK = 0x1fff;

/** The _IOC() encoding of bsd/sys/ioccom.h: direction | (len & 0x1fff) << 16 | group << 8 | num. */
export function ioc(inout: number, group: string, num: number, len: number): number {
  return (inout | ((len & IOCPARM_MASK) << 16) | (group.charCodeAt(0) << 8) | num) >>> 0;
}

/** _IOWR('N', 3, struct ctl_info) = 0xc0644e03. */
export const CTLIOCGINFO = ioc(IOC_IN | IOC_OUT, 'N', 3, CTL_INFO_SIZE);

/** BEHAVIOUR.md §4: "1–4 MiB for busy hosts", set before ADD_ALL. */
export const DEFAULT_DARWIN_RECEIVE_BUFFER = 4 << 20;

/** struct ctl_info for CTLIOCGINFO: ctl_id 0 (filled in by the kernel), NUL-padded name. */
export function encodeCtlInfo(name: string): Uint8Array {
  const ascii = new TextEncoder().encode(name);
  if (ascii.length >= MAX_KCTL_NAME) {
    throw new NtstatError('ERR_NTSTAT_USAGE', `kernel control name longer than ${MAX_KCTL_NAME - 1} bytes: ${name}`);
  }
  const b = new Uint8Array(CTL_INFO_SIZE);
  b.set(ascii, 4);
  return b;
}

/** struct sockaddr_ctl for connect(): unit 0 lets the kernel pick a free unit (BEHAVIOUR.md §1). */
export function encodeSockaddrCtl(ctlId: number, unit = 0): Uint8Array {
  const b = new Uint8Array(SOCKADDR_CTL_SIZE);
  const v = new DataView(b.buffer);
  v.setUint8(0, SOCKADDR_CTL_SIZE); // sc_len
  v.setUint8(1, AF_SYSTEM); // sc_family
  v.setUint16(2, AF_SYS_CONTROL, true); // ss_sysaddr, host order
  v.setUint32(4, ctlId, true); // sc_id
  v.setUint32(8, unit, true); // sc_unit; sc_reserved stays zero
  return b;
}

export interface DarwinControlOptions {
  /** SO_RCVBUF to request before returning (default 4 MiB); halved on ENOBUFS down to 64 KiB. */
  receiveBufferSize?: number;
  /** libc binding table (tests inject fakes); default: koffi's. */
  libc?: Libc;
  /** Replaces require('koffi') when `libc` is not given (tests). */
  requireKoffi?: () => unknown;
  /** Default process.platform. */
  platform?: string;
  /** Non-fatal notices (Rosetta, smaller buffer); default process.emitWarning. */
  warn?: (message: string) => void;
  /** Default com.apple.network.statistics. */
  controlName?: string;
}

/** The control socket as a Transport, plus what was negotiated while opening it. */
export class DarwinControlTransport extends DatagramFdTransport {
  constructor(
    fd: number,
    libc: Libc,
    /** The dynamic control id CTLIOCGINFO returned. */
    readonly controlId: number,
    /** SO_RCVBUF read back after setting it. */
    readonly receiveBufferSize: number | undefined,
    /** True when running as x64 under Rosetta 2. */
    readonly translated: boolean,
  ) {
    super(fd, { libc, kind: 'darwin' });
  }
}

function unsupportedOs(platform: string): NtstatError {
  return new NtstatError(
    'ERR_NTSTAT_UNSUPPORTED_OS',
    `live network statistics come from the macOS kernel control ${NSTAT_CONTROL_NAME}, which ` +
      `${platform} does not have. Use \`ntstat --simulate\` to run against the built-in kernel ` +
      'simulator, or `ntstat replay FILE` to replay a capture recorded on a Mac.',
  );
}

/**
 * socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL) → CTLIOCGINFO → connect(sockaddr_ctl) →
 * SO_RCVBUF, non-blocking and close-on-exec (BEHAVIOUR.md §1, §4). Not started: call start().
 */
export function openDarwinControlSocket(options: DarwinControlOptions = {}): DarwinControlTransport {
  const platform = options.platform ?? process.platform;
  if (platform !== 'darwin') throw unsupportedOs(platform);
  const libc = options.libc ?? loadLibc(options.requireKoffi ? { requireKoffi: options.requireKoffi } : {});
  const warn = options.warn ?? ((m: string) => process.emitWarning(m, { code: 'NTSTAT_DARWIN' }));
  const name = options.controlName ?? NSTAT_CONTROL_NAME;
  const e = libc.os.errno;

  const translated = isTranslated(libc);
  if (translated) {
    warn(
      'ntstat is running in an x64 Node under Rosetta 2: the x64 koffi build works through ' +
        'translation, but a native arm64 Node (https://nodejs.org, "macOS ARM64") is faster.',
    );
  }

  const fd = libc.socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL);
  if (fd < 0) {
    const errno = libc.errno();
    if (errno === e.EPERM || errno === e.EACCES) {
      throw new NtstatError(
        'ERR_NTSTAT_PERMISSION',
        `socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL) was refused (${errnoName(libc.os, errno)}): ` +
          'this process is sandboxed (App Sandbox or a sandbox profile) and may not open kernel ' +
          'control sockets. Run ntstat from an unsandboxed process, e.g. Terminal.',
        { errno },
      );
    }
    if (errno === e.EAFNOSUPPORT || errno === e.EPROTONOSUPPORT) throw unsupportedOs(`this kernel (${errnoName(libc.os, errno)})`);
    throw errnoError(libc, 'socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL)', errno,
      errno === e.EMFILE || errno === e.ENFILE ? 'too many open files' : '');
  }

  try {
    // Close-on-exec first, so no child process spawned later inherits the socket.
    makeNonBlockingCloexec(libc, fd);

    const info = encodeCtlInfo(name);
    if (libc.ioctl(fd, CTLIOCGINFO, info) < 0) {
      const errno = libc.errno();
      if (errno === e.ENOENT) {
        throw new NtstatError(
          'ERR_NTSTAT_UNSUPPORTED_OS',
          `the kernel has no control named ${name} (CTLIOCGINFO: ENOENT), so this macOS build offers ` +
            'no network statistics to ntstat. Use `ntstat --simulate` or `ntstat replay FILE`, and ' +
            'please report the macOS version (`sw_vers`).',
          { errno },
        );
      }
      throw errnoError(libc, `ioctl(CTLIOCGINFO, "${name}")`, errno);
    }
    const ctlId = new DataView(info.buffer).getUint32(0, true);

    if (libc.connect(fd, encodeSockaddrCtl(ctlId)) < 0) {
      const errno = libc.errno();
      if (errno === e.EPERM || errno === e.EACCES) {
        throw new NtstatError(
          'ERR_NTSTAT_PERMISSION',
          `connect() to ${name} was refused (${errnoName(libc.os, errno)}): a sandbox or security ` +
            'policy blocks kernel controls for this process. Run ntstat from an unsandboxed process, e.g. Terminal.',
          { errno },
        );
      }
      const hint =
        errno === e.EBUSY ? 'no free unit: too many clients are connected to the control' :
        errno === e.ENOENT ? 'the control disappeared between lookup and connect; retry' : '';
      throw errnoError(libc, `connect(${name}, id ${ctlId})`, errno, hint);
    }

    const granted = setLargeReceiveBuffer(libc, fd, options.receiveBufferSize ?? DEFAULT_DARWIN_RECEIVE_BUFFER, warn);
    return new DarwinControlTransport(fd, libc, ctlId, granted, translated);
  } catch (err) {
    libc.close(fd);
    throw err;
  }
}

/**
 * SO_RCVBUF is the only way to a bigger kernel queue (BEHAVIOUR.md §1: sbreserve, limit about
 * kern.ipc.maxsockbuf × 2048/2304; beyond it ENOBUFS). Halve until accepted; warn if reduced.
 */
function setLargeReceiveBuffer(libc: Libc, fd: number, wanted: number, warn: (m: string) => void): number | undefined {
  const c = libc.os;
  const v = new Uint8Array(4);
  let size = wanted;
  for (;;) {
    new DataView(v.buffer).setInt32(0, size, true);
    if (libc.setsockopt(fd, c.SOL_SOCKET, c.SO_RCVBUF, v) === 0) break;
    const errno = libc.errno();
    if ((errno !== c.errno.ENOBUFS && errno !== c.errno.EINVAL) || size / 2 < 65536) {
      warn(`setsockopt(SO_RCVBUF, ${size}) failed (${errnoName(c, errno)}); keeping the kernel's default queue, expect drops under load`);
      return getIntSockopt(libc, fd, c.SO_RCVBUF);
    }
    size = Math.floor(size / 2);
  }
  if (size !== wanted) warn(`SO_RCVBUF ${wanted} refused by the kernel; using ${size} (raise kern.ipc.maxsockbuf for more)`);
  return getIntSockopt(libc, fd, c.SO_RCVBUF);
}

/** sysctl.proc_translated: 1 when an x64 process runs under Rosetta 2; absent (false) on Intel. */
export function isTranslated(libc: Libc): boolean {
  const v = new Uint8Array(4);
  const len = new BigUint64Array([4n]);
  if (libc.sysctlbyname('sysctl.proc_translated', v, len) < 0) return false;
  return new DataView(v.buffer).getInt32(0, true) === 1;
}

export interface KernelVersion {
  /** kern.version, e.g. "Darwin Kernel Version 24.5.0: …; root:xnu-11417.121.6~2/RELEASE_ARM64_T6000". */
  version: string;
  /** kern.osrelease, e.g. "24.5.0". */
  osrelease: string;
  /** kern.osproductversion, e.g. "15.5" (absent on old kernels). */
  osproductversion?: string;
}

/** The strings protocol/dialectFor() needs to choose a wire dialect. */
export function readKernelVersion(libc: Libc = loadLibc()): KernelVersion {
  const version = sysctlString(libc, 'kern.version');
  const osrelease = sysctlString(libc, 'kern.osrelease');
  if (version === undefined || osrelease === undefined) {
    throw errnoError(libc, 'sysctlbyname(kern.version / kern.osrelease)', libc.errno());
  }
  const out: KernelVersion = { version, osrelease };
  const product = sysctlString(libc, 'kern.osproductversion');
  if (product !== undefined) out.osproductversion = product;
  return out;
}

/**
 * sysctl net.stats.stats (world-readable `struct nstat_stats`, 16 u32 counters in B15):
 * `nstat_flush_accumulated_msgs_failures` is the 13th (byte 48). On macOS 15 a failed flush of an
 * aggregated poll batch is otherwise invisible (BEHAVIOUR.md §4); undefined when unreadable.
 */
export function readNstatFlushFailures(libc: Libc = loadLibc()): number | undefined {
  const OFFSET = 48;
  const buf = new Uint8Array(256);
  const len = new BigUint64Array([BigInt(buf.length)]);
  if (libc.sysctlbyname('net.stats.stats', buf, len) < 0 || Number(len[0]) < OFFSET + 4) return undefined;
  return new DataView(buf.buffer).getUint32(OFFSET, true);
}

/** An int sysctl (e.g. net.statistics_privcheck, BEHAVIOUR.md §1); undefined if unreadable. */
export function readIntSysctl(name: string, libc: Libc = loadLibc()): number | undefined {
  const v = new Uint8Array(4);
  const len = new BigUint64Array([4n]);
  if (libc.sysctlbyname(name, v, len) < 0) return undefined;
  return new DataView(v.buffer).getInt32(0, true);
}

/** A string sysctl: ask for its size, then read it; undefined if it does not exist. */
function sysctlString(libc: Libc, name: string): string | undefined {
  const len = new BigUint64Array(1);
  if (libc.sysctlbyname(name, null, len) < 0) return undefined;
  const buf = new Uint8Array(Number(len[0]) + 1);
  len[0] = BigInt(buf.length);
  if (libc.sysctlbyname(name, buf, len) < 0) return undefined;
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? Number(len[0]) : Math.min(end, Number(len[0]))));
}

/** Darwin constants this module uses, for docs and tests. */
export const DARWIN_CONSTANTS = {
  PF_SYSTEM, AF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL, AF_SYS_CONTROL, MAX_KCTL_NAME, CTLIOCGINFO,
  SOL_SOCKET: DARWIN.SOL_SOCKET, SO_RCVBUF: DARWIN.SO_RCVBUF, SO_SNDBUF: DARWIN.SO_SNDBUF,
  MSG_TRUNC: DARWIN.MSG_TRUNC, MSG_DONTWAIT: DARWIN.MSG_DONTWAIT,
  F_GETFD: DARWIN.F_GETFD, F_SETFD: DARWIN.F_SETFD, F_GETFL: DARWIN.F_GETFL, F_SETFL: DARWIN.F_SETFL,
  FD_CLOEXEC: DARWIN.FD_CLOEXEC, O_NONBLOCK: DARWIN.O_NONBLOCK,
} as const;
