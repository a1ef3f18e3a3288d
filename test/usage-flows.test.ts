/**
 * `ntstat usage --flows` (issue 14): the flow log read back from a real SQLite file the real agent
 * wrote while recording a simulated laptop. Every closed flow of the world (its process, endpoints,
 * interface and true final counters) must come back once, with start/end within one sweep of the
 * world's creation/close times; newest first; --top N = the N largest; --process/--app filter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { InterfaceNames } from '../src/model/interface-names.js';
import { SimKernel, SimulationDriver, worldInterfaceTable } from '../src/simulator/index.js';
import type { Endpoint } from '../src/protocol/sockaddr.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { UsageAgent } from '../src/agent/usage-agent.js';
import { UsageStore } from '../src/store/usage-store.js';
import type { FlowLogRow } from '../src/store/flow-log.js';
import { main } from '../src/cli/main.js';
import type { CliIo } from '../src/cli/io.js';
import { settle } from './helpers/client-sim.js';
import { kernelName, trackFlows } from './helpers/usage-truth.js';

const dir = mkdtempSync(join(tmpdir(), 'ntstat-flows-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const EPOCH = Date.UTC(2026, 2, 1, 9, 0, 0);
const MAJOR = 14;
const STEP = 1000;
const RANGE = ['--since', '2000-01-01T00:00:00Z', '--until', '2100-01-01T00:00:00Z'];
/** Provider as the flow log names it: the kernel provider, `-userland` for NECP flows (QUIC is one). */
const PROVIDER: Record<string, string> = { tcp: 'tcp', udp: 'udp', tcpUserland: 'tcp-userland', udpUserland: 'udp-userland', quic: 'quic-userland' };

type Row = FlowLogRow;

function memIo(): CliIo & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { stdout: { write: (c: string) => out.push(c) }, stderr: { write: (c: string) => err.push(c) }, env: {}, platform: 'linux', out: () => out.join(''), err: () => err.join('') };
}

const text = (e: Endpoint | undefined) => (e ? `${e.address}${e.scopeId ? `%${e.scopeId}` : ''}:${e.port}` : undefined);

const recorded = (async () => {
  const path = join(dir, 'flows.db');
  const store = await UsageStore.open(path, { record: true });
  const kernel = new SimKernel({ dialect: String(MAJOR), scenario: 'idle-laptop', seed: 11, scale: 0.3 });
  const truth = trackFlows(kernel);
  const driver = new SimulationDriver(kernel);
  const clock = () => EPOCH + kernel.now;
  const interfaceNames = new InterfaceNames(() => worldInterfaceTable(kernel.world), { clock });
  const client = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel.connect({ root: false })), dialect: kernel.dialect, interval: 0, providers: ['tcp', 'udp', 'quic'], clock, requestTimeout: 3000, interfaceNames });
  const agent = new UsageAgent({ client, sink: store, clock, flushSeconds: 10 });
  await agent.start();
  await client.sweep();
  for (let i = 0; i < 60; i++) {
    driver.step(STEP);
    await settle();
    await client.sweep();
  }
  await agent.stop();
  store.close();
  // A flow ends for the kernel at close, and a TCP one already on entering TIME_WAIT (pcb detach
  // in add_to_time_wait; userland flows at their TIME_WAIT event: BEHAVIOUR.md §3.2, §5).
  const ended = (f: (typeof truth.flows extends () => (infer F)[] ? F : never)) =>
    f.closed || (f.kind === 'tcp' && (f as { state: number }).state === 10) || ((f.kind === 'tcpUserland' || f.kind === 'udpUserland' || f.kind === 'quic') && (f as { timeWait: boolean }).timeWait);
  const closed = truth.flows().filter((f) => ended(f) && PROVIDER[f.kind] !== undefined);
  return { path, closed, drops: client.dropCounts() };
})();

async function flows(args: string[]): Promise<Row[]> {
  const { path } = await recorded;
  const io = memIo();
  assert.equal(await main(['usage', '--db', path, '--flows', '--json', ...RANGE, ...args], io), 0, io.err());
  return io.out().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
}

