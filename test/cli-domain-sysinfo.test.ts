/**
 * Issue 13 §2 leftovers: `domain` (name, owner, attributed bundle id) in `top` (a DOMAIN column,
 * shown when a stream has a domain, escaped) and in the log line and CSV; `sysinfo` reports in the
 * log view (an `S` line and one line per value, strings escaped), not only in JSON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkStatisticsClient } from '../src/client/client.js';
import type { Stream } from '../src/model/stream.js';
import type { SysinfoEvent } from '../src/model/sysinfo.js';
import { formatLogEvent } from '../src/cli/format-log.js';
import { formatSysinfoLog } from '../src/cli/format-sysinfo.js';
import { STREAM_COLUMNS } from '../src/cli/columns.js';
import { parseCli } from '../src/cli/options.js';
import { main } from '../src/cli/main.js';
import { renderTop, type TopModel } from '../src/cli/top-render.js';
import { SimKernel, SimulationDriver } from '../src/simulator/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { settle } from './helpers/client-sim.js';
import { runViewUntilSysinfo } from './helpers/sysinfo-view.js';

function model(streams: Stream[]): TopModel {
  return { streams, totals: [], grouping: 'stream', sort: 'pid', paused: false, filter: '', header: '', drops: 0, raw: false, color: false, columns: Infinity, rows: 40, plain: true };
}

function stream(id: string, domain?: Stream['domain']): Stream {
  return {
    id, srcref: BigInt(id), provider: 'tcp', providerKind: 'tcp', providerId: 2, userland: false, interface: 'wifi', listener: false, failed: false,
    pid: 400 + Number(id), process: 'curl', family: 4, local: { family: 4, address: '192.168.1.2', port: 50000 + Number(id) }, remote: { family: 4, address: '203.0.113.9', port: 443 },
    state: 'ESTABLISHED', firstSeen: 0, lastUpdated: 0, closed: false, ...(domain ? { domain } : {}),
  };
}

const HOSTILE = { name: 'evil\x1b[2J.example.com', owner: 'Owner\u202eInc', attributedBundleId: 'com.example.\x07app' };

test('top: a DOMAIN column with name, owner and attributed app, escaped; absent when no stream has a domain', () => {
  const plain = renderTop(model([stream('1'), stream('2')])).join('\n');
  assert.ok(!plain.includes('DOMAIN'), 'no column without domains');
  const lines = renderTop(model([stream('1', HOSTILE), stream('2', { name: 'www.example.org' })]));
  const out = lines.join('\n');
  assert.match(lines[1], /REMOTE +DOMAIN +IF/);
  assert.ok(!/[\x00-\x08\x0b-\x1f\x7f\u202e]/.test(out), 'no control or bidi character reaches the terminal');
  const row = lines.find((l) => l.includes('401'))!;
  assert.ok(row.includes('evil\\x1b[2J.example.com owner:Owner\\u{202e}Inc for:com.example.\\x07app'), row);
  assert.ok(lines.find((l) => l.includes('402'))!.includes('www.example.org'));
  // The filter finds a stream by its domain.
  const filtered = renderTop({ ...model([stream('1', { name: 'a.example.com' }), stream('2', { name: 'b.example.net' })]), filter: 'example.net' });
  assert.ok(filtered.some((l) => l.includes('402')) && !filtered.some((l) => l.includes('401')));
});

test('log line and CSV column carry the domain with its owner, escaped', () => {
  const s = stream('1', HOSTILE);
  const log = formatLogEvent({ event: 'update', time: 0, stream: s }).join('\n');
  assert.ok(log.includes('domain:evil\\x1b[2J.example.com owner:Owner\\u{202e}Inc for:com.example.\\x07app'), log);
  assert.equal(STREAM_COLUMNS.domain({ stream: s }), 'evil\\x1b[2J.example.com owner:Owner\\u{202e}Inc for:com.example.\\x07app');
  assert.equal(STREAM_COLUMNS.domain({ stream: stream('2') }), '');
});

test('top with the simulator: streams of a privileged macOS 15 client show their domains', async () => {
  const kernel = new SimKernel({ dialect: '11417.121.6', scenario: 'browser-burst', scale: 0.3, seed: 4 });
  const client = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel.connect({ root: true })), dialect: kernel.dialect, interval: 0, providers: ['tcp', 'udp', 'quic'], clock: () => kernel.now, domains: true });
  try {
    await client.connect();
    new SimulationDriver(kernel).step(3000);
    await settle(10);
    await client.sweep();
    await client.sweep();
    const streams = client.snapshot();
    const withDomain = streams.filter((s) => s.domain);
    assert.ok(withDomain.length > 0);
    const lines = renderTop(model(streams));
    assert.match(lines[1], /DOMAIN/);
    for (const s of withDomain) assert.ok(lines.some((l) => l.includes(s.domain!.name)), s.domain!.name);
  } finally {
    client.stop();
  }
});

test('formatSysinfoLog: one S line, then each value as the kernel flags it (scalar, distribution, escaped string)', () => {
  const bytes = (n: bigint) => {
    const b = new Uint8Array(24);
    new DataView(b.buffer).setBigInt64(0, n, true);
    return b;
  };
  const text = new Uint8Array(24);
  text.set(new TextEncoder().encode('en0\x1b[31m'));
  const dist = new Uint8Array(24);
  new DataView(dist.buffer).setFloat64(0, 2.5, true);
  const ev: SysinfoEvent = {
    time: Date.UTC(2026, 0, 2, 3, 4, 5),
    keyvals: [
      { key: 7, flags: 0x1, scalar: -3n, distribution: 0, valsize: 8, value: bytes(-3n) },
      { key: 8, flags: 0x2, scalar: new DataView(dist.buffer).getBigInt64(0, true), distribution: 2.5, valsize: 8, value: dist },
      { key: 9, flags: 0x4, scalar: 0n, distribution: 0, valsize: 24, value: text },
    ],
  };
  assert.deepEqual(formatSysinfoLog(ev, { utc: true }), ['S 03:04:05 SYSINFO 3 values', '  key:7 -3', '  key:8 2.5', '  key:9 text:en0\\x1b[31m']);
});

test('ntstat log --simulate --privileged --all: sysinfo reports appear in the log view', async () => {
  const o = parseCli(['log', '--simulate', '--privileged', '--all', '--utc'], {});
  const { code, out, err } = await runViewUntilSysinfo(o, 'SYSINFO');
  assert.equal(code, 0, err);
  const lines = out.split('\n');
  const at = lines.findIndex((l) => /^S \d\d:\d\d:\d\d SYSINFO \d+ values?$/.test(l));
  assert.ok(at >= 0, out.slice(0, 400));
  const n = Number(/SYSINFO (\d+)/.exec(lines[at])![1]);
  assert.ok(n > 0);
  for (let i = 1; i <= n; i++) assert.match(lines[at + i], /^ {2}key:\d+ \S/);
  assert.ok(lines.some((l) => l.startsWith(' + ') || l.startsWith('+ ')), 'stream events too');
});

test('doctor --simulate --privileged lists sysinfo as available (an unprivileged client gets EPERM: cli-live.test.ts)', async () => {
  let out = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, env: {}, platform: 'linux' as const };
  assert.equal(await main(['doctor', '--simulate', '--macos', '15', '--privileged'], io), 0);
  assert.match(out, /^ {2}available\s+sysinfo$/m);
});
