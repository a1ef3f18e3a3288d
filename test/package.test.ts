/** The package as users consume it: exports map, no import side effects, no native code at import. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));

test('package.json: ESM, bin, engines, exports with types, no install scripts', () => {
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.bin.ntstat, 'dist/cli/bin.js');
  assert.equal(pkg.engines.node, '>=20');
  for (const [k, v] of Object.entries(pkg.exports as Record<string, unknown>)) {
    if (k === './package.json') continue;
    const e = v as { types: string; import: string };
    assert.match(e.types, /\.d\.ts$/, k);
    assert.match(e.import, /\.js$/, k);
  }
  for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(pkg.scripts[s], undefined, `no ${s} script`);
  // koffi: the FFI; uplot: the dashboard's chart, read as a file by `ntstat web` and never imported.
  assert.deepEqual(Object.keys(pkg.dependencies).sort(), ['koffi', 'uplot'], 'the runtime dependencies');
});

test('importing every entry point loads no native code and leaves nothing running', () => {
  const code = `
    import { createRequire } from 'node:module';
    const entries = ['ntstat', 'ntstat/protocol', 'ntstat/transport', 'ntstat/simulator'];
    for (const e of entries) await import(e);
    await new Promise((r) => setTimeout(r, 50)); // let the module loader's own file handles close
    const req = createRequire(import.meta.url);
    const native = Object.keys(req.cache).filter((k) => /koffi/.test(k));
    const handles = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
    console.log(JSON.stringify({ native, handles }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: repo, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim());
  assert.deepEqual(out.native, [], 'koffi not loaded by imports');
  assert.deepEqual(out.handles, [], 'no timers or sockets created by imports');
});

test('the built CLI is executable and self-describing', () => {
  const r = spawnSync(process.execPath, [join(repo, pkg.bin.ntstat), '--version'], { encoding: 'utf8' });
  assert.equal(r.stdout.trim(), `ntstat ${pkg.version}`);
});
