import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dialectFor } from '../src/protocol/dialect.js';
import { sessionRecording, T0 } from './helpers/recording.js';
import { main } from '../src/cli/main.js';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const bin = join(repo, 'dist/cli/bin.js');
const dir = mkdtempSync(join(tmpdir(), 'ntstat-replay-'));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// One macOS release per layout era named by the issue: 10.9, 10.12, 10.13, 11, 14 (+ 10.11, 15).
const CASES: [string, string][] = [
  ['10.9', '2422.1.72'],
  ['10.11', '3248.60.10'],
  ['10.12', '3789.70.16'],
  ['10.13', '4570.71.2'],
  ['11', '7195.141.2'],
  ['14', '10002.41.9'],
  ['15', '11417.121.6'],
];

for (const [macos, xnu] of CASES) {
  test(`replay --format libntstat --json: macOS ${macos} (xnu-${xnu}) recording yields the session's events`, () => {
    const d = dialectFor(xnu, 'xnu');
    const file = join(dir, `session-${xnu}.bin`);
    writeFileSync(file, sessionRecording(d));
    const r = run(['replay', file, '--format', 'libntstat', '--xnu', xnu, '--json']);
    assert.equal(r.code, 0, r.err);
    const events = r.out.trim().split('\n').map((l) => JSON.parse(l));
    // Before 10.11 the header has no CLOSING flag, so the goodbye counts and descriptor are
    // ordinary updates until SRC_REMOVED arrives (BEHAVIOUR.md §0, §3.2).
    const goodbye = d.hasLength ? [] : [['update', '7'], ['update', '7']];
    assert.deepEqual(events.map((e) => [e.event, e.id]), [
      ['added', '7'],
      ['added', '9'],
      ['update', '7'],
      ['update', '9'],
      ['removed', '9'],
      ...goodbye,
      ['removed', '7'],
    ]);
    const [a7, a9, u7, , r9] = events;
    const r7 = events[events.length - 1];
    assert.equal(a7.time, new Date(T0 * 1000).toISOString());
    assert.equal(a7.provider, 'tcp');
    assert.equal(a7.userland, false);
    assert.equal(a7.family, 4);
    assert.deepEqual(a7.local, { address: '10.0.20.179', port: 58760 });
    assert.deepEqual(a7.remote, { address: '52.86.2.3', port: 443 });
    assert.equal(a7.pid, 66);
    assert.equal(a7.process, 'epagd');
    assert.equal(a7.state, 'ESTABLISHED');
    assert.equal(a7.listener, false);
    // ifnet_properties exists from 10.11 (xnu-3247); WIFI is 0x8 there.
    assert.equal(a7.interface, d.hasLength ? 'wifi' : 'unknown');
    assert.equal(a9.family, 6);
    assert.deepEqual(a9.local, { address: 'fdd4:69cc:c669:be20::1d4c', port: 61615 });
    assert.deepEqual(a9.remote, { address: '2607:f8b0:4000:814::200e', port: 443 });
    assert.equal(a9.process, 'com.apple.WebKit');
    assert.equal(a9.state, 'SYN_SENT');
    assert.equal(u7.counts.rxBytes, 17047);
    assert.equal(u7.counts.txBytes, 926);
    assert.equal(u7.counts.rxPackets, 314);
    assert.equal(u7.counts.txPackets, 5);
    // avg/min RTT in 1/32 ms, var in 1/16 ms (BEHAVIOUR.md §5.1).
    assert.equal(u7.counts.avgRttMs, 14);
    assert.equal(u7.counts.minRttMs, 12);
    assert.equal(u7.counts.varRttMs, 2);
    assert.equal(r9.failed, true);
    assert.equal(r9.counts.connectAttempts, 1);
    assert.equal(r9.counts.connectSuccesses, 0);
    assert.equal(r7.failed, false);
    assert.equal(r7.counts.rxBytes, 20000, 'final counts from the CLOSING SRC_COUNTS');
    assert.equal(r7.state, 'CLOSE_WAIT', 'final descriptor from the CLOSING SRC_DESC');
    assert.equal(r7.time, new Date((T0 + 55) * 1000).toISOString());
  });
}

