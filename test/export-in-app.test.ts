/**
 * The in-app collector (`ntstat/prometheus` registerProcessNetworkMetrics) over the simulator, for
 * every published header version: the ADD_ALL_SRCS requests carry the SPECIFIC_USER_BY_PID bit
 * that ntstat-layouts.json gives for THAT version (0x01000000 up to xnu-8019.41.5, 0x100000000
 * from xnu-8019.61.5 / macOS 12.1 — not from xnu-8792 as often assumed) with target_pid, the kernel then reports no other process's flows, and the scraped totals
 * equal the bytes the world moved for the process, closed connections included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { registerProcessNetworkMetrics } from '../src/export/index.js';
import { allDialects, type Dialect } from '../src/protocol/dialect.js';
import { decodeDatagram } from '../src/protocol/decode.js';
import { SimKernel, SimulationDriver } from '../src/simulator/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import type { Transport, TransportHandlers } from '../src/transport/transport.js';
import { installLedger } from './helpers/export-sim.js';
import { parseExposition } from './helpers/exposition.js';
import { settle } from './helpers/client-sim.js';
import { mustFacts, needsFacts } from './helpers/facts.js';

/** Records every request datagram the client sends and every datagram the kernel delivers. */
function recording(inner: Transport, sent: Uint8Array[], received: Uint8Array[]): Transport {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'send') return (d: Uint8Array) => (sent.push(d.slice()), target.send(d));
      if (prop === 'start')
        return (h: TransportHandlers) =>
          target.start({ ...h, onDatagram: (d: Uint8Array, truncated: boolean) => (received.push(d.slice()), h.onDatagram(d, truncated)) });
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

async function runFor(d: Dialect) {
  const kernel = new SimKernel({ dialect: d, scenario: 'bare', seed: 3 });
  const ledger = installLedger(kernel);
  const world = kernel.world;
  const driver = new SimulationDriver(kernel);
  const wifi = [...world.interfaces.values()].find((i) => i.kind === 'wifi')!;
  const me = world.spawn('node');
  const stranger = world.spawn('curl');
  const sent: Uint8Array[] = [];
  const received: Uint8Array[] = [];
  const register = new Registry();
  register.setDefaultLabels({ service: 'api' });
  const errors: unknown[] = [];
  const m = registerProcessNetworkMetrics({
    register,
    prefix: 'app_',
    labels: { instance_kind: 'test' },
    pid: me.pid,
    transport: recording(new MemoryTransport(kernel.connect({ root: false })), sent, received),
    dialect: d,
    onError: (e) => errors.push(e),
  });
  await m.ready;
  const values: { rx: number; tx: number }[] = [];
  const scrape = async () => {
    await settle();
    const p = parseExposition(await register.metrics());
    const rx = p.samples.filter((s) => s.name === 'app_process_network_receive_bytes_total');
    const tx = p.samples.filter((s) => s.name === 'app_process_network_transmit_bytes_total');
    assert.equal(rx.length, 1);
    assert.equal(tx.length, 1);
    assert.deepEqual(rx[0].labels, { instance_kind: 'test', service: 'api' }, 'collector labels and the registry default labels');
    values.push({ rx: rx[0].value, tx: tx[0].value });
  };
  for (let step = 0; step < 6; step++) {
    for (const [p, base] of [[me, 1000], [stranger, 50_000]] as const) {
      const s = world.tcpSocket(p, 4);
      world.tcpConnect(s, { family: 4, address: `10.2.0.${step + 1}`, port: 443 }, wifi, 10);
      world.transfer(s, base + step, 100 + step);
      // Half of the connections close before the next scrape: their bytes must stay counted.
      if (step % 2 === 0) world.tcpClose(s);
    }
    driver.step(1000);
    await scrape();
  }
  m.stop();
  return { kernel, ledger, me, stranger, sent, received, values, errors };
}

test('every header version: the right pid filter bit on the wire, and totals equal the truth with closed connections', needsFacts(), async () => {
  const facts = mustFacts();
  let withKernelFilter = 0;
  for (const d of allDialects()) {
    const v = facts.versions.find((x) => x.xnu === d.xnu);
    assert.ok(v, `facts for xnu-${d.xnu}`);
    const r = await runFor(d);
    const label = `xnu-${d.xnu} (${d.family})`;
    assert.deepEqual(r.errors, [], label);
    const adds = r.sent.flatMap((b) => decodeDatagram(b, d)).filter((x) => x.kind === 'addAllSrcs');
    assert.ok(adds.length >= 2, `${label}: ADD_ALL_SRCS sent`);
    const bit = v.constants.NSTAT_FILTER_SPECIFIC_USER_BY_PID;
    const hasTarget = v.structs.nstat_msg_add_all_srcs?.fields.some((f) => f.name === 'target_pid') ?? false;
    for (const a of adds) {
      if (a.kind !== 'addAllSrcs') continue;
      if (bit !== undefined && hasTarget) {
        const want = BigInt(bit);
        assert.equal(a.filter & want, want, `${label}: filter has SPECIFIC_USER_BY_PID = 0x${want.toString(16)}`);
        assert.equal(a.targetPid, r.me.pid, `${label}: target_pid`);
        // From xnu-8019.61.5 the old value 0x01000000 means CONN_HAS_NET_ACCESS: never sent there.
        if (want !== 0x01000000n) assert.equal(a.filter & 0x01000000n, 0n, `${label}: not the pre-12.1 bit`);
      } else {
        assert.equal(a.targetPid, 0, `${label}: no target_pid field`);
      }
    }
    if (bit !== undefined && hasTarget) {
      withKernelFilter++;
      // The kernel did the filtering: nothing about the other process came back.
      const pids = new Set<number>();
      for (const b of r.received) for (const msg of decodeDatagram(b, d)) if ((msg.kind === 'srcDesc' || msg.kind === 'srcUpdate') && msg.descriptor?.pid !== undefined) pids.add(msg.descriptor.pid);
      assert.ok(pids.has(r.me.pid), `${label}: the process's own flows were reported`);
      assert.ok(!pids.has(r.stranger.pid), `${label}: the kernel reported another process's flows`);
    }
    const t = r.ledger.get(r.me.pid)!;
    const last = r.values[r.values.length - 1];
    assert.deepEqual(last, { rx: t.rxBytes, tx: t.txBytes }, `${label}: totals equal the bytes the process moved (the other process moved ${r.ledger.get(r.stranger.pid)!.rxBytes})`);
    for (let i = 1; i < r.values.length; i++) assert.ok(r.values[i].rx >= r.values[i - 1].rx && r.values[i].tx >= r.values[i - 1].tx, `${label}: monotonic`);
  }
  assert.ok(withKernelFilter >= 5, `${withKernelFilter} header versions filter in the kernel`);
});

test('off macOS the collector reports the error once and its series are absent (the scrape still works)', { skip: process.platform === 'darwin' ? 'macOS has the kernel control' : false }, async () => {
  const register = new Registry();
  const errors: unknown[] = [];
  const m = registerProcessNetworkMetrics({ register, onError: (e) => errors.push(e) });
  await m.ready;
  const text = await register.metrics();
  await register.metrics();
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as { code?: string }).code, 'ERR_NTSTAT_UNSUPPORTED_OS');
  assert.equal(parseExposition(text).samples.length, 0);
  assert.match(text, /# TYPE process_network_receive_bytes_total counter/);
  m.stop();
  assert.equal(await register.metrics(), '\n', 'stop() removes both metrics');
});
