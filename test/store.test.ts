/**
 * UsageStore on a real SQLite file: flushes read back exactly (hand-computed values) by every
 * grouping; roll-up (pruning minute and hour buckets) never changes a total; open flows survive a
 * reopen; a failing flush leaves nothing half-written; one recording agent per database; a
 * database from a newer schema is refused; the minute packing round-trips large counters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageStore, defaultUsageDbPath } from '../src/store/usage-store.js';
import { decodeMinutes, encodeMinutes } from '../src/store/minute-pack.js';
import { loadSqlite } from '../src/store/sqlite.js';
import type { FlushBatch, UsageDelta } from '../src/store/records.js';
import { isNtstatError } from '../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ntstat-store-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const dbPath = () => join(dir, `u${n++}.db`);

const H = 3_600_000;
const D = 86_400_000;
const T0 = Date.UTC(2026, 0, 10, 0, 0, 0);

function delta(minute: number, process: string, pid: number, rx: number, tx: number, extra: Partial<UsageDelta> = {}): UsageDelta {
  return { minute, process, pid, ifname: 'if4', ifkind: 'wifi', rxBytes: rx, txBytes: tx, rxPackets: rx > 0 ? 1 : 0, txPackets: tx > 0 ? 1 : 0, flows: 1, ...extra };
}

function batch(time: number, deltas: UsageDelta[], extra: Partial<FlushBatch> = {}): FlushBatch {
  return { time, deltas, closed: [], open: [], ...extra };
}

test('flushes read back exactly, by app, process, pid, interface, day and hour', async () => {
  const s = await UsageStore.open(dbPath(), { record: true });
  try {
    s.flush(batch(T0 + 60_000, [delta(T0, 'curl', 10, 100, 10), delta(T0, 'Safari', 20, 5000, 500, { app: 'Safari' }), delta(T0, 'com.apple.WebKit', 21, 7000, 700, { app: 'Safari', ifname: 'if7', ifkind: 'wired' })]));
    s.flush(batch(T0 + 2 * H, [delta(T0 + H + 60_000, 'curl', 10, 1, 2)]));
    const all = { since: T0, until: T0 + D };
    assert.deepEqual(s.query({ ...all, by: 'process' }).map((r) => [r.key, r.rxBytes, r.txBytes, r.flows]), [['com.apple.WebKit', 7000, 700, 1], ['Safari', 5000, 500, 1], ['curl', 101, 12, 2]]);
    assert.deepEqual(s.query({ ...all, by: 'app' }).map((r) => [r.key, r.rxBytes]), [['Safari', 12000], ['curl', 101]]);
    assert.deepEqual(s.query({ ...all, by: 'pid' }).map((r) => [r.pid, r.process, r.rxBytes]), [[21, 'com.apple.WebKit', 7000], [20, 'Safari', 5000], [10, 'curl', 101]]);
    assert.deepEqual(s.query({ ...all, by: 'interface' }).map((r) => [r.interface, r.kind, r.rxBytes]), [['if7', 'wired', 7000], ['if4', 'wifi', 5101]]);
    assert.deepEqual(s.query({ ...all, by: 'hour' }).map((r) => [r.time, r.rxBytes]), [[new Date(T0).toISOString(), 12100], [new Date(T0 + H).toISOString(), 1]]);
    assert.deepEqual(s.query({ ...all, by: 'process', top: 1 }).map((r) => r.key), ['com.apple.WebKit']);
    // [since, until): the second hour only.
    assert.deepEqual(s.query({ since: T0 + H, until: T0 + 2 * H, by: 'process' }).map((r) => [r.key, r.rxBytes]), [['curl', 1]]);
    const series = s.series({ since: T0, until: T0 + 2 * H, by: 'process', top: 2 });
    assert.equal(series.stepSeconds, 60);
    assert.equal(series.times.length, 120);
    assert.deepEqual(series.series.map((x) => x.key), ['com.apple.WebKit', 'Safari']);
    assert.equal(series.series[0].rx[0], 7000);
    assert.ok(s.sizeBytes() > 0);
  } finally {
    s.close();
  }
});

test('roll-up: after minute and hour buckets expire, every total is unchanged', async () => {
  const path = dbPath();
  const s = await UsageStore.open(path, { record: true, retention: { minuteDays: 1, hourDays: 2 } });
  try {
    // One delta per 6 hours over 5 days, each flushed at its own time (no pruning yet).
    const deltas: UsageDelta[] = [];
    for (let t = T0; t < T0 + 5 * D; t += 6 * H) deltas.push(delta(t + 7 * 60_000, t % (12 * H) === 0 ? 'a' : 'b', 1, 1000 + (t - T0) / H, 7));
    for (const d of deltas) s.flush(batch(d.minute, [d]));
    const before = s.query({ since: 0, until: T0 + 10 * D, by: 'process' });
    const beforeDays = s.query({ since: 0, until: T0 + 10 * D, by: 'day' });
    // Much later: minute buckets older than 1 day and hour buckets older than 2 days go.
    s.flush(batch(T0 + 6 * D, []));
    const Database = await loadSqlite();
    const raw = new Database(path, { readonly: true });
    const minuteHours = (raw.prepare('SELECT min(hour) AS h FROM minute_usage').get() as { h: number | null }).h;
    const hourHours = (raw.prepare('SELECT min(hour) AS h FROM hour_usage').get() as { h: number | null }).h;
    raw.close();
    assert.ok(minuteHours === null || minuteHours * H >= T0 + 5 * D, 'minute buckets older than a day were pruned');
    assert.ok(hourHours !== null && hourHours * H >= T0 + 4 * D, 'hour buckets older than two days were pruned');
    assert.deepEqual(s.query({ since: 0, until: T0 + 10 * D, by: 'process' }), before);
    assert.deepEqual(s.query({ since: 0, until: T0 + 10 * D, by: 'day' }), beforeDays);
    const sum = deltas.reduce((a, d) => a + d.rxBytes, 0);
    assert.equal(before.reduce((a, r) => a + r.rxBytes, 0), sum);
  } finally {
    s.close();
  }
});

test('open flows survive a reopen; a failing flush writes nothing', async () => {
  const path = dbPath();
  const s = await UsageStore.open(path, { record: true });
  s.flush(batch(T0, [delta(T0, 'a', 1, 10, 0)], { open: [{ identity: 'tcp|1|x', rxBytes: 10, txBytes: 0, rxPackets: 1, txPackets: 0 }, { identity: 'tcp|1|x', rxBytes: 3, txBytes: 0, rxPackets: 1, txPackets: 0 }] }));
  const bad = { ...delta(T0 + 60_000, 'a', 1, 99, 0), process: null as unknown as string };
  assert.throws(() => s.flush(batch(T0 + 60_000, [delta(T0 + 60_000, 'a', 1, 5, 0), bad], { open: [] })));
  s.close();
  const r = await UsageStore.open(path);
  try {
    assert.deepEqual(r.openFlows().map((o) => o.rxBytes).sort(), [10, 3].sort());
    assert.deepEqual(r.query({ since: 0, until: T0 + D, by: 'process' }).map((x) => x.rxBytes), [10], 'the failed flush left no trace');
  } finally {
    r.close();
  }
});

test('a second recorder on the same database is refused; readers are not', async () => {
  const path = dbPath();
  const a = await UsageStore.open(path, { record: true });
  try {
    await assert.rejects(UsageStore.open(path, { record: true }), (e: unknown) => isNtstatError(e) && e.code === 'ERR_NTSTAT_BUSY' && /another ntstat agent is already recording/.test(e.message));
    const reader = await UsageStore.open(path);
    reader.close();
  } finally {
    a.close();
  }
  const again = await UsageStore.open(path, { record: true });
  again.close();
});

test('a missing database (reader) and a newer schema are typed errors', async () => {
  await assert.rejects(UsageStore.open(join(dir, 'nope.db')), (e: unknown) => isNtstatError(e) && e.code === 'ERR_NTSTAT_STORE');
  const path = dbPath();
  const Database = await loadSqlite();
  const raw = new Database(path);
  raw.pragma('user_version = 99');
  raw.close();
  await assert.rejects(UsageStore.open(path), (e: unknown) => isNtstatError(e) && e.code === 'ERR_NTSTAT_STORE' && /schema version 99/.test(e.message));
});

test('minute packing round-trips counters beyond 32 bits; malformed blobs throw', () => {
  const slots = [
    { minute: 59, rxBytes: 2 ** 40 + 3, txBytes: 0, rxPackets: 1, txPackets: 2, flows: 0 },
    { minute: 0, rxBytes: 127, txBytes: 128, rxPackets: 16384, txPackets: 0, flows: 3 },
  ];
  assert.deepEqual(decodeMinutes(encodeMinutes(slots)), [slots[1], slots[0]]);
  assert.throws(() => decodeMinutes(Uint8Array.of(60, 0, 0, 0, 0, 0)), RangeError);
  assert.throws(() => decodeMinutes(Uint8Array.of(1, 0x80)), RangeError);
});

test('default database path per platform', () => {
  assert.equal(defaultUsageDbPath({}, 'darwin', '/Users/me'), '/Users/me/Library/Application Support/ntstat/usage.db');
  assert.equal(defaultUsageDbPath({}, 'linux', '/home/me'), '/home/me/.local/state/ntstat/usage.db');
  assert.equal(defaultUsageDbPath({ XDG_STATE_HOME: '/x/state' }, 'linux', '/home/me'), '/x/state/ntstat/usage.db');
});
