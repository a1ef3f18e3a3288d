/**
 * Short soak (the long one is bench/soak.ts): the real client on churn-10k (scaled to 1 000
 * flows/s) over a real socketpair — serveSimulatorOverFd on one end, DatagramFdTransport on the
 * other — for 130 simulated seconds. After the simulated world's own warm-up (its longest timers
 * start firing at 60 s), heap after GC, active resources by type, listeners, the client's table,
 * its memory of ended srcrefs and its pending requests stay flat; after stop() every fd opened
 * is closed and no handle is left. (`node --expose-gc build/bench/soak.js --transport memory`
 * runs the same over MemoryTransport.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findGc, runSoak, type SoakSample } from '../bench/soak.js';

const MiB = 1024 * 1024;

function line(s: SoakSample): string {
  return `${s.warm ? 'sample' : 'warm-up'} ${s.simSeconds} s: heap ${(s.heapUsed / MiB).toFixed(1)} MiB, streams ${s.streams}/${s.tableEntries}, ended ${s.endedMemory}, kernel ${s.kernelSources}, fds ${s.fds}, listeners ${s.clientListeners}/${s.processListeners}, ${JSON.stringify(s.resources)}`;
}

test('soak: churn-10k ×0.1 over a socketpair for 130 simulated s — heap, handles, listeners flat; fds back after stop', { timeout: 120_000, skip: process.platform === 'win32' ? 'no socketpair' : false }, async (t) => {
  assert.ok(findGc(), 'a gc function (--expose-gc or the runtime V8 flag)');
  const r = await runSoak({ transport: 'fd', scale: 0.1, simMs: 130_000, warmupMs: 70_000, sampleEveryMs: 10_000 });
  for (const s of r.samples) t.diagnostic(line(s));
  const warm = r.samples.filter((s) => s.warm);
  const first = warm[0];
  const last = warm[warm.length - 1];
  t.diagnostic(
    `heap ${(first.heapUsed / MiB).toFixed(1)} -> ${(last.heapUsed / MiB).toFixed(1)} MiB (median growth ${(r.verdict.heapGrowth / 1024).toFixed(0)} KiB); ${r.added} added, ${r.removed} removed; fds before ${r.fdsBefore}, after stop ${r.fdsAfterStop}; ${r.wallSeconds.toFixed(1)} s`,
  );
  assert.ok(warm.length >= 5, 'samples after the warm-up');
  assert.ok(r.removed > 50_000, `${r.removed} streams ended: the churn really ran`);
  assert.equal(r.kernelDrops, 0, 'a reader that keeps up: nothing dropped');
  assert.deepEqual(r.clientDrops, {});
  assert.ok(r.gc, 'heap figures are after GC');
  assert.deepEqual(r.verdict.problems, []);
  assert.ok(r.verdict.ok);
  assert.equal(r.fdsAfterStop, r.fdsBefore, 'every fd opened for the soak is closed after stop()');
  for (const s of warm) {
    assert.equal(s.pendingRequests, 0);
    assert.ok(s.endedMemory <= 8192);
    assert.equal(s.clientListeners, first.clientListeners);
  }
});
