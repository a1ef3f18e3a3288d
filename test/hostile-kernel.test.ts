/**
 * Issue 13 §3: what a hostile kernel over `--socket` found. Each test failed before its fix:
 *  - a kernel side that vanishes (send() fails ECONNREFUSED) must end the client with
 *    ERR_NTSTAT_TRANSPORT and the command with exit 1, not run forever;
 *  - resync sweeps after losses are rate-limited (one immediate, then at most one per interval,
 *    backing off while losses continue), measured in simulated time;
 *  - --duration is honoured while the kernel has not answered the subscription;
 *  - srcref 0 is never a source (BEHAVIOUR.md A.1: never assigned);
 *  - a kernel message carrying a request's type is named as such, with where it sits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NtstatError } from '../src/errors.js';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { ResyncLimiter } from '../src/client/resync-limiter.js';
import { SourceTable, type StreamEvent } from '../src/client/source-table.js';
import { decodeDatagram, dialectFor, encodeMessage, type Message } from '../src/protocol/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { parseCli } from '../src/cli/options.js';
import { runEventView } from '../src/cli/run-live.js';
import { settle } from './helpers/client-sim.js';
import { ScriptedKernel, simulatorCorpus, withDeadline } from './helpers/hostile.js';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const bin = join(repo, 'dist/cli/bin.js');
const D13 = dialectFor('4570.71.2');
const ECONNREFUSED_DARWIN = 61;

function success(d = D13, context: bigint): Uint8Array {
  return encodeMessage(d, { kind: 'success', context, flags: 0 });
}

test('a kernel side that vanishes (send() fails ECONNREFUSED) ends the client with ERR_NTSTAT_TRANSPORT', async () => {
  const k = new ScriptedKernel(D13);
  let gone = false;
  k.respond = (req, kk) => {
    if (req.kind === 'addAllSrcs') kk.push(success(D13, req.context));
  };
  const realSend = k.send.bind(k);
  k.send = (dg) => {
    if (gone) throw Object.assign(new Error('connection refused'), { errno: ECONNREFUSED_DARWIN });
    realSend(dg);
  };
  const client = new NetworkStatisticsClient({ transport: new MemoryTransport(k), dialect: D13, interval: 0, providers: ['tcp'], requestTimeout: 1000 });
  const errors: unknown[] = [];
  client.on('error', (e) => errors.push(e));
  await client.connect();
  await settle();
  gone = true;
  assert.equal(await client.sweep(), false);
  await withDeadline(client.closed(), 2000, 'closed() after the kernel vanished');
  assert.equal(client.state, 'closed');
  assert.ok(errors.length >= 1);
  const e = errors[0];
  assert.ok(e instanceof NtstatError && e.code === 'ERR_NTSTAT_TRANSPORT', String(e));
  assert.equal(e.errno, ECONNREFUSED_DARWIN);
});

test('ntstat json --socket with no --duration exits 1 (ERR_NTSTAT_TRANSPORT) when the serving kernel vanishes without a goodbye', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ntstat-vanish-'));
  const sock = join(dir, 'k.sock');
  const server = spawn(process.execPath, [bin, 'serve', '--socket', sock, '--macos', '13.5', '--scenario', 'idle-laptop'], { stdio: ['ignore', 'ignore', 'ignore'] });
  const serverExit = new Promise((r) => server.once('exit', r));
  try {
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(sock), 'server bound its socket');
    const client = spawn(process.execPath, [bin, 'json', '--socket', sock, '--macos', '13.5', '--interval', '0.2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    client.stdout.on('data', (b) => (out += b));
    client.stderr.on('data', (b) => (err += b));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => client.once('exit', (code, signal) => r({ code, signal })));
    for (let i = 0; i < 200 && !out.includes('"added"'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /"added"/, 'the session was running');
    // The kernel side dies without a goodbye: its socket just stops existing.
    server.kill('SIGKILL');
    await serverExit;
    // withDeadline only guards against the hang this test is about.
    const r = await withDeadline(exited, 30_000, 'the client after its kernel vanished').catch((e) => {
      client.kill('SIGKILL');
      throw e;
    });
    assert.equal(r.signal, null, 'the client exited on its own');
    assert.equal(r.code, 1, err);
    assert.match(err, /send\(\) failed: (ECONNREFUSED|ENOTCONN|ENOENT)/);
  } finally {
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ResyncLimiter: one immediate resync, then at most one per interval, doubling while losses continue, reset by a calm sweep', () => {
  const l = new ResyncLimiter(500, 8);
  assert.equal(l.tryStart(0), true, 'first loss: immediate');
  assert.equal(l.tryStart(0), false);
  assert.equal(l.tryStart(499), false, 'within one interval');
  assert.equal(l.tryStart(500), true, 'one interval later');
  assert.equal(l.tryStart(1499), false, 'gap doubled to 1000');
  assert.equal(l.tryStart(1500), true);
  assert.equal(l.tryStart(3499), false, 'gap 2000');
  assert.equal(l.tryStart(3500), true);
  assert.equal(l.tryStart(7500), true, 'gap 4000');
  assert.equal(l.tryStart(11499), false, 'capped at 8 intervals = 4000');
  assert.equal(l.tryStart(11500), true);
  l.calm();
  assert.equal(l.tryStart(11501), true, 'after a calm sweep the next loss resyncs at once');
});

test('resync sweeps after losses are rate-limited in simulated time (a kernel that loses on every poll)', async () => {
  const k = new ScriptedKernel(D13);
  let lossy = true;
  let polls = 0;
  k.respond = (req, kk) => {
    if (req.kind === 'addAllSrcs') kk.push(success(D13, req.context));
    if (req.kind === 'getUpdate' || req.kind === 'getSrcDesc' || req.kind === 'querySrc') {
      polls++;
      // A record larger than the receive buffer: the client sees MSG_TRUNC, a loss (§4, §9.9).
      if (lossy) kk.push(new Uint8Array(64), true);
      kk.push(success(D13, req.context));
    }
  };
  let now = 0;
  const client = new NetworkStatisticsClient({ transport: new MemoryTransport(k), dialect: D13, interval: 0, providers: ['tcp'], clock: () => now, requestTimeout: 1000 });
  // interval 0 (manual sweeps): extra resyncs are spaced from a 1000 ms base of the client's clock.
  try {
    await client.connect();
    await settle(60);
    // Time frozen: the connect sweep lost something; exactly one immediate resync may follow.
    assert.equal(polls, 2, `polls with time frozen: ${polls} (connect sweep + one immediate resync)`);
    // 10 s of simulated time in 250 ms steps, with a manual sweep every step (40 sweeps).
    let manual = 0;
    for (let i = 0; i < 40; i++) {
      now += 250;
      await client.sweep();
      manual++;
      await settle(10);
    }
    const extra = polls - 2 - manual;
    // Extra resyncs at most at t = 1 s, 3 s, 7 s (gaps 1, 2, 4 s of the 1 s base): never a storm.
    assert.ok(extra >= 1 && extra <= 3, `${extra} extra resync sweeps over 10 s of losses`);
    // Losses stop: a clean sweep calms the limiter; the next loss resyncs immediately.
    lossy = false;
    await client.sweep();
    await settle(10);
    const before = polls;
    lossy = true;
    await client.sweep();
    await settle(30);
    assert.equal(polls - before, 2, 'the loss after a calm sweep got its immediate resync (and only one)');
  } finally {
    client.stop();
  }
});

test('--duration ends the command while the kernel has not answered the subscription', async () => {
  const k = new ScriptedKernel(D13); // answers nothing, ever
  const o = parseCli(['json', '--socket', '/nonexistent', '--macos', '10.13', '--duration', '0.3'], {});
  let err = '';
  const io = { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) }, env: {}, platform: 'linux' as const };
  // requestTimeout is the default 10 s: before the fix the command waited for it and failed.
  const code = await withDeadline(
    runEventView(o, io, async () => ({ transport: new MemoryTransport(k), dialect: D13 })),
    8000,
    'json --duration 0.3 with a silent kernel',
  );
  assert.equal(code, 0, err);
  assert.doesNotMatch(err, /no answer|TIMEOUT/);
  assert.equal(k.requests.length, 1, 'only the first ADD_ALL_SRCS was sent');
  assert.equal(k.requests[0].kind, 'addAllSrcs');
});

test('srcref 0 is never a source: reports naming it create nothing', async () => {
  for (const xnu of ['3248.60.10', '4570.71.2', '10063.141.1']) {
    const c = simulatorCorpus(xnu, 60);
    const desc = c.templates.find((m) => m.kind === 'srcDesc' && m.descriptor);
    const upd = c.templates.find((m) => m.kind === 'srcUpdate' && m.descriptor);
    assert.ok(desc, xnu);
    const t = new SourceTable(c.dialect);
    const evs: StreamEvent[] = [];
    for (const m of [desc, upd].filter(Boolean) as Message[]) {
      t.apply({ ...m, srcref: 0n } as Message, 1, evs);
      t.apply({ kind: 'srcAdded', context: 0n, flags: 0, srcref: 0n, provider: 2 }, 1, evs);
    }
    assert.equal(t.size, 0, xnu);
    assert.equal(evs.length, 0, xnu);
    // The same report with a real srcref is a source: the check is about 0 only.
    t.apply({ ...desc!, srcref: 5n } as Message, 1, evs);
    assert.equal(t.size, 1, xnu);
  }
});

test('a kernel message carrying a request type is named as a request, with where it arrived', () => {
  // A 24-byte SET_FILTER-typed message after a SUCCESS: it used to read "SET_FILTER must be 32 bytes".
  const rec = new Uint8Array(16 + 24);
  rec.set(success(D13, 9n), 0);
  const dv = new DataView(rec.buffer);
  dv.setUint32(16 + 8, 1006, true);
  dv.setUint16(16 + 12, 24, true);
  assert.throws(
    () => decodeDatagram(rec, D13, { from: 'kernel' }),
    (e: unknown) =>
      e instanceof NtstatError &&
      e.code === 'ERR_NTSTAT_MALFORMED' &&
      /type 1006, which is the SET_FILTER request/.test(e.message) &&
      /message 2 of a 40-byte record/.test(e.message) &&
      /at byte 16/.test(e.message) &&
      e.offset === 16,
  );
  // Every request type, even at its exact request size, is refused from the kernel.
  for (const type of [1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008]) {
    const b = new Uint8Array(24);
    new DataView(b.buffer).setUint32(8, type, true);
    new DataView(b.buffer).setUint16(12, 24, true);
    assert.throws(() => decodeDatagram(b, D13, { from: 'kernel' }), /request \(client to kernel only\)/, String(type));
  }
});
