/**
 * Small guards that mutation testing found unguarded (issue 13 §4): each assertion here fails if
 * the guarded line is removed or changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mock } from 'node:test';
import { escapeTerminal } from '../src/cli/escape.js';
import { createNetworkStatisticsClient } from '../src/client/compat.js';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { NtstatError } from '../src/errors.js';
import { ReplayTransport } from '../src/transport/replay.js';
import { applyCounts, newStream } from '../src/model/stream.js';
import { dialectFor, encodeMessage, type Counts } from '../src/protocol/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { ScriptedKernel } from './helpers/hostile.js';

const D13 = dialectFor('4570.71.2');

test('bidi isolates U+2066–U+2069 are escaped (they reorder the rest of a terminal line)', () => {
  assert.equal(escapeTerminal('a\u2066b'), 'a\\u{2066}b');
  assert.equal(escapeTerminal('a\u2067b'), 'a\\u{2067}b');
  assert.equal(escapeTerminal('a\u2068b'), 'a\\u{2068}b');
  assert.equal(escapeTerminal('a\u2069b'), 'a\\u{2069}b');
  // Neighbours that are ordinary text stay as they are.
  assert.equal(escapeTerminal('\u2065\u206a'), '\u2065\u206a');
});

function counts(rx: number, tx: number): Counts {
  return { rxPackets: 1, rxBytes: rx, txPackets: 1, txBytes: tx, rxDuplicateBytes: 0, rxOutOfOrderBytes: 0, txRetransmit: 0, connectAttempts: 0, connectSuccesses: 0, minRtt: 0, avgRtt: 0, varRtt: 0 };
}

test('a counter that goes backwards (truncated or reset by the kernel) gives rate 0, never a negative rate', () => {
  const s = newStream(D13, 1n, 2, 0);
  applyCounts(s, counts(10_000, 5_000), 1000);
  applyCounts(s, counts(12_000, 9_000), 2000);
  assert.equal(s.rxBytesPerSec, 2000, '2000 B in 1 s');
  assert.equal(s.txBytesPerSec, 4000);
  // macOS 26 truncates third-party interface counters to 32 bits: they can appear to fall.
  applyCounts(s, counts(100, 50), 3000);
  assert.equal(s.rxBytesPerSec, 0);
  assert.equal(s.txBytesPerSec, 0);
});

function quietKernel(): { k: ScriptedKernel; polls: () => number } {
  const k = new ScriptedKernel(D13);
  let polls = 0;
  k.respond = (req, kk) => {
    if (req.kind === 'addAllSrcs' || req.kind === 'getUpdate') {
      if (req.kind === 'getUpdate') polls++;
      kk.push(encodeMessage(D13, { kind: 'success', context: req.context, flags: 0 }));
    }
  };
  return { k, polls: () => polls };
}

test('compat configure(tcp, udp, seconds): the interval is in seconds (mock timers: simulated time)', async () => {
  // Node 20.20 takes { apis } (the bundled @types/node 20.9 still describes the older array form).
  (mock.timers.enable as unknown as (o: { apis: string[] }) => void)({ apis: ['setInterval'] });
  try {
    const { k, polls } = quietKernel();
    const c = createNetworkStatisticsClient({ onStreamAdded() {}, onStreamRemoved() {}, onStreamStatsUpdate() {} }, { transport: new MemoryTransport(k), dialect: D13 });
    c.configure(true, false, 2);
    assert.equal(await c.connectToKernel(), true, String(c.lastError()));
    await new Promise((r) => setImmediate(r));
    const first = polls(); // the sweep at connect
    mock.timers.tick(1999);
    await new Promise((r) => setImmediate(r));
    assert.equal(polls(), first, 'no poll before 2 s');
    mock.timers.tick(1);
    await new Promise((r) => setImmediate(r));
    assert.equal(polls(), first + 1, 'one poll at 2 s');
    mock.timers.tick(2000);
    await new Promise((r) => setImmediate(r));
    assert.equal(polls(), first + 2, 'and every 2 s');
    c.stop();
  } finally {
    mock.timers.reset();
  }
});

test('compat run() ends when the kernel closes the socket (and the client is no longer connected)', async () => {
  const { k } = quietKernel();
  const c = createNetworkStatisticsClient({ onStreamAdded() {}, onStreamRemoved() {}, onStreamStatsUpdate() {} }, { transport: new MemoryTransport(k), dialect: D13 });
  c.configure(true, false, 3600);
  assert.equal(await c.connectToKernel(), true);
  let ended = false;
  const run = c.run().then(() => (ended = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(ended, false, 'run() waits while the kernel is there');
  k.kernelClose();
  await run;
  assert.equal(ended, true);
  assert.equal(c.isConnected(), false);
});

test('a live kernel closing the socket is an error (ERR_NTSTAT_TRANSPORT, the CLI exits 1); a replay reaching its end is not', async () => {
  const { k } = quietKernel();
  const client = new NetworkStatisticsClient({ transport: new MemoryTransport(k), dialect: D13, interval: 0, providers: ['tcp'] });
  const errors: unknown[] = [];
  client.on('error', (e) => errors.push(e));
  await client.connect();
  k.kernelClose();
  await client.closed();
  assert.equal(client.state, 'closed');
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof NtstatError && errors[0].code === 'ERR_NTSTAT_TRANSPORT', String(errors[0]));
  const replay = new NetworkStatisticsClient({ transport: new ReplayTransport([]), dialect: D13, passive: true, interval: 0 });
  const replayErrors: unknown[] = [];
  replay.on('error', (e) => replayErrors.push(e));
  await replay.connect();
  await replay.closed();
  assert.deepEqual(replayErrors, []);
});
