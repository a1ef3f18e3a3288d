/**
 * `ntstat web` and `ntstat agent --listen` from the command line (in-process `main`): the printed
 * dashboard URL works (and nothing works without its token), the browser is opened through
 * $BROWSER unless --no-open and a missing opener never fails the command, a bare --listen takes
 * the default address, and a non-loopback address is a usage error unless --allow-remote.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import type { CliIo } from '../src/cli/io.js';
import { bareListen } from '../src/cli/web.js';
import { parseCli } from '../src/cli/options.js';
import { AGENT_OPTIONS } from '../src/cli/agent.js';

function memIo(env: Record<string, string> = {}, signal?: AbortSignal): CliIo & { err: string[] } {
  const err: string[] = [];
  const io: CliIo & { err: string[] } = { err, stdout: { write: () => true }, stderr: { write: (c: string) => err.push(c) }, env, platform: 'linux' };
  if (signal) io.signal = signal;
  return io;
}

function status(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs `main` until the dashboard URL is printed, calls `during(url)`, then aborts as SIGINT would. */
async function withDashboard(argv: string[], env: Record<string, string>, during: (url: string) => Promise<void>): Promise<{ code: number; err: string }> {
  const ac = new AbortController();
  const io = memIo(env, ac.signal);
  let checks: Promise<void> | undefined;
  const write = io.stderr.write;
  io.stderr.write = (c: string) => {
    write(c);
    const m = /^dashboard: (\S+)$/m.exec(c);
    if (m) checks = during(m[1]).finally(() => ac.abort());
    return true;
  };
  const code = await main(argv, io);
  await checks;
  return { code, err: io.err.join('') };
}

test('ntstat web --simulate --no-open: a loopback URL with a token; 401 without it; exit 0 on abort', async () => {
  let seen = '';
  const r = await withDashboard(['web', '--simulate', '--no-db', '--no-open'], {}, async (url) => {
    seen = url;
    const u = new URL(url);
    assert.equal(u.hostname, '127.0.0.1');
    assert.notEqual(u.port, '9183', 'a free port, not the fixed default');
    const token = u.searchParams.get('token')!;
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, '256 random bits');
    assert.equal(await status(`${u.origin}/api/status`), 401);
    assert.equal(await status(`${u.origin}/api/status`, { authorization: `Bearer ${token}` }), 200);
    assert.equal(await status(url), 303, 'the printed URL sets the cookie');
  });
  assert.equal(r.code, 0, r.err);
  assert.ok(seen, r.err);
  assert.match(r.err, /agent stopped/);
});

test('ntstat web opens the dashboard with $BROWSER; a missing opener never fails the command', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ntstat-web-'));
  try {
    const opener = join(dir, 'open.sh');
    const got = join(dir, 'url.txt');
    writeFileSync(opener, `#!/bin/sh\necho "$1" > "${got}"\n`);
    chmodSync(opener, 0o755);
    let printed = '';
    const r = await withDashboard(['web', '--simulate', '--no-db'], { BROWSER: opener }, async (url) => {
      printed = url;
      for (let i = 0; i < 200 && !existsSync(got); i++) await new Promise((res) => setTimeout(res, 25));
    });
    assert.equal(r.code, 0, r.err);
    assert.equal(readFileSync(got, 'utf8').trim(), printed, 'the opener got the printed URL');
    const r2 = await withDashboard(['web', '--simulate', '--no-db'], { BROWSER: join(dir, 'no-such-browser') }, async () => {
      await new Promise((res) => setTimeout(res, 200));
    });
    assert.equal(r2.code, 0, r2.err);
    assert.match(r2.err, /could not start .*no-such-browser/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('agent --listen HOST:PORT serves the dashboard; a bare --listen means 127.0.0.1:9183', async () => {
  const r = await withDashboard(['agent', '--simulate', '--no-db', '--listen', '127.0.0.1:0'], {}, async (url) => {
    assert.equal(await status(url), 303);
  });
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(bareListen(['agent', '--listen', '--simulate']), ['agent', '--listen=', '--simulate']);
  assert.deepEqual(bareListen(['agent', '--simulate', '--listen']), ['agent', '--simulate', '--listen=']);
  assert.deepEqual(bareListen(['agent', '--listen', '[::1]:80']), ['agent', '--listen', '[::1]:80']);
  assert.equal(parseCli(bareListen(['agent', '--listen', '--simulate']), {}, AGENT_OPTIONS).extra.listen, '');
});

test('a non-loopback --listen is a usage error naming --allow-remote (before anything starts)', async () => {
  const io = memIo();
  assert.equal(await main(['agent', '--simulate', '--no-db', '--listen', '0.0.0.0:9183'], io), 2);
  assert.match(io.err.join(''), /not a loopback address.*--allow-remote/s);
  assert.doesNotMatch(io.err.join(''), /agent recording/);
  const io2 = memIo();
  assert.equal(await main(['agent', '--simulate', '--no-db', '--listen', '127.0.0.1:99999'], io2), 2);
  assert.match(io2.err.join(''), /--listen: bad port/);
});

test('--allow-remote: served on all interfaces, with a warning that says so', async () => {
  const r = await withDashboard(['agent', '--simulate', '--no-db', '--listen', '0.0.0.0:0', '--allow-remote'], {}, async (url) => {
    assert.equal(await status(url), 303);
  });
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /warning: the dashboard listens on 0\.0\.0\.0, reachable from the network/);
});
