/**
 * `top` draws one screen of thousands of streams without sorting or copying them all (issue 17):
 * the partial selection gives exactly the rows a full sort gives (Array.prototype.sort is the
 * oracle), the screen shows the same rows as the plain (fully sorted) table at every scroll
 * position, and the live set kept from the client's events equals the client's own table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { firstInOrder, streamOrder, streamPrimary, totalOrder, SORT_KEYS } from '../src/cli/sort.js';
import { renderTop, type TopModel } from '../src/cli/top-render.js';
import { LiveStreams } from '../src/cli/live-streams.js';
import type { Stream } from '../src/model/stream.js';
import type { ProcessTotal } from '../src/model/process-totals.js';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { SimKernel, SimulationDriver } from '../src/simulator/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { settle } from './helpers/client-sim.js';

/** Rates and totals drawn from few values, so ties (idle streams) are common, as in real tables. */
const streamArb = (id: number) =>
  fc.record({ rate: fc.constantFrom(0, 0, 0, 10, 2048, 0.1 + 0.2, 1e300), tx: fc.constantFrom(0, 5, 0.3), total: fc.constantFrom(0, 100, 5000, 2 ** 53), pid: fc.integer({ min: 1, max: 5 }), name: fc.constantFrom('a', 'b', 'Safari') }).map(
    (r): Stream => ({
      id: String(id), srcref: BigInt(id), provider: 'tcp', providerKind: 'tcp', providerId: 2, userland: false, interface: 'wifi', listener: false, failed: false,
      pid: r.pid, process: r.name, firstSeen: 0, lastUpdated: 0, closed: false, rxBytesPerSec: r.rate, txBytesPerSec: r.tx,
      counts: { rxBytes: r.total, txBytes: r.total >> 1 } as Stream['counts'],
    }),
  );
const streamsArb = fc.integer({ min: 0, max: 300 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => streamArb(i + 1))).map((xs) => fc.shuffledSubarray(xs, { minLength: xs.length, maxLength: xs.length })).chain((x) => x));

test('firstInOrder = the first k of a full sort, for every sort key and direction', () => {
  fc.assert(
    fc.property(streamsArb, fc.constantFrom(...SORT_KEYS), fc.boolean(), fc.integer({ min: 0, max: 320 }), (list, key, reverse, k) => {
      const cmp = streamOrder(key, reverse);
      const before = list.map((s) => s.id);
      const got = firstInOrder(list, cmp, k).map((s) => s.id);
      const want = [...list].sort(cmp).slice(0, k).map((s) => s.id);
      assert.deepEqual(got, want);
      // With the key's number, most streams are skipped without the comparator: same rows.
      const primary = streamPrimary(key, reverse);
      assert.equal(primary === undefined, key === 'name');
      assert.deepEqual(firstInOrder(list, cmp, k, primary).map((s) => s.id), want, 'with the primary key');
      assert.deepEqual(list.map((s) => s.id), before, 'the input is not reordered');
    }),
    { numRuns: 300 },
  );
  const totals: ProcessTotal[] = Array.from({ length: 200 }, (_, i) => ({ key: `pid:${i}`, pid: i, process: `p${i % 7}`, rxBytes: (i * 37) % 11, txBytes: 0, rxPackets: 0, txPackets: 0, liveStreams: 1, totalStreams: 1, rxBytesPerSec: (i * 13) % 3, txBytesPerSec: 0 }));
  for (const key of SORT_KEYS) {
    const cmp = totalOrder(key);
    assert.deepEqual(firstInOrder(totals, cmp, 9).map((t) => t.key), [...totals].sort(cmp).slice(0, 9).map((t) => t.key), key);
  }
});

test('the screen shows the rows of the fully sorted table at every scroll position', () => {
  fc.assert(
    fc.property(streamsArb, fc.constantFrom(...SORT_KEYS), fc.boolean(), fc.integer({ min: 0, max: 400 }), (streams, sort, reverse, scroll) => {
      const m: TopModel = { streams, totals: [], grouping: 'stream', sort, reverse, paused: false, filter: '', header: 'h', drops: 0, raw: true, color: false, columns: 200, rows: 14, scroll };
      const ids = (lines: string[]) => lines.filter((l) => /^\s*\d+ (a|b|Safari) /.test(l)).map((l) => l.trim().split(/\s+/).slice(0, 6).join(' '));
      const plain = ids(renderTop({ ...m, plain: true, columns: Infinity }));
      const screen = ids(renderTop(m));
      const page = 14 - 4;
      const first = Math.max(0, Math.min(scroll, streams.length - page));
      assert.deepEqual(screen, plain.slice(first, first + page));
    }),
    { numRuns: 150 },
  );
});

test('the live set kept from events equals the client table, under churn and kernel drops', async () => {
  for (const [scenario, slow] of [['churn-10k', false], ['backpressure-storm', true]] as const) {
    const kernel = new SimKernel({ dialect: '7195.50.7.100.1', scenario, seed: 11, scale: 0.2 });
    const sim = kernel.connect({ root: false });
    const transport = new MemoryTransport(sim);
    const driver = new SimulationDriver(kernel);
    const client = new NetworkStatisticsClient({ transport, dialect: kernel.dialect, interval: 0, providers: ['tcp', 'udp'], clock: () => kernel.now, receiveBufferSize: slow ? 8192 : 4 << 20, requestTimeout: 3000 });
    const live = new LiveStreams(client);
    try {
      await client.connect();
      await client.sweep();
      let seen = 0;
      for (let i = 0; i < 8; i++) {
        if (slow) transport.pause();
        driver.step(300);
        if (slow) transport.resume();
        await settle();
        await client.sweep();
        const table = client.snapshot().map((s) => s.id).sort();
        assert.deepEqual([...live.values()].map((s) => s.id).sort(), table, `${scenario} step ${i}`);
        for (const s of live.values()) assert.equal(s, client.stream(s.id), 'the live object itself, not a copy');
        seen += table.length;
      }
      assert.ok(seen > 0, `${scenario} produced streams`);
      if (slow) assert.ok(client.getNumDrops() > 0, 'the storm made the kernel drop (resync paths ran)');
    } finally {
      client.stop();
    }
  }
});
