/**
 * The ntstat command end to end on the simulator: spawned like a user would run it.
 * Expected values come from the seed's format, DESIGN.md §4 and the simulator's scenarios.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNtcap } from '../src/transport/ntcap.js';
import { main } from '../src/cli/main.js';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const bin = join(repo, 'dist/cli/bin.js');
const dir = mkdtempSync(join(tmpdir(), 'ntstat-live-'));

function run(args: string[], timeout = 30_000) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', NO_COLOR: '1' }, timeout, maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function ndjson(out: string): Record<string, any>[] {
  return out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// The dialects: 10.12, 10.13, 11, 13 and 15.
for (const macos of ['10.12', '10.13', '11', '13', '15']) {
  test(`json --simulate --macos ${macos}: valid NDJSON events with the DESIGN §4 fields`, () => {
    const r = run(['json', '--simulate', '--macos', macos, '--scenario', 'idle-laptop', '--duration', '3', '--all']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /SIMULATED kernel/);
    // --all includes interfaces (ifnet): their own events, checked in ifnet-client.test.ts.
    const all = ndjson(r.out);
    assert.ok(all.some((e) => e.event === 'interface' && e.name === 'en0'), 'interface events with --all');
    const evs = all.filter((e) => e.event !== 'interface');
    assert.ok(evs.length > 10, `${evs.length} events`);
    const tcp = evs.filter((e) => e.provider === 'tcp' && e.event === 'added' && e.remote);
    assert.ok(tcp.length > 0, 'TCP connections appear');
    for (const e of evs) {
      assert.ok(['added', 'update', 'removed'].includes(e.event));
      assert.match(e.id, /^\d+$/);
      assert.ok(!Number.isNaN(Date.parse(e.time)));
      assert.equal(typeof e.listener, 'boolean');
    }
    const t = tcp[0];
    assert.ok(t.family === 4 || t.family === 6);
    assert.equal(typeof t.local.port, 'number');
    assert.equal(typeof t.pid, 'number');
    assert.equal(typeof t.process, 'string');
    // Nothing after `removed` for a stream; `added` first.
    const seen = new Map<string, string[]>();
    for (const e of evs) seen.set(e.id, [...(seen.get(e.id) ?? []), e.event]);
    for (const [id, seq] of seen) {
      assert.equal(seq[0], 'added', id);
      const i = seq.indexOf('removed');
      assert.ok(i === -1 || i === seq.length - 1, `${id}: ${seq}`);
    }
  });
}

test('log --simulate: the seed demo format, XNU line first', () => {
  const r = run(['--simulate', '--macos', '13', '--scenario', 'browser-burst', '--duration', '5', '--utc']);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  assert.match(lines[0], /^XNU version:\d+\.\d+/);
  const ev = /^ ?(\+|-|#|@\+) \d\d:\d\d:\d\d (TCP|TCP\(userland\)|UDP|QUIC) /;
  const bytes = /^ {2}bytes \(tx\/rx\):\d+\/\d+ {2}packets:\d+\/\d+ (wifi|wired|cellular|loopback|awdl|other|unknown)( (lo0|en0|en5|awdl0|utun0|pdp_ip0))?$/;
  const listener = /^ ?@\+ \d\d:\d\d:\d\d pid:\d+ \(.*\) LISTEN (TCP|UDP)/;
  for (const l of lines.slice(1)) assert.ok(ev.test(l) || bytes.test(l) || listener.test(l), `unexpected line ${JSON.stringify(l)}`);
  assert.ok(lines.some((l) => /^- /.test(l)), 'removals shown');
  assert.ok(lines.some((l) => bytes.test(l)), 'byte lines shown');
});

test('untrusted process names never reach the terminal raw; JSON keeps them exact', () => {
  // idle-laptop runs a process named "evil\x1b[2J\x1b[31mpwned" (the simulator catalog).
  // The kernel keeps 16 bytes of the name (p_comm, BEHAVIOUR.md §7): "evil\x1b[2J\x1b[31mpwn".
  const log = run(['--simulate', '--scenario', 'idle-laptop', '--duration', '6', '--all', '--process', 'evil']);
  assert.equal(log.code, 0, log.err);
  assert.ok(log.out.includes('(evil\\x1b[2J\\x1b[31mpwn'), `escaped name shown: ${log.out.slice(0, 300)}`);
  assert.ok(!log.out.includes('\x1b'), 'no raw ESC in log output');
  const js = run(['json', '--simulate', '--scenario', 'idle-laptop', '--duration', '6', '--all', '--process', 'evil']);
  const evs = ndjson(js.out);
  assert.ok(evs.length > 0);
  assert.ok(evs.every((e) => /^evil\x1b\[2J\x1b\[31mpwn/.test(e.process)), JSON.stringify(evs.map((e) => e.process)));
  assert.ok(!js.out.includes('\x1b'), 'JSON escapes it as \\u001b');
});

test('--record writes ntcap that replays to the same streams', () => {
  const file = join(dir, 'rec.ntcap');
  const live = run(['json', '--simulate', '--macos', '11', '--scenario', 'idle-laptop', '--duration', '3', '--record', file]);
  assert.equal(live.code, 0, live.err);
  const liveIds = new Set(ndjson(live.out).map((e) => e.id));
  const rep = run(['replay', file, '--json']);
  assert.equal(rep.code, 0, rep.err);
  const repEvents = ndjson(rep.out);
  assert.ok(repEvents.length > 0);
  for (const e of repEvents.filter((x) => x.event === 'added')) assert.ok(liveIds.has(e.id), `replayed stream ${e.id} was seen live`);
  const cap = parseNtcap(new Uint8Array(readFileSync(file)));
  assert.equal(cap.header.simulated, true);
  const recs = [...cap.records()];
  assert.ok(recs.some((r) => r.direction === 1), 'requests recorded');
  assert.ok(recs.some((r) => r.direction === 0), 'kernel records recorded');
  // Never overwrite.
  const again = run(['json', '--simulate', '--duration', '0.2', '--record', file]);
  assert.equal(again.code, 1);
  assert.match(again.err, /exists/);
});

test('kill -9 during --record: every complete record is recovered, the torn tail reported', async () => {
  const file = join(dir, 'killed.ntcap');
  const child = spawn(process.execPath, [bin, 'json', '--simulate', '--scenario', 'churn-10k', '--interval', '0.2', '--record', file], { stdio: ['ignore', 'ignore', 'ignore'] });
  // Step-bound, not time-bound: kill once the file holds records, however slow the machine is.
  for (let i = 0; i < 600 && !(existsSync(file) && statSync(file).size > 64 * 1024); i++) await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(existsSync(file));
  const cap = parseNtcap(new Uint8Array(readFileSync(file)));
  const n = [...cap.records()].length;
  assert.ok(n > 10, `${n} records recovered`);
  // The whole file is replayed (a filter that matches nothing keeps the output small).
  const rep = run(['replay', file, '--json', '--pid', '999999']);
  assert.equal(rep.code, 0, rep.err);
  if (cap.tornTail) assert.match(rep.err, /torn record/);
  else assert.doesNotMatch(rep.err, /torn record/);
});

test('json | head exits cleanly (EPIPE), no stack trace', () => {
  const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" json --simulate --scenario churn-10k --duration 5 | head -n 3 >/dev/null; echo "rc=\${PIPESTATUS[0]}"`], { encoding: 'utf8', timeout: 30_000 });
  assert.match(r.stdout, /rc=0/);
  assert.doesNotMatch(r.stderr, /Error|at /);
});

test('--socket PATH: a client speaks to `ntstat serve` over a Unix datagram socket', async () => {
  const sock = join(dir, 'k.sock');
  const server = spawn(process.execPath, [bin, 'serve', '--socket', sock, '--macos', '13.5', '--scenario', 'server', '--duration', '8'], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    for (let i = 0; i < 600 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(sock), 'server bound its socket');
    const r = run(['json', '--socket', sock, '--macos', '13.5', '--duration', '2']);
    assert.equal(r.code, 0, r.err);
    const evs = ndjson(r.out);
    assert.ok(evs.some((e) => e.event === 'added' && e.provider === 'tcp'), 'streams arrive over the socket');
    assert.ok(evs.some((e) => e.listener === true && e.state === 'LISTEN'), 'the server scenario has listeners');
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  assert.ok(!existsSync(sock), 'the server removed its socket');
  const missing = run(['json', '--socket', join(dir, 'nobody.sock'), '--macos', '13']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /connect/);
  assert.equal(run(['json', '--socket', sock]).code, 2, '--socket needs --xnu/--macos');
});

test('doctor on the simulator lists providers with reasons', async () => {
  let out = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, env: {}, platform: 'linux' as const };
  assert.equal(await main(['doctor', '--simulate', '--macos', '14'], io), 0);
  assert.match(out, /dialect\s+d10002/);
  assert.match(out, /available\s+tcp/);
  assert.match(out, /unavailable\s+sysinfo: EPERM/);
  assert.match(out, /receive buffer\s+\d+ bytes/);
  out = '';
  assert.equal(await main(['doctor'], io), 0);
  assert.match(out, /exists only on macOS/);
});

test('usage errors exit 2: unknown scenario, bad interface, conflicting versions', () => {
  assert.equal(run(['--simulate', '--scenario', 'nope']).code, 2);
  assert.equal(run(['--simulate', '--interface', 'carrier-pigeon']).code, 2);
  assert.equal(run(['--simulate', '--xnu', '4570.1.46', '--macos', '13']).code, 2);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
