/**
 * Startup stays light (issue 17): `ntstat --version` and `--help` load the option parser and
 * nothing behind the commands (client, model, simulator, transports), because each command's
 * module is imported only when that command runs. Checked with a module resolve hook in a fresh
 * process, which sees every module the CLI loads.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const mainUrl = new URL('../src/cli/main.js', import.meta.url).href;

function modulesLoadedBy(argv: string[]): string[] {
  const hooks = `let port; export function initialize(d) { port = d.port; }
    export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }`;
  const code = `
    import { register } from 'node:module';
    const { port1, port2 } = new MessageChannel();
    const seen = [];
    port1.on('message', (u) => seen.push(u));
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}), { data: { port: port2 }, transferList: [port2] });
    const { main } = await import(${JSON.stringify(mainUrl)});
    let out = '';
    const code = await main(${JSON.stringify(argv)}, { stdout: { write: (s) => (out += s) }, stderr: { write: () => true }, env: {}, platform: 'linux' });
    await new Promise((r) => setTimeout(r, 100));
    port1.close();
    console.log(JSON.stringify({ code, out, seen: seen.filter((u) => u.startsWith('file:')) }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { code: number; out: string; seen: string[] };
  assert.equal(res.code, 0);
  assert.ok(res.out.length > 0, 'printed something');
  return res.seen;
}

for (const argv of [['--version'], ['--help']]) {
  test(`ntstat ${argv.join(' ')} loads no command module (client, model, simulator, transport)`, () => {
    const seen = modulesLoadedBy(argv);
    assert.ok(seen.some((u) => u.endsWith('/cli/main.js')), 'the hook sees the CLI modules');
    const heavy = seen.filter((u) => /\/src\/(client|model|simulator|transport)\/|\/cli\/(run-live|run-replay|top|doctor)\.js$/.test(u));
    assert.deepEqual(heavy, []);
  });
}

test('ntstat --version alone does not even load the option parser or the layout tables, and says the same as with other flags', () => {
  const seen = modulesLoadedBy(['--version']);
  assert.deepEqual(seen.filter((u) => /\/cli\/(options|help)\.js$|\/protocol\/(dialect|generated\/facts)\.js$/.test(u)), []);
  const run = (argv: string[]) => spawnSync(process.execPath, [new URL('../src/cli/bin.js', import.meta.url).pathname, ...argv], { encoding: 'utf8' });
  const alone = run(['--version']);
  const parsed = run(['--version', '--no-color']); // goes through the parser
  assert.equal(alone.status, 0);
  assert.match(alone.stdout, /^ntstat \d+\.\d+\.\d+\n$/);
  assert.equal(alone.stdout, parsed.stdout);
  assert.equal(run(['-V']).stdout, alone.stdout);
});

test('ntstat json --count 1 loads no recorder and no resolver; --resolve does load the resolver', () => {
  const unneeded = (seen: string[]) => seen.filter((u) => /\/transport\/(tee|ntcap|file-window)\.js$|\/cli\/resolve\.js$/.test(u)).map((u) => u.replace(/^.*\/src\//, ''));
  const seen = modulesLoadedBy(['json', '--simulate', '--count', '1']);
  assert.ok(seen.some((u) => u.endsWith('/client/client.js')), 'the hook sees the command run');
  assert.deepEqual(unneeded(seen), []);
  assert.deepEqual(unneeded(modulesLoadedBy(['json', '--simulate', '--count', '1', '--resolve'])), ['cli/resolve.js']);
});
