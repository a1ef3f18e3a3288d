import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceTable, type StreamEvent } from '../src/client/source-table.js';
import { dialectFor } from '../src/protocol/dialect.js';
import type { Message } from '../src/protocol/messages.js';
import { counts } from './helpers/recording.js';

const d = dialectFor('4570.1.46'); // 10.13: TCP kernel provider id 2 (BEHAVIOUR.md A.1)
const TCP = 2;
const desc = (port: number, state = 4) => ({
  local: { family: 4 as const, address: '192.0.2.1', port },
  remote: { family: 4 as const, address: '198.51.100.7', port: 443 },
  pid: 42, pname: 'curl', state, ifnetProperties: 0x10,
});
const base = { context: 0n, flags: 0 };

function feed(t: SourceTable, msgs: Message[], now = 1000): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (const m of msgs) t.apply(m, now, out);
  return out;
}

test('SRC_ADDED alone announces nothing; the first descriptor announces `added` with its fields', () => {
  const t = new SourceTable(d);
  assert.deepEqual(feed(t, [{ ...base, kind: 'srcAdded', srcref: 5n, provider: TCP }]), []);
  const ev = feed(t, [{ ...base, kind: 'srcDesc', srcref: 5n, eventFlags: 0n, provider: TCP, descriptor: desc(1000) }]);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].event, 'added');
  const s = ev[0].stream;
  assert.equal(s.id, '5');
  assert.equal(s.provider, 'tcp');
  assert.equal(s.local?.port, 1000);
  assert.equal(s.state, 'ESTABLISHED');
  assert.equal(s.interface, 'wired', 'ifnet_properties 0x10 = NSTAT_IFNET_IS_WIRED');
  assert.equal(s.process, 'curl');
});

test('counts before the descriptor are kept and shown with `added`; later counts give `update` with rates', () => {
  const t = new SourceTable(d);
  feed(t, [{ ...base, kind: 'srcAdded', srcref: 5n, provider: TCP }, { ...base, kind: 'srcCounts', srcref: 5n, eventFlags: 0n, counts: counts({ rxBytes: 100 }) }]);
  const [added] = feed(t, [{ ...base, kind: 'srcDesc', srcref: 5n, eventFlags: 0n, provider: TCP, descriptor: desc(1) }], 1000);
  assert.equal(added.stream.counts?.rxBytes, 100);
  const [upd] = feed(t, [{ ...base, kind: 'srcCounts', srcref: 5n, eventFlags: 0n, counts: counts({ rxBytes: 2100, txBytes: 500 }) }], 3000);
  assert.equal(upd.event, 'update');
  assert.equal(upd.stream.rxBytesPerSec, 1000, '2000 bytes over 2 s');
  assert.equal(upd.stream.txBytesPerSec, 250);
  // Unchanged counts: no event.
  assert.deepEqual(feed(t, [{ ...base, kind: 'srcCounts', srcref: 5n, eventFlags: 0n, counts: counts({ rxBytes: 2100, txBytes: 500 }) }], 4000), []);
});

test('CLOSING messages are final values without `update`; SRC_REMOVED emits `removed` once; late goodbyes change nothing', () => {
  const t = new SourceTable(d);
  feed(t, [{ ...base, kind: 'srcUpdate', srcref: 9n, eventFlags: 0n, provider: TCP, descriptor: desc(2), counts: counts({ rxBytes: 1 }) }]);
  const closing = feed(t, [
    { context: 0n, flags: 0x4, kind: 'srcUpdate', srcref: 9n, eventFlags: 0n, provider: TCP, descriptor: desc(2, 10), counts: counts({ rxBytes: 77 }) },
  ]);
  assert.deepEqual(closing, []);
  const [rem] = feed(t, [{ ...base, kind: 'srcRemoved', srcref: 9n }]);
  assert.equal(rem.event, 'removed');
  assert.equal(rem.stream.counts?.rxBytes, 77);
  assert.equal(rem.stream.state, 'TIME_WAIT');
  assert.equal(rem.stream.closed, true);
  // A late goodbye or a repeated SRC_REMOVED changes nothing.
  assert.deepEqual(feed(t, [{ context: 0n, flags: 0x4, kind: 'srcDesc', srcref: 9n, eventFlags: 0n, provider: TCP, descriptor: desc(2) }, { ...base, kind: 'srcRemoved', srcref: 9n }]), []);
  assert.equal(t.size, 0);
  // A live report after SRC_REMOVED proves the source alive (the kernel never mentions a srcref after
  // its removal, BEHAVIOUR.md §2.6, §3.2): it comes back as a new `added`.
  const back = feed(t, [{ ...base, kind: 'srcDesc', srcref: 9n, eventFlags: 0n, provider: TCP, descriptor: desc(2) }]);
  assert.deepEqual(back.map((e) => e.event), ['added']);
});

