/**
 * `ntstat usage` output formats over a real database: --json lines with exactly the issue's
 * fields, --csv, human text with untrusted names escaped, --top, time arguments; it reads while
 * a recorder holds the database; a second `ntstat agent` on it exits 1; and without the optional
 * better-sqlite3 package, agent and usage exit 1 naming it while other commands still work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';
import type { CliIo } from '../src/cli/io.js';
import { UsageStore } from '../src/store/usage-store.js';
import { humanBytes } from '../src/cli/usage.js';
import { parseUsageTime } from '../src/cli/usage-time.js';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const dir = mkdtempSync(join(tmpdir(), 'ntstat-usage-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function memIo(): CliIo & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { stdout: { write: (c: string) => out.push(c) }, stderr: { write: (c: string) => err.push(c) }, env: { HOME: dir }, platform: 'linux', out: () => out.join(''), err: () => err.join('') };
}

const T0 = Date.UTC(2026, 4, 2, 10, 0, 0);
const RANGE = ['--since', new Date(T0 - 3_600_000).toISOString(), '--until', new Date(T0 + 3_600_000).toISOString()];

async function fixture(path: string): Promise<UsageStore> {
  const s = await UsageStore.open(path, { record: true });
  const d = (process: string, pid: number, rx: number, tx: number, app?: string) => ({ minute: T0, process, pid, ...(app ? { app } : {}), ifname: 'if4', ifkind: 'wifi', rxBytes: rx, txBytes: tx, rxPackets: 2, txPackets: 1, flows: 1 });
  s.flush({ time: T0 + 60_000, deltas: [d('curl', 10, 1500, 20), d('evil\x1b[31m', 11, 2_500_000, 0), d('WebContent', 12, 900, 900, 'Safari')], closed: [], open: [] });
  return s;
}

test('--json: one object per line with the issue\'s fields, exact numbers, largest first', async () => {
  const path = join(dir, 'a.db');
  const rec = await fixture(path); // still held by a recorder: usage reads anyway (WAL)
  try {
    const io = memIo();
    assert.equal(await main(['usage', '--db', path, '--by', 'process', '--json', ...RANGE], io), 0, io.err());
    const rows = io.out().trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows[0], { key: 'evil\x1b[31m', rxBytes: 2_500_000, txBytes: 0, rxPackets: 2, txPackets: 1, flows: 1, process: 'evil\x1b[31m' });
    assert.deepEqual(rows.map((r) => r.key), ['evil\x1b[31m', 'WebContent', 'curl']);
    const app = memIo();
    assert.equal(await main(['usage', '--db', path, '--by', 'app', '--json', '--top', '1', ...RANGE], app), 0);
    assert.deepEqual(app.out().trim().split('\n').map((l) => JSON.parse(l).key), ['evil\x1b[31m']);
    const pid = memIo();
    assert.equal(await main(['usage', '--db', path, '--by', 'pid', '--json', ...RANGE], pid), 0);
    assert.deepEqual(JSON.parse(pid.out().split('\n')[2]), { key: '10:curl', rxBytes: 1500, txBytes: 20, rxPackets: 2, txPackets: 1, flows: 1, process: 'curl', pid: 10 });
  } finally {
    rec.close();
  }
});

test('--csv and the human table (untrusted names escaped)', async () => {
  const path = join(dir, 'b.db');
  (await fixture(path)).close();
  const csv = memIo();
  assert.equal(await main(['usage', '--db', path, '--by', 'interface', '--csv', ...RANGE], csv), 0);
  assert.equal(csv.out(), 'key,rxBytes,txBytes,rxPackets,txPackets,flows,process,pid,app,interface,kind,time\nif4,2502400,920,6,3,3,,,,if4,wifi,\n');
  const text = memIo();
  assert.equal(await main(['usage', '--db', path, '--by', 'process', ...RANGE], text), 0);
  assert.ok(!text.out().includes('\x1b'), 'no raw escape reaches the terminal');
  assert.match(text.out(), /evil\\x1b\[31m\s+2\.5 MB\s+0 B\s+2\.5 MB\s+1/);
  assert.equal(humanBytes(999), '999 B');
  assert.equal(humanBytes(1_234_567), '1.2 MB');
});

test('time arguments: durations, today/yesterday (local), ISO; bad ones are usage errors', async () => {
  const now = T0;
  assert.deepEqual(parseUsageTime('24h', undefined, now), { since: now - 86_400_000, until: now });
  assert.deepEqual(parseUsageTime('7d', '1h', now), { since: now - 7 * 86_400_000, until: now - 3_600_000 });
  const today = parseUsageTime('today', undefined, now).since;
  assert.equal(new Date(today).getHours(), 0);
  assert.equal(parseUsageTime('yesterday', 'today', now).until, today);
  const io = memIo();
  assert.equal(await main(['usage', '--db', join(dir, 'b.db'), '--since', 'last tuesday'], io), 2);
  assert.match(io.err(), /--since expects/);
  const by = memIo();
  assert.equal(await main(['usage', '--by', 'stream'], by), 2);
});

test('a missing database: exit 1 with a hint; a second agent on a recorded database: exit 1', async () => {
  const io = memIo();
  assert.equal(await main(['usage', '--db', join(dir, 'none.db')], io), 1);
  assert.match(io.err(), /no usage database at .*none\.db \(start one with 'ntstat agent'/);
  const path = join(dir, 'c.db');
  const rec = await UsageStore.open(path, { record: true });
  try {
    const second = memIo();
    assert.equal(await main(['agent', '--simulate', '--db', path], second), 1);
    assert.match(second.err(), /another ntstat agent is already recording to .*c\.db/);
  } finally {
    rec.close();
  }
});

test('without better-sqlite3: agent and usage exit 1 naming the package; other commands work', () => {
  // The built package without node_modules: the optional dependency is absent.
  const copy = join(dir, 'bare');
  cpSync(join(repo, 'dist'), join(copy, 'dist'), { recursive: true });
  writeFileSync(join(copy, 'package.json'), JSON.stringify({ name: 'ntstat', version: '0.0.0', type: 'module' }));
  const bin = join(copy, 'dist/cli/bin.js');
  for (const args of [['usage', '--db', join(dir, 'b.db')], ['agent', '--simulate', '--db', join(dir, 'x.db')]]) {
    const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /needs the optional package better-sqlite3 \(npm install better-sqlite3@12\.11\.1\)/);
  }
  const ok = spawnSync(process.execPath, [bin, 'json', '--simulate', '--count', '3'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout.trim().split('\n').length, 3);
});
