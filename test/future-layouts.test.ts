/**
 * The layout self-test against the simulator's future layouts (issue 12), end to end: the
 * simulated kernel speaks a changed layout, the client assumes the provisional macOS 26 one.
 * Every value the client reports is compared with the simulator's ground truth (what the kernel
 * holds, decoded with the kernel's own tables); a field the client could not place must be absent,
 * never wrong. The header change must end in ERR_NTSTAT_LAYOUT. Same over `--socket` to `serve`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { simulatedFlowMaker } from '../src/cli/source-simulator.js';
import { interfaceKind, type Stream } from '../src/model/stream.js';
import { dialectFor, tcpStateName } from '../src/protocol/index.js';
import { FUTURE_LAYOUTS, SimKernel, SimulationDriver, futureDialect, type FutureLayoutName } from '../src/simulator/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { ALL_PROVIDERS, settle } from './helpers/client-sim.js';
import { NtstatError } from '../src/errors.js';

const UNKNOWN_KERNEL = '12377.1.9';

/** What each future layout must give (issue 12's closing table). */
const EXPECTED: Record<FutureLayoutName, 'verified' | 'inferred' | 'refused'> = {
  appended: 'verified',
  inserted: 'inferred',
  'counts-grown': 'inferred',
  reordered: 'inferred',
  header: 'refused',
};

async function run(name: FutureLayoutName) {
  const assumed = dialectFor(UNKNOWN_KERNEL);
  const kernelDialect = futureDialect(assumed, name);
  const kernel = new SimKernel({ dialect: kernelDialect, kernelVersion: UNKNOWN_KERNEL, scenario: 'idle-laptop', seed: 11 });
  const sim = kernel.connect({ root: false });
  const client = new NetworkStatisticsClient({
    transport: new MemoryTransport(sim),
    dialect: assumed,
    interval: 0,
    providers: ALL_PROVIDERS,
    clock: () => kernel.now,
    calibrationFlows: simulatedFlowMaker(kernel),
  });
  const driver = new SimulationDriver(kernel);
  return { kernel, kernelDialect, sim, client, driver };
}

