/**
 * DatagramFdTransport's batch read (Linux recvmmsg, Darwin recvmsg_x): every semantic of the
 * one-record path, with a scripted batch Libc (fd-script.ts) for exact call sequences, and the real
 * recvmmsg on a socketpair. Expected records are the scripted/sent ones (pattern()), never what
 * the transport produced.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DatagramFdTransport, DEFAULT_BATCH_SLOTS } from '../src/transport/fd.js';
import { DARWIN, DARWIN_ERRNO, hostConstants, LINUX, loadLibc, type BatchReceiver, type Libc, type RecvResult } from '../src/transport/libc.js';
import { FdEndpoint, openDatagramSocketPair } from '../src/transport/socketpair.js';
import { rec, scripted } from './fd-script.js';
import { pattern, peerSendAll, record, runTransportContract, sleep, until } from './transport-contract.js';

const recs = (from: number, n: number): RecvResult[] => Array.from({ length: n }, (_, i) => rec(from + i));
const pats = (from: number, n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => pattern(from + i, 20));
const batchCalls = (calls: string[]) => calls.filter((c) => c.startsWith('batch(') || c === 'recv' || c === 'recvmsg');
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

describe('DatagramFdTransport batch read (scripted batch Libc)', () => {
  test('slots hold capacity + 1 bytes; a short batch means the queue was empty: no EAGAIN read', () => {
    const s = scripted(DARWIN, [], [], { batch: [recs(1, 3)] });
    const t = new DatagramFdTransport(3, { libc: s.libc, receiveCapacity: 100, batchSlots: 8 });
    const r = record(t);
    assert.ok(s.calls.includes('batchReceiver(101, 8)'));
    s.fire();
    assert.deepEqual(r.datagrams, pats(1, 3));
    assert.deepEqual(batchCalls(s.calls), ['batch(8)'], 'one call for three records');
    t.close();
  });

  test('a full batch is followed by another read: by the next batch, or by EAGAIN', () => {
    const s = scripted(DARWIN, [], [], { batch: [recs(1, 6)] });
    const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 4 });
    const r = record(t);
    s.fire();
    assert.deepEqual(r.datagrams, pats(1, 6));
    assert.deepEqual(batchCalls(s.calls), ['batch(4)', 'batch(4)'], '4 (full), then 2 (short: done)');
    const s2 = scripted(DARWIN, [], [], { batch: [recs(1, 4)] });
    const t2 = new DatagramFdTransport(3, { libc: s2.libc, batchSlots: 4 });
    const r2 = record(t2);
    s2.fire();
    assert.deepEqual(r2.datagrams, pats(1, 4));
    assert.deepEqual(batchCalls(s2.calls), ['batch(4)', 'batch(4)'], 'full, then EAGAIN');
    t.close();
    t2.close();
  });

  test('EINTR is retried; EAGAIN on the first call is no reason to give up the batch call', () => {
    const s = scripted(LINUX, [], [], { batch: [LINUX.errno.EINTR, recs(1, 2), LINUX.errno.EAGAIN, recs(3, 1)] });
    const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 4, debug: s.onDebug });
    const r = record(t);
    s.fire();
    assert.deepEqual(r.datagrams, pats(1, 2));
    s.fire(); // EAGAIN (a spurious wake-up)
    s.fire();
    assert.deepEqual(r.datagrams, pats(1, 3));
    assert.deepEqual(batchCalls(s.calls), ['batch(4)', 'batch(4)', 'batch(4)', 'batch(4)']);
    assert.deepEqual(s.debug, []);
    t.close();
  });

  test('pause() inside a batch: the rest is held, then delivered in order on resume before any new read, once', async () => {
    const s = scripted(DARWIN, [], [], { batch: [recs(1, 5), recs(6, 2)] });
    const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 8 });
    const r = record(t, (_, i) => {
      if (i === 1) t.pause();
    });
    s.fire();
    assert.deepEqual(r.datagrams, pats(1, 2), 'nothing after the pause');
    assert.deepEqual(batchCalls(s.calls), ['batch(8)']);
    t.resume();
    assert.equal(r.datagrams.length, 2, 'held records wait for the next turn, not inside resume()');
    await nextTurn();
    assert.deepEqual(r.datagrams, pats(1, 5), 'the held three, in order');
    assert.deepEqual(batchCalls(s.calls), ['batch(8)'], 'the first batch was short: no read after it');
    s.fire();
    assert.deepEqual(r.datagrams, pats(1, 7), 'then the next batch, nothing lost or repeated');
    t.close();
  });

  test('a wake-up while records are held delivers them first (no new batch overwrites them)', () => {
    const s = scripted(DARWIN, [], [], { batch: [recs(1, 4), recs(5, 1)] });
    const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 4 });
    const seen: Uint8Array[] = [];
    t.start({
      borrow: true,
      onDatagram(d) {
        seen.push(d.slice());
        if (seen.length === 2) t.pause();
      },
      onClose() {},
    });
    s.fire();
    t.resume();
    s.fire(); // the poll handle fires before the scheduled turn
    assert.deepEqual(seen, pats(1, 5));
    t.close();
  });

  test('close() inside a batch delivers nothing more; onClose once', async () => {
    const s = scripted(DARWIN, [], [], { batch: [recs(1, 5)] });
    const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 8 });
    const r = record(t, (_, i) => {
      if (i === 1) t.close();
    });
    s.fire();
    t.resume();
    await nextTurn();
    assert.equal(r.datagrams.length, 2);
    assert.deepEqual(r.closes, [undefined]);
  });

  test('a zero-length record in a batch ends the stream after the records before it', () => {
    const empty: RecvResult = { data: new Uint8Array(0), flags: 0 };
    const s = scripted(DARWIN, [], [], { batch: [[rec(1), rec(2), empty, rec(3)]] });
    const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 8 });
    const r = record(t);
    s.fire();
    assert.deepEqual(r.datagrams, pats(1, 2));
    assert.deepEqual(r.closes, [undefined]);
    assert.ok(s.calls.includes('close'), 'fd closed');
  });

  test('a batch call returning 0 (recvmsg_x: nothing queued, receive side shut) is end of stream', () => {
    const s = scripted(DARWIN, [], [], { batch: [recs(1, 2), []] });
    const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 2 });
    const r = record(t);
    s.fire();
    assert.deepEqual(r.datagrams, pats(1, 2));
    assert.deepEqual(r.closes, [undefined]);
  });

  test('ECONNRESET once the call has worked closes with errno 54, naming the call', () => {
    for (const os of [DARWIN, LINUX]) {
      const s = scripted(os, [], [], { batch: [recs(1, 2), os.errno.ECONNRESET] });
      const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 2, debug: s.onDebug });
      const r = record(t);
      s.fire();
      assert.deepEqual(r.datagrams, pats(1, 2));
      assert.equal(r.closes[0]?.errno, DARWIN_ERRNO.ECONNRESET);
      const name = os === DARWIN ? /recvmsg_x\(\).*ECONNRESET/ : /recvmmsg\(\).*ECONNRESET/;
      assert.match(r.closes[0]?.message ?? '', name);
      assert.deepEqual(s.debug, []);
    }
  });

  test('the first batch call failing (EOPNOTSUPP, EINVAL, ENOSYS) falls back to recv() for good and says so', () => {
    for (const errno of [DARWIN_ERRNO.EOPNOTSUPP, DARWIN_ERRNO.EINVAL, 78 /* Darwin ENOSYS */]) {
      const s = scripted(DARWIN, [rec(1), rec(2)], [], { viaRecv: true, batch: [errno, recs(9, 3)] });
      const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 4, debug: s.onDebug });
      const r = record(t);
      s.fire();
      assert.deepEqual(r.datagrams, pats(1, 2), 'the same wake-up reads on with recv()');
      assert.deepEqual(batchCalls(s.calls), ['batch(4)', 'recv', 'recv', 'recv']);
      s.fire();
      assert.equal(batchCalls(s.calls).filter((c) => c.startsWith('batch')).length, 1, 'never tried again');
      assert.equal(s.debug.length, 1);
      assert.match(s.debug[0], /recvmsg_x\(\) failed .*recv\(\)/);
      assert.equal(r.closes.length, 0);
      t.close();
    }
  });

  test('a real error on the first call is reported by recv(), which reads next', () => {
    const s = scripted(DARWIN, [DARWIN_ERRNO.ECONNRESET], [], { viaRecv: true, batch: [DARWIN_ERRNO.ECONNRESET] });
    const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 4, debug: s.onDebug });
    const r = record(t);
    s.fire();
    assert.equal(r.closes[0]?.errno, 54);
    assert.match(r.closes[0]?.message ?? '', /recv\(\).*ECONNRESET/);
  });

  test('no batch call in the C library: recv() per record, said once in debug', () => {
    const s = scripted(DARWIN, [rec(1)], [], { viaRecv: true, batchMissing: true });
    const t = new DatagramFdTransport(3, { libc: s.libc, debug: s.onDebug });
    const r = record(t);
    s.fire();
    assert.deepEqual(r.datagrams, pats(1, 1));
    assert.deepEqual(batchCalls(s.calls), ['recv', 'recv']);
    assert.equal(s.debug.length, 1);
    assert.match(s.debug[0], /no batch receive call/);
    t.close();
  });

  test('batchSlots 1 does not ask for a batch receiver at all', () => {
    const s = scripted(DARWIN, [rec(1)], [], { viaRecv: true, batch: [recs(5, 1)] });
    const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 1 });
    const r = record(t);
    s.fire();
    assert.deepEqual(r.datagrams, pats(1, 1));
    assert.ok(!s.calls.some((c) => c.startsWith('batch')));
    t.close();
  });

  test('truncation by length: capacity bytes fit, one more is truncated; a truncated last record is not "short"', () => {
    const long: RecvResult = { data: pattern(9, 101), flags: 0 };
    const exact: RecvResult = { data: pattern(8, 100), flags: 0 };
    const s = scripted(DARWIN, [], [], { batch: [[exact, long], [rec(1)]] });
    const t = new DatagramFdTransport(3, { libc: s.libc, receiveCapacity: 100, batchSlots: 4 });
    const r = record(t);
    s.fire();
    assert.deepEqual(r.truncated, [false, true, false]);
    assert.deepEqual(r.datagrams, [pattern(8, 100), pattern(9, 101).subarray(0, 100), pattern(1, 20)]);
    // Older XNU stops a recvmsg_x batch after a truncated datagram: read on after one.
    assert.deepEqual(batchCalls(s.calls), ['batch(4)', 'batch(4)']);
    t.close();
  });

  test('a borrower gets views of the slots (valid until the next read); others own copies', () => {
    const s = scripted(DARWIN, [], [], { batch: [recs(1, 3), recs(4, 3)] });
    const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 3 });
    const views: Uint8Array[] = [];
    const during: Uint8Array[] = [];
    t.start({ borrow: true, onDatagram: (d) => { views.push(d); during.push(d.slice()); }, onClose() {} });
    s.fire();
    assert.deepEqual(during, pats(1, 6));
    assert.equal(views[0].buffer, views[3].buffer, 'slot 0 again');
    assert.deepEqual(views[0], pattern(4, 20), 'a kept view shows the later batch (the borrow hazard)');
    assert.deepEqual(views.slice(3), pats(4, 3), 'the last batch still readable: no read after it');
    t.close();
    const s2 = scripted(DARWIN, [], [], { batch: [recs(1, 3), recs(4, 3)] });
    const t2 = new DatagramFdTransport(3, { libc: s2.libc, batchSlots: 3 });
    const r2 = record(t2);
    s2.fire();
    assert.deepEqual(r2.datagrams, pats(1, 6), 'copies survive later batches');
    assert.equal(new Set(r2.datagrams.map((d) => d.buffer)).size, 6, 'each its own buffer');
    t2.close();
  });

  test('a handler that re-enters the drain reads nothing: the records it borrows are not overwritten', () => {
    const s = scripted(DARWIN, [], [], { batch: [recs(1, 2), recs(3, 2)] });
    const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 2 });
    const seen: Uint8Array[] = [];
    t.start({
      borrow: true,
      onDatagram(d) {
        const before = d.slice();
        if (seen.length === 0) s.fire();
        assert.deepEqual(d, before);
        seen.push(before);
      },
      onClose() {},
    });
    s.fire();
    assert.deepEqual(seen, pats(1, 4), 'all four, in order, once');
    t.close();
  });

  test('fairness: at most 256 records per wake-up, the last batch asking only for what the budget allows', () => {
    const s = scripted(DARWIN, [], [], { batch: [recs(0, 300)] });
    const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 30 });
    const r = record(t);
    s.fire();
    assert.equal(r.datagrams.length, 256);
    const asked = batchCalls(s.calls);
    assert.deepEqual(asked, [...Array(8).fill('batch(30)'), 'batch(16)'], '8 × 30 + 16 = 256');
    s.fire();
    assert.equal(r.datagrams.length, 300);
    assert.deepEqual(r.datagrams, pats(0, 300));
    t.close();
  });

  test('read side shut (disconnect): a short batch is not trusted as empty; read to EAGAIN, then close', () => {
    const s = scripted(DARWIN, [], [], { batch: [recs(1, 1), recs(2, 1)] });
    const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 4 });
    const r = record(t);
    s.fire(0, true);
    assert.deepEqual(r.datagrams, pats(1, 2), 'the record after the short batch is not lost');
    assert.deepEqual(batchCalls(s.calls), ['batch(4)', 'batch(4)', 'batch(4)']);
    assert.deepEqual(r.closes, [undefined]);
  });

  test('read after send: the reply queued inside send(2) is read before the loop turns, with no poll wake-up', async () => {
    const s = scripted(DARWIN, [], [], { batch: [recs(1, 2)] });
    const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 4 });
    const r = record(t);
    t.send(pattern(50, 16));
    assert.equal(r.datagrams.length, 0, 'never inside the caller\'s send()');
    await Promise.resolve();
    assert.deepEqual(r.datagrams, pats(1, 2), 'read in a microtask');
    assert.deepEqual(batchCalls(s.calls), ['batch(4)']);
    t.pause();
    t.send(pattern(51, 16));
    await nextTurn();
    assert.deepEqual(batchCalls(s.calls), ['batch(4)'], 'no read while paused');
    t.close();
  });

  test('read after send inside a handler: the drain reads once more after a short batch', () => {
    const s = scripted(DARWIN, [], [], { batch: [recs(1, 1), recs(2, 1)] });
    const t = new DatagramFdTransport(3, { libc: s.libc, batchSlots: 4 });
    const r = record(t, (_, i) => {
      if (i === 0) t.send(pattern(60, 16)); // a continuation sent from the handler
    });
    s.fire();
    assert.deepEqual(r.datagrams, pats(1, 2), 'the reply came in the same turn');
    assert.deepEqual(batchCalls(s.calls), ['batch(4)', 'batch(4)'], 'short, then short again: done (no EAGAIN read)');
    t.close();
  });
});

