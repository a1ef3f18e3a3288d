/**
 * BSD interface names end to end (issues 14 and 15): the agent's usage database and
 * `ntstat usage --by interface --json`, the exporter's `device` label, `json` over --simulate,
 * over --socket to `ntstat serve`, and the replay of an ntcap capture. Expected names and bytes
 * come from the simulated world (its interfaces and every flow's true counters), never from the
 * enumeration under test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { InterfaceNames } from '../src/model/interface-names.js';
import { SimKernel, SimulationDriver, worldInterfaceTable } from '../src/simulator/index.js';
import { dialectFor } from '../src/protocol/dialect.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { openNtcapFile } from '../src/transport/ntcap.js';
import { UsageAgent } from '../src/agent/usage-agent.js';
import { UsageStore } from '../src/store/usage-store.js';
import { AgentMetrics } from '../src/export/prometheus.js';
import { main } from '../src/cli/main.js';
import type { CliIo } from '../src/cli/io.js';
import { settle } from './helpers/client-sim.js';
import type { Flow } from '../src/simulator/world/entities.js';
import { parseExposition } from './helpers/exposition.js';
import { spawnNtstat } from './helpers/cli-child.js';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const dir = mkdtempSync(join(tmpdir(), 'ntstat-ifnames-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const EPOCH = Date.UTC(2026, 2, 1, 9, 0, 0);
const RANGE = ['--since', '2000-01-01T00:00:00Z', '--until', '2100-01-01T00:00:00Z'];

function memIo(): CliIo & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { stdout: { write: (c: string) => out.push(c) }, stderr: { write: (c: string) => err.push(c) }, env: {}, platform: 'linux', out: () => out.join(''), err: () => err.join('') };
}

/** The simulated machine's interfaces as its world holds them: index -> name. */
function worldNames(k: SimKernel): Map<number, string> {
  return new Map([...k.world.interfaces.values()].map((i) => [i.ifindex, i.name]));
}

/** A simulated laptop recorded by the real agent, stepped by simulated time; truth per interface. */
async function recordedWorld(sink?: UsageStore) {
  const kernel = new SimKernel({ dialect: '14', scenario: 'idle-laptop', seed: 7, scale: 0.3 });
  // Ground truth per interface: every byte the world moves, credited to the interface the flow
  // uses at that moment (flows may move, e.g. to cellular and back: cell fallback).
  const perIf = new Map<string, { rx: number; tx: number }>();
  const COUNTED = new Set(['tcp', 'udp', 'tcpUserland', 'udpUserland', 'quic']);
  const credit = (f: Flow, rx: number, tx: number) => {
    const name = f.outIf?.name ?? '?';
    const t = perIf.get(name) ?? { rx: 0, tx: 0 };
    t.rx += rx;
    t.tx += tx;
    perIf.set(name, t);
  };
  // Bytes moved while the scenario set the machine up, before this hook.
  const w = kernel.world;
  for (const m of [w.tcpPcbs, w.udpPcbs, w.userlandFlows] as Map<number, Flow>[]) for (const f of m.values()) if (COUNTED.has(f.kind)) credit(f, f.counts.rxBytes, f.counts.txBytes);
  const transfer = kernel.world.transfer.bind(kernel.world);
  kernel.world.transfer = (f: Flow, rx: number, tx: number, extra?: { dup?: number; ooo?: number; retx?: number }) => {
    const before = { rx: f.counts.rxBytes, tx: f.counts.txBytes };
    transfer(f, rx, tx, extra);
    if (COUNTED.has(f.kind)) credit(f, f.counts.rxBytes - before.rx, f.counts.txBytes - before.tx);
  };
  const driver = new SimulationDriver(kernel);
  const interfaceNames = new InterfaceNames(() => worldInterfaceTable(kernel.world), { clock: () => kernel.now });
  const client = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel.connect({ root: false })), dialect: kernel.dialect, interval: 0, providers: ['tcp', 'udp', 'quic'], clock: () => kernel.now, requestTimeout: 3000, interfaceNames });
  const agent = new UsageAgent({ client, clock: () => EPOCH + kernel.now, flushSeconds: 10, ...(sink ? { sink } : {}) });
  await agent.start();
  await client.sweep();
  for (let i = 0; i < 40; i++) {
    driver.step(1000);
    await settle();
    await client.sweep();
  }
  // Time stands still for the last sweeps: the final counters are the true ones.
  for (let i = 0; i < 3; i++) {
    await settle();
    await client.sweep();
  }
  await agent.stop();
  for (const [k, v] of perIf) if (v.rx === 0 && v.tx === 0) perIf.delete(k);
  return { kernel, agent, perIf, drops: client.dropCounts() };
}

