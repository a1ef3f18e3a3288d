/**
 * `/metrics` over a real HTTP server on 127.0.0.1, fed by a real client over the simulator:
 * per-process totals equal the simulated world's bytes per process (closed flows included, the
 * ground-truth ledger), values never decrease across scrapes, `promtool check metrics` is clean,
 * hostile process names are escaped, and --max-processes bounds the series without any fall.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { createMetricsRoute, type MetricsOptions } from '../src/export/prometheus.js';
import { startExportWorld, type ExportWorld } from './helpers/export-sim.js';
import { parseExposition, type Sample } from './helpers/exposition.js';
import { settle } from './helpers/client-sim.js';
import type { Simulator } from '../src/simulator/index.js';
import { serveSimulatorOverFd, type FdServer } from '../src/simulator/fd-server.js';
import { DatagramFdTransport } from '../src/transport/fd.js';
import { FdEndpoint, openDatagramSocketPair } from '../src/transport/socketpair.js';
import type { Transport } from '../src/transport/transport.js';

const HAVE_PROMTOOL = spawnSync('promtool', ['--version']).status === 0;
const promtoolSkip = HAVE_PROMTOOL || process.env.CI === 'true' ? {} : { skip: 'promtool not installed (apt-get install prometheus); CI installs it' };

export async function serveMetrics(w: ExportWorld, opts: MetricsOptions): Promise<{ server: Server; url: string }> {
  const route = createMetricsRoute(w.agent, { clock: () => w.kernel.now, ...opts });
  const server = createServer((req, res) => {
    if (req.url === '/metrics') void route(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics` };
}

async function scrape(url: string): Promise<{ text: string; contentType: string | null }> {
  const r = await fetch(url);
  assert.equal(r.status, 200);
  return { text: await r.text(), contentType: r.headers.get('content-type') };
}

function counterKey(s: Sample): string {
  return `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
}

/** Every counter sample present in both scrapes must not have decreased. */
function assertNoDecrease(prev: Map<string, number>, samples: Sample[], types: Map<string, string>): void {
  for (const s of samples) {
    if (types.get(s.name) !== 'counter') continue;
    const k = counterKey(s);
    const before = prev.get(k);
    if (before !== undefined) assert.ok(s.value >= before, `${k} fell ${before} -> ${s.value}`);
    prev.set(k, s.value);
  }
}

/** The simulator served over a real AF_UNIX datagram socketpair (the `--socket` code path). */
function overSocketpair(sim: Simulator, servers: FdServer[]): Transport {
  const [a, b] = openDatagramSocketPair();
  servers.push(serveSimulatorOverFd(sim, new FdEndpoint(b)));
  return new DatagramFdTransport(a);
}

for (const via of ['memory', 'socketpair'] as const) test(`[${via}] per-process totals equal the ground truth (closed flows included) and never decrease; promtool is happy`, promtoolSkip, async () => {
  const fdServers: FdServer[] = [];
  const w = await startExportWorld({ scenario: 'browser-burst', scale: 0.3, ...(via === 'socketpair' ? { transport: (sim: Simulator) => overSocketpair(sim, fdServers), recvspace: 4 << 20 } : {}) });
  const { server, url } = await serveMetrics(w, { metricsPid: true });
  try {
    const prev = new Map<string, number>();
    let lastText = '';
    for (let i = 0; i < 25; i++) {
      await w.step(1000);
      const { text, contentType } = await scrape(url);
      assert.match(contentType ?? '', /^text\/plain; version=0\.0\.4/);
      const p = parseExposition(text);
      assertNoDecrease(prev, p.samples, p.type);
      lastText = text;
    }
    // Time frozen: one more poll brings the last poll interval in; then compare exactly.
    await w.client.sweep();
    await settle();
    const { text } = await scrape(url);
    const p = parseExposition(text);
    assertNoDecrease(prev, p.samples, p.type);
    const rx = new Map<number, number>();
    const tx = new Map<number, number>();
    for (const s of p.samples) {
      if (s.labels.process === 'other') continue;
      if (s.name === 'ntstat_process_network_receive_bytes_total') rx.set(Number(s.labels.process_id), s.value);
      if (s.name === 'ntstat_process_network_transmit_bytes_total') tx.set(Number(s.labels.process_id), s.value);
    }
    assert.deepEqual(w.client.dropCounts(), {}, 'no kernel drops (they would lose final counts)');
    const closed = w.agent.totals.totals().filter((t) => t.totalStreams > t.liveStreams).length;
    assert.ok(closed > 0, 'some processes had flows that closed (the case a naive exporter gets wrong)');
    let checked = 0;
    for (const [pid, t] of w.ledger) {
      if (t.rxBytes === 0 && t.txBytes === 0) continue;
      assert.equal(rx.get(pid), t.rxBytes, `pid ${pid} (${t.name}) received bytes`);
      assert.equal(tx.get(pid), t.txBytes, `pid ${pid} (${t.name}) sent bytes`);
      checked++;
    }
    assert.ok(checked >= 3, `${checked} processes compared`);
    for (const pid of rx.keys()) assert.ok(w.ledger.has(pid), `no invented process ${pid}`);
    assert.equal(p.samples.find((s) => s.name === 'ntstat_process_network_receive_bytes_total' && s.labels.process === 'other')?.value, 0, 'with fewer than 200 processes nothing is folded into other');
    // Families the issue names.
    for (const name of ['ntstat_network_receive_bytes_total', 'ntstat_connections', 'ntstat_build_info', 'ntstat_kernel_drops_total']) assert.ok(p.type.has(name), name);
    const info = p.samples.find((s) => s.name === 'ntstat_build_info')!;
    assert.deepEqual({ xnu: info.labels.xnu, dialect: info.labels.dialect, verified: info.labels.verified }, { xnu: w.kernel.dialect.xnu, dialect: 'd10002', verified: 'true' });
    assert.match(p.help.get('ntstat_network_receive_bytes_total') ?? '', /summed from the flows/);
    const conns = p.samples.filter((s) => s.name === 'ntstat_connections').reduce((a, s) => a + s.value, 0);
    assert.equal(conns, w.client.snapshot().filter((s) => !s.closed).length, 'connections gauge counts the live streams');
    // promtool: the format and the naming conventions.
    const chk = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(chk.status, 0, `promtool check metrics:\n${chk.stdout}${chk.stderr}`);
    assert.equal((chk.stdout + chk.stderr).trim(), '', 'no lint warnings');
  } finally {
    server.close();
    w.stop();
    for (const f of fdServers) f.close();
  }
});

