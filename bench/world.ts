/**
 * Benchmark worlds and the out-of-process simulator host.
 *
 *  - `longLivedWorld(n)`: a Scenario with `n` long-lived kernel sockets (70 % established TCP,
 *    30 % connected UDP, IPv4/IPv6) that all moved some bytes once, then a steady trickle of
 *    traffic on a random `activeShare` of them per simulated second. Nothing opens or closes, so
 *    every poll cycle reports exactly `n` sources.
 *  - `node build/bench/world.js serve-fd '<json HostConfig>'`: a child process that builds a
 *    SimKernel and serves it on fd 3 (one end of a socketpair the parent passed in) with
 *    `serveSimulatorOverFd`, driven by IPC messages from the parent. The simulator's CPU and heap
 *    then live in another process, so the parent's `process.cpuUsage()`/`heapUsed` are the
 *    client's alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Endpoint } from '../src/protocol/index.js';
import { SimKernel, SimulationDriver, TCPS, type KernelSocket, type Scenario } from '../src/simulator/index.js';
import { toolkit } from '../src/simulator/scenarios/index.js';
import { serveSimulatorOverFd } from '../src/simulator/fd-server.js';
import { loadLibc } from '../src/transport/libc.js';
import { FdEndpoint, openDatagramSocketPair } from '../src/transport/socketpair.js';

/** The dialect every client benchmark uses: the CLI's `--simulate` default (macOS 14 layout). */
export const BENCH_DIALECT = 'd10002';

/**
 * Largest SO_RCVBUF the simulated kctl accepts: sbreserve fails above
 * sb_max × MCLBYTES / (MSIZE + MCLBYTES) = 8 MiB × 2048 / 2304 ≈ 7.1 MiB (sockbuf.ts), so the
 * "64 MiB" a client might ask for is ENOBUFS there (and on a Mac with the default sb_max).
 */
export const MAX_SIM_RCVBUF = 7 << 20;

export interface LongLivedOptions {
  /** Share of the sources that transfer bytes in any simulated second (default 0.1). */
  activeShare?: number;
  /** Share of TCP among the sources (default 0.7). */
  tcpShare?: number;
}

