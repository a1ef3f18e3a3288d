/**
 * Interfaces end to end (issue 13 §2): the client subscribes to the ifnet provider per interface
 * and emits typed `interface` events whose 64-bit counters equal the simulated world's interface
 * counters (flows + non-flow traffic); unprivileged under privcheck it says so once and carries
 * on; `ntstat json --all` shows interface events for every dialect that has the provider (values
 * from the scenario's definition: boot counters + LAN chatter, toolkit.ts); `top --by interface`
 * (plain, --raw, --csv); the schema validates them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { main } from '../src/cli/main.js';
import type { InterfaceEvent } from '../src/model/interface.js';
import { interfaceToJson } from '../src/model/interface.js';
import { layoutFamilies, providerId } from '../src/protocol/index.js';
import { SimKernel } from '../src/simulator/index.js';
import { interfaceTruth } from '../src/simulator/world/interfaces.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { InterfaceNames } from '../src/model/interface-names.js';
import { captureIo } from './helpers/cli-io.js';
import { settle } from './helpers/client-sim.js';

const FAMILIES = layoutFamilies().filter((d) => providerId(d, 'ifnet') !== undefined);

/** The bare scenario's interfaces by definition (scenarios/toolkit.ts interfaceLife). */
const BOOT: Record<string, { rx: number; tx: number; chatter?: { rx: number; tx: number } }> = {
  lo0: { rx: 231_456_789, tx: 231_456_789 },
  en0: { rx: 6_710_886_400 + 12_345, tx: 1_181_116_006, chatter: { rx: 420, tx: 180 } },
  en5: { rx: 3_221_225_472, tx: 402_653_184, chatter: { rx: 300, tx: 120 } },
  pdp_ip0: { rx: 83_886_080, tx: 9_437_184 },
  awdl0: { rx: 0, tx: 0 },
  utun0: { rx: 0, tx: 0 },
};

async function sweepClient(dialect: string, opts: { privcheck?: boolean; root?: boolean; list?: boolean } = {}) {
  const kernel = new SimKernel({ dialect, scenario: 'bare', seed: 5, privcheck: opts.privcheck ?? false });
  const events: InterfaceEvent[] = [];
  const warnings: string[] = [];
  const client = new NetworkStatisticsClient({
    transport: new MemoryTransport(kernel.connect({ root: opts.root ?? false })),
    dialect: kernel.dialect,
    interval: 0,
    providers: ['tcp', 'ifnet'],
    clock: () => kernel.now,
    ...(opts.list ? { interfaceNames: new InterfaceNames(() => [...kernel.world.interfaces.values()].map((i) => ({ index: i.ifindex, name: i.name }))) } : {}),
  });
  client.on('interface', (ev) => events.push(ev));
  client.on('warning', (w) => warnings.push(w));
  await client.connect();
  await client.sweep();
  await settle();
  return { kernel, client, events, warnings };
}

