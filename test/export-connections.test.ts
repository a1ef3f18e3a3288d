/**
 * The `ntstat_connections` gauge is counted by scanning the few (provider, state) pairs seen so far
 * instead of keying every stream (src/export/state.ts, issue 17): checked here against a count made
 * by the test, for random live/closed streams of every provider.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AgentMetrics } from '../src/export/prometheus.js';
import type { ExportSource } from '../src/export/state.js';
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
