/**
 * The whole client on the real kernel (macOS only; skipped elsewhere with the reason): a loopback
 * TCP listener and a connection made by this very process must appear with the right ports and
 * pid, their byte counters must rise after known data is sent, and the connection must be removed
 * after it is closed.
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Socket, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { NetworkStatisticsClient } from '../src/client/client.js';
import type { Stream } from '../src/model/stream.js';

const SKIP = process.platform === 'darwin' ? undefined : `needs macOS (the kernel control exists only there); this is ${process.platform}`;

const until = async (what: string, pred: () => boolean, ms = 8000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('live client: own loopback connection appears, counts rise, removal after close', { skip: SKIP, timeout: 30_000 }, async (t) => {
  const client = new NetworkStatisticsClient({ providers: ['tcp'], interval: 250 });
  const removed: Stream[] = [];
  client.on('removed', (s: Stream) => removed.push(s));
  client.on('warning', (w: string) => t.diagnostic(`warning: ${w}`));
  await client.connect();
  t.diagnostic(`dialect ${client.dialect?.family} (xnu-${client.dialect?.xnu}), rcvbuf ${client.receiveBufferSize}`);
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  let accepted: Socket | undefined;
  server.on('connection', (s) => (accepted = s));
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', r));
  const localPort = sock.localPort!;
  try {
    const mine = () => client.snapshot().filter((s) => s.pid === process.pid && s.provider === 'tcp');
    const outgoing = () => mine().find((s) => s.local?.port === localPort && s.remote?.port === port);
    await until('the listener', () => mine().some((s) => s.listener && s.local?.port === port));
    await until('the outgoing connection', () => outgoing() !== undefined);
    await until('the accepted connection', () => mine().some((s) => s.local?.port === port && s.remote?.port === localPort));
    const before = outgoing()!.counts?.txBytes ?? 0;
    const payload = new Uint8Array(100_000).fill(7);
    sock.write(payload);
    await until('rising tx counters', () => (outgoing()?.counts?.txBytes ?? 0) >= before + payload.length);
    assert.equal(outgoing()!.interface, 'loopback');
    assert.equal(outgoing()!.state, 'ESTABLISHED');
    sock.destroy();
    accepted?.destroy();
    await until('removal of the closed connection', () => removed.some((s) => s.local?.port === localPort && s.remote?.port === port));
  } finally {
    sock.destroy();
    server.close();
    client.stop();
  }
});