export function longLivedWorld(count: number, opts: LongLivedOptions = {}): Scenario {
  const activeShare = opts.activeShare ?? 0.1;
  const tcpShare = opts.tcpShare ?? 0.7;
  return {
    name: `long-lived-${count}`,
    description: `${count} long-lived idle kernel TCP/UDP sockets, ${Math.round(activeShare * 100)} % of them moving bytes each second`,
    install(ctx) {
      const { world: w, rng } = ctx;
      const n = Math.max(1, Math.round(count * ctx.scale));
      const m = toolkit.standardMachine(w);
      const apps = new toolkit.AppPool(ctx);
      const remotes: Endpoint[] = Array.from({ length: 4096 }, () => toolkit.remoteFor(rng, rng.chance(0.3) ? 6 : 4, rng.pick([443, 443, 443, 80, 993, 5223, 8443])));
      const socks: KernelSocket[] = [];
      for (let i = 0; i < n; i++) {
        const { proc } = apps.pick();
        const remote = remotes[rng.int(0, remotes.length - 1)];
        if (rng.chance(tcpShare)) {
          const s = w.tcpSocket(proc, remote.family);
          w.tcpConnect(s, remote, m.primary, rng.logUniform(8, 180));
          w.tcpSetState(s, TCPS.ESTABLISHED);
          w.transfer(s, rng.int(2_000, 200_000), rng.int(500, 20_000));
          socks.push(s);
        } else {
          const s = w.udpSocket(proc, remote.family);
          w.udpConnect(s, { ...remote, port: rng.pick([53, 123, 443, 3478]) }, m.primary);
          w.transfer(s, rng.int(100, 20_000), rng.int(100, 5_000));
          socks.push(s);
        }
      }
      // Every 100 ms, a tenth of the per-second active share moves bytes.
      const perTick = (n * activeShare) / 10;
      let carry = 0;
      toolkit.periodic(
        ctx,
        100,
        () => {
          carry += perTick;
          for (; carry >= 1; carry--) {
            const s = socks[rng.int(0, socks.length - 1)];
            if (s.pcbDead) continue;
            w.transfer(s, rng.logUniform(60, 60_000), rng.logUniform(40, 8_000));
            if (s.kind === 'tcp') w.setRtt(s, rng.logUniform(8, 180));
          }
        },
        0,
      );
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Out-of-process simulator host

export interface HostConfig {
  dialect: string;
  /** A shipped scenario name, or `long-lived` (then `count`). */
  scenario: string;
  count?: number;
  activeShare?: number;
  seed?: number;
  /** Simulated ms to advance before the client connects (shipped scenarios need a warm-up). */
  warmupMs?: number;
  rcvbuf?: number;
}

type ToHost = { type: 'step'; ms: number; sliceMs?: number; id: number } | { type: 'truth'; id: number } | { type: 'cpu'; id: number } | { type: 'exit' };
export interface HostTruth {
  now: number;
  dropped: number;
  sources: number;
  alive: number;
  producedMessages: number;
  recordsSent: number;
  cpuMs: number;
}
type FromHost =
  | { type: 'ready'; now: number; xnu: string }
  | { type: 'stepped'; id: number; now: number; cpuMs: number }
  | { type: 'cpu'; id: number; now: number; cpuMs: number }
  | ({ type: 'truth'; id: number } & HostTruth);

function buildKernel(c: HostConfig): SimKernel {
  const scenario = c.scenario === 'long-lived' ? longLivedWorld(c.count ?? 1000, { activeShare: c.activeShare }) : c.scenario;
  const kernel = new SimKernel({ dialect: c.dialect, scenario, seed: c.seed ?? 1 });
  if (c.warmupMs) kernel.advance(c.warmupMs);
  return kernel;
}

function hostMain(config: HostConfig): void {
  const kernel = buildKernel(config);
  const driver = new SimulationDriver(kernel);
  const sim = kernel.connect({ root: false });
  sim.setReceiveBufferSize(config.rcvbuf ?? MAX_SIM_RCVBUF);
  // 'eager': records go to the socketpair as fast as it takes them, like the kernel filling the
  // client's (large) receive buffer; the model queue keeps what the socket cannot take yet.
  const server = serveSimulatorOverFd(sim, new FdEndpoint(3), { pace: 'eager' });
  const send = (m: FromHost) => process.send!(m);
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  process.on('message', (m: ToHost) => {
    if (m.type === 'step') {
      const c0 = cpu();
      driver.step(m.ms, m.sliceMs ?? m.ms);
      send({ type: 'stepped', id: m.id, now: kernel.now, cpuMs: cpu() - c0 });
    } else if (m.type === 'cpu') {
      send({ type: 'cpu', id: m.id, now: kernel.now, cpuMs: cpu() });
    } else if (m.type === 'truth') {
      const t = sim.groundTruth({ descriptors: false, counts: false });
      let alive = 0;
      for (const s of t.sources.values()) if (s.alive) alive++;
      send({ type: 'truth', id: m.id, now: kernel.now, dropped: t.dropped.total, sources: t.sources.size, alive, producedMessages: t.producedMessages, recordsSent: server.stats.recordsSent, cpuMs: cpu() });
    } else if (m.type === 'exit') {
      server.close();
      process.disconnect();
    }
  });
  // The parent gone (or done): stop serving and exit, never linger as an orphan.
  process.on('disconnect', () => server.close());
  server.closed.then(() => process.exit(0));
  send({ type: 'ready', now: kernel.now, xnu: kernel.profile.xnu.join('.') });
}

/** The parent's handle on a simulator host child. */
export interface SimHost {
  /** The parent's end of the socketpair (give it to a DatagramFdTransport). */
  fd: number;
  xnu: string;
  /** Simulated time as last reported by the child. */
  now: number;
  child: ChildProcess;
  /** Advance simulated time in the child; resolves with the child's CPU ms for the step. */
  step(ms: number, sliceMs?: number): Promise<number>;
  truth(): Promise<HostTruth>;
  /** The child's total CPU ms so far. */
  cpu(): Promise<number>;
  close(): Promise<void>;
}

export async function startSimHost(config: HostConfig): Promise<SimHost> {
  const [mine, theirs] = openDatagramSocketPair({ bufferSize: 4 << 20 });
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve-fd', JSON.stringify(config)], {
    stdio: ['ignore', 'inherit', 'inherit', theirs, 'ipc'],
  });
  loadLibc().close(theirs);
  let nextId = 1;
  const waiting = new Map<number, (m: FromHost) => void>();
  let onReady: ((m: FromHost & { type: 'ready' }) => void) | undefined;
  let failed: ((e: Error) => void) | undefined;
  child.on('message', (m: FromHost) => {
    if (m.type === 'ready') onReady?.(m);
    else {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      w?.(m);
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.once('exit', (code) => failed?.(new Error(`simulator host exited (${code})`)));
  const ready = await new Promise<FromHost & { type: 'ready' }>((resolve, reject) => {
    onReady = resolve;
    failed = reject;
  });
  const ask = <T extends FromHost>(msg: ToHost & { id: number }): Promise<T> =>
    new Promise<T>((resolve) => {
      waiting.set(msg.id, (m) => resolve(m as T));
      child.send(msg);
    });
  const host: SimHost = {
    fd: mine,
    xnu: ready.xnu,
    now: ready.now,
    child,
    async step(ms, sliceMs) {
      const r = await ask<FromHost & { type: 'stepped' }>({ type: 'step', ms, sliceMs, id: nextId++ });
      host.now = r.now;
      return r.cpuMs;
    },
    async truth() {
      const r = await ask<FromHost & { type: 'truth' }>({ type: 'truth', id: nextId++ });
      host.now = r.now;
      return r;
    },
    async cpu() {
      const r = await ask<FromHost & { type: 'cpu' }>({ type: 'cpu', id: nextId++ });
      return r.cpuMs;
    },
    async close() {
      failed = undefined;
      if (child.exitCode === null && child.connected) child.send({ type: 'exit' });
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
  failed = undefined;
  return host;
}

/** A kernel for in-process benchmarks (same worlds as the host). */
export function benchKernel(config: HostConfig): SimKernel {
  return buildKernel(config);
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'serve-fd') {
  hostMain(JSON.parse(process.argv[3]) as HostConfig);
}
