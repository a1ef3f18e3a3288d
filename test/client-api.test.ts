/**
 * Both API surfaces (the libntstat-compatible listener and the idiomatic EventEmitter/iterator)
 * pass the same behavioural checks against the simulator.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkStatisticsClient, createNetworkStatisticsClient } from '../src/index.js';
import type { Stream } from '../src/model/stream.js';
import { SimKernel, SimulationDriver } from '../src/simulator/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { NtstatError } from '../src/errors.js';
import { settle } from './helpers/client-sim.js';

interface Seen {
  added: Stream[];
  removed: Stream[];
  updates: number;
}

/** Drive a surface for a while; returns what it saw and the kernel for comparison. */
type Surface = (kernel: SimKernel, transport: MemoryTransport, seen: Seen) => Promise<{ stop(): void; drops(): number; done: Promise<void> }>;

const idiomatic: Surface = async (kernel, transport, seen) => {
  const c = new NetworkStatisticsClient({ transport, dialect: kernel.dialect, interval: 50, providers: ['tcp'], clock: () => kernel.now });
  c.on('added', (s: Stream) => seen.added.push(s));
  c.on('removed', (s: Stream) => seen.removed.push(s));
  c.on('update', () => seen.updates++);
  await c.connect();
  return { stop: () => c.stop(), drops: () => c.getNumDrops(), done: c.closed() };
};

const compat: Surface = async (kernel, transport, seen) => {
  const c = createNetworkStatisticsClient(
    {
      onStreamAdded: (s) => seen.added.push(s),
      onStreamRemoved: (s) => seen.removed.push(s),
      onStreamStatsUpdate: () => seen.updates++,
    },
    { transport, dialect: kernel.dialect, clock: () => kernel.now },
  );
  c.configure(true, false, 0.05);
  assert.equal(c.isConnected(), false);
  assert.equal(await c.connectToKernel(), true, String(c.lastError()));
  assert.equal(c.isConnected(), true);
  return { stop: () => c.stop(), drops: () => c.getNumDrops(), done: c.run() };
};

for (const [name, surface] of [['idiomatic', idiomatic], ['libntstat-compatible', compat]] as const) {
  describe(`${name} surface`, () => {
    test('streams arrive with process and addresses, closed ones leave with final counters; stop ends run()', async (t) => {
      const kernel = new SimKernel({ dialect: '4570.1.46', scenario: 'browser-burst', seed: 3, scale: 0.3 });
      const sim = kernel.connect();
      const transport = new MemoryTransport(sim);
      const seen: Seen = { added: [], removed: [], updates: 0 };
      const driver = new SimulationDriver(kernel);
      const s = await surface(kernel, transport, seen);
      // A failed assertion must not leave the client's poll timer running: the file would never exit.
      t.after(() => s.stop());
      // At least 30 steps of 100 ms; then more (bounded by steps, not by this machine's speed)
      // until the client's real 50 ms poll timer has caught up: under load ~14 on 2 cores the
      // first 30 steps once passed before any poll had reported an update.
      const enough = (): boolean => seen.updates > 0 && seen.added.length > 5 && seen.removed.some((x) => (x.counts?.rxBytes ?? 0) > 0);
      for (let i = 0; i < 300 && (i < 30 || !enough()); i++) {
        driver.step(100);
        await new Promise((r) => setTimeout(r, 10));
      }
      await settle();
      assert.ok(seen.added.length > 5, `${seen.added.length} added`);
      assert.ok(seen.added.every((x) => x.provider === 'tcp'), 'only TCP was asked for');
      assert.ok(seen.added.some((x) => x.process && x.pid && x.remote), 'process and addresses');
      assert.ok(seen.removed.length > 0, 'closed connections reported');
      assert.ok(seen.removed.some((x) => (x.counts?.rxBytes ?? 0) > 0), 'final counters on removal');
      assert.ok(seen.updates > 0);
      const addedIds = new Set(seen.added.map((x) => x.id));
      assert.ok(seen.removed.every((x) => addedIds.has(x.id)), 'nothing removed that was not added');
      assert.equal(s.drops(), 0);
      s.stop();
      await s.done; // run() / closed() resolve on stop
    });

    test('the kernel closing the socket ends run()', async () => {
      const kernel = new SimKernel({ dialect: 'd10002', scenario: 'idle-laptop', seed: 1, scale: 0.1 });
      const sim = kernel.connect();
      const transport = new MemoryTransport(sim);
      const seen: Seen = { added: [], removed: [], updates: 0 };
      const s = await surface(kernel, transport, seen);
      sim.close();
      transport.close();
      await s.done;
    });
  });
}

