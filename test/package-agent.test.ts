/**
 * The usage history's native dependency stays out of every import: importing `ntstat` and
 * `ntstat/agent` loads no native addon (better-sqlite3 is loaded by UsageStore.open() only),
 * and it is an optional dependency pinned for Node 20.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));

test('better-sqlite3 is an optional dependency, 12.x (13.x needs Node 22)', () => {
  assert.equal(pkg.optionalDependencies['better-sqlite3'], '12.11.1');
  assert.equal(pkg.dependencies['better-sqlite3'], undefined);
  assert.deepEqual(pkg.exports['./agent'], { types: './dist/agent/index.d.ts', import: './dist/agent/index.js' });
});

test("importing 'ntstat' and 'ntstat/agent' loads no native addon; UsageStore.open() does", () => {
  const code = `
    const loaded = [];
    const dlopen = process.dlopen;
    process.dlopen = function (m, file, ...rest) { loaded.push(String(file)); return dlopen.call(this, m, file, ...rest); };
    await import('ntstat');
    const agent = await import('ntstat/agent');
    const before = [...loaded];
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const s = await agent.UsageStore.open(mkdtempSync(tmpdir() + '/ntstat-pkg-') + '/u.db', { record: true });
    s.close();
    console.log(JSON.stringify({ before, after: loaded }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: repo, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { before: string[]; after: string[] };
  assert.deepEqual(out.before, [], 'no native addon loaded by the imports');
  assert.ok(out.after.some((f) => /better_sqlite3\.node$/.test(f)), `UsageStore.open loaded the SQLite binding: ${out.after.join(', ')}`);
});
