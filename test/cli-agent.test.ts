/**
 * `ntstat agent` from the command line: runs in the foreground on any source, records every flow
 * provider by default (--tcp/--udp narrow), and SIGTERM/SIGINT stop it cleanly with exit 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';
import type { CliIo } from '../src/cli/io.js';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const bin = join(repo, 'dist/cli/bin.js');

function memIo(platform: NodeJS.Platform, signal?: AbortSignal): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo & { out: string[]; err: string[] } = { out, err, stdout: { write: (c: string) => out.push(c) }, stderr: { write: (c: string) => err.push(c) }, env: {}, platform };
  if (signal) io.signal = signal;
  return io;
}

/** Run `main` until the agent says it is recording, then abort (as SIGINT would). */
async function runUntilRecording(argv: string[]): Promise<{ code: number; err: string }> {
  const ac = new AbortController();
  const io = memIo('linux', ac.signal);
  const write = io.stderr.write;
  io.stderr.write = (c: string) => {
    write(c);
    if (c.includes('agent recording')) setImmediate(() => ac.abort());
    return true;
  };
  const code = await main(argv, io);
  return { code, err: io.err.join('') };
}

test('agent --simulate records tcp, udp and quic (kernel and userland) and the interfaces (ifnet) by default; abort -> exit 0', async () => {
  const r = await runUntilRecording(['agent', '--simulate', '--macos', '13', '--no-db']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /agent recording tcp, tcpUserland, udp, udpUserland, quic, ifnet\n/);
  assert.match(r.err, /agent stopped: \d+ flows/);
});

test('--tcp narrows the agent to TCP', async () => {
  const r = await runUntilRecording(['agent', '--simulate', '--macos', '13', '--tcp', '--no-db']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /agent recording tcp, tcpUserland, ifnet\n/);
});

test('agent without a source off macOS: exit 1 naming the platform; bad flags: exit 2', async () => {
  const io = memIo('linux');
  assert.equal(await main(['agent'], io), 1);
  assert.match(io.err.join(''), /macOS/);
  const io2 = memIo('linux');
  assert.equal(await main(['agent', '--simulate', '--flush', '0'], io2), 2);
  assert.match(io2.err.join(''), /--flush expects a number > 0/);
  const io3 = memIo('linux');
  assert.equal(await main(['agent', '--simulate', '--db', 'x.db', '--no-db'], io3), 2);
});

test('the ntstat binary: SIGTERM stops the agent with a final summary and exit 0', async () => {
  const child = spawn(process.execPath, [bin, 'agent', '--simulate', '--no-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await new Promise<void>((r) => {
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('agent recording')) r();
    });
  });
  child.kill('SIGTERM');
  assert.equal(await exited, 0, err);
  assert.match(err, /agent stopped: \d+ flows, \d+ process groups/);
});