/** Every field the stream carries vs the ground truth; returns the differences. */
function compare(s: Stream, truth: { descriptor?: Record<string, unknown>; counts?: Record<string, number> }, kernelDialect: ReturnType<typeof futureDialect>): string[] {
  const bad: string[] = [];
  const d = truth.descriptor ?? {};
  const eq = (what: string, got: unknown, want: unknown) => {
    if (got !== undefined && JSON.stringify(got) !== JSON.stringify(want)) bad.push(`${s.id} ${s.providerKind} ${what}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
  };
  eq('local', s.local, d.local);
  eq('remote', s.remote, d.remote);
  eq('pid', s.pid, d.pid);
  eq('process', s.process, d.pname);
  eq('epid', s.epid, d.epid);
  eq('uuid', s.uuid, d.uuid);
  eq('euuid', s.euuid, d.euuid);
  if (s.providerKind !== 'ifnet') eq('ifindex', s.ifindex, d.ifindex);
  if (s.state !== undefined) eq('state', s.state, tcpStateName(d.state as number));
  if (s.interface !== 'unknown' && s.providerKind !== 'ifnet') eq('interface', s.interface, interfaceKind(kernelDialect, d.ifnetProperties as number | undefined));
  for (const [k, v] of Object.entries(s.counts ?? {})) if (truth.counts && k in truth.counts) eq(`counts.${k}`, v, truth.counts[k]);
  return bad;
}

describe('future layouts: self-test verdict and every printed value vs ground truth', () => {
  for (const name of FUTURE_LAYOUTS) {
    test(`${name} -> ${EXPECTED[name]}`, async () => {
      const r = await run(name);
      if (EXPECTED[name] === 'refused') {
        await assert.rejects(r.client.connect(), (e: unknown) => e instanceof NtstatError && e.code === 'ERR_NTSTAT_LAYOUT' && /header/.test(e.message));
        assert.equal(r.client.state, 'closed');
        return;
      }
      await r.client.connect();
      assert.equal(r.client.selfTest?.verdict, EXPECTED[name]);
      for (let i = 0; i < 8; i++) {
        r.driver.step(250);
        await settle();
        await r.client.sweep();
      }
      await settle();
      const truth = r.sim.groundTruth();
      const streams = r.client.snapshot();
      assert.ok(streams.length > 20, `streams: ${streams.length}`);
      const bad: string[] = [];
      let tcpWithAddresses = 0;
      for (const s of streams) {
        const t = truth.sources.get(s.srcref);
        assert.ok(t, `stream ${s.id} is not a kernel source`);
        if (!t.alive) continue;
        bad.push(...compare(s, t as never, r.kernelDialect));
        if (s.provider === 'tcp' && s.local && s.remote && s.pid !== undefined && s.counts?.rxBytes !== undefined) tcpWithAddresses++;
        assert.equal(s.layout, EXPECTED[name] === 'inferred' ? 'inferred' : undefined);
      }
      assert.deepEqual(bad, []);
      assert.ok(tcpWithAddresses > 0, 'TCP streams keep addresses, pid and byte counts');
      r.client.stop();
    });
  }

  test('inferred: unplaced fields are omitted, not guessed (reordered counters: packets dropped; inserted: TCP kept whole)', async () => {
    const reo = await run('reordered');
    await reo.client.connect();
    const inf = reo.client.selfTest!.inference!;
    assert.ok(inf.dropped['nstat_counts'].includes('nstat_rxpackets'));
    assert.ok(inf.kept['nstat_counts'].includes('nstat_rxbytes') && inf.kept['nstat_counts'].includes('nstat_txbytes'));
    reo.client.stop();
    const ins = await run('inserted');
    await ins.client.connect();
    const t = ins.client.selfTest!.inference!;
    assert.deepEqual(t.dropped['nstat_tcp_descriptor'], []);
    assert.equal(t.offsets['nstat_tcp_descriptor'].local, 124 + 16);
    // The UDP prefix before the insertion point cannot be told from the inserted bytes: dropped.
    assert.ok(t.dropped['nstat_udp_descriptor'].includes('upid'));
    ins.client.stop();
  });

  test('selfTest "never" on an unverified kernel decodes with the assumed layout (the silent failure the self-test prevents)', async () => {
    const r = await run('reordered');
    const sim2 = r.kernel.connect({});
    const c2 = new NetworkStatisticsClient({ transport: new MemoryTransport(sim2), dialect: dialectFor(UNKNOWN_KERNEL), interval: 0, selfTest: 'never', providers: ['tcp'] });
    await c2.connect();
    await c2.sweep();
    await settle();
    const truth = sim2.groundTruth();
    const s = c2.snapshot().find((x) => x.counts && x.counts.rxBytes !== x.counts.txBytes);
    assert.ok(s);
    assert.equal(c2.selfTest, undefined);
    // rx and tx are swapped: wrong numbers, exactly what the self-test exists to catch.
    const t = truth.sources.get(s.srcref)!.counts!;
    assert.deepEqual([s.counts!.rxBytes, s.counts!.txBytes], [t.txBytes, t.rxBytes]);
    c2.stop();
    r.client.stop();
  });
});

// ---------------------------------------------------------------------------------------------
// The CLI, over --simulate and over --socket against `ntstat serve` (child processes).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnNtstat } from './helpers/cli-child.js';


const ntstat = spawnNtstat;

const waitFor = async (ready: () => boolean) => {
  // Bounded by a number of polls (the server creates PATH.flows once it listens).
  for (let i = 0; i < 400 && !ready(); i++) await new Promise((r) => setTimeout(r, 25));
};

/** The calibration flows are in the output too: their bytes are known (calibration.ts FLOWS). */
function checkOutput(name: FutureLayoutName, r: { code: number | null; out: string; err: string }): void {
  if (EXPECTED[name] === 'refused') {
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /ERR_NTSTAT_LAYOUT: .*header/);
    assert.equal(r.out, '');
    return;
  }
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, EXPECTED[name] === 'verified' ? /layout verified by self-test/ : /layout INFERRED by self-test/);
  const events = r.out.trim().split('\n').map((l) => JSON.parse(l) as { provider: string; local?: { port: number }; remote?: { port: number }; counts?: Record<string, number>; layout?: string; pid?: number });
  assert.ok(events.length >= 30);
  assert.doesNotMatch(r.out, /"route":\{\}/, 'an emptied route descriptor prints no route object');
  for (const e of events) assert.equal(e.layout, EXPECTED[name] === 'inferred' ? 'inferred' : undefined);
  const cal = events.filter((e) => e.provider === 'tcp' && e.counts && ((e.counts.rxBytes === 6151 && e.counts.txBytes === 4099) || (e.counts.rxBytes === 4099 && e.counts.txBytes === 6151)));
  assert.ok(cal.length > 0, 'the calibration connection is reported with its exact byte counts');
  for (const e of cal) assert.ok(e.local && e.remote && e.pid !== undefined);
}

describe('future layouts through the CLI', () => {
  for (const name of FUTURE_LAYOUTS) {
    test(`json --simulate --xnu ${UNKNOWN_KERNEL} --future-layout ${name} --all`, async () => {
      checkOutput(name, await ntstat(['json', '--simulate', '--xnu', UNKNOWN_KERNEL, '--future-layout', name, '--all', '--count', '40']).done);
    });
  }
  for (const name of FUTURE_LAYOUTS) {
    test(`json --socket against serve --future-layout ${name}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ntstat-future-'));
      const sock = join(dir, 's.sock');
      const server = ntstat(['serve', '--socket', sock, '--xnu', UNKNOWN_KERNEL, '--future-layout', name, '--duration', '30']);
      let serverErr = '';
      void server.done.then((r) => (serverErr = r.err));
      const { existsSync } = await import('node:fs');
      await waitFor(() => existsSync(`${sock}.flows`));
      try {
        checkOutput(name, await ntstat(['json', '--socket', sock, '--xnu', UNKNOWN_KERNEL, '--all', '--count', '40']).done);
      } finally {
        server.kill();
        await server.done;
        rmSync(dir, { recursive: true, force: true });
      }
      assert.doesNotMatch(serverErr, /internal error/);
    });
  }
  test('--future-layout is refused for a published kernel and for unknown names (usage, exit 2)', async () => {
    assert.equal((await ntstat(['json', '--simulate', '--macos', '14', '--future-layout', 'inserted']).done).code, 2);
    assert.equal((await ntstat(['json', '--simulate', '--xnu', UNKNOWN_KERNEL, '--future-layout', 'sideways']).done).code, 2);
  });
});

