/**
 * Malformed input: every class of bad datagram yields NtstatError('ERR_NTSTAT_MALFORMED') with a
 * numeric byte offset (never RangeError/TypeError, never a hang); out-of-range u64 counters yield
 * ERR_NTSTAT_RANGE. A fast-check property throws random bytes and mutated golden datagrams of
 * every layout family at the decoder.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FUZZ_SEED, fuzzParams } from './helpers/seed.js';
import { NtstatError } from '../src/errors.js';
import { allDialects, decodeDatagram, type Dialect, type Message } from '../src/protocol/index.js';
import * as H from './helpers/facts.js';

function dialectOf(v: H.JVersion): Dialect {
  const d = allDialects().find((x) => x.xnu === v.xnu);
  assert.ok(d, `no dialect for xnu-${v.xnu}`);
  return d;
}

function expectError(fn: () => unknown, code: 'ERR_NTSTAT_MALFORMED' | 'ERR_NTSTAT_RANGE', offset?: number, what = ''): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `${what}: expected ${code}, decoded without error`);
  assert.ok(thrown instanceof NtstatError, `${what}: expected NtstatError, got ${String(thrown)}`);
  assert.equal(thrown.code, code, `${what}: ${thrown.message}`);
  assert.equal(typeof thrown.offset, 'number', `${what}: offset missing`);
  if (offset !== undefined) assert.equal(thrown.offset, offset, `${what}: ${thrown.message}`);
}

const malformed = (fn: () => unknown, offset?: number, what = '') => expectError(fn, 'ERR_NTSTAT_MALFORMED', offset, what);

/** Rewrite hdr.length (10.11+) to the buffer's size. */
function fixLength(v: H.JVersion, b: Uint8Array): Uint8Array {
  if (H.hasLength(v)) new DataView(b.buffer, b.byteOffset, b.byteLength).setUint16(12, b.length, true);
  return b;
}

/** The message one byte shorter / longer (hdr.length kept consistent with the bytes). */
function resized(v: H.JVersion, b: Uint8Array, delta: number): Uint8Array {
  const out = new Uint8Array(b.length + delta);
  out.set(delta < 0 ? b.subarray(0, b.length + delta) : b);
  return fixLength(v, out);
}

function plain(ms: readonly Message[]): unknown {
  return ms.map((m) => ({ ...m }));
}

