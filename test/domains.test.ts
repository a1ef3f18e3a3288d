/**
 * Issue 13 §2: domain names on the stream. The client asks for the DOMAIN extension (filter bit
 * 40 + 1) when told to (the CLI does for a privileged client); the kernel delivers it in extended
 * updates (BEHAVIOUR.md §6): from xnu-8792.81.2 only to a privileged client (silently ignored
 * otherwise), on 12.1–13.1 to anyone. `domain` {name, owner, attributedBundleId} then appears in
 * the stream, its JSON and its log line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { streamToJson } from '../src/model/json.js';
import { formatLogEvent } from '../src/cli/format-log.js';
import { SimKernel, SimulationDriver } from '../src/simulator/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { settle } from './helpers/client-sim.js';

async function domainsSeen(kernelVersion: string, root: boolean, ask: boolean) {
  const kernel = new SimKernel({ dialect: kernelVersion, scenario: 'browser-burst', scale: 0.3, seed: 4 });
  const client = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel.connect({ root })), dialect: kernel.dialect, interval: 0, providers: ['tcp', 'udp', 'quic', 'conn'], clock: () => kernel.now, domains: ask });
  try {
    await client.connect();
    new SimulationDriver(kernel).step(3000);
    await settle(10);
    await client.sweep();
    await client.sweep();
    return client.snapshot();
  } finally {
    client.stop();
  }
}

for (const [kernel, root, ask, expect] of [
  ['8796.141.3', true, true, true], // macOS 13.5, privileged
  ['8796.141.3', false, true, false], // unprivileged: silently ignored
  ['8796.141.3', true, false, false], // not asked
  ['11417.121.6', true, true, true], // macOS 15
  ['8019.61.5', false, true, true], // macOS 12.1: no privilege check yet
] as const) {
  test(`xnu-${kernel} ${root ? 'root' : 'user'}${ask ? ', domains asked' : ''}: ${expect ? 'streams carry domain names' : 'no domain'}`, async () => {
    const streams = await domainsSeen(kernel, root, ask);
    const withDomain = streams.filter((s) => s.domain);
    assert.ok(streams.length > 5);
    if (!expect) {
      assert.equal(withDomain.length, 0);
      return;
    }
    assert.ok(withDomain.length > 0, `${withDomain.length} of ${streams.length}`);
    const s = withDomain[0];
    assert.match(s.domain!.name, /\.example\.(com|org|net)$/, 'a scenario domain');
    assert.deepEqual(streamToJson('update', 0, s).domain, s.domain);
    assert.ok(formatLogEvent({ event: 'update', time: 0, stream: s }).join('\n').includes(`domain:${s.domain!.name}`));
  });
}