describe('the real macOS 27 shape served to a client that assumes macOS 26', () => {
  test('inferred as REAL-CAPTURES.md §1 reads it: uid and ifnet_properties moved by 16, the 16-byte slots in between unplaced', async () => {
    const { loopbackFlowMaker } = await import('../src/client/calibration-flow.js');
    const { injectCalibrationFlow } = await import('../src/simulator/index.js');
    const kernel = new SimKernel({ dialect: dialectFor('27'), scenario: 'idle-laptop', seed: 5 });
    const sim = kernel.connect({});
    // A non-root owner (uid 501, as in the capture): a non-zero uid is a value the test can find.
    const maker = async (req: Parameters<typeof loopbackFlowMaker>[0]) => {
      const f = await loopbackFlowMaker(req);
      if (!f) return undefined;
      const facts = { ...f.facts, uid: 501 };
      const close = injectCalibrationFlow(kernel.world, facts);
      return { facts, close: async () => (close(), f.close()) };
    };
    const client = new NetworkStatisticsClient({ transport: new MemoryTransport(sim), dialect: dialectFor('26'), interval: 0, providers: ['tcp', 'udp'], calibrationFlows: maker });
    await client.connect();
    const r = client.selfTest!;
    assert.equal(r.verdict, 'inferred');
    const tcp = r.inference!;
    assert.equal(tcp.offsets['nstat_tcp_descriptor'].uid, 344);
    const layout = r.dialect.structs.get('nstat_tcp_descriptor')!;
    assert.equal(layout.size, 360);
    assert.equal(layout.byName.get('ifnet_properties')?.offset, 352);
    assert.equal(layout.byName.get('pid')?.offset, 116);
    for (const f of ['uuid', 'euuid', 'vuuid', 'fuuid', 'persona_id']) assert.ok(tcp.dropped['nstat_tcp_descriptor'].includes(f), f);
    await client.sweep();
    await settle();
    const s = client.snapshot().find((x) => x.provider === 'tcp' && x.interface === 'wifi');
    assert.ok(s, 'interface kinds are right again (ifnet_properties placed)');
    assert.equal(s.uuid, undefined, 'never printed from an unverified offset');
    client.stop();
  });
});
