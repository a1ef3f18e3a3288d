/**
 * The usage ledger's counting rules with hand-computed values: growth since last seen, first
 * sight counts in full, a restart counts only growth beyond the stored counters, counters that go
 * down add nothing, a clock that jumps back puts growth in an earlier bucket and never subtracts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageLedger } from '../src/agent/ledger.js';
import { flowIdentity } from '../src/agent/identity.js';
import type { Stream } from '../src/model/stream.js';
import { toStreamCounts } from '../src/model/stream.js';
import { counts } from './helpers/recording.js';

function stream(id: string, pid: number, name: string, rx: number, tx: number, port = 50000 + Number(id)): Stream {
  return {
    id, srcref: BigInt(id), provider: 'tcp', providerKind: 'tcp', providerId: 2, userland: false, interface: 'wifi', ifindex: 4,
    listener: false, failed: false, pid, epid: 0, process: name, firstSeen: 0, lastUpdated: 0, closed: false,
    local: { family: 4, address: '10.0.0.2', port },
    remote: { family: 4, address: '93.184.216.34', port: 443 },
    counts: toStreamCounts(counts({ rxBytes: rx, txBytes: tx, rxPackets: rx > 0 ? 1 : 0, txPackets: tx > 0 ? 1 : 0 })),
  };
}

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

test('growth since last seen; closed flows keep counting; first sight counts in full', () => {
  const l = new UsageLedger();
  l.apply('added', stream('1', 10, 'curl', 1000, 100), T0);
  l.apply('update', stream('1', 10, 'curl', 1500, 150), T0 + 1000);
  l.apply('added', stream('2', 10, 'curl', 0, 0), T0 + 1000);
  l.apply('removed', stream('2', 10, 'curl', 300, 30), T0 + 2000);
  const [g] = l.groupList();
  assert.equal(g.key, 'name:curl|pid:10');
  assert.equal(g.rxBytes, 1500 + 300);
  assert.equal(g.txBytes, 150 + 30);
  assert.equal(g.flows, 2);
  assert.equal(g.liveFlows, 1);
  const b = l.takeBatch(T0 + 60_000);
  assert.equal(b.deltas.length, 1, 'one minute bucket, one group, one interface');
  assert.equal(b.deltas[0].minute, T0);
  assert.equal(b.deltas[0].rxBytes, 1800);
  assert.equal(b.deltas[0].flows, 2);
  assert.equal(b.closed.length, 1);
  assert.equal(b.closed[0].rxBytes, 300);
  assert.equal(b.closed[0].remote, '93.184.216.34:443');
  // Open flows, and the flow that just closed (remembered: TIME_WAIT sockets get reported again).
  assert.deepEqual(b.open.map((o) => o.rxBytes), [300, 1500]);
});

test('a closed flow reported again (TIME_WAIT seen by a new session, a source brought back) adds only new growth', () => {
  const a = new UsageLedger();
  a.apply('added', stream('1', 10, 'a', 1000, 10), T0);
  a.apply('removed', stream('1', 10, 'a', 1200, 10), T0 + 1000);
  a.apply('added', stream('9', 10, 'a', 1200, 10, 50001), T0 + 2000); // same socket, new srcref
  assert.equal(a.groupList()[0].rxBytes, 1200);
  const b = new UsageLedger();
  const x = new UsageLedger();
  x.apply('added', stream('1', 10, 'a', 1000, 10), T0);
  x.apply('removed', stream('1', 10, 'a', 1200, 10), T0 + 1000);
  b.restore(x.takeBatch(T0 + 2000).open, T0 + 3000);
  b.apply('added', stream('5', 10, 'a', 1200, 10, 50001), T0 + 3000);
  assert.equal(b.groupList()[0].rxBytes, 0);
  // Forgotten after two minutes.
  assert.deepEqual(x.takeBatch(T0 + 1000 + 2 * 60_000 + 1).open, []);
});

test('counters that go down add nothing; the next growth counts from the highest value', () => {
  const l = new UsageLedger();
  l.apply('added', stream('1', 10, 'a', 1000, 0), T0);
  l.apply('update', stream('1', 10, 'a', 400, 0), T0 + 1000);
  l.apply('update', stream('1', 10, 'a', 1200, 0), T0 + 2000);
  assert.equal(l.groupList()[0].rxBytes, 1200);
});

test('a restart counts only growth beyond the stored counters; an unknown flow counts in full', () => {
  const first = new UsageLedger();
  first.apply('added', stream('1', 10, 'a', 1000, 100), T0);
  const stored = first.takeBatch(T0 + 180_000).open;
  // New session: srcrefs differ (77, 78), identities match for the first flow only.
  const l = new UsageLedger();
  l.restore(stored, T0 + 60_000);
  l.apply('added', stream('77', 10, 'a', 1600, 100, 50001), T0 + 60_000);
  l.apply('added', stream('78', 10, 'a', 500, 0), T0 + 60_000);
  const [g] = l.groupList();
  assert.equal(g.rxBytes, 600 + 500);
  assert.equal(g.txBytes, 0);
  assert.equal(g.flows, 1, 'the restored flow was opened in the earlier session');
});

test('same identity with smaller counters is a different flow (counts in full)', () => {
  const l = new UsageLedger();
  const s = stream('1', 10, 'a', 1000, 0);
  l.restore([{ identity: flowIdentity(s), rxBytes: 5000, txBytes: 0, rxPackets: 3, txPackets: 0 }], T0);
  l.apply('added', s, T0);
  assert.equal(l.groupList()[0].rxBytes, 1000);
});

test('unclaimed stored flows stay in the open set for two minutes (sources may be announced late), then are forgotten', () => {
  const l = new UsageLedger();
  l.restore([{ identity: 'x#', rxBytes: 1, txBytes: 2, rxPackets: 3, txPackets: 4 }], T0);
  assert.deepEqual(l.takeBatch(T0 + 2 * 60_000).open, [{ identity: 'x#', rxBytes: 1, txBytes: 2, rxPackets: 3, txPackets: 4 }]);
  assert.deepEqual(l.takeBatch(T0 + 2 * 60_000 + 1).open, []);
});

test('a clock jump back puts growth in the earlier minute, never negative, never twice', () => {
  const l = new UsageLedger();
  l.apply('added', stream('1', 10, 'a', 100, 0), T0 + 120_000);
  l.apply('update', stream('1', 10, 'a', 250, 0), T0); // the wall clock went back two minutes
  l.apply('update', stream('1', 10, 'a', 250, 0), T0 + 180_000);
  const d = l.takeBatch(T0 + 180_000).deltas.sort((a, b) => a.minute - b.minute);
  assert.deepEqual(d.map((x) => [x.minute - T0, x.rxBytes]), [[0, 150], [120_000, 100]]);
});