test('usage --by interface --json: BSD names from the world, bytes equal the ground truth per interface', async () => {
  const path = join(dir, 'usage.db');
  const store = await UsageStore.open(path, { record: true });
  const w = await recordedWorld(store);
  store.close();
  assert.deepEqual(w.drops, {}, 'no kernel drops');
  assert.ok(w.perIf.has('en0'), 'traffic on en0');
  const io = memIo();
  assert.equal(await main(['usage', '--db', path, '--by', 'interface', '--json', ...RANGE], io), 0, io.err());
  const rows = io.out().trim().split('\n').map((l) => JSON.parse(l) as { key: string; interface: string; kind: string; rxBytes: number; txBytes: number });
  const got = new Map(rows.filter((r) => r.rxBytes || r.txBytes).map((r) => [r.key, { rx: r.rxBytes, tx: r.txBytes }]));
  assert.deepEqual(got, w.perIf);
  const names = new Set(worldNames(w.kernel).values());
  for (const r of rows) {
    assert.equal(r.interface, r.key);
    assert.ok(names.has(r.key) || r.key === '?', `${r.key} is a name of the world (or no interface)`);
    assert.doesNotMatch(r.key, /^if\d+$/);
  }
  assert.equal(rows.find((r) => r.key === 'en0')?.kind, 'wifi');
});

test('/metrics: device="en0" with the ground truth bytes; no series for flows without an interface', async () => {
  const w = await recordedWorld();
  const { body } = await new AgentMetrics(w.agent, { nodeExporterNames: true }).collect();
  const p = parseExposition(body);
  const rx = new Map<string, number>();
  const tx = new Map<string, number>();
  for (const s of p.samples) {
    if (s.name === 'ntstat_network_receive_bytes_total') rx.set(s.labels.device, s.value);
    if (s.name === 'ntstat_network_transmit_bytes_total') tx.set(s.labels.device, s.value);
  }
  const expected = new Map([...w.perIf].filter(([k]) => k !== '?'));
  assert.deepEqual(new Map([...rx].filter(([, v]) => v > 0)), new Map([...expected].map(([k, v]) => [k, v.rx])));
  assert.deepEqual(new Map([...tx].filter(([, v]) => v > 0)), new Map([...expected].map(([k, v]) => [k, v.tx])));
  const en0 = p.samples.find((s) => s.name === 'node_network_receive_bytes_total' && s.labels.device === 'en0');
  assert.equal(en0?.value, w.perIf.get('en0')!.rx, 'node_exporter-named series keyed on en0');
  for (const s of p.samples) {
    if (s.labels.device === undefined) continue;
    assert.doesNotMatch(s.labels.device, /^(if\d+|\?)$/, `${s.name}{device="${s.labels.device}"}`);
  }
  assert.match(p.help.get('ntstat_network_receive_bytes_total') ?? '', /without an interface/);
});

