/**
 * OTLP push from the agent: a local HTTP receiver takes what the OTel SDK's exporter sends and
 * decodes it with protobufjs and the official opentelemetry-proto definitions
 * (test/fixtures/otlp-proto); the per-process totals equal the simulated world's bytes per process
 * (closed flows included), the resource names the service and host, units and attributes follow
 * the semantic conventions, and the interval timer pushes on its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { startOtlpExport } from '../src/export/otlp.js';
import { startExportWorld } from './helpers/export-sim.js';
import { settle } from './helpers/client-sim.js';
import { REPO_ROOT } from './helpers/facts.js';
import { main } from '../src/cli/main.js';
import type { CliIo } from '../src/cli/io.js';

const PROTO_DIR = join(REPO_ROOT, 'test/fixtures/otlp-proto');

async function requestType(): Promise<protobuf.Type> {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  await root.load('opentelemetry/proto/collector/metrics/v1/metrics_service.proto', { keepCase: false });
  return root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
}

type Attr = { key: string; value: Record<string, unknown> };
type Point = { attributes: Attr[]; asInt?: string; asDouble?: number };
type Decoded = {
  resourceMetrics: {
    resource: { attributes: Attr[] };
    scopeMetrics: { metrics: { name: string; unit: string; sum?: { dataPoints: Point[]; isMonotonic: boolean; aggregationTemporality: string } }[] }[];
  }[];
};

function attrs(a: Attr[]): Record<string, unknown> {
  return Object.fromEntries(a.map((x) => [x.key, Object.values(x.value)[0]]));
}

interface Receiver {
  url: string;
  bodies: { contentType: string | undefined; msg: Decoded }[];
  waitFor(n: number): Promise<void>;
  close(): void;
}

async function receiver(): Promise<Receiver> {
  const type = await requestType();
  const bodies: Receiver['bodies'] = [];
  const waiters: (() => void)[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Uint8Array[] = [];
    req.on('data', (c: Uint8Array) => chunks.push(c));
    req.on('end', () => {
      const msg = type.toObject(type.decode(new Uint8Array(Buffer.concat(chunks))), { longs: String, enums: String, defaults: false }) as Decoded;
      bodies.push({ contentType: req.headers['content-type'], msg });
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`,
    bodies,
    async waitFor(n) {
      // Bounded by count; the test runner's own timeout is the only clock.
      while (bodies.length < n) await new Promise<void>((r) => waiters.push(r));
    },
    close: () => server.close(),
  };
}

function metric(d: Decoded, name: string) {
  for (const rm of d.resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) if (m.name === name) return m;
  return undefined;
}

test('OTLP: process.network.io per process equals the ground truth (closed flows included); resource and conventions', async () => {
  const w = await startExportWorld({ scenario: 'browser-burst', scale: 0.3 });
  const rcv = await receiver();
  const otlp = await startOtlpExport(w.agent, { url: rcv.url, intervalSeconds: 3600, metricsPid: true, hostName: 'mac-17', clock: () => w.kernel.now });
  try {
    for (let i = 0; i < 15; i++) await w.step(1000);
    await w.client.sweep();
    await settle();
    await otlp.flush();
    await rcv.waitFor(1);
    const { contentType, msg } = rcv.bodies[rcv.bodies.length - 1];
    assert.equal(contentType, 'application/x-protobuf');
    const resource = attrs(msg.resourceMetrics[0].resource.attributes);
    assert.equal(resource['service.name'], 'ntstat');
    assert.equal(resource['host.name'], 'mac-17');
    const pio = metric(msg, 'process.network.io')!;
    assert.ok(pio?.sum, 'process.network.io is a sum');
    assert.equal(pio.unit, 'By');
    assert.equal(pio.sum.isMonotonic, true);
    assert.equal(pio.sum.aggregationTemporality, 'AGGREGATION_TEMPORALITY_CUMULATIVE');
    const got = new Map<string, number>();
    for (const p of pio.sum.dataPoints) {
      const a = attrs(p.attributes);
      if (a['ntstat.other_processes']) continue;
      got.set(`${a['process.pid']}/${a['network.io.direction']}`, Number(p.asInt));
    }
    let checked = 0;
    for (const [pid, t] of w.ledger) {
      if (t.rxBytes === 0 && t.txBytes === 0) continue;
      assert.equal(got.get(`${pid}/receive`), t.rxBytes, `pid ${pid} receive`);
      assert.equal(got.get(`${pid}/transmit`), t.txBytes, `pid ${pid} transmit`);
      checked++;
    }
    assert.ok(checked >= 3, `${checked} processes`);
    const sio = metric(msg, 'system.network.io')!;
    assert.equal(sio.unit, 'By');
    const ifRx = sio.sum!.dataPoints.filter((p) => attrs(p.attributes)['network.io.direction'] === 'receive').reduce((a, p) => a + Number(p.asInt), 0);
    let truthRx = 0;
    for (const t of w.ledger.values()) truthRx += t.rxBytes;
    assert.equal(ifRx, truthRx, 'system.network.io (summed from flows here) covers every received byte');
  } finally {
    await otlp.stop();
    rcv.close();
    w.stop();
  }
});

test('OTLP: the interval timer pushes by itself, and values never decrease between pushes', async () => {
  const w = await startExportWorld({ scenario: 'idle-laptop', scale: 0.3 });
  const rcv = await receiver();
  const otlp = await startOtlpExport(w.agent, { url: rcv.url, intervalSeconds: 0.05, clock: () => w.kernel.now });
  try {
    for (let n = 1; n <= 3; n++) {
      await w.step(2000);
      await rcv.waitFor(rcv.bodies.length + 1);
    }
  } finally {
    await otlp.stop();
    rcv.close();
    w.stop();
  }
  const last = new Map<string, number>();
  for (const b of rcv.bodies) {
    const m = metric(b.msg, 'process.network.io');
    for (const p of m?.sum?.dataPoints ?? []) {
      const k = JSON.stringify(attrs(p.attributes));
      const v = Number(p.asInt);
      assert.ok(v >= (last.get(k) ?? 0), `${k} fell`);
      last.set(k, v);
    }
  }
  assert.ok(rcv.bodies.length >= 3);
});

test('OTLP: a bad URL or interval is a typed usage error', async () => {
  const w = await startExportWorld({ scenario: 'bare' });
  try {
    await assert.rejects(startOtlpExport(w.agent, { url: 'not a url' }), { code: 'ERR_NTSTAT_USAGE' });
    await assert.rejects(startOtlpExport(w.agent, { url: 'ftp://x/' }), { code: 'ERR_NTSTAT_USAGE' });
    await assert.rejects(startOtlpExport(w.agent, { url: 'http://127.0.0.1:1/', intervalSeconds: 0 }), { code: 'ERR_NTSTAT_USAGE' });
  } finally {
    w.stop();
  }
});

test('ntstat agent --otlp: pushes on its interval, and the last push (after the final sweep) carries the totals it prints', async () => {
  const rcv = await receiver();
  const ac = new AbortController();
  const err: string[] = [];
  const io: CliIo = { stdout: { write: () => true }, stderr: { write: (c: string) => (err.push(c), true) }, env: {}, platform: 'linux', signal: ac.signal };
  const run = main(['agent', '--simulate', '--scenario', 'browser-burst', '--no-db', '--otlp', rcv.url, '--otlp-interval', '0.2', '--metrics-pid'], io);
  const received = (d: Decoded, dir: string) =>
    (metric(d, 'process.network.io')?.sum?.dataPoints ?? []).filter((p) => attrs(p.attributes)['network.io.direction'] === dir).reduce((a, p) => a + Number(p.asInt), 0);
  try {
    // Pushes until the simulated world has moved bytes (bounded by a count of pushes).
    for (let n = 1; n <= 300 && !rcv.bodies.some((b) => received(b.msg, 'receive') > 0); n++) await rcv.waitFor(n);
  } finally {
    ac.abort();
  }
  try {
    assert.equal(await run, 0, err.join(''));
    const text = err.join('');
    assert.match(text, /agent pushing OTLP to http:\/\/127\.0\.0\.1:\d+\/v1\/metrics every 0\.2 s/);
    const printed = /(\d+) B received, (\d+) B sent/.exec(text);
    assert.ok(printed, text);
    assert.ok(rcv.bodies.length >= 2, 'the interval pushed before the final push');
    const last = rcv.bodies[rcv.bodies.length - 1].msg;
    assert.ok(Number(printed[1]) > 0);
    assert.equal(received(last, 'receive'), Number(printed[1]), "received bytes: last push = the agent's final total");
    assert.equal(received(last, 'transmit'), Number(printed[2]));
    const points = metric(last, 'process.network.io')!.sum!.dataPoints;
    assert.ok(points.some((p) => attrs(p.attributes)['process.pid'] !== undefined), '--metrics-pid adds process.pid');
  } finally {
    rcv.close();
  }
});

test('ntstat agent: bad export flags exit 2 with a usage message', async () => {
  const err: string[] = [];
  const io: CliIo = { stdout: { write: () => true }, stderr: { write: (c: string) => (err.push(c), true) }, env: {}, platform: 'linux' };
  assert.equal(await main(['agent', '--simulate', '--no-db', '--otlp', 'collector:4318'], io), 2);
  assert.match(err.join(''), /--otlp expects an http\(s\) URL/);
});