describe('client: interface events equal the world (every layout family with ifnet)', () => {
  for (const d of FAMILIES) {
    test(`[${d.family}] counters = world ground truth (64-bit), names, kinds, link; traffic on a flow shows up`, async () => {
      const { kernel, client, events } = await sweepClient(d.xnu);
      try {
        const truth = interfaceTruth(kernel.world);
        const added = events.filter((e) => e.change === 'added');
        assert.deepEqual(added.map((e) => e.interface.name).sort(), truth.map((t) => t.name).sort(), 'one interface event per interface (probed: no list given)');
        for (const e of added) {
          const t = truth.find((x) => x.ifindex === e.interface.index)!;
          assert.equal(e.interface.name, t.name);
          assert.deepEqual([e.interface.rxBytes, e.interface.txBytes, e.interface.rxPackets, e.interface.txPackets], [t.rxBytes, t.txBytes, t.rxPackets, t.txPackets], t.name);
          assert.equal(e.initial, true);
        }
        const en0 = client.interfaces().find((i) => i.name === 'en0')!;
        assert.ok(en0.rxBytes > 2 ** 32, `en0 rx ${en0.rxBytes} > 2^32`);
        assert.equal(client.interfaces().find((i) => i.name === 'lo0')!.kind, 'loopback');
        assert.equal(client.interfaces().find((i) => i.name === 'pdp_ip0')!.kind, 'cellular');
        assert.equal(client.interfaces().find((i) => i.name === 'awdl0')!.kind, 'awdl');
        if (d.structs.has('nstat_ifnet_desc_link_status')) {
          assert.equal(en0.kind, 'wifi', 'the Wi-Fi link report makes en0 wifi');
          assert.deepEqual(en0.link, { type: 'wifi', fields: { linkQualityMetric: 100, ulMaxBandwidth: 866_000, dlMaxBandwidth: 866_000, dlEffectiveLatency: 4, configFrequency: 2 } });
          assert.equal(client.interfaces().find((i) => i.name === 'en5')!.kind, 'wired');
        } else {
          assert.equal(en0.link.type, 'none', '10.9/10.10 descriptors carry no link status');
        }
        // A flow moves 5 MB over en0: the next sweep's update carries the world's new counters.
        const w = kernel.world;
        const s = w.tcpSocket(w.spawn('curl'), 4);
        w.tcpConnect(s, { family: 4, address: '203.0.113.8', port: 443 }, w.interfaces.get(4)!, 20);
        w.transfer(s, 5_000_000, 70_000);
        kernel.advance(1000);
        await client.sweep();
        await settle();
        const t4 = interfaceTruth(w).find((x) => x.ifindex === 4)!;
        const last = events.filter((e) => e.interface.index === 4).at(-1)!;
        assert.equal(last.change, 'update');
        assert.equal(last.interface.rxBytes, t4.rxBytes);
        assert.equal(last.interface.txBytes, t4.txBytes);
        assert.equal(t4.rxBytes - t4.nonFlow.rxBytes, 5_000_000, 'the flow part of the truth');
        assert.ok((last.interface.rxBytesPerSec ?? 0) > 0, 'a rate after two samples');
        // Interfaces are not streams: flows only in snapshot().
        assert.ok(client.snapshot().every((x) => x.provider !== 'ifnet'));
      } finally {
        client.stop();
      }
    });
  }

  test('with an interface enumeration: only the listed interfaces are added (no probing)', async () => {
    const kernel = new SimKernel({ dialect: '11215.61.5', scenario: 'bare', seed: 5 });
    const client = new NetworkStatisticsClient({
      transport: new MemoryTransport(kernel.connect()),
      dialect: kernel.dialect,
      interval: 0,
      providers: ['ifnet'],
      clock: () => kernel.now,
      interfaceNames: new InterfaceNames(() => [{ index: 1, name: 'lo0' }, { index: 4, name: 'en0' }]),
    });
    try {
      await client.connect();
      await client.sweep();
      await settle();
      assert.deepEqual(client.interfaces().map((i) => i.name).sort(), ['en0', 'lo0']);
      assert.equal(client.providers().find((p) => p.provider === 'ifnet')?.available, true);
    } finally {
      client.stop();
    }
  });

  test('an interface that appears later (a VPN utun) is added after a sweep; one that goes away is removed', async () => {
    const kernel = new SimKernel({ dialect: '11215.61.5', scenario: 'bare', seed: 5 });
    const w = kernel.world;
    const names = new InterfaceNames(() => [...w.interfaces.values()].filter((i) => i.attached).map((i) => ({ index: i.ifindex, name: i.name })));
    const events: InterfaceEvent[] = [];
    const client = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel.connect()), dialect: kernel.dialect, interval: 0, providers: ['ifnet'], clock: () => kernel.now, interfaceNames: names });
    client.on('interface', (ev) => events.push(ev));
    try {
      await client.connect();
      await client.sweep();
      await settle();
      assert.equal(client.interfaces().length, 6);
      const utun3 = w.addInterface({ ifindex: 21, name: 'utun3', kind: 'utun', description: 'utun' });
      await names.refresh(); // as a flow on an unknown index would trigger (interface-names.ts)
      await client.sweep(); // sees the new name: ADD_SRC
      await settle();
      await client.sweep(); // reports it
      await settle();
      const added = events.filter((e) => e.interface.name === 'utun3');
      assert.deepEqual(added.map((e) => [e.change, e.interface.index, e.interface.kind, e.initial ?? false]), [['added', 21, 'other', false]]);
      w.detachInterface(utun3);
      kernel.advance(61_000); // the idle check finds it gone (§3.4): goodbye
      await settle();
      await client.sweep();
      await settle();
      assert.equal(events.filter((e) => e.interface.name === 'utun3').at(-1)?.change, 'removed');
      assert.ok(!client.interfaces().some((i) => i.name === 'utun3'));
    } finally {
      client.stop();
    }
  });

  test('a threshold notice (SRC_COUNTS, context 0) becomes an interface update without a sweep; the threshold is checked', async () => {
    const kernel = new SimKernel({ dialect: '11215.61.5', scenario: 'bare', seed: 5 });
    const events: InterfaceEvent[] = [];
    const client = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel.connect()), dialect: kernel.dialect, interval: 0, providers: ['ifnet'], clock: () => kernel.now, ifnetThreshold: 1024 * 1024 });
    client.on('interface', (ev) => events.push(ev));
    try {
      await client.connect();
      await client.sweep();
      await settle();
      const sweeps = client.sweeps;
      const before = events.length;
      const w = kernel.world;
      const s = w.tcpSocket(w.spawn('curl'), 4);
      w.tcpConnect(s, { family: 4, address: '203.0.113.9', port: 443 }, w.interfaces.get(4)!, 20);
      w.transfer(s, 2 * 1024 * 1024, 0); // over the 1 MiB threshold: the kernel pushes counts
      await settle();
      assert.equal(client.sweeps, sweeps, 'no sweep ran');
      const pushed = events.slice(before).filter((e) => e.interface.name === 'en0');
      assert.equal(pushed.length, 1);
      assert.equal(pushed[0].change, 'update');
      assert.equal(pushed[0].interface.rxBytes, interfaceTruth(w).find((t) => t.name === 'en0')!.rxBytes);
      assert.equal(client.interfaces().find((i) => i.name === 'en0')?.threshold, 1024 * 1024, "the descriptor's effective threshold");
    } finally {
      client.stop();
    }
    const bad = new NetworkStatisticsClient({ transport: new MemoryTransport(new SimKernel({ dialect: '11215.61.5', scenario: 'bare' }).connect()), dialect: '11215.61.5', interval: 0, providers: ['ifnet'], ifnetThreshold: 1000 });
    await assert.rejects(bad.connect(), (e: Error & { code?: string }) => e.code === 'ERR_NTSTAT_USAGE' && /1 MiB/.test(e.message));
  });

  test('doctor --simulate lists ifnet and the interfaces it reports', async () => {
    const io = captureIo();
    assert.equal(await main(['doctor', '--simulate', '--macos', '14'], io), 0, io.err());
    assert.match(io.out(), /^ {2}available\s+ifnet$/m);
    // The default scenario (idle-laptop): Wi-Fi, loopback, AWDL, a tunnel, cellular.
    assert.match(io.out(), /^interfaces\s+5 from the ifnet provider: lo0 \(loopback\), en0 \(wifi\), awdl0 \(awdl\), utun0 \(other\), pdp_ip0 \(cellular\)$/m);
  });

  test('privcheck set, unprivileged: ifnet refused with EPERM and said once (the flows are refused too: a typed error, no crash); root gets interfaces', async () => {
    await assert.rejects(sweepClient('4570.71.2', { privcheck: true }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ERR_NTSTAT_PERMISSION');
      assert.match(e.message, /ifnet: EPERM/);
      return true;
    });
    const kernel = new SimKernel({ dialect: '4570.71.2', scenario: 'bare', privcheck: true });
    const warnings: string[] = [];
    const client = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel.connect()), dialect: kernel.dialect, interval: 0, providers: ['ifnet', 'tcp'], clock: () => kernel.now });
    client.on('warning', (w) => warnings.push(w));
    await assert.rejects(client.connect());
    assert.equal(warnings.filter((w) => /interface/.test(w)).length, 1, warnings.join('\n'));
    assert.match(warnings.find((w) => /interface/.test(w))!, /EPERM/);
    const root = await sweepClient('4570.71.2', { privcheck: true, root: true });
    try {
      assert.equal(root.events.length, kernel.world.interfaces.size);
      assert.equal(root.client.providers().find((p) => p.provider === 'ifnet')?.available, true);
    } finally {
      root.client.stop();
    }
  });
});

