/**
 * Issue 15 with the ifnet provider: `ntstat_network_*_total{device,kind}` come from the kernel's
 * own interface counters when the agent's client subscribed to ifnet (HELP says so), equal the
 * simulated world's interface counters (64-bit, non-flow traffic included), and never fall.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageAgent } from '../src/agent/usage-agent.js';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { createMetricsRoute } from '../src/export/prometheus.js';
import { SimKernel } from '../src/simulator/index.js';
import { interfaceTruth } from '../src/simulator/world/interfaces.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { settle } from './helpers/client-sim.js';
import { parseExposition } from './helpers/exposition.js';

test('ntstat_network_*_total from the ifnet provider: device series equal the world, monotonic, HELP names the source', async () => {
  const kernel = new SimKernel({ dialect: '11215.61.5', scenario: 'bare', seed: 4 });
  const client = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel.connect()), dialect: kernel.dialect, interval: 0, providers: ['tcp', 'udp', 'ifnet'], clock: () => kernel.now });
  const agent = new UsageAgent({ client, clock: () => kernel.now });
  const route = createMetricsRoute(agent, { clock: () => kernel.now, nodeExporterNames: true });
  const server = createServer((req, res) => void route(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  const scrape = async () => parseExposition(await (await fetch(url)).text());
  try {
    await agent.start();
    await client.sweep();
    await settle();
    const w = kernel.world;
    const s = w.tcpSocket(w.spawn('curl'), 4);
    w.tcpConnect(s, { family: 4, address: '203.0.113.9', port: 443 }, w.interfaces.get(4)!, 20);
    let last = new Map<string, number>();
    for (let step = 0; step < 4; step++) {
      w.transfer(s, 700_000 * (step + 1), 20_000);
      kernel.advance(1000);
      await client.sweep();
      await settle();
      const p = await scrape();
      assert.match(p.help.get('ntstat_network_receive_bytes_total') ?? '', /from the kernel's ifnet provider/);
      const truth = interfaceTruth(w);
      for (const [metric, field] of [
        ['ntstat_network_receive_bytes_total', 'rxBytes'],
        ['ntstat_network_transmit_bytes_total', 'txBytes'],
        ['ntstat_network_receive_packets_total', 'rxPackets'],
        ['ntstat_network_transmit_packets_total', 'txPackets'],
      ] as const) {
        for (const t of truth) {
          const sample = p.samples.find((x) => x.name === metric && x.labels.device === t.name);
          assert.ok(sample, `${metric}{device="${t.name}"}`);
          assert.equal(sample.value, t[field], `${metric} ${t.name}`);
          const key = `${metric}/${t.name}`;
          assert.ok(sample.value >= (last.get(key) ?? 0), `${key} never falls`);
          last.set(key, sample.value);
        }
      }
      const en0 = p.samples.find((x) => x.name === 'ntstat_network_receive_bytes_total' && x.labels.device === 'en0')!;
      assert.equal(en0.labels.kind, 'wifi');
      assert.ok(en0.value > 2 ** 32, 'the 64-bit counter, not a 32-bit one');
      assert.equal(p.samples.find((x) => x.name === 'node_network_receive_bytes_total' && x.labels.device === 'en0')?.value, en0.value);
      // No flows-derived "if4" series beside the ifnet one.
      assert.ok(!p.samples.some((x) => x.name === 'ntstat_network_receive_bytes_total' && /^if\d+$/.test(x.labels.device)));
    }
    last = new Map();
  } finally {
    server.close();
    await agent.stop({ finalSweep: false });
  }
});