if (!H.facts) {
  test('malformed datagrams', H.needsFacts(), () => {
    H.mustFacts();
  });
} else {
  const F = H.facts;
  const V = (xnu: string) => F.versions.find((x) => x.xnu === xnu)!;
  const firstOfFamily = F.dialects.map((g) => V(g.versions[0]));

  for (const v of F.versions) {
    describe(`xnu-${v.xnu} (${v.dialect})`, () => {
      const d = dialectOf(v);
      const cases = H.goldenCases(v);
      const byName = (re: RegExp) => cases.filter((c) => re.test(c.name));
      const success = byName(/^SUCCESS$/)[0].bytes;

      test('empty datagram', () => malformed(() => decodeDatagram(new Uint8Array(0), d), 0));

      test('truncated header (1..15 bytes)', () => {
        for (let n = 1; n < 16; n++) malformed(() => decodeDatagram(success.subarray(0, n), d), 0, `${n} bytes`);
      });

      test('every message type one byte short, and (fixed-size types) one byte long', () => {
        for (const c of cases) {
          // Variable tails: ADD_SRC param, ERROR echo (a shorter echo is still valid), extension items (own test).
          if (c.name.startsWith('ADD_SRC') || c.name.startsWith('SRC_EXTENDED_UPDATE')) continue;
          // SYSINFO_COUNTS reports the start of its keyval array rather than the message start.
          const at = c.name.startsWith('SYSINFO_COUNTS') ? undefined : 0;
          if (!c.name.startsWith('ERROR with echoed')) malformed(() => decodeDatagram(resized(v, c.bytes, -1), d), at, `${c.name} -1`);
          const variable = /^ERROR|^SYSINFO_COUNTS/.test(c.name);
          if (!variable) malformed(() => decodeDatagram(resized(v, c.bytes, +1), d), 0, `${c.name} +1`);
        }
      });

      test('ADD_SRC / ERROR / SRC_DESC / SRC_UPDATE shorter than their fixed part', () => {
        const shortOf = (struct: string) => H.fixedSize(H.mustStruct(v, struct));
        for (const [re, struct] of [
          [/^ADD_SRC tcp/, 'nstat_msg_add_src'],
          [/^ERROR \(bare\)/, 'nstat_msg_error'],
          [/^SRC_DESC /, 'nstat_msg_src_description'],
          [/^SRC_UPDATE /, 'nstat_msg_src_update'],
        ] as const) {
          for (const c of byName(re).slice(0, 1)) {
            const n = shortOf(struct);
            malformed(() => decodeDatagram(fixLength(v, c.bytes.slice(0, n - 1)), d), 0, `${c.name} cut to ${n - 1}`);
          }
        }
      });

      test("SRC_DESC / SRC_UPDATE length not matching the provider's descriptor", () => {
        for (const c of byName(/^SRC_DESC |^SRC_UPDATE /)) {
          for (const delta of [-8, -1, 1, 4, 8]) malformed(() => decodeDatagram(resized(v, c.bytes, delta), d), 0, `${c.name} ${delta}`);
        }
        // The descriptor of another provider: TCP bytes announced as UDP.
        const udp = H.providersOf(v).find((p) => p.descriptor === 'nstat_udp_descriptor')!;
        const tcpDesc = byName(/^SRC_DESC (TCP|TCP_KERNEL) /)[0].bytes.slice();
        const provOff = H.mustField(v, 'nstat_msg_src_description', 'provider').offset;
        new DataView(tcpDesc.buffer).setUint32(provOff, udp.id, true);
        malformed(() => decodeDatagram(tcpDesc, d), 0, 'tcp descriptor as udp');
      });

      test('unknown message types', () => {
        for (const type of [2, 999, 1009, 10000, 10008, 0xffffffff]) {
          const b = H.buildMessage(v, 'nstat_msg_hdr', { context: 1n, type });
          malformed(() => decodeDatagram(b, d), 0, `type ${type}`);
          if (H.hasLength(v)) assert.deepEqual(decodeDatagram(b, d, { unknownTypes: 'skip' }), [], `type ${type} skipped`);
          else malformed(() => decodeDatagram(b, d, { unknownTypes: 'skip' }), 0, `type ${type}: no length, cannot skip`);
        }
      });

      test('absent message types of this header are rejected', () => {
        const absent = ['SRC_UPDATE', 'GET_UPDATE', 'SYSINFO_COUNTS', 'SET_FILTER', 'SUBSCRIBE_SYSINFO', 'SRC_EXTENDED_UPDATE'].filter(
          (t) => !H.hasConstant(v, `NSTAT_MSG_TYPE_${t}`),
        );
        // Type numbers are stable across versions (BEHAVIOUR.md A.1): take them from the newest header.
        const newest = F.versions[F.versions.length - 1];
        for (const t of absent) {
          const type = H.msgType(newest, t);
          for (const size of [16, 24, 64, 600]) {
            const b = new Uint8Array(size);
            const dv = new DataView(b.buffer);
            dv.setUint32(8, type, true);
            fixLength(v, b);
            malformed(() => decodeDatagram(b, d), 0, `${t} (${size} B)`);
          }
        }
        if (v.xnu === '2422.1.72') assert.deepEqual(absent, ['SRC_UPDATE', 'GET_UPDATE', 'SYSINFO_COUNTS', 'SUBSCRIBE_SYSINFO', 'SRC_EXTENDED_UPDATE']);
      });

      test('u64 counter >= 2^53 gives ERR_NTSTAT_RANGE at the counter offset', () => {
        const c = byName(/^SRC_COUNTS$/)[0].bytes.slice();
        const countsOff = H.mustField(v, 'nstat_msg_src_counts', 'counts').offset;
        const rx = H.mustField(v, 'nstat_counts', 'nstat_rxbytes').offset;
        const dv = new DataView(c.buffer);
        dv.setBigUint64(countsOff + rx, 2n ** 53n - 1n, true);
        const [m] = decodeDatagram(c, d);
        assert.equal(m.kind === 'srcCounts' && m.counts.rxBytes, Number.MAX_SAFE_INTEGER);
        for (const big of [2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n]) {
          dv.setBigUint64(countsOff + rx, big, true);
          expectError(() => decodeDatagram(c, d), 'ERR_NTSTAT_RANGE', countsOff + rx, `rxBytes = ${big}`);
        }
      });

      test('u64 descriptor field >= 2^53 gives ERR_NTSTAT_RANGE', () => {
        const c = byName(/^SRC_DESC (TCP|TCP_KERNEL) /)[0].bytes.slice();
        const at = H.fixedSize(H.mustStruct(v, 'nstat_msg_src_description')) + H.mustField(v, 'nstat_tcp_descriptor', 'upid').offset;
        new DataView(c.buffer).setBigUint64(at, 2n ** 60n, true);
        expectError(() => decodeDatagram(c, d), 'ERR_NTSTAT_RANGE', at, 'upid');
      });

      if (H.hasLength(v)) {
        test('hdr.length < 16, = 0, > remaining', () => {
          for (const len of [0, 1, 8, 15]) {
            const b = success.slice();
            new DataView(b.buffer).setUint16(12, len, true);
            malformed(() => decodeDatagram(b, d), 0, `length ${len}`);
          }
          for (const len of [17, 24, 0xffff]) {
            const b = success.slice();
            new DataView(b.buffer).setUint16(12, len, true);
            malformed(() => decodeDatagram(b, d), 0, `length ${len} > 16 bytes`);
          }
          // Same inside an aggregate: the offset points at the bad message.
          const second = byName(/^SRC_COUNTS$/)[0].bytes.slice();
          new DataView(second.buffer).setUint16(12, second.length + 1, true);
          malformed(() => decodeDatagram(H.concat(success, second), d), 16, 'second message overruns');
          const zero = second.slice();
          new DataView(zero.buffer).setUint16(12, 0, true);
          malformed(() => decodeDatagram(H.concat(success, success, zero), d), 32, 'third message length 0');
        });

        test('trailing partial message after valid ones: offset points to it', () => {
          const counts = byName(/^SRC_COUNTS$/)[0].bytes;
          for (const tail of [1, 8, 15]) {
            malformed(() => decodeDatagram(H.concat(success, counts.subarray(0, tail)), d), 16, `success + ${tail}`);
            malformed(() => decodeDatagram(H.concat(counts, success, success.subarray(0, tail)), d), counts.length + 16, `+${tail}`);
          }
          // A complete header whose length runs past the end.
          malformed(() => decodeDatagram(H.concat(success, counts.subarray(0, 40)), d), 16, 'header says more than is there');
        });

        test('wrong size after a valid message reports the second message offset', () => {
          const added = byName(/^SRC_ADDED$/)[0].bytes;
          malformed(() => decodeDatagram(H.concat(success, resized(v, added, 1)), d), 16);
          malformed(() => decodeDatagram(H.concat(added, resized(v, added, -1)), d), added.length);
        });

        test("{unknownTypes: 'skip'} drops unknown types in an aggregate and keeps the rest", () => {
          const removed = byName(/^SRC_REMOVED$/)[0];
          const unknown = H.buildMessage(v, 'nstat_msg_error', { context: 5n, type: 4242 }, { error: 1 });
          const bytes = H.concat(success, unknown, removed.bytes);
          malformed(() => decodeDatagram(bytes, d), 16);
          const got = decodeDatagram(bytes, d, { unknownTypes: 'skip' });
          assert.deepEqual(plain(got), [byName(/^SUCCESS$/)[0].expected, removed.expected]);
        });

        test('u64 counter beyond 2^53 in the second message of an aggregate: RANGE offset is absolute', () => {
          const c = byName(/^SRC_COUNTS$/)[0].bytes.slice();
          const at = H.mustField(v, 'nstat_msg_src_counts', 'counts').offset + H.mustField(v, 'nstat_counts', 'nstat_txpackets').offset;
          new DataView(c.buffer).setBigUint64(at, 1n << 62n, true);
          expectError(() => decodeDatagram(H.concat(success, success, c), d), 'ERR_NTSTAT_RANGE', 32 + at);
        });
      } else {
        test('pre-10.11: trailing bytes make the single message the wrong size', () => {
          const counts = byName(/^SRC_COUNTS$/)[0].bytes;
          malformed(() => decodeDatagram(H.concat(success, counts), d), 0);
          malformed(() => decodeDatagram(H.concat(counts, success.subarray(0, 3)), d), 0);
        });
      }

      if (H.hasConstant(v, 'NSTAT_MSG_TYPE_SRC_EXTENDED_UPDATE')) {
        test('extension items: overrun, truncated item header', () => {
          const itemsAt = H.fixedSize(H.mustStruct(v, 'nstat_msg_src_update')) + H.mustStruct(v, 'nstat_tcp_descriptor').size;
          const tcp = byName(/^SRC_EXTENDED_UPDATE TCP_KERNEL .*exact/)[0].bytes;
          // First item claims one byte more than the message holds.
          const over = tcp.slice();
          new DataView(over.buffer).setUint32(itemsAt + 4, tcp.length - itemsAt - 8 + 1, true);
          malformed(() => decodeDatagram(over, d), itemsAt, 'first item overruns');
          // Huge length.
          new DataView(over.buffer).setUint32(itemsAt + 4, 0xffffffff, true);
          malformed(() => decodeDatagram(over, d), itemsAt, 'first item 4 GiB');
          // Message cut inside the last item's data / a partial item header left over.
          malformed(() => decodeDatagram(resized(v, tcp, -1), d), undefined, 'cut by one');
          const extra = resized(v, tcp, 4);
          malformed(() => decodeDatagram(extra, d), tcp.length, '4 bytes of a next item header');
        });
      }

      if (H.hasConstant(v, 'NSTAT_MSG_TYPE_SYSINFO_COUNTS')) {
        test('SYSINFO_COUNTS keyvals not a whole number of records', () => {
          const c = byName(/^SYSINFO_COUNTS/)[0].bytes;
          for (const delta of [-1, 1, -7, 5]) malformed(() => decodeDatagram(resized(v, c, delta), d), undefined, `${delta}`);
        });
      }
    });
  }

  test("{unknownTypes: 'skip'} also drops types a header does not define (SRC_EXTENDED_UPDATE on 10.11–11.x)", () => {
    for (const v of F.versions.filter((x) => H.hasLength(x) && !H.hasConstant(x, 'NSTAT_MSG_TYPE_SRC_EXTENDED_UPDATE'))) {
      const d = dialectOf(v);
      const ext = H.buildMessage(v, 'nstat_msg_hdr', { context: 0n, type: 10007 });
      const success = H.goldenCases(v).find((c) => c.name === 'SUCCESS')!;
      malformed(() => decodeDatagram(H.concat(success.bytes, ext), d), 16, `xnu-${v.xnu}`);
      assert.deepEqual(plain(decodeDatagram(H.concat(ext, success.bytes, ext), d, { unknownTypes: 'skip' })), [success.expected], `xnu-${v.xnu}`);
    }
  });

  // -------------------------------------------------------------------------------------------
  // Property: nothing but NtstatError(MALFORMED|RANGE), in bounded time.
  describe('fuzz: decodeDatagram never throws anything else', () => {
    const dialects = firstOfFamily.map(dialectOf);
    const goldens = firstOfFamily.map((v) => {
      const cs = H.goldenCases(v).map((c) => c.bytes);
      if (H.hasLength(v)) cs.push(H.concat(...cs.slice(0, 6)));
      return cs;
    });
    const allowed = new Set(['ERR_NTSTAT_MALFORMED', 'ERR_NTSTAT_RANGE']);
    let slowest = 0;
    const check = (bytes: Uint8Array, d: Dialect, skip: boolean) => {
      const t0 = performance.now();
      try {
        decodeDatagram(bytes, d, skip ? { unknownTypes: 'skip' } : {});
      } catch (e) {
        if (!(e instanceof NtstatError) || !allowed.has(e.code)) throw e;
        if (typeof e.offset !== 'number' || e.offset < 0 || e.offset > bytes.length) {
          throw new Error(`bad offset ${String(e.offset)} for ${bytes.length} bytes: ${e.message}`);
        }
      }
      const dt = performance.now() - t0;
      slowest = Math.max(slowest, dt);
      // A hang detector with a wide margin (decoding 700 bytes takes microseconds; a loaded CI
      // box must not fail it); the speed itself is measured by `npm run bench`.
      if (dt > 5000) throw new Error(`decode took ${dt.toFixed(1)} ms for ${bytes.length} bytes`);
    };

    test('random bytes (5000 cases)', { timeout: 20_000 }, () => {
      fc.assert(
        fc.property(fc.nat(dialects.length - 1), fc.uint8Array({ maxLength: 700 }), fc.boolean(), (i, bytes, skip) => check(bytes, dialects[i], skip)),
        fuzzParams(5000, 41),
      );
    });

    test('random bodies behind a plausible header (5000 cases)', { timeout: 20_000 }, () => {
      const types = [0, 1, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 10001, 10002, 10003, 10004, 10005, 10006, 10007, 4242];
      fc.assert(
        fc.property(
          fc.nat(dialects.length - 1),
          fc.constantFrom(...types),
          fc.uint8Array({ minLength: 0, maxLength: 1700 }),
          fc.integer({ min: -3, max: 3 }),
          fc.boolean(),
          (i, type, body, lenSkew, skip) => {
            const b = new Uint8Array(16 + body.length);
            b.set(body, 16);
            const dv = new DataView(b.buffer);
            dv.setUint32(8, type, true);
            if (dialects[i].hasLength) dv.setUint16(12, Math.max(0, Math.min(0xffff, b.length + lenSkew)), true);
            // Provider ids that exist, to reach descriptor decoding.
            if (body.length >= 24) dv.setUint32(16 + (body[0] % 4) * 4, body[1] % 11, true);
            check(b, dialects[i], skip);
          },
        ),
        fuzzParams(5000, 42),
      );
    });

    test('single-byte mutations and truncations of golden datagrams, every family (10000 cases)', { timeout: 20_000 }, () => {
      fc.assert(
        fc.property(
          fc.nat(dialects.length - 1),
          fc.nat(),
          fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }),
          fc.option(fc.nat(), { nil: undefined }),
          fc.boolean(),
          (i, pick, edits, cut, skip) => {
            const src = goldens[i][pick % goldens[i].length];
            let b = src.slice();
            for (const [pos, val] of edits) b[pos % b.length] = val;
            if (cut !== undefined) b = b.slice(0, cut % (b.length + 1));
            check(b, dialects[i], skip);
          },
        ),
        fuzzParams(10000, 43),
      );
    });

    test('length-field and type-field mutations inside aggregates (2000 cases)', { timeout: 20_000 }, () => {
      const aggs = dialects.map((d, i) => (d.hasLength ? goldens[i][goldens[i].length - 1] : undefined));
      const idx = aggs.map((a, i) => (a ? i : -1)).filter((i) => i >= 0);
      fc.assert(
        fc.property(fc.constantFrom(...idx), fc.nat(), fc.nat(0xffff), fc.boolean(), (i, which, val, typeField) => {
          const b = aggs[i]!.slice();
          const dv = new DataView(b.buffer);
          // Walk to the n-th header and corrupt its length or type.
          let at = 0;
          let n = which % 6;
          while (n-- > 0 && at + 16 <= b.length) at += dv.getUint16(at + 12, true);
          if (at + 16 <= b.length) {
            if (typeField) dv.setUint32(at + 8, val, true);
            else dv.setUint16(at + 12, val, true);
          }
          check(b, dialects[i], false);
        }),
        fuzzParams(2000, 44),
      );
      assert.ok(slowest < 250);
    });
  });
}

test('seed', (t) => {
  t.diagnostic(`fast-check seed base ${FUZZ_SEED} (NTSTAT_FUZZ_SEED replays it)`);
});
