/**
 * `/metrics` writes the agent's families itself (src/export/exposition.ts): the text must be
 * byte for byte what prom-client's own Registry writes for the same families (`reg.metrics()`
 * on the registry AgentMetrics built, after the same snapshot), for random sources with hostile
 * names (backslashes, quotes, newlines, non-ASCII), every option, counters of every size, and
 * with metrics a caller registered (written by prom-client, in registry order); with default
 * labels the registry writes all of it. The connections gauge is checked against a count here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AgentMetrics, loadPromClient } from '../src/export/prometheus.js';
import type { ExportSource } from '../src/export/state.js';
import { familyText, valueText } from '../src/export/exposition.js';
import type { Stream } from '../src/model/stream.js';

const nameArb = fc.oneof(
  fc.constantFrom('Safari', 'curl', '', 'a"b', 'back\\slash', 'new\nline', '\\"\n', 'com.apple.WebKit.Networking', 'Ünïcödé ✓', '{x="y"}'),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);
const counter = fc.oneof(fc.nat(5000), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constantFrom(1e21, 2 ** 53, 0.5, 123456789.25));

const procArb = fc.record(
  { process: nameArb, pid: fc.option(fc.nat(99999), { nil: undefined }), app: fc.option(nameArb, { nil: undefined }), rx: counter, tx: counter, rp: fc.nat(1000), tp: fc.nat(1000), live: fc.nat(3) },
  { requiredKeys: ['process', 'rx', 'tx', 'rp', 'tp', 'live'] },
);
const ifaceArb = fc.record({ name: nameArb, kind: fc.constantFrom('wifi', 'wired', 'other'), source: fc.constantFrom('ifnet' as const, 'flows' as const), rx: counter, tx: counter });
const streamArb = fc.record({
  provider: fc.constantFrom('tcp', 'udp', 'quic', 'route', 'ifnet', 'conn'),
  state: fc.option(fc.constantFrom('ESTABLISHED', 'SYN_SENT', 'CLOSE_WAIT', 'TIME_WAIT'), { nil: undefined }),
  listener: fc.boolean(),
  closed: fc.boolean(),
});
const worldArb = fc.record({
  procs: fc.array(procArb, { maxLength: 12 }),
  ifaces: fc.uniqueArray(ifaceArb, { maxLength: 4, selector: (i) => i.name }),
  streams: fc.array(streamArb, { maxLength: 30 }),
  drops: fc.dictionary(nameArb, fc.nat(100), { maxKeys: 3 }),
  xnu: nameArb,
  dialect: nameArb,
  verified: fc.boolean(),
});

type World = typeof worldArb extends fc.Arbitrary<infer T> ? T : never;

function source(get: () => World): ExportSource {
  return {
    status: () => {
      const w = get();
      return { kernel: { xnu: w.xnu, dialect: w.dialect, verified: w.verified }, drops: { total: Object.values(w.drops).reduce((a, b) => a + b, 0), byReason: w.drops } };
    },
    processes: () =>
      get().procs.map((p, i) => {
        const o: ReturnType<ExportSource['processes']>[number] = { key: `k${i}|${p.process}`, process: p.process, rxBytes: p.rx, txBytes: p.tx, rxPackets: p.rp, txPackets: p.tp, liveFlows: p.live };
        if (p.pid !== undefined) o.pid = p.pid;
        if (p.app !== undefined) o.app = p.app;
        return o;
      }),
    interfaces: () => get().ifaces.map((i) => ({ name: i.name, kind: i.kind, rxBytes: i.rx, txBytes: i.tx, rxPackets: 1, txPackets: 2, source: i.source })),
    streams: () => get().streams.map((s) => ({ ...s }) as unknown as Stream),
  };
}

test('our families\' text = prom-client\'s Registry text, scrape after scrape, every option', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(worldArb, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 6 }), async (worlds, metricsPid, nodeExporterNames, maxProcesses) => {
      let w = worlds[0];
      let t = 0;
      const m = new AgentMetrics(source(() => w), { metricsPid, nodeExporterNames, maxProcesses, clock: () => t });
      const reg = await m.getRegistry();
      for (const next of worlds) {
        w = next;
        t += 1000;
        const ours = await m.collect();
        // The registry's own text of the same snapshot (its families read the last collect's).
        assert.equal(ours.body, await reg.metrics());
        assert.equal(ours.contentType, reg.contentType);
      }
    }),
    { numRuns: 150 },
  );
});

test('metrics a caller registers are written by prom-client in registry order; default labels: the registry writes it all', async () => {
  const prom = await loadPromClient();
  let procs = [{ process: 'a"\\\nb', rx: 5, tx: 1 }];
  const m = new AgentMetrics(
    source(() => ({ procs: procs.map((p) => ({ ...p, rp: 1, tp: 1, live: 1 })), ifaces: [], streams: [], drops: { 'x\ny': 2 }, xnu: '1', dialect: 'd', verified: true })),
    { clock: () => 0 },
  );
  const reg = await m.getRegistry();
  const c = new prom.Counter({ name: 'my_app_requests_total', help: 'Requests\nhandled \\ here', labelNames: ['route'], registers: [reg] });
  c.inc({ route: '/"x"\n' }, 3);
  new prom.Gauge({ name: 'my_app_async', help: 'collected', registers: [reg], collect() { this.set(Math.PI); } });
  let out = await m.collect();
  assert.equal(out.body, await reg.metrics());
  assert.match(out.body, /my_app_requests_total\{route="\/\\"x\\"\\n"\} 3\n/);
  // A family removed and re-added moves to the end of the registry's order.
  const first = reg.getMetricsAsArray()[0];
  reg.removeSingleMetric(first.name);
  reg.registerMetric(first as never);
  procs = [{ process: 'b', rx: 7, tx: 2 }];
  out = await m.collect();
  assert.equal(out.body, await reg.metrics());
  assert.match(out.body, /my_app_async 3\.14159.*\n\n# HELP ntstat_process_network_receive_bytes_total/s);
  reg.setDefaultLabels({ host: 'mac"1' });
  out = await m.collect();
  assert.equal(out.body, await reg.metrics());
  assert.match(out.body, /host="mac\\"1"/);
});

test('the written text, by hand: escaping, number spelling, no labels, no samples', () => {
  assert.equal(
    familyText({ name: 'x_total', help: 'a\\b\nc "q"', type: 'counter', values: [{ labels: { p: 'q"\\\n', n: 5 }, value: 1e21 }, { labels: {}, value: 0.1 + 0.2 }] }),
    '# HELP x_total a\\\\b\\nc "q"\n# TYPE x_total counter\nx_total{p="q\\"\\\\\\n",n="5"} 1e+21\nx_total 0.30000000000000004',
  );
  assert.equal(familyText({ name: 'g', help: 'h', type: 'gauge', values: [] }), '# HELP g h\n# TYPE g gauge');
  assert.deepEqual([NaN, Infinity, -Infinity, -0, 2 ** 53].map(valueText), ['Nan', '+Inf', '-Inf', '0', '9007199254740992']);
});

test('ntstat_connections: live flow streams by provider and state, in order of first appearance', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(streamArb, { maxLength: 60 }), async (streams) => {
      const m = new AgentMetrics(source(() => ({ procs: [], ifaces: [], streams, drops: {}, xnu: '', dialect: '', verified: false })), { clock: () => 0 });
      const expected: { provider: string; state: string; count: number }[] = [];
      for (const s of streams) {
        if (s.closed || s.provider === 'route' || s.provider === 'ifnet') continue;
        const state = s.listener ? 'LISTEN' : s.state ?? 'none';
        const e = expected.find((x) => x.provider === s.provider && x.state === state);
        if (e) e.count++;
        else expected.push({ provider: s.provider, state, count: 1 });
      }
      assert.deepEqual(m.state.snapshot().connections, expected);
    }),
    { numRuns: 200 },
  );
});
