/**
 * The self-test window (issue 12, "never print a number read from an unverified offset"): from
 * subscription until the self-test's verdict, nothing the kernel sends may reach the user decoded
 * through the assumed layout. A regression: a UDP flow that came and went while the client was
 * subscribing (or loading the self-test's modules) was printed with pid 4 and a garbled name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { simulatedFlowMaker } from '../src/cli/source-simulator.js';
import type { Stream } from '../src/model/stream.js';
import { dialectFor } from '../src/protocol/index.js';
import { SimKernel, SimulationDriver, futureDialect } from '../src/simulator/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { ALL_PROVIDERS, settle } from './helpers/client-sim.js';

test('no stream event before the self-test verdict: flows that come and go during subscription are not decoded through the assumed layout', async (t) => {
  const assumed = dialectFor('12377.1.9');
  const kernel = new SimKernel({ dialect: futureDialect(assumed, 'inserted'), kernelVersion: '12377.1.9', scenario: 'browser-burst', seed: 5 });
  const driver = new SimulationDriver(kernel);
  const sim = kernel.connect({ root: false });
  let verdict = false;
  let sends = 0;
  // The first requests (the subscription) let the world move on by a second each: sources open
  // and close (15+ kernels send a closing SRC_UPDATE with the whole descriptor) while the client
  // subscribes, exactly the window of the regression.
  class BusyWorldTransport extends MemoryTransport {
    override send(datagram: Uint8Array): void {
      super.send(datagram);
      if (++sends <= 6) driver.step(1000);
    }
  }
  const client = new NetworkStatisticsClient({
    transport: new BusyWorldTransport(sim),
    dialect: assumed,
    interval: 0,
    providers: ALL_PROVIDERS,
    clock: () => kernel.now,
    calibrationFlows: simulatedFlowMaker(kernel),
  });
  t.after(() => client.stop());
  const early: Stream[] = [];
  const events: Stream[] = [];
  client.on('selfTest', () => (verdict = true));
  for (const e of ['added', 'removed', 'update'] as const) {
    client.on(e, (s: Stream) => (verdict ? events : early).push(s));
  }
  await client.connect();
  assert.equal(client.selfTest?.verdict, 'inferred');
  for (let i = 0; i < 4; i++) {
    driver.step(250);
    await settle();
    await client.sweep();
  }
  assert.deepEqual(early.map((s) => `${s.id} ${s.provider} pid ${s.pid}`), [], 'events emitted before the verdict');
  assert.ok(events.length > 0, 'events after the verdict');
  for (const s of events) assert.equal(s.layout, 'inferred', `${s.id} ${s.provider} decoded through the assumed layout`);
});
