/**
 * The Transport contract (src/transport/transport.ts), as a reusable suite: any transport that
 * passes it can carry the client. Run it with a factory that returns a fresh transport and a
 * handle on the far end:
 *
 *   runTransportContract('memory', () => { const [a, b] = memoryPair(); return { transport: a, peer: b } });
 *
 * The peer's send() may return false for "queue full, try later": the suite then waits a tick.
 * Zero-length datagrams are not used: on datagram fds they mean end of stream.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isNtstatError, type NtstatError } from '../src/errors.js';
import type { Transport } from '../src/transport/transport.js';

export interface ContractPeer {
  send(bytes: Uint8Array): boolean | void;
  onReceive(cb: (bytes: Uint8Array) => void): void;
  close(): void;
}

export interface ContractPair {
  transport: Transport;
  peer: ContractPeer;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Wait until `pred()` holds, checking every few ms; fail after `ms`. */
export async function until(pred: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(2);
  }
}

/** A datagram whose every byte depends on (index, size): any reorder, merge or corruption shows. */
export function pattern(index: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = (index * 2654435761 + size) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** Send all, waiting while the peer reports a full queue. */
export async function peerSendAll(peer: ContractPeer, datagrams: Uint8Array[]): Promise<void> {
  for (const d of datagrams) {
    let tries = 0;
    while (peer.send(d) === false) {
      if (++tries > 2000) assert.fail('peer queue stayed full for 2 s');
      await sleep(1);
    }
  }
}

export interface Recorder {
  datagrams: Uint8Array[];
  truncated: boolean[];
  closes: (NtstatError | undefined)[];
  closeAt: number[];
}

export function record(t: Transport, onEach?: (d: Uint8Array, i: number) => void): Recorder {
  const r: Recorder = { datagrams: [], truncated: [], closes: [], closeAt: [] };
  t.start({
    onDatagram(d, truncated) {
      r.datagrams.push(d);
      r.truncated.push(truncated);
      onEach?.(d, r.datagrams.length - 1);
    },
    onClose(err) {
      r.closes.push(err);
      r.closeAt.push(performance.now());
    },
  });
  return r;
}

/** Sizes used by the round trips: small, MTU-ish, page, kernel aggregate (4096), and 40000. */
export const SIZES = [16, 1, 17, 20, 24, 100, 1500, 2047, 2048, 2049, 4095, 4096, 4097, 8192, 16384, 40000, 65535];

export function runTransportContract(name: string, makePair: () => ContractPair | Promise<ContractPair>): void {
  async function withPair(fn: (p: ContractPair) => Promise<void>): Promise<void> {
    const p = await makePair();
    try {
      await fn(p);
    } finally {
      p.transport.close();
      p.peer.close();
    }
  }

  describe(`Transport contract: ${name}`, () => {
    test('delivers one record per datagram, in order and byte-exact, for sizes 1..65535', () =>
      withPair(async ({ transport, peer }) => {
        const sent: Uint8Array[] = [];
        for (let round = 0; round < 3; round++) for (const s of SIZES) sent.push(pattern(sent.length, s));
        // plus many small ones with varied sizes
        for (let i = 0; i < 600; i++) sent.push(pattern(sent.length, 1 + ((i * 7919) % 3000)));
        const r = record(transport);
        await peerSendAll(peer, sent);
        await until(() => r.datagrams.length >= sent.length, 5000, `${sent.length} datagrams`);
        await sleep(20);
        assert.equal(r.datagrams.length, sent.length, 'no extra datagrams');
        for (let i = 0; i < sent.length; i++) {
          assert.equal(r.datagrams[i].length, sent[i].length, `datagram ${i} length`);
          assert.deepEqual(r.datagrams[i], sent[i], `datagram ${i} bytes`);
          assert.equal(r.truncated[i], false, `datagram ${i} not truncated`);
        }
        assert.equal(r.closes.length, 0);
      }));

    test('delivered datagrams are copies the transport never reuses', () =>
      withPair(async ({ transport, peer }) => {
        const r = record(transport);
        await peerSendAll(peer, [pattern(1, 64), pattern(2, 64)]);
        await until(() => r.datagrams.length === 2);
        assert.deepEqual(r.datagrams[0], pattern(1, 64));
        assert.notEqual(r.datagrams[0].buffer, r.datagrams[1].buffer);
      }));

    test('send() reaches the peer as one datagram each, in order', () =>
      withPair(async ({ transport, peer }) => {
        const got: Uint8Array[] = [];
        peer.onReceive((d) => got.push(d));
        record(transport);
        const sent = [16, 56, 2048, 24, 100].map((s, i) => pattern(100 + i, s));
        for (const d of sent) transport.send(d);
        await until(() => got.length === sent.length);
        assert.deepEqual(got, sent);
      }));

    test('datagrams queued before start() are delivered after it', () =>
      withPair(async ({ transport, peer }) => {
        await peerSendAll(peer, [pattern(7, 30), pattern(8, 31)]);
        await sleep(10);
        const r = record(transport);
        await until(() => r.datagrams.length === 2);
        assert.deepEqual(r.datagrams, [pattern(7, 30), pattern(8, 31)]);
      }));

    test('pause() stops delivery, resume() restores it without loss', () =>
      withPair(async ({ transport, peer }) => {
        const r = record(transport);
        transport.pause();
        const sent = Array.from({ length: 20 }, (_, i) => pattern(i, 50 + i));
        await peerSendAll(peer, sent);
        await sleep(60);
        assert.equal(r.datagrams.length, 0, 'nothing delivered while paused');
        transport.resume();
        await until(() => r.datagrams.length === 20);
        assert.deepEqual(r.datagrams, sent);
        transport.pause();
        transport.pause(); // idempotent
        await peerSendAll(peer, [pattern(99, 10)]);
        await sleep(30);
        assert.equal(r.datagrams.length, 20);
        transport.resume();
        transport.resume();
        await until(() => r.datagrams.length === 21);
      }));

    test('pause() from inside onDatagram stops the rest of a burst', () =>
      withPair(async ({ transport, peer }) => {
        const r = record(transport, (_, i) => {
          if (i === 0) transport.pause();
        });
        const sent = Array.from({ length: 10 }, (_, i) => pattern(i, 40));
        await peerSendAll(peer, sent);
        await until(() => r.datagrams.length >= 1);
        await sleep(40);
        assert.equal(r.datagrams.length, 1, 'only the first datagram before the pause');
        transport.resume();
        await until(() => r.datagrams.length === 10);
        assert.deepEqual(r.datagrams, sent);
      }));

    test('close() is prompt (well under 2 s), fires onClose once without error, then nothing', (t) =>
      withPair(async ({ transport, peer }) => {
        const r = record(transport);
        await peerSendAll(peer, [pattern(1, 10)]);
        await until(() => r.datagrams.length === 1);
        const t0 = performance.now();
        transport.close();
        // A real socket makes a timer unavoidable here: the margin is wide (a reader that waited
        // for its next poll tick or for the peer would take far longer or never close).
        await until(() => r.closes.length > 0, 2000, 'onClose within 2 s');
        const latency = r.closeAt[0] - t0;
        assert.ok(latency < 2000, `close latency ${latency.toFixed(3)} ms`);
        t.diagnostic(`close latency ${latency.toFixed(3)} ms`);
        assert.equal(r.closes[0], undefined);
        transport.close(); // idempotent
        try {
          peer.send(pattern(2, 10));
        } catch {
          // a peer may notice the close; irrelevant here
        }
        await sleep(30);
        assert.equal(r.datagrams.length, 1, 'nothing delivered after close');
        assert.equal(r.closes.length, 1, 'onClose exactly once');
        assert.throws(() => transport.send(pattern(3, 16)), (e: unknown) => isNtstatError(e, 'ERR_NTSTAT_CLOSED'));
      }));

    test('close() from inside onDatagram delivers nothing more and fires onClose once', () =>
      withPair(async ({ transport, peer }) => {
        const r = record(transport, (_, i) => {
          if (i === 0) transport.close();
        });
        await peerSendAll(peer, Array.from({ length: 10 }, (_, i) => pattern(i, 40)));
        await until(() => r.closes.length === 1);
        await sleep(30);
        assert.equal(r.datagrams.length, 1);
        assert.equal(r.closes.length, 1);
      }));

    test('the peer closing ends the transport: onClose once, without error', () =>
      withPair(async ({ transport, peer }) => {
        const r = record(transport);
        await peerSendAll(peer, [pattern(1, 33), pattern(2, 34)]);
        peer.close();
        await until(() => r.closes.length === 1, 1000, 'onClose after peer close');
        assert.equal(r.closes[0], undefined);
        assert.deepEqual(r.datagrams, [pattern(1, 33), pattern(2, 34)], 'data sent before the close still arrives');
        await sleep(20);
        assert.equal(r.closes.length, 1);
      }));
  });
}