// ---------------------------------------------------------------------------------------------
// The real recvmmsg (glibc) on a socketpair

const host = hostConstants();
const NATIVE_SKIP = host?.os === 'linux' ? undefined : 'recvmmsg is tested on Linux (no Mac here for recvmsg_x)';

/** The real Libc, with its batch receiver's calls and results counted. */
function countingLibc(): { libc: Libc; results: number[] } {
  const real = loadLibc();
  const results: number[] = [];
  const libc: Libc = {
    ...real,
    recv(fd, buf, flags) {
      results.push(-100);
      return real.recv!(fd, buf, flags);
    },
    batchReceiver(size, count) {
      const b = real.batchReceiver!(size, count) as BatchReceiver;
      return {
        call: b.call,
        slots: b.slots,
        length: (i) => b.length(i),
        receive(fd, max, flags) {
          const n = b.receive(fd, max, flags);
          results.push(n);
          return n;
        },
      };
    },
  };
  return { libc, results };
}

function batchPair(libc: Libc, opts: { batchSlots?: number; receiveCapacity?: number } = {}) {
  const [a, b] = openDatagramSocketPair({ libc });
  return { transport: new DatagramFdTransport(a, { libc, ...opts }), peer: new FdEndpoint(b) };
}

if (host?.os === 'linux') {
  runTransportContract('DatagramFdTransport, batch read of 3 slots (recvmmsg)', () => batchPair(loadLibc(), { batchSlots: 3 }));
  runTransportContract('DatagramFdTransport, one record per recv() (batchSlots 1)', () => batchPair(loadLibc(), { batchSlots: 1 }));
}