test('hostile process names are escaped: promtool parses them, the values round-trip', promtoolSkip, async () => {
  const w = await startExportWorld({ scenario: 'bare' });
  const names = ['q"uote', 'back\\slash', 'new\nline', 'other', 'ünï€ode', 'a,process:b'];
  const world = w.kernel.world;
  const wifi = [...world.interfaces.values()].find((i) => i.kind === 'wifi')!;
  names.forEach((n, i) => {
    const p = world.spawn(n);
    const s = world.tcpSocket(p, 4);
    world.tcpConnect(s, { family: 4, address: `93.184.216.${i + 1}`, port: 443 }, wifi, 20);
    world.transfer(s, 1000 * (i + 1), 10 * (i + 1));
  });
  const { server, url } = await serveMetrics(w, {});
  try {
    await w.step(1000);
    const { text } = await scrape(url);
    const chk = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(chk.status, 0, `promtool:\n${chk.stdout}${chk.stderr}`);
    const rx = parseExposition(text).samples.filter((s) => s.name === 'ntstat_process_network_receive_bytes_total');
    const reported = new Map(w.client.snapshot().map((s) => [s.pid, s.process]));
    names.forEach((n, i) => {
      const pid = [...world.processes.values()].find((p) => p.name === n)!.pid;
      const asKernelSent = reported.get(pid)!;
      const s = rx.find((x) => x.labels.process === asKernelSent && x.labels.app !== '');
      assert.ok(s, `series for ${JSON.stringify(n)}`);
      assert.equal(s.value, 1000 * (i + 1));
    });
    // A process really named "other" does not merge with the bucket.
    const bucket = rx.filter((x) => x.labels.process === 'other' && x.labels.app === '');
    assert.equal(bucket.length, 1);
    assert.equal(bucket[0].value, 0);
  } finally {
    server.close();
    w.stop();
  }
});

test('--max-processes: at most N process series plus "other", every counter monotonic while the top N churns', async () => {
  // Twelve processes whose traffic comes in waves, so the ranking keeps changing; their
  // connections close and new ones open (closed flows must keep counting), some exit (their
  // series expire after --metrics-ttl).
  const w = await startExportWorld({ scenario: 'bare' });
  const world = w.kernel.world;
  const wifi = [...world.interfaces.values()].find((i) => i.kind === 'wifi')!;
  const procs = Array.from({ length: 12 }, (_, i) => world.spawn(`proc${i}`));
  const { server, url } = await serveMetrics(w, { maxProcesses: 3, metricsTtlSeconds: 5 });
  try {
    const prev = new Map<string, number>();
    const tops: string[] = [];
    for (let step = 0; step < 36; step++) {
      procs.forEach((p, i) => {
        if (!p.alive) return;
        const wave = Math.floor(step / 3) % 12;
        const s = world.tcpSocket(p, 4);
        world.tcpConnect(s, { family: 4, address: `10.1.0.${i + 1}`, port: 443 }, wifi, 10);
        world.transfer(s, i === wave ? 200_000 * (step + 1) : 1000 + i, 100);
        if (step % 2 === 0) world.tcpClose(s);
      });
      if (step === 20) world.exit(procs[5]);
      await w.step(1000);
      const p = parseExposition((await scrape(url)).text);
      assertNoDecrease(prev, p.samples, p.type);
      const rx = p.samples.filter((s) => s.name === 'ntstat_process_network_receive_bytes_total');
      assert.ok(rx.length <= 4, `${rx.length} series`);
      assert.equal(rx.filter((s) => s.labels.process === 'other').length, 1);
      tops.push(rx.filter((s) => s.labels.process !== 'other').map((s) => s.labels.process).sort().join(','));
    }
    const changes = tops.filter((t, i) => i > 0 && t !== tops[i - 1]).length;
    assert.ok(changes >= 3, `the top 3 changed ${changes} times: ${[...new Set(tops)].join(' | ')}`);
    // Nothing lost: the last value of every series ever exported plus "other" cover the world's bytes.
    await w.client.sweep();
    await settle();
    assertNoDecrease(prev, parseExposition((await scrape(url)).text).samples, new Map([['ntstat_process_network_receive_bytes_total', 'counter']]));
    let truth = 0;
    for (const t of w.ledger.values()) truth += t.rxBytes;
    let covered = 0;
    for (const [k, v] of prev) if (k.startsWith('ntstat_process_network_receive_bytes_total')) covered += v;
    assert.ok(covered >= truth, `covered ${covered} >= moved ${truth}`);
  } finally {
    server.close();
    w.stop();
  }
});
