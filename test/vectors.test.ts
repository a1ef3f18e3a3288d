/**
 * Issue 13 §4: vectors made independently of src/, for every dialect family, run through the real
 * client. test/vectors/make-vectors.c (own struct definitions in layouts.h, sizes and offsets
 * pinned by _Static_assert to the layout facts) writes a complete kernel session per family
 * (sessions.txt, committed): the replies to the client's subscribe + sweeps (SRC_ADDED walk before
 * 10.11, aggregated SRC_UPDATEs and CONTINUATION after, SUCCESS/ERROR with the request's context,
 * a goodbye and SRC_REMOVED), and a recorded non-update-mode subscriber (SRC_ADDED, aggregated
 * SRC_COUNTS/SRC_DESC, CLOSING goodbye) replayed to a passive client.
 *  - the committed bytes are regenerated with the system C compiler and must be identical;
 *  - the streams and events must equal the values written here by hand (the C program's inputs);
 *  - every field the C program wrote must come back in the stream's descriptor or counts, so a
 *    field offset that moves in src/protocol fails here (the want lines name the field).
 * The real macOS 27 bytes of REAL-CAPTURES.md (p27) are run through the client in
 * test/unverified-kernels.test.ts; macOS 26 (p26) shares the 15.x structs and is run here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NetworkStatisticsClient } from '../src/client/client.js';
import type { Stream } from '../src/model/stream.js';
import { dialectFor } from '../src/protocol/index.js';
import { MemoryTransport } from '../src/transport/memory.js';
import { ReplayTransport } from '../src/transport/replay.js';
import { settle } from './helpers/client-sim.js';
import * as H from './helpers/facts.js';
import { VectorKernel, loadSessions, recordBytes, type VectorFamily, type VectorSession } from './helpers/vector-session.js';

const DIR = resolve(fileURLToPath(import.meta.url), '../../../test/vectors');
const SESSIONS = join(DIR, 'sessions.txt');
const FAMILIES = loadSessions(SESSIONS);

// ---------------------------------------------------------------------------------------------
// The bytes are the C program's

const CC = process.env.CC ?? 'cc';
const HAVE_CC = spawnSync(CC, ['--version'], { stdio: 'ignore' }).status === 0;
const ccSkip = HAVE_CC || process.env.CI === 'true' ? {} : { skip: `no C compiler (${CC}); .ci/run installs build-essential and CI=true makes its absence a failure` };

test('sessions.txt is exactly what make-vectors.c writes (compiled here; its _Static_asserts pin every struct)', ccSkip, () => {
  assert.ok(HAVE_CC, `CI=true: a C compiler (${CC}) must be installed`);
  const tmp = mkdtempSync(join(tmpdir(), 'ntstat-vectors-'));
  try {
    const exe = join(tmp, 'make-vectors');
    const cc = spawnSync(CC, ['-std=c11', '-Wall', '-Wextra', '-Werror', '-O1', '-I', DIR, '-o', exe, join(DIR, 'make-vectors.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, `compile failed:\n${cc.stderr}`);
    const run = spawnSync(exe, { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(run.status, 0, run.stderr);
    assert.ok(run.stdout === readFileSync(SESSIONS, 'utf8'), 'sessions.txt differs from the program output: regenerate with `cc -std=c11 -I test/vectors test/vectors/make-vectors.c -o /tmp/mv && /tmp/mv > test/vectors/sessions.txt`');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('there is a session for every dialect family of LAYOUTS.md', H.needsFacts(), () => {
  const F = H.mustFacts();
  assert.deepEqual(FAMILIES.map((f) => f.name).sort(), F.dialects.map((d) => d.name).sort());
  for (const f of FAMILIES) assert.equal(F.versions.find((v) => v.xnu === f.xnu)?.dialect, f.name, `xnu-${f.xnu} belongs to ${f.name}`);
});

// ---------------------------------------------------------------------------------------------
// What the client must report, by hand from make-vectors.c's world (make_world / advance_world)

interface Hand {
  provider: 'tcp' | 'udp';
  pid: number;
  process: string;
  local: string;
  remote?: string;
  state?: string;
  listener: boolean;
  /** rxPackets, rxBytes, txPackets, txBytes at the end */
  counts: [number, number, number, number];
  /** Interface kind from ifnet_properties (10.11 on). */
  iface: string;
}
const HAND: Record<string, Hand> = {
  '1': { provider: 'tcp', pid: 4242, process: 'curl', local: '192.168.1.20:53012', remote: '93.184.216.34:443', state: 'ESTABLISHED', listener: false, counts: [30, 45000, 20, 2400], iface: 'wifi' },
  '2': { provider: 'tcp', pid: 311, process: 'Safari', local: '[2001:db8:1::20]:50001', remote: '[2606:2800:220:1::1]:443', state: 'TIME_WAIT', listener: false, counts: [75, 91000, 40, 6000], iface: 'wired' },
  '3': { provider: 'tcp', pid: 122, process: 'sshd', local: '0.0.0.0:22', state: 'LISTEN', listener: true, counts: [0, 0, 0, 0], iface: 'unknown' },
  '4': { provider: 'udp', pid: 700, process: 'ntpd', local: '192.168.1.20:123', remote: '17.253.34.123:123', listener: false, counts: [4, 304, 5, 380], iface: 'wifi' },
  '5': { provider: 'udp', pid: 88, process: 'mDNSResponder', local: '[::]:5353', listener: false, counts: [31, 9300, 7, 1500], iface: 'unknown' },
};