describe('idiomatic extras', () => {
  test('events() iterates stream events and ends when the client stops; AbortSignal stops it', async () => {
    const kernel = new SimKernel({ dialect: 'd8019_61', scenario: 'idle-laptop', seed: 2, scale: 0.1 });
    const ac = new AbortController();
    const c = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel.connect()), dialect: kernel.dialect, interval: 0, signal: ac.signal, clock: () => kernel.now });
    const it = c.events();
    await c.connect();
    await c.sweep();
    const types: string[] = [];
    const reading = (async () => {
      for await (const ev of it) types.push(ev.type);
    })();
    await c.sweep();
    ac.abort();
    await reading;
    assert.equal(c.state, 'closed');
    assert.ok(types.length > 0 && types.every((t) => ['added', 'update', 'removed', 'drop'].includes(t)));
    assert.equal(types[0], 'added');
    assert.ok(c.snapshot().length > 0, 'the table stays readable after stop');
  });

  test('privileged providers are refused with a typed reason when not root, available as root', async () => {
    for (const root of [false, true]) {
      const kernel = new SimKernel({ dialect: 'd10002', kernelVersion: '10063.141.1', scenario: 'bare' });
      const c = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel.connect({ root })), dialect: kernel.dialect, interval: 0, providers: ['tcp', 'conn', 'udpSubflow', 'sysinfo'] });
      await c.connect();
      const st = new Map(c.providers().map((p) => [p.provider, p]));
      assert.equal(st.get('tcp')!.available, true);
      for (const p of ['conn', 'udpSubflow', 'sysinfo'] as const) {
        assert.equal(st.get(p)!.available, root, `${p} root=${root}`);
        if (!root) {
          assert.equal(st.get(p)!.errno, 1, 'EPERM (BEHAVIOUR.md §1)');
          assert.match(st.get(p)!.reason!, /root/);
        }
      }
      c.stop();
    }
  });

  test('providers the kernel does not have are unavailable, not fatal; none at all is a typed error', async () => {
    const kernel = new SimKernel({ dialect: 'd3789', scenario: 'bare' });
    const c = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel.connect()), dialect: kernel.dialect, interval: 0, providers: ['tcp', 'quic', 'conn'] });
    await c.connect();
    const st = new Map(c.providers().map((p) => [p.provider, p]));
    assert.equal(st.get('tcp')!.available, true);
    assert.equal(st.get('quic')!.available, false, 'QUIC_USERLAND arrives in 10.15 (header 6153)');
    assert.match(st.get('quic')!.reason!, /not in this kernel/);
    c.stop();
    const k2 = new SimKernel({ dialect: 'd10002', scenario: 'bare' });
    const c2 = new NetworkStatisticsClient({ transport: new MemoryTransport(k2.connect()), dialect: k2.dialect, interval: 0, providers: ['sysinfo', 'conn'] });
    await assert.rejects(c2.connect(), (e: unknown) => e instanceof NtstatError && e.code === 'ERR_NTSTAT_PERMISSION');
  });

  test('off macOS without a transport: connect rejects ERR_NTSTAT_UNSUPPORTED_OS naming the simulator and replay', async (t) => {
    if (process.platform === 'darwin') return t.skip('this is macOS');
    const c = new NetworkStatisticsClient();
    await assert.rejects(c.connect(), (e: unknown) => e instanceof NtstatError && e.code === 'ERR_NTSTAT_UNSUPPORTED_OS' && /simulat/.test(e.message) && /replay/.test(e.message));
    const compatClient = createNetworkStatisticsClient({ onStreamAdded() {}, onStreamRemoved() {}, onStreamStatsUpdate() {} });
    assert.equal(await compatClient.connectToKernel(), false);
    assert.equal((compatClient.lastError() as NtstatError).code, 'ERR_NTSTAT_UNSUPPORTED_OS');
  });
});