test('a failed connection (attempt, no success) is marked failed at removal; listeners are listeners', () => {
  const t = new SourceTable(d);
  feed(t, [{ ...base, kind: 'srcUpdate', srcref: 1n, eventFlags: 0n, provider: TCP, descriptor: desc(3, 2), counts: counts({ connectAttempts: 1 }) }]);
  const [rem] = feed(t, [{ ...base, kind: 'srcRemoved', srcref: 1n }]);
  assert.equal(rem.stream.failed, true);
  const [l] = feed(t, [{ ...base, kind: 'srcDesc', srcref: 2n, eventFlags: 0n, provider: TCP, descriptor: { ...desc(22, 1), remote: undefined } }]);
  assert.equal(l.stream.listener, true);
  assert.equal(l.stream.state, 'LISTEN');
});

test('sweeps: a source missing from more than `grace` complete sweeps is removed; seen ones stay', () => {
  const t = new SourceTable(d);
  const upd = (srcref: bigint): Message => ({ ...base, kind: 'srcUpdate', srcref, eventFlags: 0n, provider: TCP, descriptor: desc(Number(srcref)), counts: counts({}) });
  feed(t, [upd(1n), upd(2n)]);
  let g = t.beginSweep();
  feed(t, [upd(1n)]);
  let out: StreamEvent[] = [];
  assert.equal(t.endSweep(g, 2000, out, 1), 0, 'first miss is within grace');
  g = t.beginSweep();
  feed(t, [upd(1n)]);
  out = [];
  assert.equal(t.endSweep(g, 3000, out, 1), 1);
  assert.deepEqual(out.map((e) => [e.event, e.stream.id]), [['removed', '2']]);
  assert.ok(t.get(1n));
});

test('32-bit srcrefs (10.11) may be reused after wrap-around; 64-bit ones come back only with a live report', () => {
  const d11 = dialectFor('3248.60.10');
  const t11 = new SourceTable(d11);
  const add = (srcref: bigint, p: number): Message[] => [
    { ...base, kind: 'srcAdded', srcref, provider: p },
    { ...base, kind: 'srcDesc', srcref, eventFlags: 0n, provider: p, descriptor: desc(1) },
    { ...base, kind: 'srcRemoved', srcref },
  ];
  assert.equal(feed(t11, [...add(3n, 2), ...add(3n, 2)]).filter((e) => e.event === 'added').length, 2);
  // 64-bit: a repeated SRC_ADDED alone is ignored (no pending entry), a live report brings it back.
  const t13 = new SourceTable(d);
  feed(t13, add(3n, TCP));
  assert.deepEqual(feed(t13, [{ ...base, kind: 'srcAdded', srcref: 3n, provider: TCP }]), []);
  assert.equal(t13.has(3n), false);
  assert.equal(feed(t13, [{ ...base, kind: 'srcDesc', srcref: 3n, eventFlags: 0n, provider: TCP, descriptor: desc(1) }]).filter((e) => e.event === 'added').length, 1);
});

