/**
 * Issue 18: what a newcomer's first hour found, one test per bug (each failed before its fix),
 * in-process through main(argv, io) where it can be, else through the built bin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';
import { parseKeys } from '../src/cli/keys.js';
import { topKey, type TopState } from '../src/cli/top.js';
import { renderTop, type TopModel } from '../src/cli/top-render.js';
import { compileFilter } from '../src/cli/filters.js';
import { parseCli } from '../src/cli/options.js';
import type { Stream } from '../src/model/stream.js';
import { captureIo } from './helpers/cli-io.js';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const bin = join(repo, 'dist/cli/bin.js');
const dir = mkdtempSync(join(tmpdir(), 'ntstat-newcomer-'));

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', NO_COLOR: '1', ...env }, maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function stream(id: number, name: string, rxps: number, remote: { family: 4 | 6; address: string; port: number } = { family: 4, address: '198.51.100.7', port: 443 }): Stream {
  return {
    id: String(id), srcref: BigInt(id), provider: 'tcp', providerKind: 'tcp', providerId: 2, userland: false, interface: 'wifi',
    listener: false, failed: false, pid: 100 + id, process: name, firstSeen: 0, lastUpdated: 0, closed: false, state: 'ESTABLISHED',
    local: { family: 4, address: '192.168.1.23', port: 56000 + id }, remote,
    rxBytesPerSec: rxps, txBytesPerSec: 0, counts: { rxBytes: rxps * 10, txBytes: 0 } as Stream['counts'],
  } as Stream;
}

const base: TopModel = {
  streams: [], totals: [], grouping: 'stream', sort: 'rate', paused: false, filter: '', header: 'ntstat top', drops: 0,
  raw: false, color: false, columns: 100, rows: 12,
};

// --- bug 2: top --count -------------------------------------------------------------------

test('bug 2: `top --simulate --count 2` to a pipe prints two complete snapshots and exits 0', { timeout: 120_000 }, async () => {
  const io = captureIo();
  const code = await main(['top', '--simulate', '--count', '2', '--interval', '0.2'], io);
  assert.equal(code, 0, io.err());
  const frames = io.out().split('\n').filter((l) => /^by stream/.test(l));
  assert.equal(frames.length, 2, io.out());
  assert.match(io.out(), /TOTAL \(\d+ flows\)/);
});

// --- bug 4: escape sequences and scrolling -------------------------------------------------

test('bug 4: arrow keys arrive as one key each and do not clear the filter', () => {
  assert.deepEqual(parseKeys('\x1b[B'), ['down']);
  assert.deepEqual(parseKeys('\x1b[A\x1bOB\x1b[5~\x1b[6~\x1b[H\x1b[F\x1b[1~\x1b[4~'), ['up', 'down', 'pageup', 'pagedown', 'home', 'end', 'home', 'end']);
  assert.deepEqual(parseKeys('a\x1b'), ['a', '\x1b'], 'a lone ESC is the Esc key');
  let s: TopState = { grouping: 'stream', sort: 'rate', paused: false, filter: 'Safari', quit: false, page: 5 };
  for (const k of parseKeys('\x1b[B\x1b[B\x1b[6~')) s = topKey(s, k);
  assert.equal(s.filter, 'Safari', 'filter kept');
  assert.equal(s.scroll, 2 + 5);
  s = topKey(s, 'home');
  assert.equal(s.scroll, 0);
  assert.equal(topKey(s, '\x1b').filter, '', 'Esc itself still clears');
});

test('bug 4: rows beyond the screen are reachable by scrolling (End shows the last row)', () => {
  const streams = Array.from({ length: 30 }, (_, i) => stream(i + 1, `proc${i}`, (30 - i) * 100));
  const first = renderTop({ ...base, streams }).join('\n');
  assert.doesNotMatch(first, /proc29\b/, 'the slowest row is below the screen at first');
  assert.match(first, /rows 1-8 of 30/);
  const last = renderTop({ ...base, streams, scroll: Number.MAX_SAFE_INTEGER }).join('\n');
  assert.match(last, /proc29\b/);
  assert.match(last, /rows 23-30 of 30/);
});

// --- bug 5: replay reproduces live --------------------------------------------------------

test('bug 5: replaying a recording prints what the live run printed (initial marks, times, rates)', { timeout: 120_000 }, () => {
  for (const [fmt, extra] of [
    ['log', []],
    ['json', ['--json']],
  ] as const) {
    const file = join(dir, `live-${fmt}.ntcap`);
    const live = run([...(fmt === 'json' ? ['json'] : ['log']), '--simulate', '--scenario', 'server', '--all', '--utc', '--duration', '2.5', '--interval', '0.5', '--record', file]);
    assert.equal(live.code, 0, live.err);
    const rep = run(['replay', file, '--utc', ...extra]);
    assert.equal(rep.code, 0, rep.err);
    const a = live.out.trim().split('\n');
    const b = rep.out.trim().split('\n');
    assert.ok(a.length > 10, `${a.length} live lines`);
    // The live run may stop before writing the last records' events; everything both printed is equal.
    const n = Math.min(a.length, b.length);
    assert.ok(n >= a.length - 2, `replay printed ${b.length} of ${a.length} lines`);
    assert.deepEqual(b.slice(0, n), a.slice(0, n), `${fmt}: replay differs from live`);
    if (fmt === 'log') assert.ok(a.some((l) => l.startsWith(' + ')), 'streams present at start are marked " +"');
    if (fmt === 'json') assert.ok(a.some((l) => /"rxBytesPerSec":[1-9]/.test(l)), 'rates present');
  }
});

// --- bug 6: top to a pipe ----------------------------------------------------------------

test('bug 6: plain output (a pipe) is complete: every row, no cut ports, no key hint, no padding', () => {
  const streams = Array.from({ length: 60 }, (_, i) => stream(i + 1, `p${i}`, i));
  const lines = renderTop({ ...base, streams, plain: true, columns: Infinity, rows: 0 });
  const rows = lines.filter((l) => /^\s*\d+ p\d+/.test(l));
  assert.equal(rows.length, 60, 'all 60 rows, no 40-row cap');
  assert.ok(!lines.some((l) => l.includes('…')), 'nothing cut');
  assert.ok(!lines.some((l) => /q quit/.test(l)), 'no key hint');
  assert.ok(lines.every((l) => l === l.trimEnd()), 'no trailing padding');
  assert.ok(rows.every((l) => /192\.168\.1\.23:56\d{3} +198\.51\.100\.7:443/.test(l)), rows[0]);
  const narrow = renderTop({ ...base, streams, plain: true, columns: 60, rows: 0 });
  assert.ok(narrow.every((l) => l.length <= 60), 'COLUMNS honoured');
});

test('bug 6: at 140 columns an IPv6 remote keeps its port; the process column takes only what it needs', () => {
  const v6 = { family: 6 as const, address: '2001:db8:4fc0:b4:1234:5678:9abc:8858', port: 443 };
  const lines = renderTop({ ...base, columns: 140, streams: [stream(1, 'Safari', 10, v6)] });
  const row = lines.find((l) => /Safari/.test(l))!;
  assert.match(row, /\[2001:db8:4fc0:b4:1234:5678:9abc:8858\]:443/);
  assert.match(row, /Safari +tcp/);
  assert.ok(!/Safari {20,}/.test(row), `no wide blank process column: ${row}`);
});

test('bug 6: `top --simulate` to a pipe: the first snapshot has rows, nothing padded', { timeout: 120_000 }, async () => {
  const io = captureIo({ env: { COLUMNS: '100' } });
  const code = await main(['top', '--simulate', '--once', '--interval', '0.2', '--all'], io);
  assert.equal(code, 0, io.err());
  const lines = io.out().trimEnd().split('\n');
  assert.ok(lines.filter((l) => /^\s*\d+ \S/.test(l)).length > 3, io.out());
  assert.ok(lines.every((l) => l.length <= 100 && l === l.trimEnd()));
});

// --- bug 7: errors -------------------------------------------------------------------------

test('bug 7: replay of an empty file, /dev/null or random bytes: "not an ntcap recording" and how to replay libntstat', () => {
  const empty = join(dir, 'empty.bin');
  writeFileSync(empty, '');
  const random = join(dir, 'random.bin');
  writeFileSync(random, Uint8Array.from({ length: 300 }, (_, i) => (i * 73 + 11) & 0xff));
  for (const f of [empty, '/dev/null', random]) {
    const r = run(['replay', f]);
    assert.equal(r.code, 2, f);
    assert.match(r.err, /is not an ntcap recording/);
    assert.match(r.err, /--format libntstat --xnu VERSION/);
  }
});

test('bug 7: --xnu with an ntcap file is refused (the file names its kernel)', async () => {
  const file = join(dir, 'own.ntcap');
  const rec = run(['json', '--simulate', '--duration', '0.3', '--record', file]);
  assert.equal(rec.code, 0, rec.err);
  const io = captureIo();
  assert.equal(await main(['replay', file, '--xnu', '4570.1.46'], io), 2);
  assert.match(io.err(), /ntcap recording, which names its kernel/);
});

test('bug 7: usage errors exit 2 with a clear message: bad versions, negative numbers, unknown flags', async () => {
  const cases: [string[], RegExp][] = [
    [['--simulate', '--macos', 'abc'], /--macos: not a kernel or macOS version/],
    [['--simulate', '--xnu', 'abc'], /--xnu: /],
    [['--pid', '-1'], /--pid expects an integer >= 0, got "-1"/],
    [['--interval', '-5'], /--interval expects a number >= 0.05, got "-5"/],
    [['--pdi', '3'], /unknown option --pdi \(did you mean --pid\?\)/],
    [['--simulat'], /did you mean --simulate\?/],
    [['tpo'], /unknown command "tpo" \(did you mean top\?\)/],
  ];
  for (const [argv, msg] of cases) {
    const io = captureIo();
    assert.equal(await main(argv, io), 2, argv.join(' '));
    assert.match(io.err(), msg);
    assert.doesNotMatch(io.err(), /ambiguous/);
  }
});

test('bug 7: connecting to a missing socket: one clean sentence', () => {
  const r = run(['json', '--socket', join(dir, 'nobody.sock'), '--macos', '13.5']);
  assert.equal(r.code, 1);
  assert.match(r.err, /failed: ENOENT \(is `ntstat serve --socket PATH`, or your relay, running\?\)/);
  assert.doesNotMatch(r.err, /\( —/);
});

test('bug 7: a client speaking for another kernel than `serve` is told so', { timeout: 120_000 }, async () => {
  const sock = join(dir, 'mismatch.sock');
  const server = spawn(process.execPath, [bin, 'serve', '--socket', sock, '--macos', '15', '--duration', '30'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    let err = '';
    server.stderr.on('data', (d) => (err += String(d)));
    while (!/waiting for a client/.test(err)) {
      if (server.exitCode !== null) assert.fail(err);
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await new Promise<{ code: number | null; err: string }>((res) => {
      const c = spawn(process.execPath, [bin, 'json', '--socket', sock, '--macos', '10.9', '--duration', '3'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let e = '';
      c.stderr.on('data', (d) => (e += String(d)));
      c.on('exit', (code) => res({ code, err: e }));
    });
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /another kernel\? Give the same --xnu\/--macos as the server/);
  } finally {
    server.kill('SIGTERM');
  }
});

// --- bug 8: options that do not apply -------------------------------------------------------

test('bug 8: options that do not apply are refused; --pid may be repeated and every value counts', async () => {
  const cases: [string[], RegExp][] = [
    [['--simulate', '--socket', '/tmp/x'], /give --simulate or --socket, not both/],
    [['doctor', '--record', 'f'], /--record does not apply to 'doctor'/],
    [['json', '--speed', '2'], /--speed does not apply to 'json'/],
    [['json', '--scenario', 'server'], /add --simulate/],
    [['--interval', '1', '--interval', '2'], /--interval given twice/],
  ];
  for (const [argv, msg] of cases) {
    const io = captureIo();
    assert.equal(await main(argv, io), 2, argv.join(' '));
    assert.match(io.err(), msg);
  }
  const o = parseCli(['--pid', '101', '--pid', '103'], {});
  assert.deepEqual(o.pids, [101, 103]);
  const f = compileFilter(o);
  assert.deepEqual([1, 2, 3].map((i) => f(stream(i, 'x', 1))), [true, false, true]);
});

// --- bug 9: EPIPE ---------------------------------------------------------------------------

test('bug 9: `ntstat --simulate | head -1` exits once head is gone, even when nothing more is written', { timeout: 120_000 }, () => {
  // The filter matches nothing: after the first line the log never writes again, so only noticing
  // the closed pipe ends it before --duration 60 (the margin is wide: 60 s vs a fraction of one).
  const t0 = Date.now();
  const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" --simulate --process no-such-process --duration 60 | head -1; echo "rc=\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
  const s = (Date.now() - t0) / 1000;
  assert.match(r.stdout, /XNU version:/);
  assert.match(r.stdout, /rc=0/);
  assert.ok(s < 45, `exited after ${s.toFixed(1)} s (--duration was 60)`);
});

// --- bug 10: exit codes after signals -------------------------------------------------------

for (const [sig, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  test(`bug 10: top stopped by ${sig} exits ${code}`, { timeout: 120_000 }, async () => {
    const ac = new AbortController();
    const io = captureIo({ signal: ac.signal, onWrite: () => ac.abort(sig) });
    assert.equal(await main(['top', '--simulate', '--interval', '0.2'], io), code);
  });
}

test('bug 10: the bin reports 143 after SIGTERM', { timeout: 120_000 }, async () => {
  const child = spawn(process.execPath, [bin, 'top', '--simulate', '--interval', '0.2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((r) => child.stdout.once('data', r));
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.on('exit', (c) => r(c)));
  assert.equal(code, 143);
});

test('bug 10: Ctrl-C as a key in top means 130, q means 0', () => {
  const s: TopState = { grouping: 'stream', sort: 'rate', paused: false, filter: '', quit: false };
  assert.equal(topKey(s, '\x03').interrupted, true);
  assert.equal(topKey(s, 'q').interrupted, undefined);
});
