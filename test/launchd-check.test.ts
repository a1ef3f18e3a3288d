/**
 * The LaunchAgent `agent install` writes has every key launchd needs (launchd.plist(5): Label,
 * ProgramArguments with an absolute program, RunAtLoad, KeepAlive, StandardErrorPath), read back
 * from the XML with a real plist parser; relative --db paths are made absolute (launchd runs jobs
 * in /). launchctl itself was never run here (no Mac): `bootstrap` is not exercised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as plist from 'plist';
import { runAgentService } from '../src/cli/agent-service.js';
import { launchAgentProblems } from '../src/cli/launchd-check.js';
import { parseCli } from '../src/cli/options.js';
import { AGENT_OPTIONS } from '../src/cli/agent.js';
import type { CliIo } from '../src/cli/io.js';

const home = mkdtempSync(join(tmpdir(), 'ntstat-launchd-'));
test.after(() => rmSync(home, { recursive: true, force: true }));

async function dryRun(flags: string[]): Promise<Record<string, unknown>> {
  const argv = ['agent', 'install', '--dry-run', ...flags];
  const out: string[] = [];
  const io: CliIo = { stdout: { write: (c: string) => out.push(c) }, stderr: { write: () => true }, env: { HOME: home }, platform: 'darwin' };
  assert.equal(await runAgentService('install', parseCli(argv, {}, AGENT_OPTIONS), io, argv), 0);
  return plist.parse(out.join('')) as Record<string, unknown>;
}

test('install --dry-run: the parsed plist has every key launchd needs, absolute program and script', async () => {
  const p = await dryRun(['--flush', '30']);
  assert.deepEqual(launchAgentProblems(p), []);
  for (const k of ['Label', 'ProgramArguments', 'RunAtLoad', 'KeepAlive', 'StandardErrorPath']) assert.ok(k in p, k);
  const args = p.ProgramArguments as string[];
  assert.equal(args[0], process.execPath);
  assert.ok(args[1].startsWith('/') && args[1].endsWith('/cli/bin.js'));
  assert.equal(p.StandardErrorPath, `${home}/Library/Logs/ntstat/agent.log`);
});

test('a relative --db is written as an absolute path (launchd starts jobs in /)', async () => {
  const p = await dryRun(['--db', 'rel/usage.db']);
  assert.deepEqual((p.ProgramArguments as string[]).slice(2), ['agent', '--db', resolve('rel/usage.db')]);
  const q = await dryRun(['--db=rel/other.db']);
  assert.deepEqual((q.ProgramArguments as string[]).slice(2), ['agent', `--db=${resolve('rel/other.db')}`]);
  assert.deepEqual(launchAgentProblems(q), []);
});

test('the check names each thing launchd would not accept', async () => {
  const good = await dryRun([]);
  const bad = (change: Record<string, unknown>, drop?: string) => {
    const p: Record<string, unknown> = { ...good, ...change };
    if (drop) delete p[drop];
    return launchAgentProblems(p);
  };
  assert.match(bad({}, 'Label').join(), /Label/);
  assert.match(bad({ ProgramArguments: [] }).join(), /ProgramArguments must be a non-empty array/);
  assert.match(bad({ ProgramArguments: ['node', '/x/bin.js', 'agent'] }).join(), /ProgramArguments\[0\]/);
  assert.match(bad({ ProgramArguments: ['/usr/bin/node', 'bin.js', 'agent'] }).join(), /ProgramArguments\[1\]/);
  assert.match(bad({ ProgramArguments: ['/usr/bin/node', '/x/bin.js', 'agent', '--db', 'u.db'] }).join(), /--db must be an absolute path/);
  assert.match(bad({ RunAtLoad: false }).join(), /RunAtLoad/);
  assert.match(bad({}, 'KeepAlive').join(), /KeepAlive/);
  assert.deepEqual(bad({ KeepAlive: { SuccessfulExit: false } }), [], 'KeepAlive may be a dictionary');
  assert.match(bad({ StandardErrorPath: 'agent.log' }).join(), /StandardErrorPath/);
  assert.match(bad({}, 'StandardErrorPath').join(), /StandardErrorPath/);
  assert.deepEqual(launchAgentProblems([]), ['the plist is not a dictionary']);
});
