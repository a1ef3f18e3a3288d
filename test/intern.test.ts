/**
 * The byte-keyed caches (protocol/intern.ts) never return a wrong value: every lookup equals the
 * formatter applied to the bytes, whatever the slot collisions, for many more distinct values
 * than there are slots, repeated in a mixed order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bytes16Cache, Bytes4Cache, SrcrefCache, WordStringCache } from '../src/protocol/intern.js';
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

/** The words readCString would put in the cache's scratch for an ASCII string (last word zero past the end). */
function wordsOf(bytes: Uint8Array): Int32Array {
  const w = new Int32Array(16);
  for (let i = 0; i < bytes.length; i++) w[i >> 2] |= bytes[i] << (8 * (i & 3));
  return w;
}

test('WordStringCache: strings that share a hash (forced) and a length are still told apart', () => {
  const c = new WordStringCache();
  const enc = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
  // Same length, differing only in the first, a middle or the last byte (first, middle, last word).
  const names = ['Safari', 'Safarj', 'Tafari', 'Slack', 'Safari Helper', 'Safari Helpes', 'node', 'nodf', 'com.apple.WebKit.Networking', 'com.apple.WebKit.Networkinh', 'x'.repeat(64), 'x'.repeat(63) + 'y'];
  for (let round = 0; round < 3; round++) {
    for (const n of names) {
      const b = enc(`xx${n}\0`);
      assert.equal(c.get(wordsOf(enc(n)), n.length, 12345, b, 2), n); // one hash for all: only the bytes decide
    }
  }
});

test('the caches grow when a working set is larger than the table, and stay small when it fits', () => {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  const fits = new Bytes4Cache(formatIPv4);
  let calls = 0;
  const big = new Bytes4Cache((bb, off) => (calls++, formatIPv4(bb, off)));
  for (let pass = 0; pass < 20; pass++) {
    calls = 0;
    for (let i = 0; i < 20_000; i++) {
      dv.setUint32(0, 0x0a000000 + i, false); // 10.0.x.y: 20 000 distinct addresses
      assert.equal(big.get(b, dv, 0), formatIPv4(b, 0));
      if (i < 200) for (let k = 0; k < 5; k++) assert.equal(fits.get(b, dv, 0), formatIPv4(b, 0));
    }
  }
  assert.equal(fits.sizeBits, 12); // 200 addresses in 4 096 slots: no growth
  assert.ok(big.sizeBits >= 15 && big.sizeBits <= 16, `grew to 2^${big.sizeBits}`); // 20 000 need 2^15 slots or more; bounded
  // 20 000 keys in 16 384 sets of 4: a set holding k > 4 keys looked up in a cycle misses all k
  // each pass; with Poisson(1.22) keys a set that is ~3.5 % of lookups (at 4 096 slots nearly all miss).
  assert.ok(calls < 1000, `${calls} of 20 000 lookups missed on the last pass`);
  // Grown tables still hold what they are given: 2 000 IPv6 addresses of one /64 (the bench's
  // locals) fill 1 024 sets of 4 at 4 096 slots (~11 % of lookups miss, so the table doubles once
  // the misses add up); from then on a pass misses only where a set holds 5 or more (Poisson(0.98):
  // ~1.8 % for a uniform hash).
  const c16 = new Bytes16Cache((bb, off) => hex(bb, off, 16));
  const counted = new Bytes16Cache((bb, off) => (calls++, hex(bb, off, 16)));
  for (let pass = 0; pass < 4; pass++) {
    calls = 0;
    for (let i = 0; i < 2000; i++) {
      b.fill(0);
      b[0] = 0x20;
      b[1] = 0x01;
      dv.setUint16(14, i * 3, false); // 2001::x, the bench's IPv6 locals
      assert.equal(counted.get(b, dv, 0), c16.get(b, dv, 0));
    }
  }
  assert.ok(calls < 80, `${calls} of 2 000 lookups missed on the last pass`);
  assert.equal(counted.sizeBits, 13);
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