test('memory of ended srcrefs is bounded under churn', () => {
  const t = new SourceTable(d);
  for (let i = 1n; i <= 30000n; i++) {
    feed(t, [{ ...base, kind: 'srcUpdate', srcref: i, eventFlags: 0n, provider: TCP, descriptor: desc(1), counts: counts({}) }, { ...base, kind: 'srcRemoved', srcref: i }]);
  }
  const ended = (t as unknown as { ended: Set<bigint> }).ended;
  assert.ok(ended.size <= SourceTable.ENDED_MEMORY, `ended set has ${ended.size}`);
  assert.equal(t.size, 0);
});

test('bookkeeping reused after removals keeps sources apart: pending counts, announcements and sweeps follow their own srcref', () => {
  // The table keeps per-source state in reusable slots (issue 17): sources added after others
  // ended take their places. Every expected value here follows from the messages fed.
  const t = new SourceTable(d);
  const added = (r: bigint) => ({ ...base, kind: 'srcAdded' as const, srcref: r, provider: TCP });
  const early = (r: bigint) => ({ ...base, kind: 'srcCounts' as const, srcref: r, eventFlags: 0n, counts: counts({ rxBytes: Number(r) * 10 }) });
  const described = (r: bigint) => ({ ...base, kind: 'srcDesc' as const, srcref: r, eventFlags: 0n, provider: TCP, descriptor: desc(Number(r)) });
  const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => BigInt(a + i));
  const odd = (r: bigint) => r % 2n === 1n;

  feed(t, range(1, 200).map(added));
  feed(t, range(1, 200).filter(odd).map(early));
  const first = feed(t, range(1, 200).map(described));
  assert.deepEqual(first.map((e) => [e.event, e.stream.id, e.stream.counts?.rxBytes]), range(1, 200).map((r) => ['added', String(r), odd(r) ? Number(r) * 10 : undefined]));

  const gone = feed(t, range(1, 100).map((r) => ({ ...base, kind: 'srcRemoved' as const, srcref: r })), 2000);
  assert.deepEqual(gone.map((e) => [e.event, e.stream.id, e.stream.closed]), range(1, 100).map((r) => ['removed', String(r), true]));

  feed(t, range(1001, 1100).map(added), 3000);
  feed(t, range(1001, 1100).filter(odd).map(early), 3000);
  const second = feed(t, range(1001, 1100).map(described), 3000);
  assert.deepEqual(
    second.map((e) => [e.event, e.stream.id, e.stream.local?.port, e.stream.counts?.rxBytes, e.stream.firstSeen]),
    range(1001, 1100).map((r) => ['added', String(r), Number(r), odd(r) ? Number(r) * 10 : undefined, 3000]),
  );
  // The ended streams were not touched by the sources that came after them.
  assert.deepEqual(gone.map((e) => [e.stream.local?.port, e.stream.counts?.rxBytes, e.stream.lastUpdated]), range(1, 100).map((r) => [Number(r), odd(r) ? Number(r) * 10 : undefined, 2000]));
  assert.equal(t.size, 200);

  const gen = t.beginSweep();
  const reported = [...range(101, 150), ...range(1001, 1050)];
  feed(t, reported.map((r) => ({ ...base, kind: 'srcCounts' as const, srcref: r, eventFlags: 0n, counts: counts({ rxBytes: Number(r) * 10 }) })), 4000);
  for (const r of [101n, 150n, 1001n, 1050n]) assert.ok(t.seenSince(r, gen), `${r} seen`);
  for (const r of [151n, 200n, 1051n, 1100n]) assert.ok(!t.seenSince(r, gen), `${r} unseen`);
  assert.deepEqual(t.unseenSince(gen), [...range(151, 200), ...range(1051, 1100)]);
  const swept: StreamEvent[] = [];
  assert.equal(t.endSweep(gen, 5000, swept, 0), 100);
  assert.deepEqual(swept.map((e) => e.stream.id), [...range(151, 200), ...range(1051, 1100)].map(String));
  assert.deepEqual([...t.streams()].map((s) => s.id), reported.map(String), 'the survivors, in the order they were first seen');
  for (const r of reported) assert.equal(t.get(r)?.local?.port, Number(r));
  for (const r of [1n, 151n, 1100n]) assert.equal(t.get(r), undefined);
});