/** Every flow event with an ifindex carries the world's name for it; returns how many did. */
function checkNamed(out: string, truth: Map<number, string>): number {
  let named = 0;
  for (const l of out.trim().split('\n')) {
    const e = JSON.parse(l) as { provider?: string; ifindex?: number; ifname?: string };
    if (e.provider === undefined || e.provider === 'ifnet') continue;
    if (e.ifindex) {
      assert.equal(e.ifname, truth.get(e.ifindex), `ifindex ${e.ifindex}`);
      named++;
    } else assert.equal(e.ifname, undefined, 'no name without an interface');
  }
  return named;
}

const simTruth = () => worldNames(new SimKernel({ dialect: dialectFor('14', 'macos'), scenario: 'idle-laptop', seed: 1 }));

test('json --simulate: flows carry ifname; --interface en0 keeps exactly the flows on ifindex 4', async () => {
  const truth = simTruth();
  const io = memIo();
  assert.equal(await main(['json', '--simulate', '--macos', '14', '--all', '--count', '60'], io), 0, io.err());
  assert.ok(checkNamed(io.out(), truth) > 0, 'some flows named');
  const en0 = [...truth].find(([, n]) => n === 'en0')![0];
  const f = memIo();
  assert.equal(await main(['json', '--simulate', '--macos', '14', '--all', '--interface', 'en0', '--count', '20'], f), 0, f.err());
  const lines = f.out().trim().split('\n').map((l) => JSON.parse(l) as { event: string; ifindex?: number; ifname?: string; name?: string });
  // --all includes the interfaces (ifnet): --interface en0 keeps en0's own interface events too.
  assert.ok(lines.filter((e) => e.event === 'interface').every((e) => e.name === 'en0'));
  const evs = lines.filter((e) => e.event !== 'interface');
  assert.equal(evs.length, 20);
  for (const e of evs) assert.deepEqual([e.ifindex, e.ifname], [en0, 'en0']);
  assert.doesNotMatch(f.err(), /no interface named/);
});

test('replay: the capture header records the interface table; replayed flows carry the same names', async () => {
  const truth = simTruth();
  const file = join(dir, 'named.ntcap');
  const io = memIo();
  assert.equal(await main(['json', '--simulate', '--macos', '14', '--all', '--count', '40', '--record', file], io), 0, io.err());
  const r = openNtcapFile(file);
  const header = r.header.interfaces as { index: number; name: string }[];
  r.close();
  assert.deepEqual(new Map(header.map((e) => [e.index, e.name])), truth);
  const rep = memIo();
  assert.equal(await main(['replay', file, '--json'], rep), 0, rep.err());
  assert.ok(checkNamed(rep.out(), truth) > 0);
  // A capture without the table (recorded before this version): flows replay without names.
  const old = memIo();
  assert.equal(await main(['replay', join(repo, 'examples/session.ntcap'), '--json'], old), 0, old.err());
  const oldEvents = old.out().trim().split('\n').map((l) => JSON.parse(l) as { ifname?: string; ifindex?: number; provider?: string });
  assert.ok(oldEvents.some((e) => e.ifindex), 'the old capture has flows with an ifindex');
  for (const e of oldEvents) if (e.provider !== 'ifnet') assert.equal(e.ifname, undefined);
});

const ntstat = spawnNtstat;

test('over --socket: json names flows from serve\'s side channel', async () => {
  const truth = simTruth();
  const sock = join(dir, 's.sock');
  const xnu = '11215.61.5';
  const server = ntstat(['serve', '--socket', sock, '--macos', '14', '--duration', '60']);
  // Bounded by a number of polls: serve creates PATH.flows once it listens.
  for (let i = 0; i < 400 && !existsSync(`${sock}.flows`); i++) await new Promise((r) => setTimeout(r, 25));
  try {
    const r = await ntstat(['json', '--socket', sock, '--xnu', xnu, '--all', '--count', '60']).done;
    assert.equal(r.code, 0, r.err);
    assert.ok(checkNamed(r.out, truth) > 0, 'some flows named');
  } finally {
    server.kill();
    await server.done;
  }
});
