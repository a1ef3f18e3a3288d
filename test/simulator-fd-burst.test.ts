/**
 * The fd server's 'eager' burst (sendmmsg): a reply goes to the socket in one call, as XNU
 * enqueues it inside the client's send(2) (BEHAVIOUR.md §2.1). What the client receives must be
 * exactly what the model queue hands out (same bytes, same order), and a socket that takes only
 * part of a burst must leave the rest in the model queue.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeRequest, srcrefAll } from '../src/protocol/index.js';
import { SimKernel, SimulationDriver, type Simulator } from '../src/simulator/index.js';
import { serveSimulatorOverFd, type FdServerOptions } from '../src/simulator/fd-server.js';
import { DatagramFdTransport } from '../src/transport/fd.js';
import { hostConstants, loadLibc, type Libc } from '../src/transport/libc.js';
import { FdEndpoint, openDatagramSocketPair } from '../src/transport/socketpair.js';
import { until } from './transport-contract.js';

const SKIP = hostConstants()?.os === 'linux' ? undefined : 'sendmmsg is Linux-only';

/** Records in the order the model queue hands them out (the ground truth for the socket). */
function tapQueue(sim: Simulator): Uint8Array[] {
  const out: Uint8Array[] = [];
  const q = sim.conn.queue;
  const read = q.read.bind(q);
  q.read = (size?: number) => {
    const r = read(size);
    if (r) out.push(r.data.slice());
    return r;
  };
  return out;
}

async function run(opts: FdServerOptions, serverLibc?: Libc) {
  const kernel = new SimKernel({ dialect: 'd10002', scenario: 'idle-laptop', seed: 5, scale: 0.5 });
  kernel.advance(300);
  const sim = kernel.connect();
  sim.setReceiveBufferSize(1 << 20);
  const dequeued = tapQueue(sim);
  const [a, b] = openDatagramSocketPair();
  const server = serveSimulatorOverFd(sim, new FdEndpoint(b, serverLibc ? { libc: serverLibc } : {}), opts);
  const client = new DatagramFdTransport(a);
  const got: Uint8Array[] = [];
  client.start({ onDatagram: (d) => got.push(d), onClose() {} });
  let requests = 0;
  const send = (r: Parameters<typeof encodeRequest>[1]) => {
    requests++;
    client.send(encodeRequest(sim.dialect, r));
  };
  const settled = () =>
    until(() => server.stats.requests === requests && sim.pendingRecords === 0 && got.length === server.stats.recordsSent, 5000, 'all read');
  try {
    send({ kind: 'addAllSrcs', context: 1n, flags: 0, provider: sim.profile.providers.tcp!, filter: 0n, events: 0n, targetPid: 0 });
    send({ kind: 'addAllSrcs', context: 2n, flags: 0, provider: sim.profile.providers.udp!, filter: 0n, events: 0n, targetPid: 0 });
    await settled();
    const driver = new SimulationDriver(kernel);
    for (let i = 0; i < 5; i++) {
      driver.step(200);
      send({ kind: 'getSrcDesc', context: 10n + BigInt(i), flags: 0, srcref: srcrefAll(sim.dialect) });
      await settled();
    }
  } finally {
    server.close();
    client.close();
  }
  return { got, dequeued, stats: server.stats, truth: sim.groundTruth({ descriptors: false, counts: false }) };
}

describe('fd server: eager replies in one burst', { skip: SKIP }, () => {
  test('the client receives exactly the model queue\'s records, in order, in fewer sends than records', async () => {
    const burst = await run({ pace: 'eager' });
    assert.ok(burst.got.length > 100, `${burst.got.length} records`);
    assert.deepEqual(burst.got, burst.dequeued, 'same bytes, same order');
    assert.equal(burst.truth.dropped.total, 0);
    assert.ok(burst.stats.bursts > 0 && burst.stats.bursts * 5 < burst.stats.recordsSent, `${burst.stats.bursts} bursts for ${burst.stats.recordsSent} records`);
    // The same world served one send(2) per record yields the same byte sequence.
    const single = await run({ pace: 'eager', burst: false });
    assert.equal(single.stats.bursts, 0);
    assert.deepEqual(single.got, single.dequeued);
    assert.deepEqual(burst.got, single.got, 'burst and one-by-one deliver identical sequences');
  });

  test('a socket that takes part of a burst (then EAGAIN) leaves the rest in the model queue, in order', async () => {
    const real = loadLibc();
    const realSender = real.batchSender!()!;
    let forcedErrno: number | undefined;
    let calls = 0;
    const checks: string[] = [];
    let model: Simulator['conn']['queue'] | undefined;
    const libc: Libc = {
      ...real,
      errno: () => forcedErrno ?? real.errno(),
      batchSender: () => ({
        send(fd, datagrams, flags) {
          forcedErrno = undefined;
          calls++;
          if (calls === 1) {
            assert.ok(datagrams.length > 3, 'a reply of several records');
            const n = realSender.send(fd, datagrams.slice(0, 2), flags);
            assert.equal(n, 2);
            return 2; // the socket took two
          }
          if (calls === 2) {
            // Still queued in the model: the third record of the first burst comes first now.
            checks.push(`queued ${model!.recordCount}, first ${datagrams[0].length}`);
            forcedErrno = real.os.errno.EAGAIN;
            return -1;
          }
          return realSender.send(fd, datagrams, flags);
        },
      }),
    };
    const kernel = new SimKernel({ dialect: 'd10002', scenario: 'idle-laptop', seed: 5, scale: 0.5 });
    kernel.advance(300);
    const sim = kernel.connect();
    sim.setReceiveBufferSize(1 << 20);
    model = sim.conn.queue;
    const dequeued = tapQueue(sim);
    const [a, b] = openDatagramSocketPair();
    const server = serveSimulatorOverFd(sim, new FdEndpoint(b, { libc }), { pace: 'eager' });
    const client = new DatagramFdTransport(a);
    const got: Uint8Array[] = [];
    client.start({ onDatagram: (d) => got.push(d), onClose() {} });
    try {
      client.send(encodeRequest(sim.dialect, { kind: 'addAllSrcs', context: 1n, flags: 0, provider: sim.profile.providers.tcp!, filter: 0n, events: 0n, targetPid: 0 }));
      await until(() => calls >= 3 && sim.pendingRecords === 0 && got.length === server.stats.recordsSent, 5000, 'all read');
    } finally {
      server.close();
      client.close();
    }
    assert.equal(dequeued.length, got.length);
    assert.deepEqual(got, dequeued, 'nothing lost, repeated or reordered');
    assert.equal(server.stats.socketFull, 2, 'the partial burst and the refused one');
    // After the first call the model kept everything but the two sent records.
    const firstBurst = dequeued.length;
    assert.match(checks[0], new RegExp(`^queued ${firstBurst - 2}, first ${dequeued[2].length}$`));
  });
});
