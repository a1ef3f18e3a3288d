/**
 * Streams, counts and events with the same keys share one hidden class (issue 17). V8 keeps one
 * representation per field of a hidden class and replaces the class when a value does not fit (a
 * counter past 2^31, a fractional RTT or rate after a small integer); a spread that adds a key
 * makes a class per copy. Either way a consumer reading `stream.pid` or `ev.time` meets more
 * classes than its inline cache holds and takes the slow lookup on every event: the log view cost
 * ~1 µs per event where the same code on one-class streams took 0.1 µs.
 *
 * The census runs in a child with --allow-natives-syntax (test/helpers/shape-census.ts: V8's
 * %HaveSameMap at every event of simulated worlds with a wall clock, a replay of a bench
 * recording marked as `ntstat replay` marks it, and a session with counters past 2^31 and 2^32,
 * zero and fractional RTTs, idle polls and SRC_COUNTS). Against the code before this fix it
 * reports splits in all three kinds (counts: zero-RTT counts had a class of their own and big
 * counters replaced the general one; streams: rates stored first as 0 then fractional; events:
 * the replay's `{ ...ev, initial }`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CensusResult } from './helpers/shape-census.js';

const CENSUS = new URL('./helpers/shape-census.js', import.meta.url).href;

test('objects with the same keys share one hidden class on every path (census with %HaveSameMap)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ntstat-shapes-'));
  try {
    const script = `const { runCensus } = await import(${JSON.stringify(CENSUS)}); process.stdout.write(JSON.stringify(await runCensus(process.argv[1])));`;
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script, join(dir, 'recording.bin')], { encoding: 'utf8', maxBuffer: 16 << 20 });
    assert.equal(r.status, 0, r.stderr);
    const c = JSON.parse(r.stdout) as CensusResult;
    assert.deepEqual(c.splits, {}, 'objects whose keys match but whose hidden classes differ');
    // What the census covered (each is a way the classes split before).
    assert.deepEqual(c.descriptorsSeen, ['tcp', 'udp']);
    assert.ok(c.bigCounters > 50, `${c.bigCounters} events with a counter past 2^31`);
    assert.ok(c.zeroRtt > 50 && c.fractionalRtt > 50, `zero-RTT ${c.zeroRtt}, fractional RTT ${c.fractionalRtt}`);
    assert.ok(c.fractionalRates > 50, `${c.fractionalRates} events with fractional rates`);
    assert.ok(c.markedEvents > 50, `${c.markedEvents} replay events marked`);
    const groups = Object.entries(c.groups);
    const count = (what: string, has: string[], hasNot: string[] = []) =>
      groups.filter(([g]) => g.startsWith(`${what} `) && has.every((k) => g.includes(`,${k},`) || g.endsWith(`,${k}`)) && hasNot.every((k) => !g.includes(`,${k},`))).reduce((n, [, v]) => n + v, 0);
    // TCP (has `state`) and UDP streams, with counts and rates, each seen many times.
    assert.ok(count('stream', ['state', 'counts', 'txBytesPerSec']) > 100);
    assert.ok(count('stream', ['counts', 'txBytesPerSec'], ['state']) > 100);
    // One key list for every counts object of these layouts: TCP's and UDP's were compared.
    const countsGroups = groups.filter(([g]) => g.startsWith('counts '));
    assert.equal(countsGroups.length, 1, countsGroups.map(([g]) => g).join('\n'));
    assert.ok(countsGroups[0][1] > 1000);
    // Events with and without `initial`.
    assert.ok((c.groups['event event,time,stream'] ?? 0) > 100);
    assert.ok((c.groups['event event,time,stream,initial'] ?? 0) > 100);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
