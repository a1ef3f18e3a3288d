/**
 * A real Prometheus server (Debian's `prometheus` package) scrapes `/metrics` served over the
 * simulator; PromQL through its HTTP API returns, for every process, the bytes the simulated world
 * moved (closed flows included), and Prometheus itself sees no counter reset (`resets()` = 0).
 * Waits are bounded by scrape counts, not by time. Without prometheus installed the test is
 * skipped with the reason, except under CI=true where that is a failure (.ci/run installs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMetricsRoute } from '../src/export/prometheus.js';
import { startExportWorld } from './helpers/export-sim.js';
import { settle } from './helpers/client-sim.js';

const HAVE = spawnSync('prometheus', ['--version']).status === 0;
const opts = HAVE || process.env.CI === 'true' ? {} : { skip: 'prometheus not installed (apt-get install prometheus); .ci/run installs it and CI=true makes its absence a failure' };

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

test('a real Prometheus scrapes the agent: PromQL returns every process total, no counter resets', { ...opts, timeout: 240_000 }, async () => {
  assert.ok(HAVE, 'CI=true: prometheus must be installed (.ci/run installs Debian\'s package)');
  const w = await startExportWorld({ scenario: 'browser-burst', scale: 0.3 });
  const route = createMetricsRoute(w.agent, { metricsPid: true, clock: () => w.kernel.now });
  let scrapes = 0;
  const waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    void route(req, res).then(() => {
      scrapes++;
      for (const f of waiters.splice(0)) f();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'ntstat-prom-'));
  const webPort = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\nscrape_configs:\n  - job_name: ntstat\n    static_configs:\n      - targets: ['${target}']\n`,
  );
  const prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let promLog = '';
  prom.stderr.on('data', (c: Buffer) => (promLog = (promLog + c.toString()).slice(-4000)));
  const api = `http://127.0.0.1:${webPort}`;
  const untilScrapes = async (n: number) => {
    while (scrapes < n) {
      assert.equal(prom.exitCode, null, `prometheus exited:\n${promLog}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 1000).unref(); // re-check the process now and then
      });
    }
  };
  const query = async (q: string) => {
    const r = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(q)}`);
    const j = (await r.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    assert.equal(j.status, 'success', q);
    return j.data.result;
  };
  try {
    // The world moves one poll per scrape, for 12 scrapes.
    for (let i = 0; i < 12; i++) {
      await w.step(1000);
      await untilScrapes(scrapes + 1);
    }
    // Freeze: the last poll, then two more scrapes so Prometheus holds the final values.
    await w.client.sweep();
    await settle();
    await untilScrapes(scrapes + 2);
    // The scrape that appended the sample may still be committing; poll the API (bounded).
    let rx: Awaited<ReturnType<typeof query>> = [];
    for (let attempt = 0; attempt < 200; attempt++) {
      rx = await query('ntstat_process_network_receive_bytes_total{process!="other"}');
      const have = new Map(rx.map((r) => [Number(r.metric.process_id), Number(r.value[1])]));
      if ([...w.ledger].every(([pid, t]) => t.rxBytes === 0 || have.get(pid) === t.rxBytes)) break;
      await pause(100);
    }
    const got = new Map(rx.map((r) => [Number(r.metric.process_id), Number(r.value[1])]));
    let checked = 0;
    for (const [pid, t] of w.ledger) {
      if (t.rxBytes === 0) continue;
      assert.equal(got.get(pid), t.rxBytes, `PromQL total for pid ${pid} (${t.name})`);
      checked++;
    }
    assert.ok(checked >= 3, `${checked} processes`);
    for (const r of rx) assert.equal(r.metric.job, 'ntstat');
    // Prometheus' own view of monotonicity over every sample it stored.
    const resets = await query('resets(ntstat_process_network_receive_bytes_total[1h]) + resets(ntstat_process_network_transmit_bytes_total[1h])');
    assert.ok(resets.length > 0);
    for (const r of resets) assert.equal(Number(r.value[1]), 0, `counter reset seen by Prometheus in ${JSON.stringify(r.metric)}`);
    const build = await query('ntstat_build_info');
    assert.equal(build.length, 1);
    assert.equal(build[0].metric.dialect, w.kernel.dialect.family);
  } finally {
    prom.kill('SIGTERM');
    await new Promise<void>((r) => (prom.exitCode !== null ? r() : prom.once('exit', () => r())));
    server.close();
    w.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
