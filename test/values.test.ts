/**
 * The value readers of protocol/values.ts against definitions written here from the spec
 * (DESIGN.md §4: C strings end at the first NUL or the field's end; absent data is omitted; UUIDs
 * are 8-4-4-4-12 lowercase hex; 64-bit counters are exact numbers or ERR_NTSTAT_RANGE above 2^53):
 * the word-at-a-time forms used by the compiled readers (cstringAt, uuidAt, the inline u64) must
 * give what the plain definitions give, for bytes at every alignment, with the special bytes
 * (NUL, control characters, DEL, bytes >= 0x80) at every position of a word.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cstringAt, readCString, readU64Number, u64High, uuidAt, uuidOrUndefined } from '../src/protocol/values.js';

/** The definition: bytes up to the first NUL (or `max`), as UTF-8 with U+FFFD for invalid sequences. */
function cString(b: Uint8Array, off: number, max: number): string {
  let end = off;
  while (end < off + max && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(off, end));
}

// ASCII plus the boundaries of the word test: NUL, 0x01, 0x7f/0x80, UTF-8 lead and continuation bytes.
const ALPHABET = [0x20, 0x41, 0x61, 0x7e, 0x7f, 0x1f, 0x01, 0x00, 0x80, 0xc3, 0xa9, 0xff, 0x2e, 0x5f];
const byteArb = fc.oneof(fc.constantFrom(...ALPHABET), fc.integer({ min: 0x20, max: 0x7e }), fc.nat(255));

test('readCString and cstringAt give the C string definition for any bytes, field width and alignment', () => {
  fc.assert(
    fc.property(fc.array(byteArb, { minLength: 0, maxLength: 70 }), fc.nat(3), fc.integer({ min: 1, max: 68 }), (bytes, shift, max) => {
      const b = new Uint8Array(shift + 72);
      b.set(bytes.slice(0, 72 - 0), shift);
      const dv = new DataView(b.buffer);
      const want = cString(b, shift, max);
      assert.equal(readCString(b, shift, max), want);
      assert.equal(cstringAt(b, dv, shift, max), want);
    }),
    { numRuns: 20_000, seed: 99 },
  );
});

test('a special byte at each position of a word ends or reroutes the fast scan (exhaustive over one word)', () => {
  for (const special of ALPHABET) {
    for (let pos = 0; pos < 12; pos++) {
      const b = new Uint8Array(16).fill(0x61);
      b[pos] = special;
      for (const max of [4, 8, 11, 12, 16]) {
        const want = cString(b, 0, max);
        assert.equal(readCString(b, 0, max), want, `0x${special.toString(16)} at ${pos}, width ${max}`);
        assert.equal(cstringAt(b, new DataView(b.buffer), 0, max), want, `0x${special.toString(16)} at ${pos}, width ${max}`);
      }
    }
  }
});

test('the same name read twice is the same interned text, through either reader', () => {
  const b = new TextEncoder().encode('com.apple.WebKit.Networking\0\0\0\0\0');
  const dv = new DataView(b.buffer);
  assert.equal(cstringAt(b, dv, 0, b.length), 'com.apple.WebKit.Networking');
  assert.equal(readCString(b, 0, b.length), cstringAt(b, dv, 0, b.length));
});

function uuidText(b: Uint8Array, off: number): string | undefined {
  const hex = Array.from(b.subarray(off, off + 16), (x) => x.toString(16).padStart(2, '0')).join('');
  if (/^0+$/.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

test('uuidAt and uuidOrUndefined: 8-4-4-4-12 lowercase hex, undefined when all zero', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat(3), fc.nat(15), (u, shift, zeroFrom) => {
      const b = new Uint8Array(shift + 16);
      b.set(u, shift);
      if (zeroFrom > 8) b.fill(0, shift, shift + 16); // all zero often enough
      const dv = new DataView(b.buffer);
      const want = uuidText(b, shift);
      assert.equal(uuidAt(b, dv, shift), want);
      assert.equal(uuidOrUndefined(b, shift, dv), want);
      assert.equal(uuidOrUndefined(b, shift), want);
    }),
    { numRuns: 5000, seed: 7 },
  );
});

test('u64High is readU64Number for a non-zero high word: exact below 2^53, ERR_NTSTAT_RANGE above', () => {
  const b = new Uint8Array(12);
  const dv = new DataView(b.buffer);
  for (const v of [2n ** 32n, 2n ** 32n + 5n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n, 0x1fffffn << 32n]) {
    dv.setBigUint64(3, v, true);
    const hi = dv.getUint32(7, true);
    if (v < 2n ** 53n) {
      assert.equal(u64High(dv, 3, hi), Number(v));
      assert.equal(readU64Number(dv, 3), Number(v));
    } else {
      assert.throws(() => u64High(dv, 3, hi), { code: 'ERR_NTSTAT_RANGE' });
      assert.throws(() => readU64Number(dv, 3), { code: 'ERR_NTSTAT_RANGE' });
    }
  }
});
