/**
 * `ntstat agent install|uninstall|status`: the LaunchAgent plist, read back with a real plist
 * parser (the `plist` package), has the label, the program and the flags given to install,
 * RunAtLoad, KeepAlive and a log file, with untrusted characters intact; --dry-run prints it;
 * off macOS the equivalent systemd user unit is printed and nothing is installed (exit 0).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as plist from 'plist';
import { AGENT_LABEL, launchAgentPlist, runAgentService, serviceFlags, serviceSpec, systemdUnit } from '../src/cli/agent-service.js';
import { parseCli } from '../src/cli/options.js';
import { AGENT_OPTIONS } from '../src/cli/agent.js';
import type { CliIo } from '../src/cli/io.js';

const home = mkdtempSync(join(tmpdir(), 'ntstat-home-'));
test.after(() => rmSync(home, { recursive: true, force: true }));

function memIo(platform: NodeJS.Platform): CliIo & { out: () => string } {
  const out: string[] = [];
  return { stdout: { write: (c: string) => out.push(c) }, stderr: { write: () => true }, env: { HOME: home }, platform, out: () => out.join('') };
}

test('the plist parses to the LaunchAgent launchd needs, with the flags given to install', () => {
  const argv = ['agent', 'install', '--db', '/Users/me/My <Data> & "usage".db', '--flush', '30', '--dry-run', '--tcp'];
  assert.deepEqual(serviceFlags(argv), ['--db', '/Users/me/My <Data> & "usage".db', '--flush', '30', '--tcp']);
  const spec = serviceSpec(serviceFlags(argv), '/Users/me', '/opt/ntstat/dist/cli/bin.js', '/usr/local/bin/node', 'darwin');
  const parsed = plist.parse(launchAgentPlist(spec)) as Record<string, unknown>;
  assert.deepEqual(parsed, {
    Label: 'org.ntstat.agent',
    ProgramArguments: ['/usr/local/bin/node', '/opt/ntstat/dist/cli/bin.js', 'agent', '--db', '/Users/me/My <Data> & "usage".db', '--flush', '30', '--tcp'],
    RunAtLoad: true,
    KeepAlive: true,
    ProcessType: 'Background',
    StandardOutPath: '/Users/me/Library/Logs/ntstat/agent.log',
    StandardErrorPath: '/Users/me/Library/Logs/ntstat/agent.log',
  });
});

test('install --dry-run on macOS prints the plist and installs nothing', async () => {
  const argv = ['agent', 'install', '--dry-run', '--no-db'];
  const o = parseCli(argv, {}, AGENT_OPTIONS);
  const io = memIo('darwin');
  assert.equal(await runAgentService('install', o, io, argv), 0);
  const parsed = plist.parse(io.out()) as { Label: string; ProgramArguments: string[] };
  assert.equal(parsed.Label, AGENT_LABEL);
  assert.deepEqual(parsed.ProgramArguments.slice(2), ['agent', '--no-db']);
  assert.match(parsed.ProgramArguments[1], /\/cli\/bin\.js$/, "the ntstat bin next to this module");
  assert.equal(existsSync(join(home, 'Library/LaunchAgents')), false);
});

test('elsewhere: the systemd user unit is printed, exit 0, nothing installed', async () => {
  const argv = ['agent', 'install', '--db', '/tmp/100% "x".db'];
  const io = memIo('linux');
  assert.equal(await runAgentService('install', parseCli(argv, {}, AGENT_OPTIONS), io, argv), 0);
  const text = io.out();
  assert.match(text, /^# no launchd on linux: nothing was installed/);
  const exec = /^ExecStart=(.*)$/m.exec(text)![1];
  // systemd: each argument double-quoted, quotes escaped, % doubled (specifier escape).
  assert.match(exec, /"agent" "--db" "\/tmp\/100%% \\"x\\"\.db"$/);
  assert.match(text, /^Restart=always$/m);
  assert.match(text, /^WantedBy=default\.target$/m);
  assert.equal(systemdUnit(serviceSpec([], '/h', '/b.js', '/n', 'linux')).includes('ExecStart="/n" "/b.js" "agent"'), true);
  assert.equal(existsSync(join(home, '.config')), false);
});
