/**
 * Size upkeep of the usage database (issue 14): schema v2 turns on incremental auto-vacuum, so the
 * file shrinks after a roll-up expires many rows (before, freed pages stayed in the file for ever);
 * a v1 database is migrated (one VACUUM) with its data intact. Real SQLite files; time is the
 * flush time given to the store (simulated), no wall clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageStore } from '../src/store/usage-store.js';
import { loadSqlite } from '../src/store/sqlite.js';
import type { UsageDelta } from '../src/store/records.js';

const dir = mkdtempSync(join(tmpdir(), 'ntstat-vacuum-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const MIN = 60_000;
const H = 60 * MIN;
const D = 24 * H;
const T0 = Date.UTC(2026, 0, 10, 0, 0, 0);

function delta(minute: number, p: number): UsageDelta {
  return { minute, process: `proc-${p}`, pid: 100 + p, ifname: 'en0', ifkind: 'wifi', rxBytes: 1000 + p, txBytes: 10 + p, rxPackets: 2, txPackets: 1, flows: 1 };
}

/** Database file size once the WAL is checkpointed into it (what the disk holds at rest). */
async function sizeAtRest(path: string): Promise<number> {
  const Database = await loadSqlite();
  const raw = new Database(path);
  raw.pragma('wal_checkpoint(TRUNCATE)');
  raw.close();
  return statSync(path).size;
}

/** Two days of minute buckets for 60 processes: thousands of minute rows (hour-packed). */
function fill(s: UsageStore): number {
  let rx = 0;
  for (let t = T0; t < T0 + 2 * D; t += 10 * MIN) {
    const deltas: UsageDelta[] = [];
    for (let m = 0; m < 10; m++) for (let p = 0; p < 60; p++) deltas.push(delta(t + m * MIN, p));
    for (const d of deltas) rx += d.rxBytes;
    s.flush({ time: t + 10 * MIN, deltas, closed: [], open: [] });
  }
  return rx;
}

test('after a roll-up expires many rows the file shrinks, and every total is unchanged', async () => {
  const path = join(dir, 'shrink.db');
  const s = await UsageStore.open(path, { record: true, retention: { minuteDays: 1, hourDays: 1, dayDays: 3650 } });
  let full: number;
  let rx: number;
  try {
    rx = fill(s);
    full = await sizeAtRest(path);
    // Four days later every minute and hour bucket has expired; only the day buckets remain.
    s.flush({ time: T0 + 6 * D, deltas: [], closed: [], open: [] });
    const byProcess = s.query({ since: 0, until: T0 + 10 * D, by: 'process' });
    assert.equal(byProcess.reduce((a, r) => a + r.rxBytes, 0), rx, 'the roll-up kept every byte');
  } finally {
    s.close();
  }
  const after = await sizeAtRest(path);
  assert.ok(full > 500_000, `filled to ${full} B`);
  // The minute data was nearly all of the file: at least three quarters of it must be gone.
  assert.ok(after < full / 4, `file ${full} B -> ${after} B after the roll-up`);
  if (process.env.NTSTAT_VERBOSE) console.log(`vacuum: ${full} B -> ${after} B`);
  const Database = await loadSqlite();
  const raw = new Database(path, { readonly: true });
  assert.equal(raw.pragma('auto_vacuum', { simple: true }), 2, 'auto_vacuum = INCREMENTAL');
  assert.equal(raw.pragma('freelist_count', { simple: true }), 0, 'no free pages left in the file');
  raw.close();
});

test('a schema v1 database (auto_vacuum off) migrates to v2: one VACUUM, incremental from then on, data intact', async () => {
  const path = join(dir, 'v1.db');
  const s = await UsageStore.open(path, { record: true });
  s.flush({ time: T0 + MIN, deltas: [delta(T0, 1), delta(T0, 2)], closed: [], open: [] });
  const before = s.query({ since: 0, until: T0 + D, by: 'process' });
  s.close();
  // Make it what ntstat 0.1's schema v1 left: auto_vacuum NONE, user_version 1.
  const Database = await loadSqlite();
  let raw = new Database(path);
  raw.pragma('auto_vacuum = NONE');
  raw.exec('VACUUM');
  raw.pragma('user_version = 1');
  assert.equal(raw.pragma('auto_vacuum', { simple: true }), 0);
  raw.close();
  const r = await UsageStore.open(path);
  try {
    assert.deepEqual(r.query({ since: 0, until: T0 + D, by: 'process' }), before);
  } finally {
    r.close();
  }
  raw = new Database(path, { readonly: true });
  assert.equal(raw.pragma('user_version', { simple: true }), 2);
  assert.equal(raw.pragma('auto_vacuum', { simple: true }), 2);
  raw.close();
});