test('replay log format matches the libntstat demo lines', () => {
  const d = dialectFor('3789.1.32');
  const file = join(dir, 'log.bin');
  writeFileSync(file, sessionRecording(d));
  const r = run(['replay', file, '--format', 'libntstat', '--xnu', '3789.1.32', '--utc']);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out.split('\n'), [
    'XNU version:3789.1.32',
    ' + 22:13:20 TCP 10.0.20.179 58760 - 52.86.2.3 443 pid:66 (epagd)',
    '+ 22:13:47 TCP fdd4:69cc:c669:be20::1d4c 61615 - 2607:f8b0:4000:814::200e 443 pid:18175 (com.apple.WebKit)',
    '# 22:13:47 TCP 10.0.20.179 58760 - 52.86.2.3 443 pid:66 (epagd)',
    '  bytes (tx/rx):926/17047  packets:5/314 wifi',
    '# 22:13:48 TCP fdd4:69cc:c669:be20::1d4c 61615 - 2607:f8b0:4000:814::200e 443 pid:18175 (com.apple.WebKit)',
    '  bytes (tx/rx):128/0  packets:2/0 unknown',
    '- 22:13:49 TCP fdd4:69cc:c669:be20::1d4c 61615 - 2607:f8b0:4000:814::200e 443 pid:18175 (com.apple.WebKit) FAILED',
    '  bytes (tx/rx):128/0  packets:2/0 unknown',
    '- 22:14:15 TCP 10.0.20.179 58760 - 52.86.2.3 443 pid:66 (epagd)',
    '  bytes (tx/rx):926/20000  packets:5/314 wifi',
    '',
  ]);
});

test('replay: truncated file is a clear error, exit 1', () => {
  const d = dialectFor('4570.1.46');
  const bytes = sessionRecording(d);
  const file = join(dir, 'cut.bin');
  writeFileSync(file, bytes.subarray(0, bytes.length - 10));
  const r = run(['replay', file, '--format', 'libntstat', '--xnu', '4570.1.46', '--json']);
  assert.equal(r.code, 1);
  assert.match(r.err, /truncated/);
});

test('replay: a record that is not a valid message for the dialect is an error naming the offset, exit 1', () => {
  const file = join(dir, 'corrupt.bin');
  // one record: time, length 20, a header with length 200 (> record)
  const b = new Uint8Array(8 + 20);
  const dv = new DataView(b.buffer);
  dv.setUint32(4, 20, true);
  dv.setUint32(8 + 8, 10004, true);
  dv.setUint16(8 + 12, 200, true);
  writeFileSync(file, b);
  const r = run(['replay', file, '--format', 'libntstat', '--xnu', '4570.1.46']);
  assert.equal(r.code, 1);
  assert.match(r.err, /record at byte 0: .*length 200/);
});

test('replay: usage errors exit 2 (no file, no dialect, bad option)', () => {
  assert.equal(run(['replay']).code, 2);
  const file = join(dir, 'session-2422.1.72.bin');
  const r = run(['replay', file, '--format', 'libntstat']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--xnu/);
  assert.equal(run(['replay', file, '--xnu', '4570.1.46', '--count', 'x']).code, 2);
  assert.equal(run(['--frobnicate']).code, 2);
});

test('--help and --version', () => {
  const v = run(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.out, /^ntstat \d+\.\d+\.\d+\n$/);
  const h = run(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /ntstat replay FILE/);
  const hr = run(['replay', '--help']);
  assert.match(hr.out, /--format libntstat/);
});

test('main() in-process: --count limits events and filters apply', async () => {
  const d = dialectFor('10002.1.13');
  const file = join(dir, 'inproc.bin');
  writeFileSync(file, sessionRecording(d));
  let out = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, env: {}, platform: 'linux' as const };
  assert.equal(await main(['replay', file, '--xnu', '10002.1.13', '--json', '--count', '2'], io), 0);
  assert.equal(out.trim().split('\n').length, 2);
  out = '';
  assert.equal(await main(['replay', file, '--xnu', '10002.1.13', '--json', '--pid', '18175'], io), 0);
  const evs = out.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(evs.map((e) => e.event), ['added', 'update', 'removed']);
  out = '';
  assert.equal(await main(['replay', file, '--xnu', '10002.1.13', '--json', '--process', '/^epa/'], io), 0);
  assert.ok(out.trim().split('\n').every((l) => JSON.parse(l).process === 'epagd'));
});

test('live command off macOS explains --simulate and replay, exit 1', async () => {
  let err = '';
  const io = { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) }, env: {}, platform: 'linux' as const };
  assert.equal(await main([], io), 1);
  assert.match(err, /--simulate/);
  assert.match(err, /replay/);
});
