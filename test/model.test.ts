import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessTotals } from '../src/model/process-totals.js';
import { escapeTerminal } from '../src/cli/escape.js';
import type { Stream } from '../src/model/stream.js';
import { interfaceKind, toStreamCounts } from '../src/model/stream.js';
import { dialectFor } from '../src/protocol/dialect.js';
import { counts } from './helpers/recording.js';

function stream(id: string, pid: number, name: string, rx: number, tx: number, epid = pid): Stream {
  return {
    id, srcref: BigInt(id), provider: 'tcp', providerKind: 'tcp', providerId: 2, userland: false, interface: 'wifi',
    listener: false, failed: false, pid, epid, process: name, firstSeen: 0, lastUpdated: 0, closed: false,
    counts: toStreamCounts(counts({ rxBytes: rx, txBytes: tx })),
  };
}

test('per-process totals are monotonic: bytes of closed flows keep counting', () => {
  const t = new ProcessTotals('pid');
  t.apply('added', stream('1', 10, 'a', 100, 10));
  t.apply('added', stream('2', 10, 'a', 50, 5));
  t.apply('update', stream('1', 10, 'a', 300, 20));
  t.apply('removed', stream('2', 10, 'a', 80, 5));
  const g = t.get('pid:10')!;
  assert.equal(g.rxBytes, 300 + 80);
  assert.equal(g.txBytes, 20 + 5);
  assert.equal(g.liveStreams, 1);
  assert.equal(g.totalStreams, 2);
  // A counter that goes backwards (a re-described stream) never lowers the total.
  t.apply('update', stream('1', 10, 'a', 200, 20));
  assert.equal(t.get('pid:10')!.rxBytes, 380);
});

test('grouping by process name and by effective pid (delegation)', () => {
  const byName = new ProcessTotals('process');
  byName.apply('added', stream('1', 10, 'Safari', 1, 0));
  byName.apply('added', stream('2', 11, 'Safari', 2, 0));
  assert.equal(byName.get('name:Safari')!.rxBytes, 3);
  const byE = new ProcessTotals('epid');
  byE.apply('added', stream('3', 50, 'nsurlsessiond', 7, 0, 99));
  assert.equal(byE.get('pid:99')!.rxBytes, 7, 'traffic delegated by pid 99 counts for 99');
});

test('RTT conversion: 1/32 ms for min/avg, 1/16 ms for var (BEHAVIOUR.md §5.1)', () => {
  const c = toStreamCounts(counts({ minRtt: 64, avgRtt: 96, varRtt: 8 }));
  assert.equal(c.minRttMs, 2);
  assert.equal(c.avgRttMs, 3);
  assert.equal(c.varRttMs, 0.5);
});

test('counts without RTT have the keys, order and values of counts with RTT', () => {
  const medium = { cellRxBytes: 1, cellTxBytes: 2, wifiRxBytes: 3, wifiTxBytes: 4, wiredRxBytes: 5, wiredTxBytes: 6 };
  const base = { rxPackets: 9, rxBytes: 900, txPackets: 8, txBytes: 800, rxDuplicateBytes: 7, rxOutOfOrderBytes: 6, txRetransmit: 5, connectAttempts: 1, connectSuccesses: 1 };
  const withRtt = toStreamCounts(counts({ ...base, ...medium, minRtt: 64, avgRtt: 96, varRtt: 8 }));
  const noRtt = toStreamCounts(counts({ ...base, ...medium }));
  assert.deepEqual(Object.keys(noRtt), Object.keys(withRtt));
  const expected = {
    rxPackets: 9, rxBytes: 900, txPackets: 8, txBytes: 800, rxDuplicateBytes: 7, rxOutOfOrderBytes: 6, txRetransmit: 5, connectAttempts: 1, connectSuccesses: 1,
    minRtt: 0, avgRtt: 0, varRtt: 0, cellRxBytes: 1, cellTxBytes: 2, wifiRxBytes: 3, wifiTxBytes: 4, wiredRxBytes: 5, wiredTxBytes: 6, minRttMs: 0, avgRttMs: 0, varRttMs: 0,
  };
  assert.deepStrictEqual(noRtt, expected);
  assert.equal(JSON.stringify(noRtt), JSON.stringify(expected));
  assert.equal(Object.getPrototypeOf(noRtt), Object.prototype);
  // One RTT field non-zero is the general shape.
  assert.equal(toStreamCounts(counts({ ...base, ...medium, varRtt: 16 })).varRttMs, 1);
});