describe('recvmmsg on a real socketpair', { skip: NATIVE_SKIP }, () => {
  test('the C library has recvmmsg; ten queued records arrive in one call, with no recv() and no EAGAIN read', async () => {
    const { libc, results } = countingLibc();
    const { transport, peer } = batchPair(libc);
    try {
      const sent = Array.from({ length: 10 }, (_, i) => pattern(i, 40 + i * 300));
      await peerSendAll(peer, sent);
      const r = record(transport);
      await until(() => r.datagrams.length === 10);
      await sleep(10);
      assert.deepEqual(r.datagrams, sent);
      assert.deepEqual(results, [10], `one recvmmsg of up to ${DEFAULT_BATCH_SLOTS}`);
    } finally {
      transport.close();
      peer.close();
    }
  });

  test('truncation at the capacity and end of stream (zero-length datagram) through recvmmsg', async () => {
    const { libc, results } = countingLibc();
    const { transport, peer } = batchPair(libc, { receiveCapacity: 1000 });
    try {
      const sent = [pattern(1, 1000), pattern(2, 1001), pattern(3, 5000), pattern(4, 10)];
      await peerSendAll(peer, sent);
      peer.close(); // sends the zero-length end-of-stream datagram
      const r = record(transport);
      await until(() => r.closes.length === 1);
      assert.deepEqual(r.truncated, [false, true, true, false]);
      assert.deepEqual(r.datagrams, [sent[0], sent[1].subarray(0, 1000), sent[2].subarray(0, 1000), sent[3]]);
      assert.deepEqual(r.closes, [undefined]);
      assert.ok(results.length >= 1 && results.every((n) => n > 0), `only batch reads: ${results.join(',')}`);
    } finally {
      transport.close();
    }
  });

  test('slots are page-aligned views of one buffer, capacity + 1 bytes each', () => {
    const b = loadLibc().batchReceiver!(65537, 4)!;
    assert.equal(b.call, 'recvmmsg()');
    assert.equal(b.slots.length, 4);
    for (const [i, s] of b.slots.entries()) {
      assert.equal(s.length, 65537);
      assert.equal(s.byteOffset, i * 69632, '17 pages apart');
      assert.equal(s.buffer, b.slots[0].buffer);
    }
  });
});
