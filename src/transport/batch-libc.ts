/**
 * Batch socket calls through koffi: Linux recvmmsg(2)/sendmmsg(2) and Darwin recvmsg_x (issue 17:
 * one syscall per wake-up instead of one per record).
 *
 * Every buffer the kernel reads or writes is JS memory: an `ArrayBuffer`'s backing store never
 * moves, so its address (koffi.address) can sit inside the header and iovec arrays. Nothing here
 * is ever freed by hand, so a borrowed view of a slot stays valid memory for as long as it is held.
 *
 * Layouts (LP64, little-endian: x86-64 and arm64 on both systems):
 *  - glibc `struct mmsghdr` = `struct msghdr` (56 bytes: iov@16, iovlen size_t@24, flags@48) then
 *    `unsigned msg_len`@56, padded to 64 (include/linux/socket.h).
 *  - Darwin `struct msghdr_x` (XNU bsd/sys/socket_private.h): name@0, namelen u32@8, iov@16,
 *    iovlen int@24, control@32, controllen u32@40, flags int@44, datalen size_t@48 = 56 bytes.
 *  - `struct iovec` = { base@0, len size_t@8 } = 16 bytes on both.
 */
import type { BatchReceiver, BatchSender, KoffiLike, OsConstants } from './libc.js';

type CFunction = (...args: unknown[]) => unknown;

/** Per-OS header layout of one batch element. */
export interface BatchHeaderLayout {
  size: number;
  iov: number;
  iovlen: number;
  iovlenSize: 4 | 8;
  flags: number;
  /** Where the kernel writes the datagram's length (low 32 bits of datalen on Darwin). */
  length: number;
}

export const LINUX_MMSGHDR: BatchHeaderLayout = { size: 64, iov: 16, iovlen: 24, iovlenSize: 8, flags: 48, length: 56 };
export const DARWIN_MSGHDR_X: BatchHeaderLayout = { size: 56, iov: 16, iovlen: 24, iovlenSize: 4, flags: 44, length: 48 };

/** Slots start on page boundaries: a record touches as few pages as its length needs (RSS). */
const PAGE = 4096;

/** The address of an ArrayBuffer's bytes (stable: backing stores do not move). */
function addressOf(koffi: KoffiLike, buf: ArrayBuffer): bigint {
  if (typeof koffi.address !== 'function') throw new Error('koffi.address is missing (koffi >= 2.7 needed)');
  return koffi.address(buf);
}

/**
 * Fill `hdrs` (count elements of `layout`) so element i reads into iovec i of `iov`, one iovec
 * each. Name and control stay NULL/0 (ntstat needs neither).
 */
function linkHeaders(hdrs: ArrayBuffer, layout: BatchHeaderLayout, count: number, iovAddr: bigint): void {
  const dv = new DataView(hdrs);
  for (let i = 0; i < count; i++) {
    const at = i * layout.size;
    dv.setBigUint64(at + layout.iov, iovAddr + BigInt(i * 16), true);
    if (layout.iovlenSize === 8) dv.setBigUint64(at + layout.iovlen, 1n, true);
    else dv.setInt32(at + layout.iovlen, 1, true);
  }
}

export function makeBatchReceiver(
  koffi: KoffiLike,
  os: OsConstants,
  fn: CFunction,
  slotSize: number,
  count: number,
): BatchReceiver {
  const layout = os.os === 'darwin' ? DARWIN_MSGHDR_X : LINUX_MMSGHDR;
  const stride = Math.ceil(slotSize / PAGE) * PAGE;
  // Untouched pages of this buffer are never made resident: a slot costs what its records use.
  const data = new ArrayBuffer(stride * count);
  const base = addressOf(koffi, data);
  const slots = Array.from({ length: count }, (_, i) => new Uint8Array(data, i * stride, slotSize));
  const iovBuf = new ArrayBuffer(16 * count);
  const iov = new BigUint64Array(iovBuf);
  for (let i = 0; i < count; i++) {
    iov[2 * i] = base + BigInt(i * stride);
    iov[2 * i + 1] = BigInt(slotSize);
  }
  const hdrBuf = new ArrayBuffer(layout.size * count);
  linkHeaders(hdrBuf, layout, count, addressOf(koffi, iovBuf));
  const hdrs = new Uint8Array(hdrBuf);
  const words = new Uint32Array(hdrBuf);
  const lengthWord = layout.length >> 2;
  const flagsWord = layout.flags >> 2;
  const stepWords = layout.size >> 2;
  const darwin = os.os === 'darwin';
  return {
    call: darwin ? 'recvmsg_x()' : 'recvmmsg()',
    slots,
    receive(fd, max, flags) {
      // iovBuf must outlive every call: this closure holds it.
      void iovBuf;
      if (darwin) {
        // recvmsg_x_array (the SO_DONTTRUNC path) refuses a header whose msg_flags is not zero,
        // and the kernel writes flags back into the headers it used.
        for (let i = 0; i < max; i++) words[i * stepWords + flagsWord] = 0;
        return Number(fn(fd, hdrs, max, flags));
      }
      return Number(fn(fd, hdrs, max, flags, null));
    },
    length: (i) => words[i * stepWords + lengthWord],
  };
}

/** Linux sendmmsg: datagrams are copied into one staging buffer the iovecs point into. */
export function makeBatchSender(koffi: KoffiLike, fn: CFunction): BatchSender {
  const layout = LINUX_MMSGHDR;
  let capacity = 0;
  let stage = new Uint8Array(0);
  let stageAddr = 0n;
  let iov = new BigUint64Array(0);
  let iovBuf = new ArrayBuffer(0);
  let hdrs = new Uint8Array(0);
  let slots = 0;
  const ensure = (n: number, bytes: number) => {
    if (n > slots) {
      slots = Math.max(n, 64);
      iovBuf = new ArrayBuffer(16 * slots);
      iov = new BigUint64Array(iovBuf);
      const hdrBuf = new ArrayBuffer(layout.size * slots);
      linkHeaders(hdrBuf, layout, slots, addressOf(koffi, iovBuf));
      hdrs = new Uint8Array(hdrBuf);
    }
    if (bytes > capacity) {
      capacity = Math.max(bytes, 1 << 18);
      const buf = new ArrayBuffer(capacity);
      stage = new Uint8Array(buf);
      stageAddr = addressOf(koffi, buf);
    }
  };
  return {
    send(fd, datagrams, flags) {
      // UIO_MAXIOV (1024): the kernel silently sends no more than that per call.
      const n = Math.min(datagrams.length, 1024);
      if (n === 0) return 0;
      let bytes = 0;
      for (let i = 0; i < n; i++) bytes += (datagrams[i].length + 7) & ~7;
      ensure(n, bytes);
      let at = 0;
      for (let i = 0; i < n; i++) {
        const d = datagrams[i];
        stage.set(d, at);
        iov[2 * i] = stageAddr + BigInt(at);
        iov[2 * i + 1] = BigInt(d.length);
        at += (d.length + 7) & ~7;
      }
      return Number(fn(fd, hdrs, n, flags));
    },
  };
}
