/**
 * Every command in README.md runs, as a newcomer would type it, and prints what the README shows
 * (digits and column spacing aside: times, seeds' rates and widths vary); the library quick start
 * runs as written; the JSON Schema shipped in the package validates every event (ajv).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const readme = readFileSync(join(repo, 'README.md'), 'utf8');
const bin = join(repo, 'dist/cli/bin.js');

interface Sample {
  command: string;
  shown: string[];
}

/**
 * `$ command` lines of ```console blocks, each with the output lines the README shows for it.
 * A block right after `<!-- readme-test: skip (reason) -->` is not run (a server that runs until
 * stopped); the reason is in the README.
 */
function samples(): Sample[] {
  const out: Sample[] = [];
  for (const block of readme.matchAll(/(<!-- readme-test: skip[^>]*-->\n)?```console\n([\s\S]*?)```/g)) {
    if (block[1]) continue;
    let cur: Sample | undefined;
    for (const line of block[2].split('\n')) {
      if (line.startsWith('$ ')) out.push((cur = { command: line.slice(2), shown: [] }));
      else if (cur && line.trim() !== '') cur.shown.push(line);
    }
  }
  return out;
}

const norm = (s: string) => s.replace(/\d+(\.\d+)?/g, '0').replace(/\s+/g, ' ').trim();

test('README: every command runs and prints what the README shows', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ntstat-readme-'));
  // `ntstat` on PATH is this build (as after `npm install -g`); examples/ as shipped.
  writeFileSync(join(dir, 'ntstat'), `#!/bin/sh\nexec "${process.execPath}" "${bin}" "$@"\n`);
  chmodSync(join(dir, 'ntstat'), 0o755);
  cpSync(join(repo, 'examples'), join(dir, 'examples'), { recursive: true });
  const list = samples();
  assert.ok(list.length >= 8, `${list.length} README commands`);
  for (const s of list) {
    const command = s.command.replace(/^npx ntstat/, 'ntstat');
    const r = spawnSync('bash', ['-c', command], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, TZ: 'UTC', NO_COLOR: '1', COLUMNS: '100' },
      maxBuffer: 64 << 20,
      timeout: 120_000, // a hang detector only: every README command ends by itself in seconds
    });
    assert.equal(r.status, 0, `${s.command}\n${r.stderr}`);
    const actual = new Set((r.stdout + r.stderr).split('\n').map(norm));
    for (const line of s.shown) {
      if (line.includes('…')) continue; // an elided sample line
      assert.ok(actual.has(norm(line)), `${s.command}: the README shows\n  ${line}\nbut the command printed\n${r.stdout}${r.stderr}`);
    }
  }
});

test('README: the library quick start runs as written', { timeout: 120_000 }, () => {
  const code = /```js\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Library')))?.[1];
  assert.ok(code, 'a ```js quick start in the Library section');
  // Inside the package, `import 'ntstat'` resolves to this build (package self-reference).
  const file = join(repo, 'build', 'readme-quickstart.mjs');
  writeFileSync(file, code);
  const r = spawnSync(process.execPath, [file], { cwd: repo, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.filter((l) => l.startsWith('+ ')).length > 3, r.stdout);
  assert.match(r.stdout, /^flows open now: \d+$/m);
});

test('schema/events.schema.json (shipped) validates every event of a live run and a replay; it rejects wrong ones', { timeout: 120_000 }, () => {
  const require = createRequire(import.meta.url);
  const Ajv2020 = require('ajv/dist/2020').default as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } };
  const schema = JSON.parse(readFileSync(join(repo, 'schema/events.schema.json'), 'utf8'));
  const validate = new Ajv2020({ strict: true, allErrors: true, validateFormats: false }).compile(schema);
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  assert.ok(pkg.files.includes('schema'), 'the schema is in the package');
  const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const live = run(['json', '--simulate', '--all', '--scenario', 'udp-heavy', '--duration', '2', '--interval', '0.5']);
  const rep = run(['replay', join(repo, 'examples/session.ntcap'), '--json']);
  let n = 0;
  for (const out of [live.stdout, rep.stdout]) {
    for (const line of out.trim().split('\n')) {
      const ev = JSON.parse(line);
      assert.ok(validate(ev), `${line}\n${JSON.stringify(validate.errors)}`);
      n++;
    }
  }
  assert.ok(n > 50, `${n} events validated`);
  // --all includes interface events (ifnet): validated above; a malformed one is rejected.
  const iface = live.stdout.split('\n').find((l) => l.includes('"event":"interface"'));
  assert.ok(iface, 'the live run has interface events');
  const good = JSON.parse(iface);
  assert.equal(validate(good), true);
  assert.equal(validate({ ...good, rxBytes: -1 }), false, 'a negative counter is invalid');
  assert.equal(validate({ ...good, link: { linkQualityMetric: 1 } }), false, 'a link without its type is invalid');
  assert.equal(validate({ ...good, provider: 'tcp' }), false, 'an interface event is not a stream');
  assert.equal(validate({ event: 'added', time: 'x', id: '1', provider: 'tcp', userland: false, interface: 'wifi', listener: false, failed: false, remote: { address: '0.0.0.0' } }), false, 'a remote without a port is invalid');
  assert.equal(validate({ event: 'addded', time: 'x', id: '1', provider: 'tcp', userland: false, interface: 'wifi', listener: false, failed: false }), false);
});
