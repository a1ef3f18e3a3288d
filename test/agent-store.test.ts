/**
 * The "done when", in process: the agent records the simulator into a real SQLite file and
 * `usage --by process` equals the ground truth (the sum of every flow's true final counters,
 * closed flows included) after a clean stop; after a crash (no final flush) and a restart on a new
 * connection, exactly the growth the crash could not have stored is missing and nothing counts
 * twice; and after a roll-up. The clock is injected (simulated time anchored at a fixed instant).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { SimKernel, SimulationDriver } from '../src/simulator/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { UsageAgent } from '../src/agent/usage-agent.js';
import { UsageStore } from '../src/store/usage-store.js';
import { settle } from './helpers/client-sim.js';
import { kernelName, trackFlows, type FlowTracker } from './helpers/usage-truth.js';

const dir = mkdtempSync(join(tmpdir(), 'ntstat-agent-store-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const EPOCH = Date.UTC(2026, 2, 1, 9, 0, 0);
const MAJOR = 14;

function world(seed = 5) {
  const kernel = new SimKernel({ dialect: String(MAJOR), scenario: 'idle-laptop', seed, scale: 0.3 });
  const truth = trackFlows(kernel);
  return { kernel, truth, driver: new SimulationDriver(kernel), clock: () => EPOCH + kernel.now };
}

async function startAgent(w: ReturnType<typeof world>, store: UsageStore, flushSeconds = 10) {
  const client = new NetworkStatisticsClient({ transport: new MemoryTransport(w.kernel.connect({ root: false })), dialect: w.kernel.dialect, interval: 0, providers: ['tcp', 'udp', 'quic'], clock: () => w.kernel.now, requestTimeout: 3000 });
  const agent = new UsageAgent({ client, sink: store, clock: w.clock, flushSeconds });
  const flushes: number[] = [];
  agent.on('flush', (t: number) => flushes.push(t));
  await agent.start();
  await client.sweep();
  return { client, agent, flushes };
}

async function run(w: ReturnType<typeof world>, client: NetworkStatisticsClient, steps: number, stepMs = 1000, onStep?: (i: number) => void) {
  for (let i = 0; i < steps; i++) {
    w.driver.step(stepMs);
    await settle();
    await client.sweep();
    onStep?.(i);
  }
}

function truthByName(t: FlowTracker, adjust?: Map<object, { rx: number; tx: number }>) {
  const out = new Map<string, { rx: number; tx: number }>();
  for (const f of t.flows()) {
    const k = kernelName(f.proc.name, MAJOR);
    const a = out.get(k) ?? { rx: 0, tx: 0 };
    const lost = adjust?.get(f);
    a.rx += f.counts.rxBytes - (lost?.rx ?? 0);
    a.tx += f.counts.txBytes - (lost?.tx ?? 0);
    out.set(k, a);
  }
  for (const [k, v] of out) if (v.rx === 0 && v.tx === 0) out.delete(k);
  return out;
}

function storedByName(store: UsageStore) {
  const out = new Map<string, { rx: number; tx: number }>();
  for (const r of store.query({ since: 0, until: EPOCH + 365 * 86_400_000, by: 'process' })) if (r.rxBytes || r.txBytes) out.set(r.key, { rx: r.rxBytes, tx: r.txBytes });
  return out;
}

async function frozenSweeps(client: NetworkStatisticsClient) {
  for (let i = 0; i < 3; i++) {
    await settle();
    await client.sweep();
  }
}

test('clean stop: usage --by process equals the ground truth (closed flows included)', async () => {
  const w = world();
  const store = await UsageStore.open(join(dir, 'clean.db'), { record: true });
  const a = await startAgent(w, store);
  await run(w, a.client, 45);
  await frozenSweeps(a.client);
  await a.agent.stop();
  assert.ok(a.flushes.length >= 4, 'flushed every 10 s of (simulated) wall time');
  assert.ok(w.truth.flows().some((f) => f.closed), 'some flows closed during the run');
  assert.deepEqual(storedByName(store), truthByName(w.truth));
  store.close();
});

test('crash (no final flush) + restart: only growth after the last flush of flows that ended meanwhile is missing; nothing twice', async () => {
  const w = world(9);
  const path = join(dir, 'crash.db');
  let store = await UsageStore.open(path, { record: true });
  const a = await startAgent(w, store);
  // Counters of every flow at the last flush before the crash.
  let atFlush = new Map<object, { rx: number; tx: number }>();
  a.agent.on('flush', () => {
    atFlush = new Map(w.truth.flows().map((f) => [f, { rx: f.counts.rxBytes, tx: f.counts.txBytes }]));
  });
  await run(w, a.client, 27); // last flush at 20 s; crash at 27 s
  // kill -9: the process is gone without a last sweep or flush; the OS closes its files.
  a.client.stop();
  store.close();
  const crashedAt = new Set(w.truth.flows().filter((f) => !f.closed));
  store = await UsageStore.open(path, { record: true });
  const b = await startAgent(w, store);
  await run(w, b.client, 20);
  await frozenSweeps(b.client);
  await b.agent.stop();
  // Flows that ended between the last flush and the restart's first sweep lose their growth since
  // that flush (the kernel forgets them); every flow still open at the restart is found again.
  const lost = new Map<object, { rx: number; tx: number }>();
  let lostBytes = 0;
  for (const f of w.truth.flows()) {
    if (!crashedAt.has(f) && f.closed && (f.closedAt ?? Infinity) <= 27_000) {
      const at = atFlush.get(f) ?? { rx: 0, tx: 0 };
      lost.set(f, { rx: f.counts.rxBytes - at.rx, tx: f.counts.txBytes - at.tx });
      lostBytes += f.counts.rxBytes - at.rx + f.counts.txBytes - at.tx;
    }
  }
  assert.deepEqual(storedByName(store), truthByName(w.truth, lost));
  const total = [...truthByName(w.truth).values()].reduce((s, v) => s + v.rx + v.tx, 0);
  assert.ok(lostBytes < total / 10, `lost ${lostBytes} of ${total} bytes (at most the last flush interval's)`);
  store.close();
});

test('after a roll-up (minute buckets expired) the totals still equal the ground truth', async () => {
  const w = world(13);
  const path = join(dir, 'rollup.db');
  const store = await UsageStore.open(path, { record: true, retention: { minuteDays: 1 / 1440 * 10, hourDays: 1 / 24 * 2 } });
  const a = await startAgent(w, store);
  await run(w, a.client, 30, 5000); // 150 s of traffic
  await frozenSweeps(a.client);
  await a.agent.stop();
  const want = truthByName(w.truth);
  assert.deepEqual(storedByName(store), want);
  store.close();
  // Reopen three hours later with the same retention: the next flush prunes minute and hour rows.
  const later = await UsageStore.open(path, { record: true, retention: { minuteDays: 1 / 1440 * 10, hourDays: 1 / 24 * 2 } });
  later.flush({ time: EPOCH + 3 * 3_600_000 + 7 * 86_400_000, deltas: [], closed: [], open: [] });
  assert.deepEqual(storedByName(later), want);
  later.close();
});
