/**
 * The replay I/O path (issue 17): chunked file reads (FileWindow, both capture readers), replay
 * pacing with setImmediate, and buffered stdout. Expected values are the bytes the tests write.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, mock, test } from 'node:test';
import { NtstatError } from '../src/errors.js';
import { FileWindow, FILE_CHUNK_BYTES } from '../src/transport/file-window.js';
import { encodeLibntstatRecord, parseLibntstat, readLibntstatFile } from '../src/transport/libntstat-reader.js';
import { Direction, NtcapWriter, openNtcapFile } from '../src/transport/ntcap.js';
import { ReplayTransport, type ReplayRecord } from '../src/transport/replay.js';
import { BufferedOutput, OUTPUT_FLUSH_BYTES } from '../src/cli/buffered-output.js';
import { ByteSink } from '../src/cli/byte-sink.js';
import { aggregate, encodeMessage } from '../src/protocol/encode.js';
import { providerId } from '../src/protocol/constants.js';
import { dialectFor } from '../src/protocol/dialect.js';
import { main } from '../src/cli/main.js';
import { clock, formatLogEvent, formatLogText } from '../src/cli/format-log.js';
import { applyCounts, applyDescriptor, newStream } from '../src/model/stream.js';
import { applyDomain } from '../src/model/domain.js';
import type { Descriptor } from '../src/protocol/messages.js';
import { concat } from './helpers/facts.js';
import { counts, sessionRecording } from './helpers/recording.js';
import { decodeDatagram } from '../src/protocol/decode.js';
import { planFor } from '../src/protocol/plan.js';
import { hasReply } from '../src/cli/replay-initial.js';

const dir = mkdtempSync(join(tmpdir(), 'ntstat-replay-io-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Record i: (i * 7919) % 1500 bytes, each byte (i + j) & 0xff: sizes vary, contents are known. */
function payload(i: number): Uint8Array {
  const n = (i * 7919) % 1500;
  const b = new Uint8Array(n);
  for (let j = 0; j < n; j++) b[j] = (i + j) & 0xff;
  return b;
}

test('FileWindow: any chunk size returns the file bytes; views stay valid after later reads; short at EOF', () => {
  const bytes = new Uint8Array(10_000).map((_, i) => (i * 31 + 7) & 0xff);
  const file = join(dir, 'window.bin');
  writeFileSync(file, bytes);
  for (const chunk of [1, 3, 7, 64, 4096, FILE_CHUNK_BYTES]) {
    const fd = openSync(file, 'r');
    try {
      const w = new FileWindow(fd, bytes.length, chunk);
      const views: [number, Uint8Array][] = [];
      for (let at = 0, k = 0; at < bytes.length; k++) {
        const len = Math.min((k * 37) % 200, bytes.length - at);
        const v = w.read(at, len);
        assert.equal(v.length, len);
        views.push([at, v]);
        at += len || 1;
      }
      for (const [at, v] of views) assert.deepEqual(v, bytes.subarray(at, at + v.length), `chunk ${chunk} offset ${at}`);
      // Backwards and past the end.
      assert.deepEqual(w.read(5, 10), bytes.subarray(5, 15));
      assert.equal(w.read(bytes.length - 4, 100).length, 4);
    } finally {
      closeSync(fd);
    }
  }
});

test('readLibntstatFile: a multi-chunk recording (records straddling chunk boundaries) yields every record intact; a torn tail is still a typed error', () => {
  const n = 3000; // ~2.2 MiB: crosses the 1 MiB chunk boundary twice
  const file = join(dir, 'big.libntstat');
  const bytes = concat(...Array.from({ length: n }, (_, i) => encodeLibntstatRecord(1_700_000_000 + i, payload(i))));
  assert.ok(bytes.length > 2 * FILE_CHUNK_BYTES);
  writeFileSync(file, bytes);
  const held: Uint8Array[] = [];
  let i = 0;
  let offset = 0;
  for (const r of readLibntstatFile(file)) {
    assert.equal(r.time, 1_700_000_000 + i);
    assert.equal(r.offset, offset);
    held.push(r.data);
    offset += 8 + r.data.length;
    i++;
  }
  assert.equal(i, n);
  // Records handed out earlier are still the right bytes after the whole file was read.
  for (let k = 0; k < n; k++) assert.deepEqual(held[k], payload(k), `record ${k}`);
  writeFileSync(file, bytes.subarray(0, bytes.length - 3));
  assert.throws(() => [...readLibntstatFile(file)], (e: unknown) => e instanceof NtstatError && e.code === 'ERR_NTSTAT_CAPTURE' && /truncated/.test(e.message));
});

