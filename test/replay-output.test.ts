/**
 * Replay's whole output stays what it was while its path gets faster (issue 17). Two independent
 * expectations for the benchmark's recording (bench/recording.ts, 20 k records: subscription,
 * churn, counts, polls with their SUCCESS):
 *   - bench/native/replay.c, plain C written from the spec facts, prints the log view: ntstat's
 *     log output must be byte-identical to it, and every JSON event must carry the same event,
 *     time, endpoints, process and counters as the C line for it;
 *   - golden SHA-256 digests of the log and JSON output of commit 742a64d (before this session's
 *     replay changes), so any byte of either view that changes is caught, C compiler or not.
 * Also: replay into a pipe whose reader is slow (the pipe stays full) finishes and exits 0.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { dialectFor } from '../src/protocol/dialect.js';
import { main } from '../src/cli/main.js';
import { writeLibntstatRecording } from '../bench/recording.js';
import { replayParams } from '../bench/replay.js';

const XNU = '10002.1.13';
const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const dir = mkdtempSync(join(tmpdir(), 'ntstat-replay-output-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const file = join(dir, 'bench-20k.libntstat');
const stats = writeLibntstatRecording(file, dialectFor(XNU), 20_000);
const sha = (b: string | Uint8Array) => createHash('sha256').update(b).digest('hex');

// The recording these digests were taken of: if bench/recording.ts changes, so do they (take
// them again from a build whose output is known good, e.g. one equal to the C baseline).
const RECORDING_SHA = 'ed1b6508e049180e69370b50b5f8bb31c7f6f7216c313bb5faccea600135ed76';
const GOLDEN = {
  log: { sha: 'ca81933cefecf788586ff67d69f892f863476802e7d9f40b69a21f3f3c4d71fc', bytes: 2_039_263 },
  json: { sha: 'b1ad1cde321716468864e6607981e5a14bef2fa686c440997b056e9a0b97d81c', bytes: 12_116_492 },
};

async function replay(...extra: string[]): Promise<string> {
  let out = '';
  const io = { stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: (s: string) => assert.fail(`stderr: ${s}`) }, env: {}, platform: 'linux' as const };
  assert.equal(await main(['replay', file, '--xnu', XNU, '--utc', ...extra], io), 0);
  return out;
}

function nativeOutput(): string | undefined {
  const cc = ['cc', 'gcc', 'clang'].find((c) => spawnSync(c, ['--version']).status === 0);
  if (!cc) return undefined;
  const bin = join(dir, 'replay-c');
  execFileSync(cc, ['-O2', '-o', bin, join(repo, 'bench/native/replay.c')]);
  const params = join(dir, 'params.txt');
  writeFileSync(params, replayParams(dialectFor(XNU)).join(' '));
  return execFileSync(bin, [file, params], { env: { ...process.env, XNU }, encoding: 'latin1', maxBuffer: 1 << 26 });
}

test('the benchmark recording is the one the golden digests were taken of', () => {
  assert.equal(stats.records, 20_049);
  assert.equal(sha(new Uint8Array(readFileSync(file))), RECORDING_SHA, 'bench/recording.ts changed: take the golden digests again');
});

test('replay log view: byte-identical to the C baseline and to the golden output', async (t) => {
  const out = await replay();
  assert.equal(Buffer.byteLength(out), GOLDEN.log.bytes);
  assert.equal(sha(out), GOLDEN.log.sha);
  const lines = out.split('\n');
  assert.equal(lines.filter((l) => l.startsWith(' + ')).length, 500, 'the first sweep describes the 500 sources present at start');
  assert.ok(lines.some((l) => l.startsWith('+ ')), 'sources added later are not marked initial');
  const c = nativeOutput();
  if (c === undefined) return t.skip('no C compiler');
  assert.equal(out, c);
});

interface JsonEvent {
  event: string;
  time: string;
  provider: string;
  local?: { address: string; port: number };
  remote?: { address: string; port: number };
  pid: number;
  process: string;
  failed: boolean;
  counts?: { txBytes: number; rxBytes: number; txPackets: number; rxPackets: number };
}

test('replay JSON view: the golden output, and every event agrees with the C baseline line for it', async (t) => {
  const out = await replay('--json');
  assert.equal(Buffer.byteLength(out), GOLDEN.json.bytes);
  assert.equal(sha(out), GOLDEN.json.sha);
  const c = nativeOutput();
  if (c === undefined) return t.skip('no C compiler');
  // C: "[ ]{+,#,-} HH:MM:SS TCP a p - a p pid:N (name)" then, after # and -, "  bytes (tx/rx):T/R  packets:t/r medium".
  const lines = c.split('\n').slice(1, -1);
  const events = out.trimEnd().split('\n').map((l) => JSON.parse(l) as JsonEvent);
  let i = 0;
  for (const [k, ev] of events.entries()) {
    const m = /^ ?([+#-]) (\d\d:\d\d:\d\d) (TCP|UDP) (\S+) (\d+) - (\S+) (\d+) pid:(\d+) \((.*)\)( FAILED)?$/.exec(lines[i++]);
    assert.ok(m, `C line ${i}: ${lines[i - 1]}`);
    const [, lead, hms, proto, la, lp, ra, rp, pid, name] = m;
    assert.equal(ev.event, { '+': 'added', '#': 'update', '-': 'removed' }[lead], `event ${k}`);
    assert.equal(ev.time.slice(11, 19), hms, `event ${k} time`);
    assert.equal(ev.provider, proto.toLowerCase());
    assert.deepEqual([ev.local?.address, ev.local?.port, ev.remote?.address, ev.remote?.port], [la, Number(lp), ra, Number(rp)], `event ${k} endpoints`);
    assert.deepEqual([ev.pid, ev.process], [Number(pid), name]);
    if (lead === '+') continue;
    const b = /^ {2}bytes \(tx\/rx\):(\d+)\/(\d+) {2}packets:(\d+)\/(\d+) \w+$/.exec(lines[i++]);
    assert.ok(b, `C line ${i}: ${lines[i - 1]}`);
    assert.deepEqual([ev.counts?.txBytes, ev.counts?.rxBytes, ev.counts?.txPackets, ev.counts?.rxPackets], b.slice(1).map(Number), `event ${k} counts`);
  }
  assert.equal(i, lines.length, 'as many events as the C baseline printed');
});

test('replay into a pipe whose reader is slow (stdout stays full) prints everything and exits 0', () => {
  // The pipe watcher (cli/pipe-watch.ts) used to re-arm its poll of fd 1 while stdout's own
  // stream was watching it: EEXIST, an uncaught exception, exit 1 halfway through the output.
  // The bin writes the log view as bytes (io.writeBytes): the same bytes as the golden output.
  const bin = join(repo, 'dist/cli/bin.js');
  const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" replay "${file}" --xnu ${XNU} --utc | (sleep 1; sha256sum); echo "rc=\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
  assert.match(r.stdout, /rc=0/, r.stderr);
  assert.equal(r.stdout.split(' ')[0], GOLDEN.log.sha, r.stderr);
});

test('replay to a file through the bin (bytes written directly) is the golden output, log and JSON', () => {
  const bin = join(repo, 'dist/cli/bin.js');
  for (const [view, extra] of [['log', []], ['json', ['--json']]] as const) {
    const out = join(dir, `bin-${view}.txt`);
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" replay "${file}" --xnu ${XNU} --utc ${extra.join(' ')} > "${out}"`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sha(new Uint8Array(readFileSync(out))), GOLDEN[view].sha, view);
  }
});
