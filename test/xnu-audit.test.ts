/**
 * Issue 13 §1, findings of reading ntstat.c of every published XNU tag:
 *  - macOS 15 paced chunks may end after 5 sources when the lock would yield: the simulator models
 *    it, and the client treats 5–99-source chunks as normal (no drop, converges);
 *  - macOS 15 ignores a failed flush of an aggregated batch: sysctl net.stats.stats
 *    nstat_flush_accumulated_msgs_failures rising across a sweep is the loss signal (injectable
 *    reader; the simulator keeps the counter);
 *  - SO_RCVBUF is set once and read back: a transport that already set it is not asked again (a
 *    second identical request fails on macOS 15), and only a real shortfall warns;
 *  - sockets already in TIME_WAIT when the client subscribes are reported, with that state.
 * (10.12's plain-poll EAGAIN is in simulator-polls.test.ts; short chunks on 10.11–14 in
 * loss-recovery.test.ts.)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { FlushFailureSignal } from '../src/client/loss.js';
import { streamToJson } from '../src/model/json.js';
import { HeaderFlag } from '../src/protocol/index.js';
import { SimKernel, SimulationDriver } from '../src/simulator/index.js';
import { MemoryTransport, simulatorEndpoint } from '../src/transport/memory.js';
import { compareWithTruth, converge, settle } from './helpers/client-sim.js';
import { Probe } from './simulator-harness.js';

const B15 = '11417.121.6';

describe('macOS 15 lock-yield chunks', () => {
  test('the simulator ends some paced chunks after 5..99 sources when its lock yields (never fewer than 5)', () => {
    const p = Probe.for(B15, { scenario: 'server', scale: 1, seed: 5, lockYield: 0.2 });
    p.sim.setReceiveBufferSize(1 << 20);
    p.sim.advance(2000);
    p.addAll('tcp', { filter: 0x100000n });
    p.msgs();
    const sizes: number[] = [];
    for (let i = 0; i < 200; i++) {
      p.poll('getSrcDesc', 'all', HeaderFlag.CONTINUATION, 9n);
      const ms = p.msgs();
      sizes.push(ms.filter((m) => m.kind === 'srcDesc').length);
      const ok = ms.find((m) => m.kind === 'success');
      assert.ok(ok);
      if (!(ok.flags & HeaderFlag.CONTINUATION)) break;
    }
    const total = sizes.reduce((a, b) => a + b, 0);
    assert.ok(total > 150, `${total} sources`);
    const inner = sizes.slice(0, -1);
    assert.ok(inner.some((n) => n < 100), `some chunk yielded early: ${sizes.join(',')}`);
    assert.ok(inner.every((n) => n >= 5), `no chunk below 5: ${sizes.join(',')}`);
    // With the yield turned off every chunk but the last is full (the control).
    const q = Probe.for(B15, { scenario: 'server', scale: 1, seed: 5, lockYield: 0 });
    q.sim.setReceiveBufferSize(1 << 20);
    q.sim.advance(2000);
    q.addAll('tcp', { filter: 0x100000n });
    q.msgs();
    q.poll('getSrcDesc', 'all', HeaderFlag.CONTINUATION, 9n);
    assert.equal(q.msgs().filter((m) => m.kind === 'srcDesc').length, 100);
  });

  test('the yield is on by default for macOS 15+ profiles (as on the real kernel) and off before 15', () => {
    const sizesFor = (dialect: string): number[] => {
      const p = Probe.for(dialect, { scenario: 'server', scale: 1, seed: 5 });
      p.sim.setReceiveBufferSize(1 << 20);
      p.sim.advance(2000);
      p.addAll('tcp', { filter: 0x100000n });
      p.msgs();
      const sizes: number[] = [];
      for (let i = 0; i < 200; i++) {
        p.poll('getSrcDesc', 'all', HeaderFlag.CONTINUATION, 9n);
        const ms = p.msgs();
        sizes.push(ms.filter((m) => m.kind === 'srcDesc').length);
        if (!(ms.find((m) => m.kind === 'success')!.flags & HeaderFlag.CONTINUATION)) break;
      }
      return sizes;
    };
    for (const d of [B15, '11215.1.10', '12377.1.9']) {
      const inner = sizesFor(d).slice(0, -1);
      assert.ok(inner.length > 1 && inner.some((n) => n < 100) && inner.every((n) => n >= 5), `${d}: ${inner.join(',')}`);
    }
    for (const d of ['10063.141.1', '4570.71.2']) {
      const inner = sizesFor(d).slice(0, -1).filter((n) => n > 0);
      assert.ok(inner.length > 0 && inner.every((n) => n === 100), `${d}: ${inner.join(',')}`);
    }
  });

  test('the client over the default macOS 15 simulator: 5..99-source chunks, no drop, the table equals the truth', async () => {
    const kernel = new SimKernel({ dialect: B15, scenario: 'server', scale: 1, seed: 9 });
    const sim = kernel.connect({ root: false });
    const driver = new SimulationDriver(kernel);
    const sizes: number[] = [];
    const endpoint = simulatorEndpoint(sim);
    const recv = endpoint.recv.bind(endpoint);
    let inChunk = 0;
    endpoint.recv = (n) => {
      const r = recv(n);
      // Count SRC_UPDATEs per chunk (hdr.type @8, hdr.length @12): a SUCCESS ends the chunk.
      if (r) {
        const dv = new DataView(r.data.buffer, r.data.byteOffset, r.data.byteLength);
        for (let at = 0; at + 16 <= r.data.length; at += dv.getUint16(at + 12, true)) {
          const type = dv.getUint32(at + 8, true);
          if (type === 10006 || type === 10007) inChunk++;
          else if (type === 0) {
            if (dv.getUint16(at + 14, true) & HeaderFlag.CONTINUATION) sizes.push(inChunk);
            inChunk = 0;
          }
        }
      }
      return r;
    };
    const transport = new MemoryTransport(endpoint);
    const client = new NetworkStatisticsClient({ transport, dialect: kernel.dialect, interval: 0, providers: ['tcp', 'udp'], clock: () => kernel.now, requestTimeout: 3000 });
    try {
      await client.connect();
      for (let i = 0; i < 4; i++) {
        driver.step(300);
        await settle();
        await client.sweep();
      }
      const r = { client, sim, kernel, transport, events: [], eventsById: new Map() };
      await converge(r);
      assert.ok(sizes.some((n) => n >= 5 && n < 100), `chunks that said "more": ${sizes.join(',')}`);
      assert.ok(sizes.every((n) => n >= 5), sizes.join(','));
      assert.deepEqual(client.dropCounts(), {}, 'no loss signalled');
      const m = compareWithTruth(r);
      assert.deepEqual(m.missing, []);
      assert.deepEqual(m.ghosts, []);
    } finally {
      client.stop();
    }
  });

  test('the client treats lock-yield chunks as normal: no drop counted, the table equals the truth', async () => {
    const kernel = new SimKernel({ dialect: B15, scenario: 'server', scale: 1, seed: 5, lockYield: 0.2 });
    const sim = kernel.connect({ root: false });
    const driver = new SimulationDriver(kernel);
    const transport = new MemoryTransport(sim);
    const client = new NetworkStatisticsClient({ transport, dialect: kernel.dialect, interval: 0, providers: ['tcp', 'udp'], clock: () => kernel.now, requestTimeout: 3000 });
    try {
      await client.connect();
      for (let i = 0; i < 4; i++) {
        driver.step(300);
        await settle();
        await client.sweep();
      }
      const r = { client, sim, kernel, transport, events: [], eventsById: new Map() };
      await converge(r);
      assert.deepEqual(client.dropCounts(), {}, 'no loss signalled');
      const m = compareWithTruth(r);
      assert.deepEqual(m.missing, []);
      assert.deepEqual(m.ghosts, []);
      assert.ok(client.snapshot().length > 100);
    } finally {
      client.stop();
    }
  });
});

describe('macOS 15: net.stats.stats nstat_flush_accumulated_msgs_failures as a loss signal', () => {
  test('FlushFailureSignal: rise across a sweep, u32 wrap-around, unreadable = no signal', () => {
    let v: number | undefined = 10;
    const s = new FlushFailureSignal(() => v);
    s.begin();
    v = 13;
    assert.equal(s.end(), 3);
    v = 2 ** 32 - 2;
    s.begin();
    v = 1;
    assert.equal(s.end(), 3, 'wrapped');
    s.begin();
    v = undefined;
    assert.equal(s.end(), 0);
    const t = new FlushFailureSignal(() => {
      throw new Error('EPERM');
    });
    t.begin();
    assert.equal(t.end(), 0);
  });

  for (const withReader of [true, false]) {
    test(`a queue too small for a chunk loses batches silently; the client ${withReader ? 'sees it through the sysctl' : 'without the sysctl sees nothing'}`, async () => {
      const kernel = new SimKernel({ dialect: B15, scenario: 'server', scale: 1, seed: 5 });
      const sim = kernel.connect({ root: false });
      new SimulationDriver(kernel).step(2000);
      // The kernel keeps its default 8 KiB queue whatever the client asks (a real shortfall).
      const transport = new MemoryTransport({ ...simulatorEndpoint(sim), setReceiveBufferSize: () => 8192 });
      const warnings: string[] = [];
      const client = new NetworkStatisticsClient({
        transport,
        dialect: kernel.dialect,
        interval: 0,
        providers: ['tcp'],
        clock: () => kernel.now,
        requestTimeout: 3000,
        ...(withReader ? { flushFailures: () => kernel.nstatStats().flushAccumulatedMsgsFailures } : {}),
      });
      client.on('warning', (w: string) => warnings.push(w));
      try {
        await client.connect();
        await settle(10);
        await client.sweep();
        await settle(10);
        const failures = kernel.nstatStats().flushAccumulatedMsgsFailures;
        assert.ok(failures > 0, 'the kernel lost whole batches');
        assert.ok(warnings.some((w) => /below one sweep chunk/.test(w)), 'the real shortfall is reported');
        if (withReader) assert.ok((client.dropCounts()['flush-failed'] ?? 0) > 0, JSON.stringify(client.dropCounts()));
        else assert.equal(client.dropCounts()['flush-failed'], undefined);
      } finally {
        client.stop();
      }
    });
  }
});

describe('SO_RCVBUF: set once, read back, warn only on a real shortfall', () => {
  /** macOS 15 sbreserve: the opener's oversized request was clamped to sb_max; asking again fails. */
  class PresetTransport extends MemoryTransport {
    readonly receiveBufferSize: number;
    calls = 0;
    constructor(endpoint: ConstructorParameters<typeof MemoryTransport>[0], preset: number) {
      super(endpoint);
      this.receiveBufferSize = preset;
    }
    override setReceiveBufferSize(): number | undefined {
      this.calls++;
      throw Object.assign(new Error('setsockopt(SO_RCVBUF) failed: ENOBUFS'), { errno: 55 });
    }
  }

  for (const [preset, shortfall] of [
    [8 << 20, false],
    [64 << 10, true],
  ] as const) {
    test(`already set to ${preset} B by the opener: not set again; ${shortfall ? 'a shortfall below one chunk warns' : 'no warning'}`, async () => {
      const kernel = new SimKernel({ dialect: B15, scenario: 'idle-laptop', scale: 0.2 });
      const sim = kernel.connect({ root: false });
      const t = new PresetTransport(sim, preset);
      const warnings: string[] = [];
      const client = new NetworkStatisticsClient({ transport: t, dialect: kernel.dialect, interval: 0, providers: ['tcp'], clock: () => kernel.now });
      client.on('warning', (w: string) => warnings.push(w));
      try {
        await client.connect();
        assert.equal(t.calls, 0, 'no second setsockopt(SO_RCVBUF)');
        assert.equal(client.receiveBufferSize, preset, 'the read-back size is the one in effect');
        assert.equal(warnings.some((w) => /refused/.test(w)), false);
        assert.equal(warnings.some((w) => /below one sweep chunk/.test(w)), shortfall, warnings.join('; '));
      } finally {
        client.stop();
      }
    });
  }
});