test('openNtcapFile: a multi-chunk capture yields every record intact, and a torn tail is reported', () => {
  const file = join(dir, 'big.ntcap');
  const n = 3000;
  const w = new NtcapWriter(file, { xnu: '10002.1.13', dialect: 'd10002', simulated: true });
  for (let i = 0; i < n; i++) w.write(i % 3 === 0 ? Direction.ToKernel : Direction.FromKernel, payload(i), false, BigInt(i) * 1000n);
  w.close();
  const r = openNtcapFile(file);
  const held: Uint8Array[] = [];
  for (const rec of r.records()) {
    assert.equal(rec.timeNs, BigInt(held.length) * 1000n);
    held.push(rec.data);
  }
  r.close();
  assert.equal(held.length, n);
  for (let k = 0; k < n; k++) assert.deepEqual(held[k], payload(k), `record ${k}`);
  const whole = new Uint8Array(readFileSync(file));
  writeFileSync(file, whole.subarray(0, whole.length - 2));
  const torn = openNtcapFile(file);
  assert.equal([...torn.records()].length, n - 1);
  assert.equal(torn.tornTail?.bytes, 16 + payload(n - 1).length - 2);
  torn.close();
});

test('ReplayTransport at speed 0 never waits on a timer (setImmediate pacing): every record arrives with setTimeout frozen', async () => {
  // Node 20.20 takes { apis } (the installed @types/node 20.9 still describes the older array form).
  (mock.timers as unknown as { enable(o: { apis: string[] }): void }).enable({ apis: ['setTimeout'] });
  try {
    const records: ReplayRecord[] = Array.from({ length: 1000 }, (_, i) => ({ time: i, data: payload(i + 1), offset: i }));
    const got: number[] = [];
    let closed = false;
    const t = new ReplayTransport(records, { batch: 16 });
    t.start({ onDatagram: (d) => got.push(d.length), onClose: () => (closed = true) });
    // Bounded by event-loop turns (1000 records / 16 per turn), not by time: a setTimeout-paced
    // transport delivers one batch and then stalls here.
    for (let turn = 0; turn < 200 && !closed; turn++) await new Promise((r) => setImmediate(r));
    assert.ok(closed, `stalled after ${got.length} records`);
    assert.deepEqual(got, records.map((r) => r.data.length));
  } finally {
    mock.timers.reset();
  }
});

test('BufferedOutput: one write per event-loop turn, immediately past the limit, and flush() empties it', async () => {
  const writes: string[] = [];
  const out = new BufferedOutput({ write: (s: string) => writes.push(s) }, 100);
  out.write('a\n');
  out.write('b\n');
  assert.deepEqual(writes, []);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(writes, ['a\nb\n']);
  out.write('x'.repeat(150));
  assert.deepEqual(writes, ['a\nb\n', 'x'.repeat(150)]);
  out.write('c\n');
  out.flush();
  assert.deepEqual(writes.at(-1), 'c\n');
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.length, 3);
});

test('replay log output larger than the output buffer is complete and in order (header line first, one line per added source)', async () => {
  const d = dialectFor('10002.1.13');
  const tcp = providerId(d, 'tcp')!;
  const n = 2000;
  const recs: Uint8Array[] = [];
  for (let i = 1; i <= n; i++) {
    const base = { context: 0n, flags: 0, srcref: BigInt(i), provider: tcp };
    recs.push(encodeLibntstatRecord(1_700_000_000, encodeMessage(d, { ...base, kind: 'srcAdded' })));
    const descriptor = { local: { family: 4 as const, address: '10.0.0.1', port: i }, remote: { family: 4 as const, address: '10.0.0.2', port: 443 }, pid: i, pname: 'p', state: 4 };
    recs.push(encodeLibntstatRecord(1_700_000_000, encodeMessage(d, { ...base, kind: 'srcDesc', eventFlags: 0n, descriptor })));
  }
  const file = join(dir, 'many.libntstat');
  writeFileSync(file, concat(...recs));
  let out = '';
  let writes = 0;
  const io = { stdout: { write: (s: string) => ((out += s), writes++) }, stderr: { write: () => true }, env: {}, platform: 'linux' as const };
  assert.equal(await main(['replay', file, '--xnu', '10002.1.13', '--utc'], io), 0);
  const lines = out.trimEnd().split('\n');
  assert.equal(lines[0], 'XNU version:10002.1.13');
  assert.equal(lines.length, n + 1);
  for (let i = 1; i <= n; i++) assert.equal(lines[i], ` + 22:13:20 TCP 10.0.0.1 ${i} - 10.0.0.2 443 pid:${i} (p)`);
  assert.ok(out.length > OUTPUT_FLUSH_BYTES);
  assert.ok(writes < n / 10, `${writes} writes for ${n} lines: output is not buffered`);
});

