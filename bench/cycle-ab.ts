/**
 * A/B of the 10 k poll cycle between two builds in one process (issue 17): on a shared, loaded
 * machine two processes run in different minutes see different loads, so the two builds' clients
 * run side by side here instead, each against its own simulator child (bench/world.ts serve-fd,
 * over a real socketpair, as bench/client-cost.ts's fd figure), and their sweeps alternate. Only
 * the sweeps are timed: process CPU and the JS thread's CPU clock. Both clients share one heap,
 * so what less garbage saves shows only in part.
 *
 *   npm run build:test && node build/bench/cycle-ab.js OLD_BUILD NEW_BUILD [sources=10000] [sweeps=20]
 *
 * where a build is the `build/` directory of a checkout (`npm run build:test` there).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuMs, mainThreadMs, settle } from './client-cost.js';

interface Side {
  build: string;
  stop(): Promise<void>;
  step(): Promise<void>;
  sweep(): Promise<unknown>;
  cpu: number[];
  thread: number[];
}

/* eslint-disable @typescript-eslint/no-explicit-any */
async function side(build: string, n: number): Promise<Side> {
  const url = (p: string) => pathToFileURL(resolve(build, p)).href;
  const { NetworkStatisticsClient } = (await import(url('src/client/client.js'))) as any;
  const { DatagramFdTransport } = (await import(url('src/transport/fd.js'))) as any;
  const { BENCH_DIALECT, MAX_SIM_RCVBUF, startSimHost } = (await import(url('bench/world.js'))) as any;
  const host = await startSimHost({ dialect: BENCH_DIALECT, scenario: 'long-lived', count: n, seed: 1 });
  const client = new NetworkStatisticsClient({
    transport: new DatagramFdTransport(host.fd, { kind: 'socketpair' }),
    dialect: BENCH_DIALECT,
    interval: 0,
    providers: ['tcp', 'udp'],
    clock: () => host.now,
    receiveBufferSize: MAX_SIM_RCVBUF,
    requestTimeout: 60_000,
  });
  client.on('update', () => undefined);
  client.on('added', () => undefined);
  await client.connect();
  await client.sweep();
  return {
    build,
    cpu: [],
    thread: [],
    step: () => host.step(1000),
    sweep: () => client.sweep(),
    async stop() {
      client.stop();
      await host.close();
    },
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `min ${s[0].toFixed(1)} median ${s[s.length >> 1].toFixed(1)} ms`;
};

async function main(): Promise<void> {
  const [a, b] = process.argv.slice(2, 4);
  if (!a || !b) throw new Error('usage: node build/bench/cycle-ab.js OLD_BUILD NEW_BUILD [sources] [sweeps]');
  const n = Number(process.argv[4] ?? 10_000);
  const sweeps = Number(process.argv[5] ?? 20);
  const sides = [await side(a, n), await side(b, n)];
  try {
    // Unmeasured: JIT warm-up, and every source has had a counts sample.
    for (const s of sides) {
      for (let i = 0; i < 3; i++) {
        await s.step();
        await s.sweep();
      }
    }
    for (let i = 0; i < sweeps; i++) {
      for (const s of i % 2 ? sides : [...sides].reverse()) {
        await s.step();
        await settle();
        const c0 = cpuMs();
        const t0 = mainThreadMs();
        await s.sweep();
        await settle();
        const t1 = mainThreadMs();
        s.cpu.push(cpuMs() - c0);
        if (t0 !== undefined && t1 !== undefined) s.thread.push(t1 - t0);
      }
    }
    for (const s of sides) console.log(`${s.build}: process ${stats(s.cpu)}${s.thread.length ? `; JS thread ${stats(s.thread)}` : ''} (${sweeps} sweeps of ${n} sources)`);
  } finally {
    for (const s of sides) await s.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
