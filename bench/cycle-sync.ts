/**
 * The 10 k poll cycle against a peer that answers like the kernel (issue 17): XNU handles a
 * request synchronously inside the client's send(2) — every reply and the SUCCESS are queued
 * before send() returns (BEHAVIOUR.md §2.1) — so on a Mac a chunk's replies are all waiting when
 * the client next reads, and a chunk costs one wake-up at most. bench/client-cost.ts's fd figure
 * has its simulator in a child process, which answers while the client reads (several wake-ups
 * per chunk, each with a CPU cost of its own on a loaded machine).
 *
 * Here the client's DatagramFdTransport gets a Libc whose send() does the real send(2) on one end
 * of an AF_UNIX socketpair, then lets an in-process simulator read the request from the other end
 * and write every reply back (real syscalls on both ends) before returning. The simulator's share
 * is timed with the thread CPU clock and subtracted, as in the memory-transport figure; like that
 * figure it shares the heap (its garbage's GC counts), so this row is information beside the fd
 * figure, not the judged one. Without a thread CPU clock it is not reported.
 *
 *   npm run build:test && node build/bench/client-cost.js 10000 fd-sync 12
 */
import { NetworkStatisticsClient } from '../src/client/client.js';
import { SendError, SimulationDriver } from '../src/simulator/index.js';
import { DatagramFdTransport, makeNonBlockingCloexec } from '../src/transport/fd.js';
import { loadLibc, type Libc } from '../src/transport/libc.js';
import { openDatagramSocketPair } from '../src/transport/socketpair.js';
import { BENCH_DIALECT, MAX_SIM_RCVBUF, benchKernel } from './world.js';
import { cpuMs, mainThreadMs, settle, summarise, type CycleResult } from './client-cost.js';

export async function cycleCostFdSync(n: number, cycles: number): Promise<CycleResult> {
  const kernel = benchKernel({ dialect: BENCH_DIALECT, scenario: 'long-lived', count: n, seed: 1 });
  const driver = new SimulationDriver(kernel);
  const sim = kernel.connect({ root: false });
  sim.setReceiveBufferSize(MAX_SIM_RCVBUF);
  const real = loadLibc();
  const [mine, theirs] = openDatagramSocketPair({ bufferSize: 4 << 20 });
  makeNonBlockingCloexec(real, theirs);
  const request = new Uint8Array(65536);
  /** One request from the client's side, or undefined (EAGAIN). recvmsg for a Libc without recv (older builds, A/B). */
  const readRequest = (): Uint8Array | undefined => {
    if (!real.recv) return real.recvmsg(theirs, request.length, real.os.MSG_DONTWAIT)?.data;
    const k = real.recv(theirs, request, real.os.MSG_DONTWAIT);
    return k < 0 ? undefined : request.slice(0, k);
  };
  let peerMs = 0;
  let lost = 0;
  /** The kernel's side: records from the model queue to the socket (none is lost at 4 MiB). */
  const pump = () => {
    for (let r = sim.recv(); r; r = sim.recv()) if (real.send(theirs, r.data, real.os.MSG_DONTWAIT) < 0) lost++;
  };
  const libc: Libc = Object.create(real) as Libc;
  libc.send = (fd, data, flags) => {
    const sent = real.send(fd, data, flags);
    if (fd !== mine || sent < 0) return sent;
    const t0 = mainThreadMs() ?? NaN;
    for (let req = readRequest(); req; req = readRequest()) {
      try {
        sim.send(req);
      } catch (e) {
        if (!(e instanceof SendError)) throw e;
      }
    }
    pump();
    peerMs += (mainThreadMs() ?? NaN) - t0;
    return sent;
  };
  const unsubscribe = sim.onReadable(() => setImmediate(pump)); // unsolicited records, if any
  const client = new NetworkStatisticsClient({
    transport: new DatagramFdTransport(mine, { kind: 'socketpair', libc }),
    dialect: BENCH_DIALECT,
    interval: 0,
    providers: ['tcp', 'udp'],
    clock: () => kernel.now,
    receiveBufferSize: MAX_SIM_RCVBUF,
    requestTimeout: 60_000,
  });
  try {
    let updates = 0;
    client.on('update', () => updates++);
    client.on('added', () => undefined);
    client.on('removed', () => undefined);
    await client.connect();
    await client.sweep();
    for (let i = 0; i < 2; i++) {
      driver.step(1000);
      pump();
      await settle();
      await client.sweep();
    }
    const cpu: number[] = [];
    const main: number[] = [];
    const simT: number[] = [];
    const wall: number[] = [];
    let incomplete = 0;
    updates = 0;
    for (let i = 0; i < cycles; i++) {
      driver.step(1000); // the world moves: simulator work, not measured
      pump();
      await settle();
      const p0 = peerMs;
      const w0 = performance.now();
      const m0 = mainThreadMs();
      const c0 = cpuMs();
      if (!(await client.sweep())) incomplete++;
      await settle();
      const c1 = cpuMs();
      const m1 = mainThreadMs();
      const p = peerMs - p0;
      if (m0 !== undefined && m1 !== undefined) main.push(m1 - m0 - p);
      wall.push(performance.now() - w0);
      simT.push(p);
      cpu.push(c1 - c0 - p);
    }
    return {
      transport: 'fd-sync',
      sources: n,
      streams: client.snapshot().length,
      cycles,
      ...summarise(cpu, main, simT, wall),
      updatesPerCycle: updates / cycles,
      incompleteSweeps: incomplete,
      clientDrops: client.dropCounts(),
      kernelDrops: sim.groundTruth({ descriptors: false, counts: false }).dropped.total + lost,
    };
  } finally {
    client.stop();
    unsubscribe();
  }
}
