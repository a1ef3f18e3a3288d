/**
 * Issue 18, the library as a newcomer meets it: typed events (checked by tsc on files that must
 * and must not compile against the built .d.ts), the committed API report, connectToKernel()'s
 * reason off macOS, no fake 0.0.0.0:0 peer, and the one-shot list().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetworkStatisticsClient, list } from '../src/index.js';
import { SimKernel } from '../src/simulator/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import type { Transport } from '../src/transport/transport.js';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const tsc = join(repo, 'node_modules/typescript/bin/tsc');

function typecheck(file: string) {
  const r = spawnSync(
    process.execPath,
    [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--skipLibCheck', join(repo, 'typetests', file)],
    { cwd: repo, encoding: 'utf8' },
  );
  return { code: r.status, out: r.stdout + r.stderr };
}

test('typed events: names and payloads type-check through the public .d.ts', { timeout: 120_000 }, () => {
  const good = typecheck('good-events.ts');
  assert.equal(good.code, 0, good.out);
  const name = typecheck('bad-event-name.ts');
  assert.notEqual(name.code, 0, 'a misspelt event name must not compile');
  assert.match(name.out, /bad-event-name\.ts\(5,11\): error TS2769|bad-event-name\.ts\(5,11\): error TS2345/, name.out);
  assert.match(name.out, /"addded"/);
  const payload = typecheck('bad-payload.ts');
  assert.notEqual(payload.code, 0, 'payloads are typed, not any');
  assert.match(payload.out, /bad-payload\.ts\(5,34\): error TS2339: Property 'bogus' does not exist on type 'Stream'/, payload.out);
});

test('the public API report is current, and white-box internals are not in it', () => {
  const r = spawnSync(process.execPath, [join(repo, 'scripts/api-report.mjs'), '--check'], { cwd: repo, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const report = readFileSync(join(repo, 'api/ntstat.api.md'), 'utf8');
  assert.doesNotMatch(report, /KernelCore/, 'the simulator core is internal');
  assert.doesNotMatch(report, /readonly conn: Connection/, 'the kernel-side connection is internal');
  assert.match(report, /list\(options\?: ListOptions\): Promise<Stream\[\]>/);
});

test('no `private` member names in the published .d.ts: internals are @internal (stripped) or #private', () => {
  // Every class the package's exports reach, read from the built .d.ts (scripts/private-members.mjs).
  const r = spawnSync(process.execPath, [join(repo, 'scripts/private-members.mjs'), '--json'], { cwd: repo, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [], 'mark the member /** @internal */ or make it #private');
  // The committed report says the same, read as text (a `private constructor` is API: no `new`).
  const report = readFileSync(join(repo, 'api/ntstat.api.md'), 'utf8');
  assert.doesNotMatch(report, /^\s+private (?!constructor)/m);
});

test('connectToKernel() off macOS resolves false and getLastError() says why', { skip: process.platform === 'darwin' ? 'macOS has the kernel control' : false }, async () => {
  const c = createNetworkStatisticsClient({ onStreamAdded() {}, onStreamRemoved() {}, onStreamStatsUpdate() {} });
  assert.equal(await c.connectToKernel(), false);
  const e = c.getLastError() as Error & { code?: string };
  assert.equal(e?.code, 'ERR_NTSTAT_UNSUPPORTED_OS');
  assert.match(e.message, /macOS/);
});

test('list(): the flows open now, equal to the simulated kernel ground truth; UDP without a peer has no remote', async () => {
  const kernel = new SimKernel({ dialect: 'd10002', scenario: 'udp-heavy', seed: 5 });
  const sim = kernel.connect({ root: true });
  // The kernel's truth when list() closes the connection (closing removes the sources).
  let truthAtClose: ReturnType<typeof sim.groundTruth> | undefined;
  const inner = new MemoryTransport(sim);
  const transport: Transport = {
    kind: inner.kind,
    start: (h) => inner.start(h),
    send: (d) => inner.send(d),
    pause: () => inner.pause(),
    resume: () => inner.resume(),
    setReceiveBufferSize: (n) => inner.setReceiveBufferSize(n),
    close: () => {
      truthAtClose ??= sim.groundTruth();
      inner.close();
    },
  };
  const flows = await list({ providers: ['tcp', 'udp'], transport, dialect: kernel.dialect });
  assert.ok(truthAtClose, 'list() closed the connection');
  const truth = [...truthAtClose.sources.values()].filter((t) => t.alive && t.descriptor && (t.provider === 'tcp' || t.provider === 'udp'));
  assert.ok(truth.length > 3, `${truth.length} sources in the simulated kernel`);
  assert.deepEqual(flows.map((s) => s.srcref).sort(), truth.map((t) => t.srcref).sort());
  const byRef = new Map(flows.map((s) => [s.srcref, s]));
  let unconnected = 0;
  for (const t of truth) {
    const r = t.descriptor!.remote as { address?: string; port?: number } | undefined;
    if (r && r.port === 0 && (r.address === '0.0.0.0' || r.address === '::')) {
      unconnected++;
      assert.equal(byRef.get(t.srcref)!.remote, undefined, `${t.srcref}: no peer, no remote`);
    }
  }
  assert.ok(unconnected > 0, 'the scenario has unconnected UDP sockets');
});