test('--flows --json: every closed flow of the world once, with its process, endpoints, interface and true totals; newest first', async () => {
  const { closed, drops } = await recorded;
  assert.deepEqual(drops, {}, 'no kernel drops');
  assert.ok(closed.length >= 10, `${closed.length} flows closed in the simulated minute`);
  const rows = await flows([]);
  const key = (r: { process: string; provider: string; local?: string | undefined; remote?: string | undefined; interface: string; rxBytes: number; txBytes: number; rxPackets: number; txPackets: number }) =>
    JSON.stringify([r.process, r.provider, r.local ?? null, r.remote ?? null, r.interface, r.rxBytes, r.txBytes, r.rxPackets, r.txPackets]);
  const expected = closed.map((f) => key({ process: kernelName(f.proc.name, MAJOR), provider: PROVIDER[f.kind], local: text(f.local), remote: text(f.remote), interface: f.outIf?.name ?? '?', ...f.counts }));
  assert.deepEqual(rows.map(key).sort(), expected.sort());
  // Times: within the run, start before end (the world's own creation/close stamps are in event
  // time, which runs ahead of the sweeps within a step, so they bound nothing exactly here).
  const byKey = new Map(closed.map((f, i) => [expected[i], f]));
  for (const r of rows) {
    assert.ok(byKey.has(key(r)));
    const start = Date.parse(r.start) - EPOCH;
    const end = Date.parse(r.end) - EPOCH;
    assert.ok(start >= 0 && start <= end && end <= 60 * STEP, `${start}..${end}`);
    assert.equal(r.durationMs, end - start);
    assert.ok(Number.isInteger(r.pid) && r.pid! > 0, 'the kernel reported a pid');
  }
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].end >= rows[i].end, 'newest first');
});

test('--flows --top N: the N largest (rx + tx), largest first; --process and --app filter; --since cuts by time', async () => {
  const { closed } = await recorded;
  const sizes = closed.map((f) => f.counts.rxBytes + f.counts.txBytes).sort((a, b) => b - a);
  const top = await flows(['--top', '3']);
  assert.deepEqual(top.map((r) => r.rxBytes + r.txBytes), sizes.slice(0, 3));
  // The process with the most closed flows.
  const count = new Map<string, number>();
  for (const f of closed) count.set(kernelName(f.proc.name, MAJOR), (count.get(kernelName(f.proc.name, MAJOR)) ?? 0) + 1);
  const [name, n] = [...count].sort((a, b) => b[1] - a[1])[0];
  const only = await flows(['--process', `/^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$/`]);
  assert.equal(only.length, n);
  assert.ok(only.every((r) => r.process === name));
  assert.equal((await flows(['--app', `/^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$/`])).length, closed.filter((f) => kernelName((f.delegate ?? f.proc).name, MAJOR) === name).length);
  // --since keeps exactly the flows that ended at or after it (all of them started before).
  const all = await flows([]);
  const cut = EPOCH + 40_000;
  const late = await flows(['--since', new Date(cut).toISOString()]);
  assert.deepEqual(late, all.filter((r) => Date.parse(r.end) >= cut));
  assert.ok(late.length > 0 && late.length < all.length, `${late.length} of ${all.length} ended in the last 20 s`);
});

test('--flows text and CSV; bad combinations are usage errors (exit 2)', async () => {
  const { path, closed } = await recorded;
  const t = memIo();
  assert.equal(await main(['usage', '--db', path, '--flows', ...RANGE, '--top', '2'], t), 0, t.err());
  const lines = t.out().trimEnd().split('\n');
  assert.match(lines[0], /^END \(UTC\) +DURATION PROCESS +PROTO +LOCAL -> REMOTE +IF +RX +TX$/);
  assert.equal(lines.length, 3);
  const c = memIo();
  assert.equal(await main(['usage', '--db', path, '--flows', '--csv', ...RANGE], c), 0, c.err());
  const csv = c.out().trimEnd().split('\n');
  assert.equal(csv[0], 'start,end,durationMs,process,pid,app,provider,local,remote,interface,kind,rxBytes,txBytes,rxPackets,txPackets');
  assert.equal(csv.length, closed.length + 1);
  for (const argv of [['--flows', '--by', 'app'], ['--process', 'curl'], ['--app', 'Safari'], ['--flows', '--process', '/(/']]) {
    const e = memIo();
    assert.equal(await main(['usage', '--db', path, ...argv], e), 2, argv.join(' '));
    assert.match(e.err(), /ntstat: /);
  }
});
