/**
 * The real kernel, macOS only (skipped elsewhere, with the reason). Exercises the transport alone:
 * the protocol library is not used, requests are encoded by hand from BEHAVIOUR.md App. A so this
 * test stays independent of src/protocol.
 *
 *  1. open com.apple.network.statistics (openDarwinControlSocket);
 *  2. send ADD_ALL_SRCS for kernel TCP, 56 bytes in the 13+ layout (xnu >= 4570; BEHAVIOUR.md
 *     §2.3 and App. A.2 — 10.12 has the same size with provider first, so older kernels are skipped):
 *       hdr { context u64 = 1, type u32 = 1002, length u16 = 56, flags u16 = 0 },
 *       filter u64 @16 = 0, events u64 @24 = 0, provider u32 @32 = 2 (TCP_KERNEL),
 *       target_pid u32 @36 = 0, target_uuid @40 = 16 zero bytes;
 *  3. expect SUCCESS (type 0) with context 1 — unprivileged while net.statistics_privcheck is 0,
 *     the macOS default (BEHAVIOUR.md §1);
 *  4. open a loopback TCP listener and connect to it: a kernel TCP source is created per socket
 *     (§3.1), so at least one SRC_ADDED (type 10001, context 0) must follow.
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { openDarwinControlSocket, readKernelVersion } from '../src/transport/darwin.js';
import { until } from './transport-contract.js';

const SKIP = process.platform === 'darwin' ? undefined : `needs macOS (the kernel control exists only there); this is ${process.platform}`;

interface Msg {
  context: bigint;
  type: number;
  length: number;
  body: DataView;
}

/** Split one record into messages by header length (records may aggregate several, §4). */
function messages(record: Uint8Array): Msg[] {
  const out: Msg[] = [];
  const v = new DataView(record.buffer, record.byteOffset, record.byteLength);
  for (let off = 0; off + 16 <= record.length; ) {
    const length = v.getUint16(off + 12, true);
    out.push({ context: v.getBigUint64(off, true), type: v.getUint32(off + 8, true), length, body: new DataView(record.buffer, record.byteOffset + off, Math.min(length, record.length - off)) });
    if (length < 16) break;
    off += length;
  }
  return out;
}

function addAllTcp(context: bigint): Uint8Array {
  const b = new Uint8Array(56);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, context, true);
  v.setUint32(8, 1002, true); // NSTAT_MSG_TYPE_ADD_ALL_SRCS
  v.setUint16(12, 56, true);
  v.setUint16(14, 0, true);
  // filter @16 = 0, events @24 = 0
  v.setUint32(32, 2, true); // provider @32 (13+): NSTAT_PROVIDER_TCP_KERNEL = 2 (12+ numbering)
  // target_pid @36 = 0, target_uuid @40..55 = 0
  return b;
}

test('live: ADD_ALL_SRCS(TCP) → SUCCESS, then SRC_ADDED for a new TCP socket', { skip: SKIP, timeout: 20_000 }, async (t) => {
  const kv = readKernelVersion();
  t.diagnostic(`kernel: ${kv.version} (macOS ${kv.osproductversion ?? '?'})`);
  if (Number(kv.osrelease.split('.')[0]) < 17) {
    t.skip(`Darwin ${kv.osrelease} predates xnu-4570 (10.13): the ADD_ALL layout hand-encoded here is the 13+ one`);
    return;
  }
  const transport = openDarwinControlSocket({ warn: (m) => t.diagnostic(`warning: ${m}`) });
  t.diagnostic(`control id ${transport.controlId}, SO_RCVBUF ${transport.receiveBufferSize}`);
  const seen: Msg[] = [];
  let truncated = 0;
  let closed = false;
  transport.start({
    onDatagram(d, tr) {
      if (tr) truncated++;
      seen.push(...messages(d));
    },
    onClose() {
      closed = true;
    },
  });
  let server: Server | undefined;
  let client: Socket | undefined;
  try {
    transport.send(addAllTcp(1n));
    await until(() => seen.some((m) => m.context === 1n && (m.type === 0 || m.type === 1)), 5000, 'SUCCESS/ERROR for context 1');
    const reply = seen.find((m) => m.context === 1n && (m.type === 0 || m.type === 1));
    if (reply?.type === 1) assert.fail(`kernel answered ERROR errno ${reply.body.getUint32(16, true)}`);
    const existing = seen.filter((m) => m.type === 10001).length;
    t.diagnostic(`SUCCESS; ${existing} existing TCP sockets reported`);

    const mark = seen.length;
    server = createServer();
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    client = connect(port, '127.0.0.1');
    await new Promise<void>((r, j) => client!.once('connect', r).once('error', j));
    await until(() => seen.slice(mark).some((m) => m.type === 10001), 5000, 'SRC_ADDED after creating TCP sockets');
    const added = seen.slice(mark).filter((m) => m.type === 10001);
    t.diagnostic(`${added.length} SRC_ADDED after opening a listener and a connection`);
    assert.ok(added.every((m) => m.context === 0n), 'unsolicited SRC_ADDED carry context 0');
    assert.equal(truncated, 0, 'no record exceeded 64 KiB');
    assert.equal(closed, false);
  } finally {
    client?.destroy();
    server?.close();
    transport.close();
  }
});
