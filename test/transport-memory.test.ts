/**
 * MemoryTransport: the shared transport contract over a raw in-memory peer, then the
 * simulator-specific semantics (send errors as ERR_NTSTAT_TRANSPORT, async delivery, pause →
 * kernel drops, short receive buffers → truncation, SO_RCVBUF) and the SimulationDriver.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isNtstatError } from '../src/errors.js';
import { decodeDatagram, encodeRequest, providerId, type Message } from '../src/protocol/index.js';
import { SimKernel, SimulationDriver, createSimulator } from '../src/simulator/index.js';
import { MemoryTransport, memoryPair } from '../src/transport/memory.js';
import { runTransportContract, sleep, until } from './transport-contract.js';

runTransportContract('memory', () => {
  const { transport, peer } = memoryPair();
  return {
    transport,
    peer: {
      send: (b: Uint8Array) => peer.sendToTransport(b),
      onReceive: (cb: (b: Uint8Array) => void) => peer.onReceive(cb),
      close: () => peer.close(),
    },
  };
});

function collect(t: MemoryTransport, d: Parameters<typeof decodeDatagram>[1]) {
  const got: { msgs: Message[]; truncated: boolean; length: number }[] = [];
  let closed = 0;
  t.start({
    onDatagram(data, truncated) {
      got.push({ msgs: truncated ? [] : decodeDatagram(data, d), truncated, length: data.length });
    },
    onClose() {
      closed++;
    },
  });
  return { got, closed: () => closed };
}

describe('MemoryTransport over the simulator', () => {
  test('send() runs the request synchronously; responses arrive asynchronously, in order', async () => {
    const sim = createSimulator({ dialect: 'd10002', scenario: 'idle-laptop', seed: 3 });
    const t = new MemoryTransport(sim);
    const c = collect(t, sim.dialect);
    t.send(encodeRequest(sim.dialect, { kind: 'addAllSrcs', context: 9n, flags: 0, provider: providerId(sim.dialect, 'tcp')!, filter: 0n, events: 0n, targetPid: 0 }));
    assert.ok(sim.pendingRecords > 0, 'queued before send() returned');
    assert.equal(c.got.length, 0, 'not delivered synchronously');
    await until(() => sim.pendingRecords === 0 && c.got.length > 0);
    const last = c.got[c.got.length - 1].msgs[0];
    assert.equal(last.kind, 'success');
    assert.equal(last.context, 9n);
    assert.equal(c.got.length, sim.groundTruth().sources.size + 1);
    t.close();
  });

  test('send(2) failures throw ERR_NTSTAT_TRANSPORT with the Darwin errno (EMSGSIZE, EINVAL)', () => {
    const sim = createSimulator({ dialect: 'd4570' });
    const t = new MemoryTransport(sim);
    collect(t, sim.dialect);
    assert.throws(() => t.send(new Uint8Array(4000)), (e: unknown) => isNtstatError(e, 'ERR_NTSTAT_TRANSPORT') && e.errno === 40);
    assert.throws(() => t.send(new Uint8Array(8)), (e: unknown) => isNtstatError(e, 'ERR_NTSTAT_TRANSPORT') && e.errno === 22);
    t.close();
    assert.throws(() => t.send(new Uint8Array(16)), (e: unknown) => isNtstatError(e, 'ERR_NTSTAT_CLOSED'));
  });

  test('while paused the kernel queue fills and the kernel drops; resume delivers what was kept', async () => {
    const kernel = new SimKernel({ dialect: 'd10002', scenario: 'backpressure-storm', seed: 5, scale: 0.3 });
    const sim = kernel.connect();
    const t = new MemoryTransport(sim);
    const c = collect(t, sim.dialect);
    t.send(encodeRequest(sim.dialect, { kind: 'addAllSrcs', context: 1n, flags: 0, provider: providerId(sim.dialect, 'tcp')!, filter: 0n, events: 0n, targetPid: 0 }));
    await until(() => sim.pendingRecords === 0);
    t.pause();
    const before = c.got.length;
    new SimulationDriver(kernel).step(4000, 100);
    await sleep(20);
    assert.equal(c.got.length, before, 'nothing delivered while paused');
    const truth = sim.groundTruth({ descriptors: false, counts: false });
    assert.ok(truth.dropped.total > 0, 'the kernel dropped');
    assert.ok(truth.queue.bytes <= truth.queue.hiwat);
    const kept = sim.pendingRecords;
    t.resume();
    await until(() => c.got.length === before + kept);
    t.close();
  });

  test('a receive buffer smaller than a record truncates it (MSG_TRUNC) and the rest of it is lost', async () => {
    const sim = createSimulator({ dialect: 'd10002', scenario: 'idle-laptop' });
    const t = new MemoryTransport(sim, { receiveBufferBytes: 64 });
    const c = collect(t, sim.dialect);
    t.send(encodeRequest(sim.dialect, { kind: 'addAllSrcs', context: 1n, flags: 0, provider: providerId(sim.dialect, 'tcp')!, filter: 0n, events: 0n, targetPid: 0 }));
    await until(() => sim.pendingRecords === 0);
    t.send(encodeRequest(sim.dialect, { kind: 'getSrcDesc', context: 2n, flags: 0, srcref: (c.got[0].msgs[0] as { srcref: bigint }).srcref }));
    await until(() => c.got.some((g) => g.truncated));
    const tr = c.got.find((g) => g.truncated)!;
    assert.equal(tr.length, 64);
    t.close();
  });

  test('setReceiveBufferSize is SO_RCVBUF on the simulated queue', () => {
    const sim = createSimulator({ dialect: 'd10002' });
    const t = new MemoryTransport(sim);
    assert.equal(t.setReceiveBufferSize(1 << 20), 1 << 20);
    assert.equal(sim.receiveBufferSize, 1 << 20);
    assert.throws(() => t.setReceiveBufferSize(1 << 30), (e: unknown) => isNtstatError(e, 'ERR_NTSTAT_TRANSPORT') && e.errno === 55);
    t.close();
  });

  test('close() disconnects the simulator connection: sources released silently, onClose once', () => {
    const sim = createSimulator({ dialect: 'd10002', scenario: 'idle-laptop' });
    const t = new MemoryTransport(sim);
    const c = collect(t, sim.dialect);
    t.send(encodeRequest(sim.dialect, { kind: 'addAllSrcs', context: 1n, flags: 0, provider: providerId(sim.dialect, 'tcp')!, filter: 0n, events: 0n, targetPid: 0 }));
    t.close();
    t.close();
    assert.equal(c.closed(), 1);
    assert.ok(sim.closed);
    assert.equal(sim.groundTruth().sources.size, 0);
  });
});

describe('SimulationDriver', () => {
  test('step(ms) is deterministic; startRealtime advances with wall time and stop() is prompt', async () => {
    const k = new SimKernel({ scenario: 'idle-laptop', seed: 1 });
    const d = new SimulationDriver(k);
    d.step(1000, 100);
    assert.equal(k.now, 1000);
    d.startRealtime({ speed: 10, tickMs: 5 });
    await sleep(60);
    d.stop();
    const at = k.now;
    assert.ok(at > 1100, `advanced to ${at}`);
    await sleep(30);
    assert.equal(k.now, at, 'no advance after stop()');
    assert.equal(d.running, false);
  });
});
