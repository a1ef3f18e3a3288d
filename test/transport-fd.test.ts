/**
 * DatagramFdTransport over a real AF_UNIX SOCK_DGRAM socketpair (the code path the Darwin control
 * socket uses), plus scripted-libc tests for the error paths a socketpair cannot produce.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isNtstatError, NtstatError } from '../src/errors.js';
import { DatagramFdTransport, DEFAULT_RECEIVE_CAPACITY } from '../src/transport/fd.js';
import {
  DARWIN, DARWIN_ERRNO, errnoName, hostConstants, LINUX, loadLibc, toDarwinErrno,
  type Libc, type Poller, type RecvResult,
} from '../src/transport/libc.js';
import { FdEndpoint, openDatagramSocketPair } from '../src/transport/socketpair.js';
import { rec, scripted } from './fd-script.js';
import { pattern, peerSendAll, record, runTransportContract, sleep, until } from './transport-contract.js';

const host = hostConstants();
const NATIVE_SKIP = host ? undefined : `no native socket bindings for ${process.platform}/${process.arch}`;

function pair(opts: { bufferSize?: number; receiveCapacity?: number } = {}) {
  const [a, b] = openDatagramSocketPair(opts.bufferSize === undefined ? {} : { bufferSize: opts.bufferSize });
  const transport = new DatagramFdTransport(
    a,
    opts.receiveCapacity === undefined ? {} : { receiveCapacity: opts.receiveCapacity },
  );
  return { transport, peer: new FdEndpoint(b) };
}

if (host) {
  runTransportContract('DatagramFdTransport over an AF_UNIX SOCK_DGRAM socketpair', () => pair());
} else {
  test('Transport contract: DatagramFdTransport over a socketpair', { skip: NATIVE_SKIP }, () => {});
}

describe('DatagramFdTransport on a real socketpair', { skip: NATIVE_SKIP }, () => {
  test('the fd is made non-blocking and close-on-exec (fcntl)', () => {
    const { transport, peer } = pair();
    try {
      const libc = loadLibc();
      const c = libc.os;
      assert.ok((libc.fcntl(transport.fd, c.F_GETFL) & c.O_NONBLOCK) !== 0, 'O_NONBLOCK');
      assert.ok((libc.fcntl(transport.fd, c.F_GETFD) & c.FD_CLOEXEC) !== 0, 'FD_CLOEXEC');
    } finally {
      transport.close();
      peer.close();
    }
  });

  test('a record larger than 64 KiB arrives truncated (MSG_TRUNC), the next one intact', async () => {
    const { transport, peer } = pair();
    try {
      const r = record(transport);
      const big = pattern(1, 70000);
      await peerSendAll(peer, [big, pattern(2, 4096), pattern(3, DEFAULT_RECEIVE_CAPACITY)]);
      await until(() => r.datagrams.length === 3);
      assert.equal(r.truncated[0], true, 'first record truncated');
      assert.equal(r.datagrams[0].length, DEFAULT_RECEIVE_CAPACITY);
      assert.deepEqual(r.datagrams[0], big.subarray(0, DEFAULT_RECEIVE_CAPACITY));
      assert.equal(r.truncated[1], false);
      assert.deepEqual(r.datagrams[1], pattern(2, 4096));
      assert.equal(r.truncated[2], false, 'exactly 64 KiB is not truncated');
      assert.equal(r.datagrams[2].length, DEFAULT_RECEIVE_CAPACITY);
    } finally {
      transport.close();
      peer.close();
    }
  });

  test('truncation at a custom receive capacity: capacity bytes fit, one more does not', async () => {
    const { transport, peer } = pair({ receiveCapacity: 1000 });
    try {
      const r = record(transport);
      await peerSendAll(peer, [pattern(1, 1000), pattern(2, 1001)]);
      await until(() => r.datagrams.length === 2);
      assert.deepEqual(r.truncated, [false, true]);
      assert.equal(r.datagrams[1].length, 1000);
    } finally {
      transport.close();
      peer.close();
    }
  });

  test('a borrowing handler (the client) gets views of one reused buffer: right bytes during the call, a kept view goes stale, never invalid', async () => {
    const { transport, peer } = pair();
    try {
      const copies: Uint8Array[] = [];
      const views: Uint8Array[] = [];
      transport.start({
        borrow: true,
        onDatagram(d) {
          copies.push(d.slice());
          views.push(d);
        },
        onClose() {},
      });
      const sent = [pattern(1, 300), pattern(2, 4096), pattern(3, 100)];
      // One at a time: each record is read by a drain of its own (into the first batch slot, or
      // the recv buffer), so each read reuses the memory the previous view shows.
      for (const d of sent) {
        await peerSendAll(peer, [d]);
        await until(() => copies.length === sent.indexOf(d) + 1);
      }
      assert.deepEqual(copies, sent, 'what the handler read during each call');
      assert.equal(views[0].buffer, views[1].buffer, 'no ArrayBuffer per record');
      assert.equal(views[1].buffer, views[2].buffer);
      // The hazard the flag accepts: the first record's view now shows the last record's bytes.
      // It stays readable memory (a buffer the transport owns), never freed native memory.
      assert.deepEqual(views[0].subarray(0, 100), sent[2]);
      assert.equal(views[0].length, 300);
    } finally {
      transport.close();
      peer.close();
    }
  });

  test('a handler that does not borrow still owns every datagram (the default)', async () => {
    const { transport, peer } = pair();
    try {
      const r = record(transport);
      const sent = [pattern(4, 300), pattern(5, 200)];
      await peerSendAll(peer, sent);
      await until(() => r.datagrams.length === 2);
      assert.deepEqual(r.datagrams, sent, 'the first one is not overwritten by the second');
      assert.notEqual(r.datagrams[0].buffer, r.datagrams[1].buffer);
    } finally {
      transport.close();
      peer.close();
    }
  });

  test('truncation while borrowing: capacity bytes fit, one more does not, the next record is intact', async () => {
    const { transport, peer } = pair({ receiveCapacity: 1000 });
    try {
      const got: { bytes: Uint8Array; truncated: boolean }[] = [];
      transport.start({ borrow: true, onDatagram: (d, truncated) => got.push({ bytes: d.slice(), truncated }), onClose() {} });
      const over = pattern(2, 5000);
      await peerSendAll(peer, [pattern(1, 1000), over, pattern(3, 999)]);
      await until(() => got.length === 3);
      assert.deepEqual(got.map((g) => g.truncated), [false, true, false]);
      assert.deepEqual(got[0].bytes, pattern(1, 1000));
      assert.deepEqual(got[1].bytes, over.subarray(0, 1000), 'the first capacity bytes of the long record');
      assert.deepEqual(got[2].bytes, pattern(3, 999));
    } finally {
      transport.close();
      peer.close();
    }
  });

  test('setReceiveBufferSize reads back at least the size asked for (Linux doubles it)', () => {
    const { transport, peer } = pair();
    try {
      let want = 100_000;
      if (process.platform === 'linux') {
        // Linux clamps to net.core.rmem_max; ask for no more than that so the assertion is fair.
        want = Math.min(want, Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim()));
      }
      const got = transport.setReceiveBufferSize(want);
      assert.ok(got !== undefined && got >= want, `asked ${want}, got ${got}`);
      assert.equal(transport.getReceiveBufferSize(), got);
      if (process.platform === 'linux') assert.equal(got, 2 * want, 'Linux reports twice the request');
    } finally {
      transport.close();
      peer.close();
    }
  });

  test('send() of a datagram larger than SO_SNDBUF throws ERR_NTSTAT_TRANSPORT, errno EMSGSIZE (Darwin 40)', () => {
    const { transport, peer } = pair();
    try {
      assert.throws(
        () => transport.send(new Uint8Array(4 << 20)),
        (e: unknown) =>
          isNtstatError(e, 'ERR_NTSTAT_TRANSPORT') && e.errno === 40 && /EMSGSIZE/.test(e.message),
      );
    } finally {
      transport.close();
      peer.close();
    }
  });

  test('a full queue: trySend() returns false, send() throws ENOBUFS (Darwin 55, "queue full")', () => {
    const { transport, peer } = pair({ bufferSize: 16384 });
    try {
      let sent = 0;
      while (transport.trySend(pattern(sent, 1000))) {
        if (++sent > 100_000) assert.fail('queue never filled');
      }
      assert.ok(sent > 0, 'some datagrams fit');
      assert.throws(
        () => transport.send(pattern(0, 1000)),
        (e: unknown) => isNtstatError(e, 'ERR_NTSTAT_TRANSPORT') && e.errno === 55 && /ENOBUFS/.test(e.message) && /full/.test(e.message),
      );
    } finally {
      transport.close();
      peer.close();
    }
  });

  test('idle transport costs no CPU (poll handle, no busy loop)', async (t) => {
    const { transport, peer } = pair();
    try {
      record(transport);
      await sleep(50);
      const before = process.cpuUsage();
      const t0 = performance.now();
      await sleep(500);
      const used = process.cpuUsage(before);
      const ms = (used.user + used.system) / 1000;
      const wall = performance.now() - t0;
      t.diagnostic(`idle ${wall.toFixed(0)} ms wall, ${ms.toFixed(1)} ms CPU`);
      // A spinning reader burns ~wall time; an idle poll handle a few ms at most.
      assert.ok(ms < 50, `idle CPU ${ms.toFixed(1)} ms over ${wall.toFixed(0)} ms`);
    } finally {
      transport.close();
      peer.close();
    }
  });

  test('after close() the event loop is free: a process exits promptly (< 100 ms)', async (t) => {
    const fdUrl = new URL('../src/transport/fd.js', import.meta.url).href;
    const spUrl = new URL('../src/transport/socketpair.js', import.meta.url).href;
    const script = `
      import { DatagramFdTransport } from ${JSON.stringify(fdUrl)};
      import { openDatagramSocketPair, FdEndpoint } from ${JSON.stringify(spUrl)};
      const [a, b] = openDatagramSocketPair();
      const tr = new DatagramFdTransport(a);
      const peer = new FdEndpoint(b);
      let closedAt = 0;
      tr.start({ onDatagram() {}, onClose() { closedAt = performance.now(); } });
      peer.onReceive(() => {});
      setTimeout(() => {
        const t0 = performance.now();
        tr.close(); peer.close();
        process.on('beforeExit', () => {
          console.log(JSON.stringify({ onClose: closedAt - t0, loopEmpty: performance.now() - t0 }));
        });
      }, 100);
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
    const m = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { onClose: number; loopEmpty: number };
    t.diagnostic(`onClose after ${m.onClose.toFixed(3)} ms, event loop empty after ${m.loopEmpty.toFixed(3)} ms`);
    // Wide margins (a loaded machine): a handle left referenced would keep the loop alive forever.
    assert.ok(m.onClose >= 0 && m.onClose < 2000, `onClose ${m.onClose}`);
    assert.ok(m.loopEmpty < 2000, `loop empty after ${m.loopEmpty} ms`);
  });

  test('importing ntstat modules loads no native code; loadLibc() does', async () => {
    const mods = ['../src/transport/fd.js', '../src/transport/socketpair.js', '../src/transport/darwin.js', '../src/transport/libc.js']
      .map((p) => new URL(p, import.meta.url).href);
    const script = `
      import { createRequire } from 'node:module';
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('koffi'));
      const mods = ${JSON.stringify(mods)};
      for (const m of mods) await import(m);
      const before = loaded();
      (await import(mods[3])).loadLibc();
      console.log(JSON.stringify({ before, after: loaded() }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 10_000,
      cwd: fileURLToPath(new URL('.', import.meta.url)),
    });
    assert.deepEqual(JSON.parse(stdout.trim()), { before: false, after: true });
  });

  test('the host constant table agrees with the C library (koffi.os.errno is compiled from errno.h)', () => {
    const koffi = createRequire(import.meta.url)('koffi') as { os: { errno: Record<string, number> } };
    const table = host === DARWIN ? DARWIN_ERRNO : LINUX.errno;
    for (const [name, value] of Object.entries(table)) {
      assert.equal(koffi.os.errno[name], value, name);
    }
  });

  test('msghdr layouts (Darwin: int iovlen, socklen_t controllen; glibc: size_t) match C layout rules', () => {
    const koffi = createRequire(import.meta.url)('koffi') as {
      struct(def: Record<string, string>): unknown;
      sizeof(t: unknown): number;
      offsetof(t: unknown, m: string): number;
    };
    const darwin = koffi.struct({
      msg_name: 'void *', msg_namelen: 'uint32_t', msg_iov: 'void *', msg_iovlen: 'int',
      msg_control: 'void *', msg_controllen: 'uint32_t', msg_flags: 'int',
    });
    const linux = koffi.struct({
      msg_name: 'void *', msg_namelen: 'uint32_t', msg_iov: 'void *', msg_iovlen: 'size_t',
      msg_control: 'void *', msg_controllen: 'size_t', msg_flags: 'int',
    });
    for (const [t, m] of [[darwin, DARWIN.msghdr], [linux, LINUX.msghdr]] as const) {
      assert.equal(koffi.sizeof(t), m.size);
      assert.equal(koffi.offsetof(t, 'msg_iov'), m.iov);
      assert.equal(koffi.offsetof(t, 'msg_iovlen'), m.iovlen);
      assert.equal(koffi.offsetof(t, 'msg_flags'), m.flags);
    }
    assert.deepEqual([DARWIN.msghdr.flags, DARWIN.msghdr.size, LINUX.msghdr.flags, LINUX.msghdr.size], [44, 48, 48, 56]);
  });
});

// ---------------------------------------------------------------------------------------------
// Scripted libc: error paths a healthy socketpair never shows


describe('DatagramFdTransport error paths (scripted libc)', () => {
  test('EINTR on recvmsg and send is retried', () => {
    const s = scripted(DARWIN, [DARWIN_ERRNO.EINTR, rec(1)], [DARWIN_ERRNO.EINTR]);
    const t = new DatagramFdTransport(3, { libc: s.libc });
    const r = record(t);
    s.fire();
    assert.deepEqual(r.datagrams, [pattern(1, 20)]);
    t.send(pattern(2, 16));
    assert.deepEqual(s.calls.filter((c) => c === 'send').length, 2);
    t.close();
  });

  test('a negative poll status closes the transport with ERR_NTSTAT_TRANSPORT', () => {
    const s = scripted();
    const t = new DatagramFdTransport(3, { libc: s.libc });
    const r = record(t);
    s.fire(-DARWIN_ERRNO.EBADF);
    assert.equal(r.closes.length, 1);
    assert.ok(isNtstatError(r.closes[0], 'ERR_NTSTAT_TRANSPORT'));
    assert.equal(r.closes[0]?.errno, 9);
    assert.deepEqual(s.calls.slice(-2), ['poll.close', 'close'], 'poll closed before the fd');
  });

  test('disconnect with nothing left to read is an orderly close; pending data is delivered first', () => {
    const s = scripted(DARWIN, [rec(1)]);
    const t = new DatagramFdTransport(3, { libc: s.libc });
    const r = record(t);
    s.fire(0, true);
    assert.equal(r.datagrams.length, 1);
    assert.deepEqual(r.closes, [undefined]);
  });

  test('ECONNRESET (a Darwin AF_UNIX peer went away) closes with errno 54', () => {
    const s = scripted(DARWIN, [rec(1), DARWIN_ERRNO.ECONNRESET]);
    const t = new DatagramFdTransport(3, { libc: s.libc });
    const r = record(t);
    s.fire();
    assert.equal(r.datagrams.length, 1);
    assert.equal(r.closes[0]?.errno, 54);
    assert.match(r.closes[0]?.message ?? '', /ECONNRESET/);
  });

  test('Linux errno numbers are reported as Darwin numbers with the name in the message', () => {
    const s = scripted(LINUX, [], [LINUX.errno.EMSGSIZE]);
    const t = new DatagramFdTransport(3, { libc: s.libc });
    assert.throws(() => t.send(pattern(1, 10)), (e: unknown) => e instanceof NtstatError && e.errno === 40 && /EMSGSIZE/.test(e.message));
    assert.equal(toDarwinErrno(LINUX, 11), 35);
    assert.equal(toDarwinErrno(LINUX, 105), 55);
    assert.equal(errnoName(LINUX, 11), 'EAGAIN');
    assert.equal(errnoName(DARWIN, 35), 'EAGAIN');
    assert.equal(errnoName(DARWIN, 102), 'EOPNOTSUPP');
    assert.equal(errnoName(DARWIN, 4242), 'errno 4242');
  });

  test('recv() is used when the Libc has it: EINTR retried, EAGAIN ends the drain, recvmsg never called', () => {
    const s = scripted(DARWIN, [DARWIN_ERRNO.EINTR, rec(1), rec(2)], [], { viaRecv: true });
    const t = new DatagramFdTransport(3, { libc: s.libc });
    const r = record(t);
    s.fire();
    assert.deepEqual(r.datagrams, [pattern(1, 20), pattern(2, 20)]);
    assert.deepEqual(r.truncated, [false, false]);
    assert.deepEqual(s.calls.filter((c) => c.startsWith('recv')), ['recv', 'recv', 'recv', 'recv'], 'EINTR, two records, EAGAIN');
    t.close();
  });

  test('recv(): a record longer than the capacity is truncated to it (the buffer holds one byte more)', () => {
    const long: RecvResult = { data: pattern(9, 101), flags: 0 };
    const exact: RecvResult = { data: pattern(8, 100), flags: 0 };
    const s = scripted(DARWIN, [long, exact], [], { viaRecv: true });
    const t = new DatagramFdTransport(3, { libc: s.libc, receiveCapacity: 100 });
    const r = record(t);
    s.fire();
    assert.deepEqual(r.truncated, [true, false]);
    assert.deepEqual(r.datagrams, [pattern(9, 101).subarray(0, 100), pattern(8, 100)]);
    t.close();
  });

  test('recv(): ECONNRESET closes naming recv(); a zero-length record is an orderly end of stream', () => {
    const s = scripted(DARWIN, [rec(1), DARWIN_ERRNO.ECONNRESET], [], { viaRecv: true });
    const t = new DatagramFdTransport(3, { libc: s.libc });
    const r = record(t);
    s.fire();
    assert.equal(r.datagrams.length, 1);
    assert.equal(r.closes[0]?.errno, 54);
    assert.match(r.closes[0]?.message ?? '', /recv\(\).*ECONNRESET/);
    const s2 = scripted(DARWIN, [rec(1), { data: new Uint8Array(0), flags: 0 }, rec(2)], [], { viaRecv: true });
    const t2 = new DatagramFdTransport(3, { libc: s2.libc });
    const r2 = record(t2);
    s2.fire();
    assert.equal(r2.datagrams.length, 1, 'nothing after the end of stream');
    assert.deepEqual(r2.closes, [undefined]);
  });

  test('a handler that re-enters the drain (a nested wake-up) reads nothing: the borrowed record is not overwritten under it', () => {
    const s = scripted(DARWIN, [rec(1), rec(2)], [], { viaRecv: true });
    const t = new DatagramFdTransport(3, { libc: s.libc });
    const seen: Uint8Array[] = [];
    t.start({
      borrow: true,
      onDatagram(d) {
        const before = d.slice();
        if (seen.length === 0) s.fire(); // libuv never does this, but a handler might provoke it
        assert.deepEqual(d, before, 'bytes unchanged during the call');
        seen.push(before);
      },
      onClose() {},
    });
    s.fire();
    assert.deepEqual(seen, [pattern(1, 20), pattern(2, 20)], 'both records, in order, once');
    t.close();
  });

  test('a flood is delivered in bounded batches per wake-up (the event loop keeps turning)', () => {
    const steps = Array.from({ length: 300 }, (_, i) => rec(i));
    const s = scripted(DARWIN, steps);
    const t = new DatagramFdTransport(3, { libc: s.libc });
    const r = record(t);
    s.fire();
    assert.equal(r.datagrams.length, 256, 'first wake-up stops at the budget');
    s.fire();
    assert.equal(r.datagrams.length, 300);
    t.close();
  });

  test('start() twice is a usage error; start() after close() is ERR_NTSTAT_CLOSED', () => {
    const s = scripted();
    const t = new DatagramFdTransport(3, { libc: s.libc });
    record(t);
    assert.throws(() => record(t), (e: unknown) => isNtstatError(e, 'ERR_NTSTAT_USAGE'));
    t.close();
    const t2 = new DatagramFdTransport(4, { libc: s.libc });
    t2.close();
    assert.throws(() => record(t2), (e: unknown) => isNtstatError(e, 'ERR_NTSTAT_CLOSED'));
  });

  test('paused at start(): the poll handle is not started until resume()', () => {
    const s = scripted();
    const t = new DatagramFdTransport(3, { libc: s.libc });
    t.pause();
    record(t);
    assert.ok(!s.calls.includes('poll.start'));
    t.resume();
    assert.ok(s.calls.includes('poll.start'));
    t.close();
  });
});
