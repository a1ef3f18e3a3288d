import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Direction, NtcapWriter, encodeNtcapPreamble, encodeNtcapRecord, openNtcapFile, parseNtcap, NTCAP_MAX_RECORD } from '../src/transport/ntcap.js';
import { NtstatError } from '../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ntcap-'));

function bytes(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

function build(records: [number, Uint8Array][]): Uint8Array {
  const parts = [encodeNtcapPreamble({ xnu: '4570.1.46', dialect: 'd4570' }), ...records.map(([d, b], i) => encodeNtcapRecord(d as 0 | 1, BigInt(i) * 1_000_000_000n, b))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

test('writer then reader: header and every record round-trip, in order, with direction and time', () => {
  const file = join(dir, 'rt.ntcap');
  const w = new NtcapWriter(file, { xnu: '10002.41.9', dialect: 'd10002', simulated: true }, 100);
  const recs = [bytes(16, 1), bytes(4096, 2), bytes(40, 3), bytes(65535, 4)];
  recs.forEach((r, i) => w.write(i % 2 === 0 ? Direction.FromKernel : Direction.ToKernel, r, i === 2, 1000n + BigInt(i)));
  w.close();
  const r = openNtcapFile(file);
  assert.equal(r.header.xnu, '10002.41.9');
  assert.equal(r.header.simulated, true);
  assert.deepEqual(r.version, { major: 1, minor: 0 });
  const got = [...r.records()];
  r.close();
  assert.equal(got.length, 4);
  got.forEach((g, i) => {
    assert.deepEqual(g.data, recs[i]);
    assert.equal(g.direction, i % 2 === 0 ? 0 : 1);
    assert.equal(g.timeNs, 1000n + BigInt(i));
    assert.equal(g.truncated, i === 2);
  });
  assert.equal(r.tornTail, undefined);
});

test('preamble bytes follow docs/capture-format.md exactly', () => {
  const p = encodeNtcapPreamble({ xnu: 'x' });
  assert.deepEqual([...p.subarray(0, 8)], [0x4e, 0x54, 0x43, 0x41, 0x50, 0x00, 1, 0]);
  const json = '{"xnu":"x"}';
  assert.equal(new DataView(p.buffer).getUint32(8, true), json.length);
  assert.equal(new TextDecoder().decode(p.subarray(12)), json);
  const rec = encodeNtcapRecord(1, 0x0102030405060708n, Uint8Array.of(9, 9), true);
  assert.deepEqual([...rec], [0xd7, 1, 1, 0, 2, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1, 9, 9]);
});

test('a file cut anywhere inside the last record yields every complete record and reports the torn tail', () => {
  const full = build([[0, bytes(100, 1)], [0, bytes(200, 2)], [1, bytes(30, 3)]]);
  const lastStart = full.length - (16 + 30);
  for (let cut = lastStart + 1; cut < full.length; cut++) {
    const r = parseNtcap(full.subarray(0, cut));
    const got = [...r.records()];
    assert.equal(got.length, 2, `cut at ${cut}`);
    assert.ok(r.tornTail, `torn tail reported at cut ${cut}`);
    assert.equal(r.tornTail!.offset, lastStart);
  }
  const whole = parseNtcap(full);
  assert.equal([...whole.records()].length, 3);
  assert.equal(whole.tornTail, undefined);
});

function expectCapture(fn: () => unknown, re: RegExp, withOffset = true) {
  assert.throws(fn, (e: unknown) => e instanceof NtstatError && e.code === 'ERR_NTSTAT_CAPTURE' && re.test(e.message) && (!withOffset || typeof e.offset === 'number'));
}

test('corrupt files are typed errors with offsets, never allocations of what the file does not hold', () => {
  const good = build([[0, bytes(10, 1)]]);
  expectCapture(() => parseNtcap(good.subarray(0, 5)), /shorter than/);
  const badMagic = good.slice();
  badMagic[0] = 0x41;
  expectCapture(() => parseNtcap(badMagic), /magic/);
  const major = good.slice();
  major[6] = 2;
  expectCapture(() => parseNtcap(major), /major version 2/);
  const hugeHeader = good.slice();
  new DataView(hugeHeader.buffer).setUint32(8, 0xffffffff, true);
  expectCapture(() => parseNtcap(hugeHeader), /header length/);
  const badJson = encodeNtcapPreamble({ xnu: 'x' });
  badJson[12] = 0x7b + 1;
  expectCapture(() => parseNtcap(badJson), /JSON/);
  expectCapture(() => parseNtcap(encodeNtcapPreamble({ xnu: 3 } as never)), /xnu/);
  // A 4 GB length field in a record: rejected without allocating it.
  const huge = good.slice();
  const recAt = good.length - 26;
  new DataView(huge.buffer).setUint32(recAt + 4, 0xfffffff0, true);
  expectCapture(() => [...parseNtcap(huge).records()], /exceeds the/);
  const mark = good.slice();
  mark[recAt] = 0;
  expectCapture(() => [...parseNtcap(mark).records()], /marker/);
  assert.throws(() => encodeNtcapRecord(0, 0n, new Uint8Array(NTCAP_MAX_RECORD + 1)), NtstatError);
});

test('the writer never overwrites an existing file and flushes whole records', () => {
  const file = join(dir, 'exists.ntcap');
  writeFileSync(file, 'keep');
  expectCapture(() => new NtcapWriter(file, { xnu: 'x' }), /exists/, false);
  assert.equal(readFileSync(file, 'utf8'), 'keep');
  const f2 = join(dir, 'flush.ntcap');
  const w = new NtcapWriter(f2, { xnu: '4570.1.46' }, 1 << 20);
  w.write(0, bytes(10, 1));
  const sizeBuffered = statSync(f2).size;
  w.flush();
  assert.equal(statSync(f2).size, sizeBuffered + 26);
  w.close();
});
