/**
 * The byte-keyed caches (protocol/intern.ts) never return a wrong value: every lookup equals the
 * formatter applied to the bytes, whatever the slot collisions, for many more distinct values
 * than there are slots, repeated in a mixed order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AsciiCache, Bytes16Cache, Bytes4Cache, SrcrefCache } from '../src/protocol/intern.js';
import { formatIPv4 } from '../src/protocol/sockaddr.js';

/** xorshift32: a fixed pseudo-random byte stream. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const hex = (b: Uint8Array, off: number, n: number) => Array.from(b.subarray(off, off + n), (x) => x.toString(16).padStart(2, '0')).join('');

test('Bytes16Cache and Bytes4Cache: every lookup equals the formatter, across 20 000 distinct values looked up twice', () => {
  const r = rng(7);
  const values = Array.from({ length: 20_000 }, () => {
    const b = new Uint8Array(20);
    for (let i = 0; i < 20; i++) b[i] = r() & (i % 3 === 0 ? 0x03 : 0xff); // many near-equal values
    return b;
  });
  const c16 = new Bytes16Cache((b, off) => hex(b, off, 16));
  const c4 = new Bytes4Cache(formatIPv4);
  for (let pass = 0; pass < 2; pass++) {
    for (let k = 0; k < values.length; k++) {
      const b = values[(k * 7919 + pass * 13) % values.length];
      const dv = new DataView(b.buffer);
      assert.equal(c16.get(b, dv, 2), hex(b, 2, 16));
      assert.equal(c4.get(b, dv, 1), formatIPv4(b, 1));
    }
  }
});

test('AsciiCache: strings that share a hash (forced) and a length are still told apart', () => {
  const c = new AsciiCache();
  const enc = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
  const names = ['Safari', 'Safarj', 'Slack', 'Safari Helper', 'node', 'nodf'];
  for (let round = 0; round < 3; round++) {
    for (const n of names) {
      const b = enc(`xx${n}\0`);
      assert.equal(c.get(b, 2, 2 + n.length, 12345), n); // one hash for all: only the bytes decide
    }
  }
});

test('SrcrefCache: every lookup equals the 64-bit value of its halves, across 20 000 srcrefs (sequential, high-word, colliding) looked up twice', () => {
  const r = rng(11);
  const c = new SrcrefCache();
  const halves = Array.from({ length: 20_000 }, (_, i) => (i % 3 === 0 ? [i + 1, 0] : i % 3 === 1 ? [r(), r() & 0xff] : [r(), 0xffffffff]));
  for (let pass = 0; pass < 2; pass++) {
    for (let k = 0; k < halves.length; k++) {
      const [lo, hi] = halves[(k * 7919 + pass * 13) % halves.length];
      assert.equal(c.get(lo, hi), (BigInt(hi) << 32n) | BigInt(lo));
    }
  }
});
