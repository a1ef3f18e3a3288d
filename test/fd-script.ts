/**
 * A scripted Libc for DatagramFdTransport tests: each recv/recvmsg/send/batch call takes the next
 * scripted step (a result, or an errno), so error paths a healthy socket never shows can be driven
 * exactly, and `calls` records what the transport asked for.
 */
import { DARWIN, type Libc, type Poller, type RecvResult } from '../src/transport/libc.js';
import { pattern } from './transport-contract.js';

export type Step = RecvResult | number; // a result, or an errno for a failed call

/** One batch call: the records it returns (at most `max`; the rest stay queued), or an errno. */
export type BatchStep = RecvResult[] | number;

export interface ScriptOptions {
  viaRecv?: boolean;
  /** Give the Libc a batch receiver scripted by these calls (EAGAIN once they run out). */
  batch?: BatchStep[];
  /** batchReceiver() reports the call missing (undefined). */
  batchMissing?: boolean;
}

export function scripted(os = DARWIN, recvSteps: Step[] = [], sendSteps: Step[] = [], opts: ScriptOptions = {}) {
  let errno = 0;
  let onEvent: ((status: number, disconnect: boolean) => void) | undefined;
  const calls: string[] = [];
  const poller: Poller = {
    start: (cb) => { calls.push('poll.start'); onEvent = cb; },
    stop: () => { calls.push('poll.stop'); onEvent = undefined; },
    close: () => { calls.push('poll.close'); onEvent = undefined; },
  };
  const fail = (e: number) => { errno = e; return -1; };
  const libc: Libc = {
    os,
    errno: () => errno,
    socket: () => fail(os.errno.EPERM),
    socketpair: () => fail(os.errno.EPERM),
    connect: () => 0,
    ioctl: () => 0,
    fcntl: (_fd, cmd) => (cmd === os.F_GETFL ? os.O_NONBLOCK : cmd === os.F_GETFD ? os.FD_CLOEXEC : 0),
    setsockopt: () => 0,
    getsockopt: () => -1,
    send(_fd, data) {
      calls.push('send');
      const s = sendSteps.shift();
      if (typeof s === 'number') return fail(s);
      return data.length;
    },
    recvmsg() {
      calls.push('recvmsg');
      const s = recvSteps.shift() ?? os.errno.EAGAIN;
      if (typeof s === 'number') return (fail(s), null);
      return s;
    },
    close: () => { calls.push('close'); return 0; },
    sysctlbyname: () => fail(os.errno.ENOENT),
    poll: () => poller,
  };
  if (opts.viaRecv) {
    // recv(2) as the kernel does it for a datagram: at most buf.length bytes, the rest discarded.
    libc.recv = (_fd, buf) => {
      calls.push('recv');
      const s = recvSteps.shift() ?? os.errno.EAGAIN;
      if (typeof s === 'number') return fail(s);
      const n = Math.min(s.data.length, buf.length);
      buf.set(s.data.subarray(0, n));
      return n;
    };
  }
  const debug: string[] = [];
  if (opts.batch || opts.batchMissing) {
    const batchSteps = opts.batch ?? [];
    libc.batchReceiver = (slotSize, count) => {
      calls.push(`batchReceiver(${slotSize}, ${count})`);
      if (opts.batchMissing) return undefined;
      const slots = Array.from({ length: count }, () => new Uint8Array(slotSize));
      const lengths = new Array<number>(count).fill(0);
      return {
        call: os.os === 'darwin' ? 'recvmsg_x()' : 'recvmmsg()',
        slots,
        // As the kernel does: each datagram is copied into its slot up to the slot's size, the
        // rest discarded; the length is what landed in the slot.
        receive(_fd, max) {
          calls.push(`batch(${max})`);
          const step = batchSteps.shift() ?? os.errno.EAGAIN;
          if (typeof step === 'number') return fail(step);
          if (step.length > max) batchSteps.unshift(step.slice(max));
          const got = step.slice(0, max);
          got.forEach((r, i) => {
            const n = Math.min(r.data.length, slotSize);
            slots[i].set(r.data.subarray(0, n));
            lengths[i] = n;
          });
          return got.length;
        },
        length: (i) => lengths[i],
      };
    };
  }
  return {
    libc,
    calls,
    debug,
    onDebug: (m: string) => debug.push(m),
    fire: (status = 0, disconnect = false) => onEvent?.(status, disconnect),
  };
}

export const rec = (n: number, flags = 0): RecvResult => ({ data: pattern(n, 20), flags });