test('log clock text is right across second boundaries and zones (memoised per second)', () => {
  const T0 = 1_700_000_000_000; // 2023-11-14T22:13:20Z
  const seq: [number, string][] = [[T0, '22:13:20'], [T0 + 999, '22:13:20'], [T0 + 1000, '22:13:21'], [T0 - 1, '22:13:19'], [T0 + 3_600_000, '23:13:20'], [T0, '22:13:20']];
  for (const [t, want] of seq) {
    const local = new Date(t);
    const two = (n: number) => String(n).padStart(2, '0');
    assert.equal(clock(t, false), `${two(local.getHours())}:${two(local.getMinutes())}:${two(local.getSeconds())}`);
    assert.equal(clock(t, true), want);
  }
});

test('replay initial phase: a record the header scan passes over never decodes to a SUCCESS or ERROR (every era, aggregated, mutated)', () => {
  // The tracker decodes only records hasReply() flags; the reference is the full decoder.
  let flagged = 0;
  let replies = 0;
  let seed = 17;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / (1 << 24);
  for (const xnu of ['2422.1.72', '3248.60.10', '3789.70.16', '4570.71.2', '7195.141.2', '10002.41.9', '11417.121.6']) {
    const d = dialectFor(xnu, 'xnu');
    const hdr = planFor(d).hdrSize;
    const records = [...parseLibntstat(sessionRecording(d))].map((r) => r.data);
    if (d.hasLength) {
      const ok = encodeMessage(d, { kind: 'success', context: 5n, flags: 0 });
      const err = encodeMessage(d, { kind: 'error', context: 6n, flags: 0, errno: 35 });
      const upd = records[2];
      records.push(aggregate(d, [upd, upd, ok]), aggregate(d, [err, upd]), aggregate(d, [upd, upd, upd]));
    }
    const cases = [...records];
    for (const r of records) {
      for (let k = 0; k < 60; k++) {
        const m = r.slice();
        for (let j = 0; j < 1 + Math.floor(rnd() * 3); j++) m[Math.floor(rnd() * m.length)] = rnd() < 0.5 ? Math.floor(rnd() * 256) : 0;
        cases.push(rnd() < 0.2 ? m.subarray(0, Math.floor(rnd() * m.length)) : m);
      }
    }
    for (const data of cases) {
      let kinds: string[];
      try {
        kinds = decodeDatagram(data, d, { unknownTypes: 'skip' }).map((m) => m.kind);
      } catch {
        continue; // the tracker ignores records that do not decode
      }
      const reply = kinds.includes('success') || kinds.includes('error');
      if (reply) replies++;
      if (hasReply(data, d.hasLength, hdr)) flagged++;
      else assert.ok(!reply, `xnu-${xnu}: skipped a record holding ${kinds.join(',')}`);
    }
  }
  assert.ok(replies >= 20, `${replies} records with replies were checked`);
  assert.ok(flagged < 0.5 * 7 * 60 * 12, `${flagged} records flagged: the scan should skip most records`);
});

