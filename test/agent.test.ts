/**
 * UsageAgent against the simulator: its per-process totals equal the ground truth (the sum of
 * every flow's true final counters, closed flows included), per pid and per process name;
 * interface totals add up to the same bytes; 'poll' and 'stream' events; the AgentView status.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { SimKernel, SimulationDriver } from '../src/simulator/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { UsageAgent } from '../src/agent/usage-agent.js';
import { settle } from './helpers/client-sim.js';
import { kernelName, trackFlows } from './helpers/usage-truth.js';

async function runAgent(macos: string, scenario: string, steps: number, stepMs = 500) {
  const kernel = new SimKernel({ dialect: macos, scenario, seed: 11, scale: 0.3 });
  const truth = trackFlows(kernel);
  const driver = new SimulationDriver(kernel);
  const client = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel.connect({ root: false })), dialect: kernel.dialect, interval: 0, providers: ['tcp', 'udp', 'quic'], clock: () => kernel.now, requestTimeout: 3000 });
  const agent = new UsageAgent({ client, clock: () => 1_700_000_000_000 + kernel.now, kernel: { simulated: true } });
  const polls: number[] = [];
  const kinds = new Set<string>();
  agent.on('poll', (t: number) => polls.push(t));
  agent.on('stream', (k: string) => kinds.add(k));
  await agent.start();
  await client.sweep();
  for (let i = 0; i < steps; i++) {
    driver.step(stepMs);
    await settle();
    await client.sweep();
  }
  // Time frozen: a few sweeps so every goodbye and every last count has arrived.
  for (let i = 0; i < 3; i++) {
    await settle();
    await client.sweep();
  }
  return { kernel, truth, agent, client, polls, kinds };
}

for (const [macos, scenario] of [
  ['14', 'idle-laptop'],
  ['13', 'browser-burst'],
  ['15', 'udp-heavy'],
  ['10.13', 'idle-laptop'],
] as const) {
  test(`per-process totals equal the ground truth incl. closed flows [macOS ${macos}, ${scenario}]`, async () => {
    const r = await runAgent(macos, scenario, 12);
    try {
      const major = Number(macos.split('.')[0] === '10' ? 10 : macos.split('.')[0]);
      const byPid = r.truth.totals((f) => String(f.proc.pid));
      const byName = r.truth.totals((f) => kernelName(f.proc.name, major));
      const closedFlows = r.truth.flows().filter((f) => f.closed).length;
      assert.ok(closedFlows > 0, 'the scenario closed some flows during the run');
      const procs = r.agent.processes();
      const gotPid = new Map<string, { rx: number; tx: number; rp: number; tp: number; flows: number }>();
      const gotName = new Map<string, { rx: number; tx: number }>();
      for (const p of procs) {
        const a = gotPid.get(String(p.pid)) ?? { rx: 0, tx: 0, rp: 0, tp: 0, flows: 0 };
        a.rx += p.rxBytes;
        a.tx += p.txBytes;
        a.rp += p.rxPackets;
        a.tp += p.txPackets;
        a.flows += p.flows;
        gotPid.set(String(p.pid), a);
        const n = gotName.get(p.process) ?? { rx: 0, tx: 0 };
        n.rx += p.rxBytes;
        n.tx += p.txBytes;
        gotName.set(p.process, n);
      }
      const want = new Map([...byPid].map(([k, t]) => [k, { rx: t.rxBytes, tx: t.txBytes, rp: t.rxPackets, tp: t.txPackets, flows: t.flows }]));
      assert.deepEqual(gotPid, want, 'per-pid bytes, packets and flows opened');
      assert.deepEqual(gotName, new Map([...byName].map(([k, t]) => [k, { rx: t.rxBytes, tx: t.txBytes }])), 'per-process-name bytes');
      // Sorted largest first.
      for (let i = 1; i < procs.length; i++) assert.ok(procs[i - 1].rxBytes + procs[i - 1].txBytes >= procs[i].rxBytes + procs[i].txBytes);
      // Interfaces: the same bytes, split by interface.
      const ifs = r.agent.interfaces();
      const sum = (xs: { rxBytes: number }[]) => xs.reduce((a, x) => a + x.rxBytes, 0);
      assert.equal(sum(ifs), sum([...byPid.values()]));
      assert.ok(ifs.every((i) => i.source === 'flows' && /^(if\d+|\?)$/.test(i.name)));
      // The live view: streams now = flows open in the world (visible ones).
      assert.equal(r.agent.streams().length, r.agent.status().streams);
      assert.equal(r.agent.status().streams, procs.reduce((a, p) => a + p.liveFlows, 0));
      assert.equal(r.polls.length >= 12, true, "a 'poll' event per sweep");
      assert.ok(r.kinds.has('added') && r.kinds.has('removed'), "'stream' events forwarded");
    } finally {
      await r.agent.stop();
    }
  });
}

test('status(): kernel, providers, drops; store() is null without a store', async () => {
  const r = await runAgent('13', 'idle-laptop', 2);
  try {
    const st = r.agent.status();
    assert.equal(st.kernel.simulated, true);
    assert.equal(st.kernel.dialect, r.kernel.dialect.family);
    assert.equal(st.startedAt, 1_700_000_000_000);
    const names = st.providers.map((p) => p.name).sort();
    assert.deepEqual(names, ['quic', 'tcp', 'tcpUserland', 'udp', 'udpUserland']);
    assert.ok(st.providers.every((p) => p.available));
    assert.equal(st.drops.total, 0);
    assert.equal(st.db, undefined);
    assert.equal(r.agent.store(), null);
  } finally {
    await r.agent.stop();
  }
});
