/**
 * The real client against the simulator, every layout family × every scenario: after each run
 * (time frozen, a few sweeps) the client's table equals the simulator's ground truth — sources,
 * addresses, pids, process names, counters — with no ghost and no missing stream, and events in
 * a legal order. backpressure-storm runs with a slow reader and the kernel's default 8 KiB queue.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { layoutFamilies } from '../src/protocol/dialect.js';
import { scenarioNames } from '../src/simulator/index.js';
import { compareWithTruth, converge, orderViolations, runClientOnScenario } from './helpers/client-sim.js';

const SCENARIOS = scenarioNames().filter((s) => s !== 'bare');

test('the simulator ships the scenarios the issue names', () => {
  for (const s of ['idle-laptop', 'browser-burst', 'server', 'churn-10k', 'udp-heavy', 'backpressure-storm']) assert.ok(SCENARIOS.includes(s), s);
});

for (const d of layoutFamilies()) {
  describe(`client vs ground truth [${d.family}, xnu-${d.xnu}]`, () => {
    for (const scenario of SCENARIOS) {
      const storm = scenario === 'backpressure-storm';
      // 10.11+ kernels can page sweeps (CONTINUATION) and resume after ENOBUFS, so the default
      // 8 KiB queue suffices; before 10.11 a sweep is one unpaced burst that must fit the queue
      // (and 10.8/10.9 drop even the SUCCESS when it does not), so those get 1 MiB.
      const rcvbuf = d.hasLength ? 8192 : 1 << 20;
      test(`${scenario}${storm ? ` (slow reader, ${rcvbuf}-byte queue)` : ''}`, async () => {
        const r = await runClientOnScenario({
          dialect: d,
          scenario,
          scale: 0.2,
          steps: storm ? 8 : 5,
          slowReader: storm,
          ...(storm ? { receiveBufferSize: rcvbuf } : {}),
        });
        try {
          await converge(r);
          const m = compareWithTruth(r);
          assert.deepEqual(m.missing, [], 'no stream the kernel has is missing');
          assert.deepEqual(m.ghosts, [], 'no stream the kernel no longer has remains');
          assert.deepEqual(m.wrong, [], 'fields and counters equal the ground truth');
          assert.ok(r.client.snapshot().length > 0, 'the scenario produced streams');
          assert.deepEqual(orderViolations(r), []);
          if (storm) {
            const truth = r.sim.groundTruth({ descriptors: false, counts: false });
            if (d.hasLength) assert.ok(truth.dropped.total > 0, 'the storm made the kernel drop messages');
            if (truth.dropped.total > 0) assert.ok(r.client.getNumDrops() > 0, `kernel dropped ${truth.dropped.total}; client counted ${JSON.stringify(r.client.dropCounts())}`);
          }
        } finally {
          r.client.stop();
        }
      });
    }
  });
}
