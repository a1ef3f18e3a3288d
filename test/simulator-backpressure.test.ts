/**
 * §4 back-pressure: fill the 8 KB queue and check exactly which messages are lost, that the
 * ground truth's drop ledger names them, and that what a client reads plus what the ledger says
 * was lost is exactly what the kernel produced.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HeaderFlag, type Message } from '../src/protocol/index.js';
import { Probe, brief } from './simulator-harness.js';

const refOf = (m: Message) => (m as { srcref: bigint }).srcref;

describe('§4 back-pressure', () => {
  test('§4 non-critical data stops at 75 % of hiwat; exactly the later SRC_ADDEDs are lost and the ledger names them [d10002]', () => {
    const p = Probe.for('d10002');
    p.addAll('tcp');
    p.msgs();
    const socks = Array.from({ length: 300 }, () => p.w.tcpSocket(p.proc(), 4));
    // SRC_ADDED is 32 B: admitted while space ≥ 2048 (25 % of 8192) → 193 fit (6176 B queued).
    const truth = p.sim.groundTruth();
    assert.equal(truth.queue.bytes, 193 * 32);
    assert.equal(truth.dropped.byKind.srcAdded, 107);
    assert.equal(truth.dropped.sourcesNeverAdded, 107);
    const lostRefs = truth.dropped.log.filter((r) => r.kind === 'srcAdded').map((r) => r.srcref!);
    const recs = p.records();
    assert.equal(recs.length, 193, 'records = enqueues');
    const got = recs.map((r) => refOf(r.msgs[0]));
    assert.deepEqual(got, Array.from({ length: 193 }, (_, i) => BigInt(i + 1)));
    // srcrefs are consumed even when the SRC_ADDED fails (`nstat_control_source_add`).
    assert.deepEqual(lostRefs, Array.from({ length: 107 }, (_, i) => BigInt(194 + i)));
    assert.deepEqual([...truth.sources.keys()].sort((a, b) => Number(a - b)), got);
    void socks;
  });

  test('§4 goodbyes under pressure: counts/desc dropped silently, SRC_REMOVED (critical) gets through with CLOSED_AFTER_DROP; later even SRC_REMOVED is lost [d10002]', () => {
    const p = Probe.for('d10002');
    p.addAll('tcp');
    p.msgs();
    const socks = Array.from({ length: 300 }, () => p.w.tcpSocket(p.proc(), 4));
    const reported = socks.slice(0, 193);
    for (const s of reported) p.w.tcpClose(s);
    const truth = p.sim.groundTruth();
    assert.equal(truth.sources.size, 0, 'every source is destroyed, delivered or not');
    assert.equal(truth.dropped.byKind.srcCounts, 193);
    assert.equal(truth.dropped.byKind.srcDesc, 193);
    const removedLost = truth.dropped.byKind.srcRemoved;
    assert.ok(removedLost > 0, 'critical space is finite too');
    assert.equal(truth.dropped.removedLost, removedLost);
    // Critical growth: hiwat up to 1.25 × 8192.
    assert.equal(truth.queue.hiwat, 10240);
    const ms = p.msgs();
    const removed = ms.filter((m) => m.kind === 'srcRemoved');
    assert.equal(removed.length + removedLost, 193);
    assert.ok(removed.every((m) => m.flags === HeaderFlag.CLOSED_AFTER_DROP));
    // The lost SRC_REMOVEDs are the last ones, and the ledger says which.
    const lost = truth.dropped.log.filter((r) => r.kind === 'srcRemoved').map((r) => r.srcref);
    const delivered = new Set(removed.map(refOf));
    assert.ok(lost.every((r) => !delivered.has(r!)));
    assert.equal(new Set([...lost, ...delivered]).size, 193);
    // Reading trims the grown buffer back to its ideal size.
    assert.equal(p.sim.receiveBufferSize, 8192);
  });

  test('§4 aggregated poll batches are lost whole; SUCCESS still sent; the ledger lists the batch contents [d10002]', () => {
    const p = Probe.for('d10002');
    for (let i = 0; i < 60; i++) p.w.transfer(p.tcp(), 100 + i, 10);
    p.sim.setReceiveBufferSize(1 << 20);
    p.addAll('tcp');
    p.msgs();
    p.sim.setReceiveBufferSize(8192);
    const ctx = p.poll('getUpdate', 'all');
    const truth = p.sim.groundTruth();
    const ms = p.msgs();
    const updates = ms.filter((m) => m.kind === 'srcUpdate');
    assert.equal(ms[ms.length - 1].kind, 'success');
    assert.equal(ms[ms.length - 1].context, ctx);
    assert.ok(truth.dropped.byKind.batch > 0);
    const lostInBatches = truth.dropped.log.filter((r) => r.kind === 'batch').flatMap((r) => r.messages!.map((x) => x.srcref));
    assert.equal(updates.length + lostInBatches.length, 60, 'every source is either delivered or in a lost batch');
    assert.equal(truth.dropped.inBatches.srcUpdate, lostInBatches.length);
    // TCP update = 152 + 344 = 496 B: 8 per 4096 B batch.
    assert.ok(truth.dropped.log.filter((r) => r.kind === 'batch').every((r) => r.messages!.length <= 8));
  });

  test('§4 a paced sweep without SUPPORTS_AGGREGATE ends the chunk with ERROR(ENOBUFS) and resumes exactly after draining [d4570]', () => {
    const p = Probe.for('d4570');
    p.sim.setReceiveBufferSize(1 << 20);
    for (let i = 0; i < 60; i++) p.tcp();
    p.addAll('tcp');
    const all = new Set(p.msgs().filter((m) => m.kind === 'srcAdded').map(refOf));
    p.sim.setReceiveBufferSize(8192);
    const ctx = 4242n;
    const seen: bigint[] = [];
    let errors = 0;
    for (let i = 0; i < 50; i++) {
      p.poll('getSrcDesc', 'all', HeaderFlag.CONTINUATION, ctx);
      const ms = p.msgs();
      for (const m of ms) if (m.kind === 'srcDesc') seen.push(m.srcref);
      const end = ms[ms.length - 1];
      if (end.kind === 'error') {
        assert.equal(brief(end), `error ctx=${ctx} errno=55`);
        errors++;
        continue;
      }
      assert.equal(end.kind, 'success');
      if ((end.flags & HeaderFlag.CONTINUATION) === 0) break;
    }
    assert.ok(errors > 0, 'the queue filled at least once');
    assert.equal(seen.length, all.size, 'no duplicates');
    assert.deepEqual(new Set(seen), all, 'no loss: the failed source was not stamped');
  });

  test('§4 a short read truncates the record and discards its remainder (MSG_TRUNC) [d10002]', () => {
    const p = Probe.for('d10002');
    p.tcp();
    p.addAll('tcp');
    p.msgs();
    p.poll('getSrcDesc', 'all');
    const r = p.sim.recv(100);
    assert.ok(r && r.truncated && r.data.length === 100 && r.length === 40 + 344);
    const next = p.sim.recv();
    assert.ok(next && !next.truncated && next.length === 16, 'the next record is the SUCCESS');
  });

  test('§4 with a large SO_RCVBUF the mbuf storage limit binds first (cluster-backed messages) [d10002]', () => {
    const p = Probe.for('d10002');
    for (let i = 0; i < 4000; i++) p.tcp();
    p.sim.setReceiveBufferSize(4 << 20);
    p.addAll('tcp');
    p.msgs();
    p.poll('getSrcDesc', 'all'); // 384-byte records, each charged 256 + 2048 B of storage
    const truth = p.sim.groundTruth();
    const mbmax = Math.min(8 * (4 << 20), 8 << 20);
    const delivered = truth.queue.records - 1; // minus the SUCCESS (critical)
    // §4 "4 MiB hiwat ⇒ ≈ 3600 cluster-backed messages": sbspace is min(hiwat − cc, mbmax − mbcnt)
    // and non-critical data also needs sbspace ≥ hiwat/4, so exactly floor((mbmax − hiwat/4) / 2304) + 1.
    assert.equal(delivered, Math.floor((mbmax - (4 << 20) / 4) / (256 + 2048)) + 1);
    assert.ok(truth.dropped.byKind.srcDesc > 0, `storage limit reached after ${delivered} records`);
    assert.ok(truth.queue.bytes < (4 << 20) * 0.75, 'the byte limit was not the one that bound');
  });

  test('§4 pre-10.11 kernels without the critical class: SUCCESS and SRC_REMOVED compete for the same space [d2050]', () => {
    const p = Probe.for('d2050');
    p.addAll('tcp');
    p.msgs();
    const socks = Array.from({ length: 400 }, () => p.w.tcpSocket(p.proc(), 4));
    for (const s of socks) p.w.tcpClose(s);
    const truth = p.sim.groundTruth();
    assert.ok(truth.dropped.byKind.srcRemoved > 0);
    assert.equal(truth.queue.hiwat, 8192, 'no critical growth');
  });
});
