/**
 * `ntstat top` in a real terminal (tmux): starts on the alternate screen, draws the table, adapts
 * to a resize, sorts and regroups on keys, and restores the terminal on quit, Ctrl-C and SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const bin = join(repo, 'dist/cli/bin.js');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const skip = hasTmux ? false : 'tmux is not installed (apt-get install tmux)';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });

async function waitFor(session: string, pred: (screen: string) => boolean, ms = 60_000): Promise<string> {
  const end = Date.now() + ms;
  let screen = '';
  while (Date.now() < end) {
    screen = tmux('capture-pane', '-p', '-t', session);
    if (pred(screen)) return screen;
    await sleep(150);
  }
  throw new Error(`timed out; screen was:\n${screen}`);
}

function start(session: string, extra: string[] = []): void {
  const cmd = `TZ=UTC "${process.execPath}" "${bin}" top --simulate --scenario idle-laptop --all ${extra.join(' ')}; echo EXITED:$?; sleep 60`;
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '30', cmd);
}

function stop(session: string): void {
  spawnSync('tmux', ['kill-session', '-t', session]);
  spawnSync('sleep', ['0.3']);
}

test('top: table, resize, sort, group, quit restores the terminal', { skip }, async () => {
  const s = `ntstat-top-${process.pid}`;
  start(s);
  try {
    let screen = await waitFor(s, (x) => /ntstat top/.test(x) && /PROCESS/.test(x) && /\d+ streams/.test(x) && !/ 0 streams/.test(x));
    assert.match(screen, /SIMULATED/);
    assert.match(screen, /PID\s+PROCESS\s+PROTO\s+LOCAL\s+REMOTE/);
    assert.equal(tmux('display', '-p', '-t', s, '#{alternate_on}').trim(), '1', 'alternate screen in use');
    const rows = screen.split('\n').filter((l) => /^\s*\d+\s/.test(l));
    assert.ok(rows.length > 5, `${rows.length} stream rows`);
    assert.ok(screen.split('\n').every((l) => [...l].length <= 120));

    tmux('resize-window', '-t', s, '-x', '80', '-y', '20');
    screen = await waitFor(s, (x) => x.split('\n').filter((l) => l.trim()).length <= 20 && /q quit/.test(x));
    assert.ok(screen.split('\n').every((l) => [...l].length <= 80), 'lines fit the new width');

    tmux('send-keys', '-t', s, 's');
    await waitFor(s, (x) => /sort rx/.test(x));
    tmux('send-keys', '-t', s, 'g');
    screen = await waitFor(s, (x) => /by process/.test(x) && /FLOWS/.test(x));
    tmux('send-keys', '-t', s, 'g');
    await waitFor(s, (x) => /by app/.test(x));
    tmux('send-keys', '-t', s, '/');
    tmux('send-keys', '-t', s, 'Safari');
    tmux('send-keys', '-t', s, 'Enter');
    screen = await waitFor(s, (x) => /filter "Safari"/.test(x));
    const shown = screen.split('\n').filter((l) => /^\s*\d+\s/.test(l));
    assert.ok(shown.length > 0 && shown.every((l) => /Safari/.test(l)), `only Safari rows: ${shown.join(' | ')}`);
    tmux('send-keys', '-t', s, 'p');
    await waitFor(s, (x) => /PAUSED/.test(x));

    tmux('send-keys', '-t', s, 'q');
    screen = await waitFor(s, (x) => /EXITED:0/.test(x));
    assert.equal(tmux('display', '-p', '-t', s, '#{alternate_on}').trim(), '0', 'alternate screen left');
    assert.equal(tmux('display', '-p', '-t', s, '#{cursor_flag}').trim(), '1', 'cursor visible again');
    assert.doesNotMatch(screen, /PROCESS\s+PROTO/, 'the table is gone with the alternate screen');
  } finally {
    stop(s);
  }
});

test('top: Ctrl-C and SIGTERM also restore the terminal (exit 130 / 143)', { skip }, async () => {
  const s = `ntstat-top-int-${process.pid}`;
  start(s, ['--seed', '77']);
  try {
    await waitFor(s, (x) => /PROCESS/.test(x));
    tmux('send-keys', '-t', s, 'C-c');
    await waitFor(s, (x) => /EXITED:130/.test(x)); // 128 + SIGINT, as shells expect (issue 18 bug 10)
    assert.equal(tmux('display', '-p', '-t', s, '#{alternate_on}').trim(), '0');
    assert.equal(tmux('display', '-p', '-t', s, '#{cursor_flag}').trim(), '1');
  } finally {
    stop(s);
  }
  const s2 = `ntstat-top-term-${process.pid}`;
  start(s2, ['--seed', '4242']);
  try {
    await waitFor(s2, (x) => /PROCESS/.test(x));
    // Match the node process only (the tmux shell's command line has the paths quoted).
    spawnSync('pkill', ['-TERM', '-f', `${process.execPath} ${bin} top --simulate --scenario idle-laptop --all --seed 4242`]);
    await waitFor(s2, (x) => /EXITED:143/.test(x)); // 128 + SIGTERM
    assert.equal(tmux('display', '-p', '-t', s2, '#{alternate_on}').trim(), '0');
    assert.equal(tmux('display', '-p', '-t', s2, '#{cursor_flag}').trim(), '1');
  } finally {
    stop(s2);
  }
});