function jsonLines(out: string): Record<string, any>[] {
  return out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** Interface events of a json run check against the scenario's definition. */
function checkBareInterfaces(evs: Record<string, any>[], linkStatus: boolean, selfTested = false): void {
  const ifs = evs.filter((e) => e.event === 'interface');
  assert.ok(ifs.length >= 6, `${ifs.length} interface events`);
  const seen = new Set<string>();
  for (const e of ifs) {
    const b = BOOT[e.name];
    assert.ok(b, `known interface ${e.name}`);
    seen.add(e.name);
    if (selfTested && e.name === 'lo0') {
      // The layout self-test's loopback connections are flows on lo0 (calibration-flow.ts).
      assert.ok(e.rxBytes > b.rx && e.txBytes > b.tx, 'lo0: boot counters + the self-test flows');
      continue;
    }
    if (!b.chatter) {
      assert.deepEqual([e.rxBytes, e.txBytes], [b.rx, b.tx], e.name);
      continue;
    }
    // Boot counters plus k seconds of LAN chatter: the same k for rx and tx.
    const k = (e.rxBytes - b.rx) / b.chatter.rx;
    assert.ok(Number.isInteger(k) && k >= 0, `${e.name} rx ${e.rxBytes}`);
    assert.equal(e.txBytes, b.tx + k * b.chatter.tx, `${e.name} tx`);
  }
  assert.deepEqual([...seen].sort(), Object.keys(BOOT).sort());
  const en0 = ifs.find((e) => e.name === 'en0')!;
  assert.ok(en0.rxBytes > 2 ** 32, 'a counter above 2^32 survives JSON exactly');
  assert.equal(en0.kind, linkStatus ? 'wifi' : 'wired');
  if (linkStatus) assert.equal(en0.link.linkQualityMetric, 100);
}

describe('CLI: json --simulate --all shows interface events, every dialect with ifnet', () => {
  for (const d of FAMILIES) {
    test(`json --simulate --xnu ${d.xnu} --all`, async () => {
      const io = captureIo();
      const code = await main(['json', '--simulate', '--xnu', d.xnu, '--scenario', 'bare', '--all', '--duration', '1.2', '--interval', '0.3'], io);
      assert.equal(code, 0, io.err());
      const evs = jsonLines(io.out());
      checkBareInterfaces(evs, d.structs.has('nstat_ifnet_desc_link_status'));
    });
  }
  for (const macos of ['26', '27']) {
    test(`json --simulate --macos ${macos} --all (provisional layouts, self-tested)`, async () => {
      const io = captureIo();
      const code = await main(['json', '--simulate', '--macos', macos, '--scenario', 'bare', '--all', '--duration', '1.2', '--interval', '0.3'], io);
      assert.equal(code, 0, io.err());
      checkBareInterfaces(jsonLines(io.out()), true, true);
    });
  }

  test('log lines for interfaces: IFNET name index kind link and the 64-bit bytes line; --process hides them', async () => {
    const io = captureIo();
    assert.equal(await main(['--simulate', '--scenario', 'bare', '--all', '--duration', '0.8', '--interval', '0.3'], io), 0, io.err());
    assert.match(io.out(), /^ \+ \d\d:\d\d:\d\d IFNET en0 index:4 wifi link:wifi quality:100$/m);
    assert.match(io.out(), /^ {2}bytes \(tx\/rx\):231456789\/231456789 {2}packets:\d+\/\d+$/m);
    const filtered = captureIo();
    assert.equal(await main(['--simulate', '--scenario', 'bare', '--all', '--duration', '0.8', '--process', 'curl'], filtered), 0);
    assert.doesNotMatch(filtered.out(), /IFNET/);
  });
});

describe('CLI: top --by interface', () => {
  test('--once --raw: one row per interface with kind, link and exact totals; the total row adds them', async () => {
    const io = captureIo();
    assert.equal(await main(['top', '--simulate', '--scenario', 'bare', '--by', 'interface', '--once', '--raw', '--interval', '0.3'], io), 0, io.err());
    const lines = io.out().split('\n');
    assert.match(lines[0], /by interface/);
    assert.match(lines[0], /6 interfaces/);
    assert.match(lines[1], /INDEX\s+INTERFACE\s+KIND\s+LINK\s+RX\/s▼?\s+TX\/s▼?\s+RX\s+TX/);
    const row = (name: string) => lines.find((l) => new RegExp(`^\\s*\\d+ ${name}\\s`).test(l));
    assert.match(row('lo0') ?? '', /^\s*1 lo0\s+loopback\s+-\s+.*\s231456789\s+231456789$/);
    assert.match(row('pdp_ip0') ?? '', /^\s*15 pdp_ip0\s+cellular\s+cellular quality:50\s/);
    assert.match(row('en0') ?? '', /^\s*4 en0\s+wifi\s+wifi quality:100\s/);
    const en0Rx = Number(/\s(\d+)\s+\d+$/.exec(row('en0')!)![1]);
    assert.ok(en0Rx >= BOOT.en0.rx && (en0Rx - BOOT.en0.rx) % 420 === 0, `en0 rx ${en0Rx}`);
    assert.match(lines.find((l) => l.includes('TOTAL (6 interfaces)')) ?? '', /TOTAL \(6 interfaces\)/);
  });

  test('--csv: interface columns, exact numbers', async () => {
    const io = captureIo();
    assert.equal(await main(['top', '--simulate', '--scenario', 'bare', '--by', 'interface', '--csv', '--count', '1', '--interval', '0.3'], io), 0, io.err());
    const [head, ...rows] = io.out().trim().split('\n');
    assert.equal(head, 'time,index,interface,kind,link,rx_rate,tx_rate,rx,tx');
    const lo = rows.find((r) => r.split(',')[2] === 'lo0')!.split(',');
    assert.deepEqual(lo.slice(1, 5), ['1', 'lo0', 'loopback', 'none']);
    assert.deepEqual(lo.slice(7), ['231456789', '231456789']);
  });

  test('privcheck refuses ifnet: the status line says why (no crash, exit 0)', async () => {
    // The simulator's privcheck is only reachable through the library: render the same model.
    const kernel = new SimKernel({ dialect: '4570.71.2', scenario: 'bare', privcheck: true });
    const client = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel.connect()), dialect: kernel.dialect, interval: 0, providers: ['ifnet'], clock: () => kernel.now });
    await assert.rejects(client.connect());
    const st = client.providers().find((p) => p.provider === 'ifnet')!;
    const { renderTop } = await import('../src/cli/top-render.js');
    const lines = renderTop({ streams: [], totals: [], interfaces: [], grouping: 'interface', sort: 'rate', paused: false, filter: '', header: 'h', drops: 0, raw: true, color: false, columns: Infinity, rows: 0, plain: true, note: `interfaces unavailable: ${st.reason}` });
    assert.match(lines[0], /interfaces unavailable: EPERM/);
  });
});

test('interfaceToJson: the JSON shape (exact counters, link fields flattened, initial mark)', () => {
  const j = interfaceToJson({
    change: 'added',
    time: 0,
    initial: true,
    interface: { id: '7', index: 4, name: 'en0', kind: 'wifi', ifType: 6, link: { type: 'wifi', fields: { linkQualityMetric: 100 } }, threshold: 1 << 30, rxBytes: 2 ** 40 + 3, txBytes: 5, rxPackets: 1, txPackets: 2, firstSeen: 0, lastUpdated: 0, closed: false, rxBytesPerSec: 10.6 },
  });
  assert.deepEqual(j, {
    event: 'interface', change: 'added', time: '1970-01-01T00:00:00.000Z', id: '7', index: 4, kind: 'wifi', link: { type: 'wifi', linkQualityMetric: 100 }, name: 'en0', type: 6,
    threshold: 1073741824, rxBytes: 1099511627779, txBytes: 5, rxPackets: 1, txPackets: 2, rxBytesPerSec: 11, initial: true,
  });
});