test('TCP sockets already in TIME_WAIT when the client subscribes are reported as TIME_WAIT (BEHAVIOUR.md §3.2)', async () => {
  for (const dialect of ['4570.71.2', B15]) {
    const kernel = new SimKernel({ dialect, scenario: 'bare', seed: 3 });
    const w = kernel.world;
    const ifp = [...w.interfaces.values()].find((i) => i.name === 'en0') ?? [...w.interfaces.values()][1];
    const p = w.spawn('curl', { pid: 4242 });
    const s = w.tcpSocket(p, 4);
    w.tcpConnect(s, { family: 4, address: '203.0.113.9', port: 443 }, ifp, 20);
    w.tcpSetState(s, 4);
    w.transfer(s, 5000, 700);
    w.tcpTimeWait(s); // detached from ntstat before any client exists
    const sim = kernel.connect({ root: false });
    const client = new NetworkStatisticsClient({ transport: new MemoryTransport(sim), dialect: kernel.dialect, interval: 0, providers: ['tcp'], clock: () => kernel.now });
    try {
      await client.connect();
      await client.sweep();
      await settle();
      const st = client.snapshot().find((x) => x.pid === 4242);
      assert.ok(st, `${dialect}: the TIME_WAIT socket is reported at subscription`);
      assert.equal(st.state, 'TIME_WAIT');
      assert.equal(streamToJson('added', 0, st).state, 'TIME_WAIT');
      // It leaves when the pcb is freed (2×MSL later).
      new SimulationDriver(kernel).step(5 * 60_000);
      await settle();
      for (let i = 0; i < 3; i++) await client.sweep();
      assert.equal(client.snapshot().find((x) => x.pid === 4242), undefined, `${dialect}: gone after the pcb is freed`);
    } finally {
      client.stop();
    }
  }
});