test('log lines: a stream whose summary changes between events is described afresh (the per-stream text cache)', () => {
  const d = dialectFor('10002.1.13');
  const tcp = providerId(d, 'tcp')!;
  const s = newStream(d, 42n, tcp, 0);
  const base = { local: { family: 4 as const, address: '10.0.0.1', port: 5000 }, remote: { family: 4 as const, address: '10.0.0.2', port: 443 }, pid: 10, pname: 'one', state: 4, ifnetProperties: 8 };
  // Each step changes one thing of the previous descriptor (equal endpoints keep their identity).
  let cur: Descriptor = { ...base };
  const set = (change: Partial<Descriptor>) => () => applyDescriptor(d, s, (cur = { ...cur, ...change }));
  const steps: [string, () => void, string?][] = [
    ['first', set({})],
    ['same again', set({})],
    ['local port', set({ local: { ...base.local, port: 5001 } })],
    ['remote address', set({ remote: { ...base.remote, address: '10.0.0.3' } })],
    ['pid', set({ pid: 11 })],
    ['process name with a control character', set({ pname: 'tw\u0007o' })],
    ['no remote', set({ remote: { family: 4 as const, address: '0.0.0.0', port: 0 } })],
    ['domain', () => applyDomain(s, [{ type: 1, length: 0, data: new Uint8Array(0), domain: { domainName: 'example.com' } } as never])],
    ['remote host', () => undefined, 'host.example'],
    ['no remote host', () => undefined],
    ['counts', () => applyCounts(s, counts({ txBytes: 5, rxBytes: 7, txPackets: 1, rxPackets: 2, wifiTxBytes: 5 }), 1)],
  ];
  for (const [what, step, host] of steps) {
    step();
    if (what.startsWith('process name')) assert.match(formatLogText({ event: 'added', time: 0, stream: s }, { utc: true }), /pid:11 \(tw\\x07o\)\n$/);
    for (const event of ['added', 'update', 'removed'] as const) {
      const opts = { utc: true, ...(host ? { remoteHost: host } : {}) };
      // A copy is a stream the cache has never seen: its text is built from scratch.
      assert.equal(formatLogText({ event, time: 0, stream: s }, opts), formatLogText({ event, time: 0, stream: { ...s } }, opts), `${what}: ${event}`);
      assert.deepEqual(formatLogEvent({ event, time: 0, stream: s }, opts), formatLogText({ event, time: 0, stream: s }, opts).trimEnd().split('\n'));
    }
  }
  assert.match(formatLogText({ event: 'update', time: 0, stream: s }, { utc: true }), /^# 00:00:00 TCP 10\.0\.0\.1 5001 - - 0 pid:11 \(tw\\x07o\) domain:example\.com\n {2}bytes \(tx\/rx\):5\/7 {2}packets:1\/2 wifi\n$/);
});

test('ByteSink.number writes what `${n}` writes (digits for safe integers, String() otherwise)', () => {
  const w = new ByteSink(4);
  const values = [0, -0, 1, 9, 10, 99, 100, 101, 999_999, 1_000_000, 4294967295, 4294967296, 2 ** 52, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 1e21, 1.5, -1, -12345, NaN, Infinity];
  let seed = 3;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    values.push(Math.floor((seed / 2 ** 32) * 10 ** (i % 17)));
  }
  for (const n of values) {
    w.clear();
    w.number(n);
    assert.equal(w.toString(), `${n}`, String(n));
  }
});

test('BufferedOutput: text and encoded bytes come out in the order written, as bytes (writeBytes) or as text; chunks handed out are never reused', async () => {
  const pieces: [kind: 'text' | 'bytes', s: string][] = [];
  for (let i = 0; i < 400; i++) pieces.push([i % 3 === 0 ? 'text' : 'bytes', `${i} é→${'x'.repeat(i % 50)}\n`]);
  const expected = pieces.map(([, s]) => s).join('');
  for (const withBytes of [false, true]) {
    // Both kinds of write go to one stdout, in call order: one ordered log of what arrived.
    const arrived: string[] = [];
    const chunks: Uint8Array[] = [];
    const copies: Uint8Array[] = [];
    const onBytes = (b: Uint8Array) => {
      chunks.push(b);
      copies.push(b.slice());
      arrived.push(new TextDecoder().decode(b));
    };
    const out = new BufferedOutput({ write: (s: string) => arrived.push(s) }, 1000, withBytes ? onBytes : undefined);
    for (const [kind, s] of pieces) {
      if (kind === 'text') out.write(s);
      else {
        out.bytes().text(s);
        out.written();
      }
      if (Math.random() < 0.05) await new Promise((r) => setImmediate(r));
    }
    out.flush();
    const got = arrived.join('');
    if (withBytes) {
      assert.ok(chunks.length > 5, `${chunks.length} chunks`);
      assert.deepEqual(chunks, copies, 'a chunk changed after it was handed out');
    }
    assert.equal(got, expected);
  }
});
