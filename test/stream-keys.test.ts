/**
 * The shape users see of a Stream does not change with how it is stored (issue 17, heap per
 * stream): at every `added`, `update` and `removed` event, for every provider the simulator
 * produces (kernel/userland TCP and UDP, QUIC, UDP subflows, CONN, route), the stream's own
 * enumerable keys — in order — and those of its `descriptor` and `counts` are one of the shapes
 * recorded in test/fixtures/stream-keys.json, and every recorded shape still occurs.
 *
 * The fixture was recorded from the build before the heap work (main at 742a64d), whose shapes
 * follow DESIGN.md §4 (absent data omitted); it is a regression lock, not derived from the code
 * it checks. Re-record only for a deliberate contract change:
 *   NTSTAT_RECORD_STREAM_KEYS=1 node --test build/test/stream-keys.test.js
 * The worlds are seeded and driven by simulated time, so the shapes seen are deterministic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { fileURLToPath } from 'node:url';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { SimKernel, SimulationDriver } from '../src/simulator/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import type { Stream } from '../src/model/stream.js';
import { ALL_PROVIDERS, settle } from './helpers/client-sim.js';

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/stream-keys.json', import.meta.url));
const WORLDS: [dialect: string, scenario: string][] = [
  ['d10002', 'idle-laptop'],
  ['d10002', 'browser-burst'],
  ['d10002', 'server'],
  ['d10002', 'udp-heavy'],
  // Old layouts: counts without per-medium fields (toStreamCounts' second shape), 32-bit srcrefs.
  ['d2422', 'idle-laptop'],
  ['d2050', 'server'],
];

function shapeOf(event: string, s: Stream): string {
  const keys = (o: object | undefined) => (o ? Object.keys(o).join(',') : '-');
  return `${s.providerKind} ${event}: ${keys(s)} | descriptor: ${keys(s.descriptor)} | counts: ${keys(s.counts)}`;
}

async function shapesOf(dialect: string, scenario: string, plain?: (s: Stream) => void): Promise<string[]> {
  const kernel = new SimKernel({ dialect, scenario, seed: 11, scale: 0.3 });
  const sim = kernel.connect({ root: true });
  const driver = new SimulationDriver(kernel);
  const client = new NetworkStatisticsClient({
    transport: new MemoryTransport(sim),
    dialect: kernel.dialect,
    interval: 0,
    providers: ALL_PROVIDERS,
    clock: () => kernel.now,
    receiveBufferSize: 4 << 20,
    requestTimeout: 3000,
  });
  const seen = new Set<string>();
  for (const event of ['added', 'update', 'removed'] as const) client.on(event, (s: Stream) => seen.add(shapeOf(event, s)));
  try {
    await client.connect();
    await client.sweep();
    for (let i = 0; i < 15; i++) {
      driver.step(500);
      await settle();
      await client.sweep();
    }
    if (plain) for (const s of client.snapshot()) plain(s);
  } finally {
    client.stop();
  }
  return [...seen].sort();
}

test('stream, descriptor and counts keys at added/update/removed are the recorded ones', async () => {
  const got: Record<string, string[]> = {};
  for (const [d, sc] of WORLDS) got[`${d} ${sc}`] = await shapesOf(d, sc);
  if (process.env.NTSTAT_RECORD_STREAM_KEYS) {
    writeFileSync(FIXTURE, JSON.stringify(got, null, 1) + '\n');
    return;
  }
  const want = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, string[]>;
  assert.deepEqual(Object.keys(got), Object.keys(want));
  for (const world of Object.keys(want)) assert.deepEqual(got[world], want[world], world);
  // The worlds cover the lifecycle of every provider kind the issue names.
  const all = Object.values(want).flat().join('\n');
  for (const kind of ['tcp', 'tcpUserland', 'udp', 'udpUserland', 'udpSubflow', 'quic', 'conn', 'route']) {
    for (const ev of ['added', 'update', 'removed']) {
      // Subflows and routes outlive these worlds.
      if ((kind === 'udpSubflow' || kind === 'route') && ev === 'removed') continue;
      if (kind === 'conn' && ev === 'update') continue; // CONN sources carry no changing counts here
      assert.ok(all.includes(`\n${kind} ${ev}: `) || all.startsWith(`${kind} ${ev}: `), `${kind} ${ev} is covered`);
    }
  }
});

test('streams are plain objects: Object.prototype, deep-equal to a literal copy, printed without a class name', async () => {
  // Streams are built by a constructor whose prototype is Object.prototype (model/stream.ts,
  // StreamRecord): nothing of that may show.
  let checked = 0;
  let zeroRtt = 0;
  await shapesOf('d10002', 'idle-laptop', (s) => {
    assert.equal(Object.getPrototypeOf(s), Object.prototype);
    assert.equal(s.constructor, Object);
    assert.deepStrictEqual(s, { ...s });
    assert.deepStrictEqual({ ...s }, s);
    assert.ok(inspect(s, { depth: 0 }).startsWith('{'), inspect(s, { depth: 0 }).slice(0, 40));
    assert.equal(Object.prototype.toString.call(s), '[object Object]');
    // Counts come from a constructor (model/stream.ts, CountsRecord): nothing of that may show.
    for (const o of [s.counts, s.descriptor]) {
      if (!o) continue;
      assert.equal(Object.getPrototypeOf(o), Object.prototype);
      assert.deepStrictEqual(o, { ...o });
      assert.ok(inspect(o, { depth: 0 }).startsWith('{'));
    }
    if (s.counts && s.counts.minRtt === 0) zeroRtt++;
    checked++;
  });
  assert.ok(checked > 50, `${checked} streams checked`);
  assert.ok(zeroRtt > 10, `${zeroRtt} streams with counts without RTT checked`);
});
