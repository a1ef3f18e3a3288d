/**
 * Issue 13 §2: SYSINFO_COUNTS become `sysinfo` events (JSON) when the client is privileged; an
 * unprivileged client gets EPERM and sysinfo is just unavailable (BEHAVIOUR.md §2.8, §5.8). The
 * simulated kernel reports at its first idle check (60 s of simulated time).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { sysinfoToJson, type SysinfoEvent } from '../src/model/sysinfo.js';
import { parseCli } from '../src/cli/options.js';
import { SimKernel, SimulationDriver } from '../src/simulator/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { settle } from './helpers/client-sim.js';
import { runViewUntilSysinfo } from './helpers/sysinfo-view.js';

for (const dialect of ['4570.71.2', '10063.141.1', '11417.121.6']) {
  for (const root of [true, false]) {
    test(`xnu-${dialect} ${root ? 'privileged' : 'unprivileged'}: sysinfo ${root ? 'events arrive after the idle check' : 'is unavailable (EPERM), no event'}`, async () => {
      const kernel = new SimKernel({ dialect, scenario: 'idle-laptop', scale: 0.2, seed: 4 });
      const client = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel.connect({ root })), dialect: kernel.dialect, interval: 0, providers: ['tcp', 'sysinfo'], clock: () => kernel.now });
      const got: SysinfoEvent[] = [];
      client.on('sysinfo', (ev: SysinfoEvent) => got.push(ev));
      try {
        await client.connect();
        const st = client.providers().find((p) => p.provider === 'sysinfo');
        assert.equal(st?.available, root, JSON.stringify(st));
        new SimulationDriver(kernel).step(61_000);
        await settle(10);
        if (!root) {
          assert.equal(got.length, 0);
          assert.equal(st?.errno, 1, 'EPERM');
          return;
        }
        assert.ok(got.length >= 1, 'a SYSINFO_COUNTS report became an event');
        const j = sysinfoToJson(got[0]);
        assert.equal(j.event, 'sysinfo');
        assert.ok(j.keyvals.length > 0);
        for (const k of j.keyvals) assert.ok(typeof k.key === 'number' && k.key > 0 && (typeof k.scalar === 'number' || typeof k.scalar === 'string'));
        assert.doesNotThrow(() => JSON.stringify(j));
      } finally {
        client.stop();
      }
    });
  }
}

test('ntstat json --simulate --privileged --all: sysinfo lines on the NDJSON stream', async () => {
  const o = parseCli(['json', '--simulate', '--privileged', '--all'], {});
  assert.ok(o.providers.has('sysinfo'));
  const { code, out, err } = await runViewUntilSysinfo(o, '"event":"sysinfo"');
  assert.equal(code, 0, err);
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { event: string; keyvals?: unknown[] });
  const sys = lines.filter((l) => l.event === 'sysinfo');
  assert.ok(sys.length >= 1, `sysinfo lines: ${sys.length}`);
  assert.ok(Array.isArray(sys[0].keyvals) && sys[0].keyvals.length > 0);
  assert.ok(lines.some((l) => l.event === 'added'), 'stream events too');
  assert.throws(() => parseCli(['json', '--privileged'], {}), /--privileged applies to --simulate/);
});
