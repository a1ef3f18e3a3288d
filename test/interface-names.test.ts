/**
 * The interface enumeration (index <-> BSD name): if_nameindex() through koffi, checked on this
 * Linux machine against /sys/class/net/<name>/ifindex (the kernel's own answer, read without the
 * code under test); the rate-limited re-enumeration on unknown indexes and names; untrusted tables.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { InterfaceNames, sanitizeInterfaceTable, type InterfaceEntry } from '../src/model/interface-names.js';
import { listInterfaces } from '../src/transport/ifnames.js';
import { SimKernel } from '../src/simulator/index.js';
import { worldInterfaceTable } from '../src/simulator/index.js';

const linux = process.platform === 'linux' ? {} : { skip: 'the independent truth (/sys/class/net) is Linux-only' };

test('if_nameindex() through koffi lists exactly the interfaces /sys/class/net reports, with their indexes', linux, () => {
  const truth = new Map<number, string>();
  for (const name of readdirSync('/sys/class/net')) {
    truth.set(Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim()), name);
  }
  assert.ok(truth.size >= 1, 'at least the loopback interface');
  const listed = listInterfaces();
  assert.deepEqual(new Map(listed.map((e) => [e.index, e.name])), truth);
  assert.equal(listed.length, truth.size, 'no interface listed twice');
  // A second call (cached binding) agrees; the table was freed and re-read, not kept.
  assert.deepEqual(listInterfaces(), listed);
});

test('listInterfaces without koffi: ERR_NTSTAT_NATIVE naming koffi', () => {
  assert.throws(
    () => listInterfaces({ requireKoffi: () => { throw new Error('Cannot find module koffi'); } }),
    (e: Error & { code?: string }) => e.code === 'ERR_NTSTAT_NATIVE' && /koffi/.test(e.message),
  );
});

test('an unknown index re-enumerates at once, then at most once per minRefreshMs (by the injected clock)', () => {
  let now = 0;
  let table: InterfaceEntry[] = [{ index: 1, name: 'lo0' }, { index: 4, name: 'en0' }];
  let calls = 0;
  const names = new InterfaceNames(() => (calls++, table), { minRefreshMs: 5000, clock: () => now });
  assert.equal(names.name(4), 'en0', 'first lookup enumerates');
  assert.equal(calls, 1);
  assert.equal(names.name(0), undefined, 'index 0 is no interface');
  assert.equal(names.name(undefined), undefined);
  assert.equal(calls, 1, 'index 0 never enumerates');
  // utun3 appears: found by the re-enumeration an unknown index triggers.
  table = [...table, { index: 14, name: 'utun3' }];
  assert.equal(names.name(14), undefined, 'within 5 s of the last enumeration: not re-read');
  assert.equal(calls, 1);
  now = 5000;
  assert.equal(names.name(14), 'utun3');
  assert.equal(calls, 2);
  assert.equal(names.name(4), 'en0', 'known indexes do not enumerate');
  assert.equal(names.name(99), undefined);
  assert.equal(names.name(99), undefined);
  assert.equal(calls, 2, 'unknown index 99 within the limit: no storm of enumerations');
  // utun3 goes away and index 14 is reused by bridge100.
  table = [{ index: 1, name: 'lo0' }, { index: 4, name: 'en0' }, { index: 14, name: 'bridge100' }];
  now = 10_000;
  assert.equal(names.index('bridge100'), 14, 'an unknown name also re-enumerates');
  assert.equal(names.name(14), 'bridge100');
  assert.equal(names.index('utun3'), undefined);
  assert.deepEqual(names.entries(), table);
});

test('an async enumerator (the --socket side channel) fills the table when it answers; a failure keeps the old table', async () => {
  let fail = false;
  const names = new InterfaceNames(async () => {
    if (fail) throw new Error('channel gone');
    return [{ index: 4, name: 'en0' }];
  }, { minRefreshMs: 0 });
  assert.equal(names.name(4), undefined, 'not known before the answer');
  await names.refresh();
  assert.equal(names.name(4), 'en0');
  fail = true;
  await names.refresh();
  assert.equal(names.name(4), 'en0', 'kept');
  assert.match(String(names.lastError), /channel gone/);
});

test('untrusted tables keep only integer indexes 1..2^32-1 with names of 1..15 characters', () => {
  assert.deepEqual(sanitizeInterfaceTable('en0'), []);
  assert.deepEqual(
    sanitizeInterfaceTable([
      { index: 4, name: 'en0' },
      { index: 0, name: 'zero' },
      { index: -1, name: 'neg' },
      { index: 1.5, name: 'frac' },
      { index: 2 ** 32, name: 'big' },
      { index: '5', name: 'str' },
      { index: 6, name: '' },
      { index: 7, name: 'x'.repeat(16) },
      { index: 8, name: 7 },
      null,
      { index: 9, name: 'e\x1b[2J' },
    ]),
    [{ index: 4, name: 'en0' }, { index: 9, name: 'e\x1b[2J' }],
  );
});

test('the simulated machine enumerates the interfaces its world attached, by index', () => {
  const k = new SimKernel({ dialect: 'd10002', scenario: 'idle-laptop', seed: 1 });
  const truth = [...k.world.interfaces.values()].filter((i) => i.attached).map((i) => [i.ifindex, i.name]);
  assert.ok(truth.some(([i, n]) => i === 1 && n === 'lo0') && truth.some(([i, n]) => i === 4 && n === 'en0'), 'lo0 = 1, en0 = 4 (toolkit)');
  assert.deepEqual(new Map(worldInterfaceTable(k.world).map((e) => [e.index, e.name])), new Map(truth as [number, string][]));
});
