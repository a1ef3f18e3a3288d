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
import { execFileSync } from 'node:child_process';

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


/**
 * Native memory per record read through DatagramFdTransport, measured in a fresh process (in a
 * process that already freed a lot, malloc reuses that memory and hides small leaks).
 */
const NATIVE_PROBE = `
import { loadLibc } from ${JSON.stringify(new URL('../src/transport/libc.js', import.meta.url).href)};
import { openDatagramSocketPair } from ${JSON.stringify(new URL('../src/transport/socketpair.js', import.meta.url).href)};
import { DatagramFdTransport } from ${JSON.stringify(new URL('../src/transport/fd.js', import.meta.url).href)};
const libc = loadLibc();
const [a, b] = openDatagramSocketPair();
const t = new DatagramFdTransport(b);
let n = 0;
t.start({ onDatagram: () => void n++, onClose: () => undefined });
const record = new Uint8Array(600).fill(7);
const outside = () => { gc(); gc(); const m = process.memoryUsage(); return m.rss - m.heapTotal; };
const pump = async (count) => {
  const target = n + count;
  while (n < target) {
    for (let i = 0; i < 256 && n + i < target; i++) if (libc.send(a, record, libc.os.MSG_DONTWAIT) < 0) break;
    await new Promise((r) => setImmediate(r));
  }
};
await pump(50000);
const before = outside();
await pump(600000);
console.log(JSON.stringify({ perRecord: (outside() - before) / 600000 }));
t.close();
libc.close(a);
`;

test(
  'DatagramFdTransport: reading records costs no native memory per record (rss − heapTotal over 600 k records, fresh process)',
  {
    timeout: 60_000,
    skip: process.platform === 'win32' ? 'no socketpair' : false,
  },
  (t) => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', NATIVE_PROBE], { encoding: 'utf8', timeout: 50_000 });
    const { perRecord } = JSON.parse(out.trim().split('\n').pop()!) as { perRecord: number };
    t.diagnostic(`${perRecord.toFixed(1)} B outside the JS heap per record read`);
    assert.ok(perRecord < 8, `${perRecord.toFixed(1)} B of native memory per record read`);
  },
);