function ep(e: Stream['local']): string | undefined {
  if (!e) return undefined;
  return e.family === 6 ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

function summary(s: Stream, withIface: boolean): Hand {
  const c = s.counts;
  return {
    provider: s.provider as 'tcp' | 'udp',
    pid: s.pid!,
    process: s.process!,
    local: ep(s.local)!,
    ...(s.remote ? { remote: ep(s.remote) } : {}),
    ...(s.state !== undefined ? { state: s.state } : {}),
    listener: s.listener,
    counts: c ? [c.rxPackets, c.rxBytes, c.txPackets, c.txBytes] : [0, 0, 0, 0],
    iface: withIface ? s.interface : 'unknown',
  };
}

function hand(id: string, withIface: boolean): Hand {
  return { ...HAND[id], iface: withIface ? HAND[id].iface : 'unknown' };
}

/** The value a want line names, as the stream model holds it. */
function expected(v: string): unknown {
  const [kind, rest] = [v.slice(0, 2), v.slice(2)];
  if (v === 'none') return undefined;
  if (kind === 'n:') return Number(rest);
  if (kind === 's:' || kind === 'u:') return rest;
  if (kind === 'e:') {
    const [family, address, port] = rest.split('/');
    return { family: Number(family), address, port: Number(port) };
  }
  if (kind === 'a:') {
    const [start, bits] = rest.split('/');
    return { start: Number(start), bits };
  }
  throw new Error(`unknown want value ${v}`);
}

/** Every field the C program wrote, read back from the streams (the last value written wins). */
function checkEveryField(session: VectorSession, streams: Map<string, Stream>, label: string): number {
  let n = 0;
  for (const [key, v] of session.wants) {
    const [id, part, field] = key.split(' ');
    const s = streams.get(id);
    assert.ok(s, `${label}: stream ${id}`);
    const holder = (part === 'desc' ? s.descriptor : s.counts) as Record<string, unknown> | undefined;
    assert.ok(holder, `${label}: stream ${id} has ${part}`);
    assert.deepEqual(holder[field], expected(v), `${label}: stream ${id} ${part}.${field}`);
    n++;
  }
  return n;
}

const hasIfprops = (f: VectorFamily): boolean => !['d1699', 'd2050', 'd2422', 'd2782'].includes(f.name);
const hasLength = (f: VectorFamily): boolean => !['d1699', 'd2050', 'd2422', 'd2782'].includes(f.name);

interface Seen {
  added: Stream[];
  updates: Stream[];
  removed: Stream[];
  drops: unknown[];
  errors: unknown[];
  kernelErrors: number[];
}

function watch(client: NetworkStatisticsClient): Seen {
  const seen: Seen = { added: [], updates: [], removed: [], drops: [], errors: [], kernelErrors: [] };
  client.on('added', (s) => seen.added.push(structuredClone(s)));
  client.on('update', (s) => seen.updates.push(structuredClone(s)));
  client.on('removed', (s) => seen.removed.push(structuredClone(s)));
  client.on('drop', (d) => seen.drops.push(d));
  client.on('error', (e) => seen.errors.push(e));
  client.on('kernelError', (m) => seen.kernelErrors.push(m.errno));
  return seen;
}

/** The versions a family's bytes are served as: its first tag, and for d10002 also 14 and macOS 26 (same structs). */
function versionsOf(f: VectorFamily): string[] {
  return f.name === 'd10002' ? [f.xnu, '10002.1.13', '12377.1.9'] : [f.xnu];
}

for (const fam of FAMILIES) {
  describe(`family ${fam.name}`, () => {
    for (const xnu of versionsOf(fam)) {
      test(`xnu-${xnu}: the client's own session (subscribe, two sweeps, a goodbye) gives the hand-written streams and every field`, async () => {
        const dialect = dialectFor(xnu);
        const kernel = new VectorKernel(fam, hasLength(fam));
        let now = 1000;
        const client = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel), dialect, interval: 0, selfTest: 'never', clock: () => now, requestTimeout: 5000 });
        const seen = watch(client);
        await client.connect();
        // connect() starts the first sweep (the initial sources); sweep() joins it.
        assert.equal(await client.sweep(), true, 'first sweep completes');
        await settle();
        const first = new Map(client.snapshot().map((s) => [s.id, structuredClone(s)] as const));
        now += 1000;
        assert.equal(await client.sweep(), true, 'second sweep completes');
        await settle();
        client.stop();
        await client.closed();
        assert.deepEqual(kernel.violations, [], 'requests as the C structs define them');
        const polls = hasLength(fam) ? (fam.name === 'd10002' ? 3 : 2) : 4;
        assert.equal(kernel.seen.filter((s) => s.startsWith('poll')).length, polls, kernel.seen.join(', '));
        assert.deepEqual(seen.errors, []);
        assert.deepEqual(seen.drops, [], 'a 5-source chunk on macOS 15, an empty final chunk and a goodbye are not losses');
        // Added: all five, once each, at their first description (the first sweep).
        assert.deepEqual(seen.added.map((s) => s.id).sort(), ['1', '2', '3', '4', '5']);
        assert.deepEqual([...first.keys()].sort(), ['1', '2', '3', '4', '5']);
        assert.equal(first.get('1')!.state, 'SYN_SENT', 'curl was connecting at the first sweep');
        assert.deepEqual(first.get('1')!.counts && [first.get('1')!.counts!.connectAttempts, first.get('1')!.counts!.connectSuccesses], [1, 0]);
        // Removed: Safari, with its goodbye's values.
        assert.deepEqual(seen.removed.map((s) => s.id), ['2']);
        const streams = new Map<string, Stream>([...client.snapshot().map((s) => [s.id, s] as const), ['2', seen.removed[0]]]);
        assert.deepEqual([...streams.keys()].sort(), ['1', '2', '3', '4', '5']);
        for (const [id, s] of streams) assert.deepEqual(summary(s, hasIfprops(fam)), hand(id, hasIfprops(fam)), `stream ${id}`);
        assert.ok(seen.updates.some((s) => s.id === '1' && s.counts?.rxBytes === 45000), 'curl updated with its new counters');
        const n = checkEveryField(fam.active, streams, `xnu-${xnu}`);
        assert.ok(n >= 5 * 20, `${n} fields checked`);
      });
    }

    test(`xnu-${fam.xnu}: a recorded non-update-mode subscriber replayed to a passive client`, async () => {
      const records = [...fam.passive.steps.values()].flatMap((s) => s.records).map((r, i) => ({ time: 1000 + i, data: recordBytes(r), offset: 0 }));
      const t = new ReplayTransport(records);
      const client = new NetworkStatisticsClient({ transport: t, dialect: dialectFor(fam.xnu), passive: true, interval: 0, selfTest: 'never', clock: () => t.now });
      const seen = watch(client);
      await client.connect();
      await client.closed();
      assert.deepEqual(seen.errors, []);
      assert.deepEqual(seen.drops, []);
      assert.deepEqual(seen.added.map((s) => s.id).sort(), ['1', '2', '3', '4', '5']);
      assert.deepEqual(seen.removed.map((s) => s.id), ['2']);
      const latest = new Map<string, Stream>();
      for (const s of [...seen.added, ...seen.updates, ...seen.removed]) latest.set(s.id, s);
      for (const [id, s] of latest) assert.deepEqual(summary(s, hasIfprops(fam)), hand(id, hasIfprops(fam)), `stream ${id}`);
      checkEveryField(fam.passive, latest, `xnu-${fam.xnu} passive`);
    });
  });
}
