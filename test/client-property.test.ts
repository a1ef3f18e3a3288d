/**
 * Property: for any dialect, scenario, seed, pacing and reader speed, the client converges to the
 * simulator's ground truth with events in a legal order, and counts drops whenever the kernel
 * dropped. (fast-check shrinks a failure to the smallest such run.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { layoutFamilies } from '../src/protocol/dialect.js';
import { scenarioNames } from '../src/simulator/index.js';
import { compareWithTruth, converge, orderViolations, runClientOnScenario } from './helpers/client-sim.js';

const families = layoutFamilies();
const scenarios = scenarioNames().filter((s) => s !== 'bare');

test('client converges to ground truth for random scenario mixes', { timeout: 120_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        family: fc.integer({ min: 0, max: families.length - 1 }),
        scenario: fc.constantFrom(...scenarios),
        seed: fc.integer({ min: 1, max: 1_000_000 }),
        steps: fc.integer({ min: 1, max: 5 }),
        stepMs: fc.integer({ min: 20, max: 600 }),
        slowReader: fc.boolean(),
        smallQueue: fc.boolean(),
        scale: fc.constantFrom(0.05, 0.1, 0.2),
      }),
      async (p) => {
        const d = families[p.family];
        // Before 10.11 an ALL poll is one unpaced burst that must fit the queue (see client-sim.test.ts).
        const rcvbuf = p.smallQueue ? (d.hasLength ? 8192 : 1 << 20) : 4 << 20;
        const r = await runClientOnScenario({ dialect: d, scenario: p.scenario, seed: p.seed, steps: p.steps, stepMs: p.stepMs, slowReader: p.slowReader, receiveBufferSize: rcvbuf, scale: p.scale });
        try {
          await converge(r);
          const m = compareWithTruth(r);
          assert.deepEqual(m, { missing: [], ghosts: [], wrong: [] }, JSON.stringify(p));
          assert.deepEqual(orderViolations(r), []);
          const truth = r.sim.groundTruth({ descriptors: false, counts: false });
          // Any unsolicited loss the client could see must be counted (lost SRC_ADDEDs of sources
          // that never became sources are invisible by design, BEHAVIOUR.md §3.1).
          const visibleLoss = truth.dropped.total - truth.dropped.sourcesNeverAdded;
          if (visibleLoss > 0) assert.ok(r.client.getNumDrops() > 0, `kernel dropped ${visibleLoss} messages; the client counted none (${JSON.stringify(p)})`);
        } finally {
          r.client.stop();
        }
      },
    ),
    { numRuns: 25, seed: 20261127 },
  );
});
