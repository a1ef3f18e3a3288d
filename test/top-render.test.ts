import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayWidth, fit, humanBytes, renderTop, type TopModel } from '../src/cli/top-render.js';
import { formatRate } from '../src/cli/units.js';
import { topKey, type TopState } from '../src/cli/top.js';
import type { Stream } from '../src/model/stream.js';

function stream(id: number, name: string, rxps: number): Stream {
  return {
    id: String(id), srcref: BigInt(id), provider: 'tcp', providerKind: 'tcp', providerId: 2, userland: false, interface: 'wifi',
    listener: false, failed: false, pid: 100 + id, process: name, firstSeen: 0, lastUpdated: 0, closed: false, state: 'ESTABLISHED',
    local: { family: 4, address: '192.0.2.1', port: 50000 + id }, remote: { family: 6, address: '2001:db8::1', port: 443 },
    rxBytesPerSec: rxps, txBytesPerSec: 0,
  };
}

const base: TopModel = {
  streams: [], totals: [], grouping: 'stream', sort: 'rate', paused: false, filter: '', header: 'ntstat top', drops: 0,
  raw: false, color: false, columns: 100, rows: 12,
};

test('rows never exceed the terminal width, wide characters counted as two columns', () => {
  assert.equal(displayWidth('日本語'), 6);
  assert.equal(displayWidth(fit('日本語アプリ', 7)), 7);
  const m = { ...base, streams: [stream(1, '日本語アプリ名前', 10), stream(2, 'evil\x1b[2J', 5)] };
  for (const cols of [40, 80, 100, 200]) {
    for (const line of renderTop({ ...m, columns: cols })) assert.ok(displayWidth(line) <= cols, `${displayWidth(line)} > ${cols}: ${line}`);
  }
  const screen = renderTop(m).join('\n');
  assert.ok(!screen.includes('\x1b'), 'no raw escape from a process name');
  assert.ok(screen.includes('evil\\x1b[2J'));
});

test('sorted by rate, limited to the screen, with the visible range and a total row', () => {
  const streams = Array.from({ length: 30 }, (_, i) => stream(i + 1, `p${i}`, i * 100));
  const lines = renderTop({ ...base, streams });
  assert.equal(lines.length, 12);
  const rows = lines.filter((l) => /^\s*\d+ p\d+/.test(l));
  assert.equal(rows.length, 12 - 4);
  assert.match(rows[0], /p29/, 'fastest first');
  assert.match(lines[0], /rows 1-8 of 30/);
  // Grand total over all 30 rows: (0 + 100 + ... + 2900) B/s = 43500 B/s = 42.5 KiB/s.
  assert.ok(lines.some((l) => /TOTAL \(30 flows\).*42\.5 KiB\/s/.test(l)), lines.join('\n'));
  assert.match(lines[1], /RX\/s▼/, 'the sorted column is marked');
  const rev = renderTop({ ...base, streams, reverse: true, sort: 'pid' });
  assert.match(rev[1], /PID▲/);
  assert.match(rev.find((l) => /^\s*\d+ p\d+/.test(l))!, /p29/, 'pid reversed: highest pid first');
});

test('human units and --raw', () => {
  // One unit system, IEC (issue 18): 1 KiB = 1024 B.
  assert.equal(humanBytes(512, false), '512 B');
  assert.equal(humanBytes(1536, false), '1.5 KiB');
  assert.equal(humanBytes(5 * 1024 * 1024, false), '5.0 MiB');
  assert.equal(formatRate(1536), '1.5 KiB/s');
  assert.equal(humanBytes(123456, true), '123456');
});

test('keys: sort/group cycle, pause, filter editing, quit', () => {
  let s: TopState = { grouping: 'stream', sort: 'rate', paused: false, filter: '', quit: false };
  s = topKey(s, 's');
  assert.equal(s.sort, 'rx');
  s = topKey(s, 'r');
  assert.equal(s.reverse, true);
  s = topKey(s, 'g');
  assert.equal(s.grouping, 'process');
  s = topKey(s, 'p');
  assert.equal(s.paused, true);
  s = topKey(s, '/');
  for (const k of 'Saf') s = topKey(s, k);
  s = topKey(s, '\x7f');
  assert.equal(s.editing, 'Sa');
  s = topKey(s, '\r');
  assert.equal(s.filter, 'Sa');
  assert.equal(s.editing, undefined);
  assert.equal(topKey(s, 'q').quit, true);
  assert.equal(topKey(s, '\x03').quit, true);
});
