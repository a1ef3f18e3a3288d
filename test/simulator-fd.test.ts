/**
 * The simulator served over a real AF_UNIX datagram socketpair: the client side is the same
 * DatagramFdTransport that reads the Darwin control socket. A full scenario runs over it and the
 * client's reconstruction is checked against ground truth; a paused client makes the *model*
 * queue (not the socket buffer) fill and drop.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeDatagram, encodeRequest, srcrefAll, type Message } from '../src/protocol/index.js';
import { SimKernel, SimulationDriver } from '../src/simulator/index.js';
import { serveSimulatorOverFd } from '../src/simulator/fd-server.js';
import { DatagramFdTransport } from '../src/transport/fd.js';
import { FdEndpoint, openDatagramSocketPair } from '../src/transport/socketpair.js';
import { sleep, until } from './transport-contract.js';

function setup(scenario: string, scale: number) {
  const kernel = new SimKernel({ dialect: 'd10002', scenario, seed: 11, scale });
  kernel.advance(300);
  const sim = kernel.connect();
  const [a, b] = openDatagramSocketPair();
  const server = serveSimulatorOverFd(sim, new FdEndpoint(b));
  const client = new DatagramFdTransport(a);
  const table = new Map<bigint, number>();
  const got: Message[] = [];
  let records = 0;
  client.start({
    onDatagram(d, truncated) {
      assert.equal(truncated, false);
      records++;
      for (const m of decodeDatagram(d, sim.dialect)) {
        got.push(m);
        if (m.kind === 'srcAdded') table.set(m.srcref, m.provider);
        if (m.kind === 'srcRemoved') table.delete(m.srcref);
      }
    },
    onClose() {},
  });
  const addAll = (provider: number, ctx: bigint) =>
    client.send(encodeRequest(sim.dialect, { kind: 'addAllSrcs', context: ctx, flags: 0, provider, filter: 0n, events: 0n, targetPid: 0 }));
  return { kernel, sim, server, client, table, got, addAll, records: () => records };
}

describe('simulator over a socketpair (fd server)', () => {
  test('idle-laptop over a real datagram fd: the client table matches the kernel sources exactly', async () => {
    const s = setup('idle-laptop', 0.5);
    assert.equal(s.sim.setReceiveBufferSize(1 << 20), 1 << 20);
    s.addAll(s.sim.profile.providers.tcp!, 1n);
    s.addAll(s.sim.profile.providers.udp!, 2n);
    await until(() => s.got.filter((m) => m.kind === 'success').length === 2, 5000, 'both SUCCESS');
    const driver = new SimulationDriver(s.kernel);
    for (let i = 0; i < 30; i++) {
      driver.step(200);
      await until(() => s.sim.pendingRecords === 0 && s.sim.conn.queue.inFlight === 0, 5000, 'drained');
    }
    s.client.send(encodeRequest(s.sim.dialect, { kind: 'getSrcDesc', context: 3n, flags: 0, srcref: srcrefAll(s.sim.dialect) }));
    await until(() => s.got.some((m) => m.kind === 'success' && m.context === 3n), 5000, 'sweep');
    const truth = s.sim.groundTruth();
    assert.equal(truth.dropped.total, 0);
    assert.deepEqual(new Set(s.table.keys()), new Set(truth.sources.keys()));
    assert.equal(s.server.stats.recordsSent, s.records());
    assert.ok(s.records() > 100);
    s.server.close();
    s.client.close();
  });

  test('a paused client: the model queue (8 KB), not the socketpair buffer, decides what is dropped', async () => {
    const s = setup('backpressure-storm', 0.2);
    s.addAll(s.sim.profile.providers.tcp!, 1n);
    await until(() => s.got.some((m) => m.kind === 'success'), 5000, 'SUCCESS');
    s.client.pause();
    new SimulationDriver(s.kernel).step(3000, 50);
    await sleep(50);
    const truth = s.sim.groundTruth({ descriptors: false, counts: false });
    if (s.server.pace === 'outq') {
      assert.ok(truth.dropped.total > 0, 'the model dropped');
      assert.ok(truth.queue.bytes <= truth.queue.hiwat, 'in-flight records are still charged to the model');
      assert.ok(s.sim.conn.queue.inFlight <= 1, 'at most one record sits in the socket');
    }
    const before = s.records();
    s.client.resume();
    await until(() => s.sim.pendingRecords === 0, 5000, 'drained after resume');
    assert.ok(s.records() > before);
    s.server.close();
    s.client.close();
  });

  test('send(2) failures cannot cross a socketpair: counted by the server, nothing queued', async () => {
    const s = setup('bare', 1);
    s.client.send(new Uint8Array(3000));
    await until(() => s.server.stats.requests === 1, 2000, 'request seen');
    assert.equal(s.server.stats.sendErrors.get(40), 1);
    assert.equal(s.sim.pendingRecords, 0);
    s.server.close();
    s.client.close();
  });
});