test('interface kind from ifnet_properties uses the dialect constants', () => {
  const d = dialectFor('10002.1.13');
  // NSTAT_IFNET_IS_LOOPBACK 2, CELLULAR 4, WIFI 8, WIRED 16, AWDL 32, UNKNOWN_TYPE 1 (LAYOUTS facts)
  assert.equal(interfaceKind(d, 2), 'loopback');
  assert.equal(interfaceKind(d, 4), 'cellular');
  assert.equal(interfaceKind(d, 8), 'wifi');
  assert.equal(interfaceKind(d, 16), 'wired');
  assert.equal(interfaceKind(d, 32 | 8), 'awdl');
  assert.equal(interfaceKind(d, 1), 'unknown');
  assert.equal(interfaceKind(d, 0x4000000 | 8), 'wifi', 'role bits do not hide the medium');
});

test('terminal escaping: ESC/CSI/OSC, C1, bidi overrides, NUL, U+FFFD are escaped; ordinary UTF-8 kept', () => {
  assert.equal(escapeTerminal('evil\x1b[2J'), 'evil\\x1b[2J');
  assert.equal(escapeTerminal('a\x1b]0;title\x07b'), 'a\\x1b]0;title\\x07b');
  assert.equal(escapeTerminal('x\u009by'), 'x\\x9by');
  assert.equal(escapeTerminal('abc\u202edcba'), 'abc\\u{202e}dcba');
  assert.equal(escapeTerminal('nul\0'), 'nul\\x00');
  assert.equal(escapeTerminal('bad\ufffd'), 'bad\\u{fffd}');
  assert.equal(escapeTerminal('Café Ωmega 日本'), 'Café Ωmega 日本');
  assert.ok(!/[\x00-\x1f\x7f-\x9f]/.test(escapeTerminal(String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i)))));
});

test('inbound/outbound from the macOS 14 role bits of ifnet_properties (BEHAVIOUR.md §5.9)', async () => {
  const { SourceTable } = await import('../src/client/source-table.js');
  const d = dialectFor('10002.1.13');
  const t = new SourceTable(d);
  const mk = (srcref: bigint, props: number) => ({ kind: 'srcDesc' as const, context: 0n, flags: 0, srcref, eventFlags: 0n, provider: 2, descriptor: { state: 4, ifnetProperties: props, pid: 1, pname: 'x' } });
  const [a] = t.apply(mk(1n, 0x4000000 | 8), 0);
  const [b] = t.apply(mk(2n, 0x8000000 | 8), 0);
  const [c] = t.apply(mk(3n, 8), 0);
  assert.equal(a.stream.direction, 'inbound');
  assert.equal(b.stream.direction, 'outbound');
  assert.equal(c.stream.direction, undefined);
  assert.equal(a.stream.interface, 'wifi');
});

test('Darwin release -> macOS: 20.1.0 = 11.0, 21.1.0 = 12.0.1, 21.2.0 = 12.1, 22.1.0 = 13.0, 23.1.0 = 14.1 (Apple release history)', async () => {
  const { dialectFor: df, macosForDarwin } = await import('../src/protocol/dialect.js');
  assert.equal(macosForDarwin('20.1.0'), '11.0');
  assert.equal(macosForDarwin('22.1.0'), '13.0');
  assert.equal(macosForDarwin('23.1.0'), '14.1');
  assert.equal(df('darwin:21.1.0').family, 'd8019', 'macOS 12.0.1 has the 12.0 layout');
  assert.equal(df('darwin:21.2.0').family, 'd8019_61', 'macOS 12.1');
});

test('JSON for route sources carries destination, mask and gateway (AF_LINK gateways as "link")', async () => {
  const { streamToJson } = await import('../src/model/json.js');
  const s: Stream = {
    ...stream('5', 0, 'x', 0, 0),
    provider: 'route', providerKind: 'route', providerId: 1,
    descriptor: {
      dst: { family: 4, address: '192.168.1.0', port: 0 },
      mask: { family: 4, address: '255.255.255.0', port: 0, saLen: 7 },
      gateway: { family: 'other', saFamily: 18, saLen: 20, data: '00' },
    },
  };
  const j = streamToJson('added', 0, s);
  assert.deepEqual(j.route, { destination: '192.168.1.0', mask: '255.255.255.0', gateway: 'link' });
});
