/**
 * Kernels without published sources (issue 12): tolerant framing on unverified dialects, the
 * provisional macOS 26/27 dialects, their version naming, and the real macOS 27 bytes of
 * REAL-CAPTURES.md §1 decoded end to end through the client.
 * Expected values come from REAL-CAPTURES.md and LAYOUTS.md (offsets from ntstat-layouts.json).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { NtstatError } from '../src/errors.js';
import { NetworkStatisticsClient } from '../src/client/client.js';
import { streamToJson } from '../src/model/json.js';
import { allDialects, decodeDatagram, dialectFor, encodeMessage, macosForDarwin, provisionalDialects, type Message } from '../src/protocol/index.js';
import { ReplayTransport } from '../src/transport/replay.js';
import * as H from './helpers/facts.js';

const { concat } = H;

const newestPublished = () => allDialects()[allDialects().length - 1];

/** Same bytes with `extra` zero bytes appended and hdr.length (u16 @12, LAYOUTS.md d3247+) raised. */
function grow(msg: Uint8Array, extra: number): Uint8Array {
  const out = new Uint8Array(msg.length + extra);
  out.set(msg);
  new DataView(out.buffer).setUint16(12, msg.length + extra, true);
  return out;
}

const counts = { rxPackets: 3, rxBytes: 300, txPackets: 4, txBytes: 400, rxDuplicateBytes: 0, rxOutOfOrderBytes: 0, txRetransmit: 0, connectAttempts: 1, connectSuccesses: 1, minRtt: 0, avgRtt: 0, varRtt: 0 };

describe('tolerant framing on unverified dialects', () => {
  const verified = newestPublished();
  const unverified = dialectFor('12377.1.9');
  const countsMsg = encodeMessage(verified, { kind: 'srcCounts', context: 0n, flags: 0, srcref: 7n, eventFlags: 0n, counts });

  test('a verified dialect keeps exact lengths: a grown SRC_COUNTS is malformed', () => {
    assert.throws(() => decodeDatagram(grow(countsMsg, 16), verified), (e: unknown) => e instanceof NtstatError && e.code === 'ERR_NTSTAT_MALFORMED');
  });

  test('an unverified dialect accepts it by hdr.length, decodes the known prefix, counts the rest', () => {
    assert.equal(unverified.verified, false);
    const [m] = decodeDatagram(grow(countsMsg, 16), unverified);
    assert.equal(m.kind, 'srcCounts');
    assert.equal(m.trailing, 16);
    assert.equal((m as Extract<Message, { kind: 'srcCounts' }>).counts.rxBytes, 300);
    assert.equal((m as Extract<Message, { kind: 'srcCounts' }>).counts.txBytes, 400);
  });

  test('one grown message never rejects an aggregated record', () => {
    const tcpId = 2; // NSTAT_PROVIDER_TCP_KERNEL from 10.12 (LAYOUTS.md)
    const descLayout = verified.structs.get('nstat_tcp_descriptor')!;
    const update = encodeMessage(verified, { kind: 'srcUpdate', context: 0n, flags: 0, srcref: 8n, eventFlags: 0n, counts, provider: tcpId, raw: new Uint8Array(descLayout.size) });
    const record = concat(countsMsg, grow(update, 16), encodeMessage(verified, { kind: 'srcRemoved', context: 0n, flags: 0, srcref: 9n }));
    assert.throws(() => decodeDatagram(record, verified));
    const msgs = decodeDatagram(record, unverified);
    assert.deepEqual(msgs.map((m) => m.kind), ['srcCounts', 'srcUpdate', 'srcRemoved']);
    assert.equal(msgs[1].trailing, 16);
    assert.equal(msgs[0].trailing, undefined);
  });

  test('a message that does not decode is dropped alone when the caller asks (framing intact)', () => {
    // A SRC_COUNTS cut 8 bytes short (hdr.length says so): the neighbours still decode.
    const short = countsMsg.slice(0, countsMsg.length - 8);
    new DataView(short.buffer).setUint16(12, short.length, true);
    const record = concat(countsMsg, short, countsMsg);
    const bad: NtstatError[] = [];
    const msgs = decodeDatagram(record, unverified, { onInvalidMessage: (e) => bad.push(e) });
    assert.equal(msgs.length, 2);
    assert.equal(bad.length, 1);
    assert.equal(bad[0].code, 'ERR_NTSTAT_MALFORMED');
    // Without the callback, or on a verified dialect, the record is rejected as before.
    assert.throws(() => decodeDatagram(record, unverified));
    assert.throws(() => decodeDatagram(record, verified, { onInvalidMessage: () => undefined }));
  });

  test('framing errors still throw on unverified dialects', () => {
    const bad = countsMsg.slice();
    new DataView(bad.buffer).setUint16(12, bad.length + 50, true); // longer than the record
    assert.throws(() => decodeDatagram(bad, unverified, { onInvalidMessage: () => undefined }), (e: unknown) => e instanceof NtstatError && e.code === 'ERR_NTSTAT_MALFORMED');
  });
});

describe('provisional dialects and version naming', () => {
  test('macOS 26 (Darwin 25, xnu-12377): every 15.x struct unchanged, new message types from the newer header', () => {
    const p26 = dialectFor('26');
    assert.equal(p26.family, 'p26');
    assert.equal(p26.verified, false);
    assert.ok(p26.provisional);
    assert.match(p26.warning!, /observed, not from headers/);
    for (const [name, layout] of newestPublished().structs) {
      assert.deepEqual(p26.structs.get(name)?.fields, layout.fields, name);
      assert.equal(p26.structs.get(name)?.size, layout.size, name);
    }
    // REAL-CAPTURES.md §2: GET_DETAILS 1009, SRC_DETAILS 10008, SRC_EXTENDED_DETAILS 10009, details 448.
    assert.equal(p26.constants['NSTAT_MSG_TYPE_GET_DETAILS'], 1009);
    assert.equal(p26.constants['NSTAT_MSG_TYPE_SRC_DETAILS'], 10008);
    assert.equal(p26.constants['NSTAT_MSG_TYPE_SRC_EXTENDED_DETAILS'], 10009);
    assert.equal(p26.constants['NSTAT_IFNET_IS_ULTRA_CONSTRAINED'], 0x80000);
    assert.equal(p26.structs.get('nstat_detailed_counts')?.size, 448);
  });

  test('macOS 27 (Darwin 26): the 360-byte TCP descriptor at the captured offsets; vuuid/fuuid unplaced', () => {
    const p27 = dialectFor('27');
    assert.equal(p27.family, 'p27');
    const tcp = p27.structs.get('nstat_tcp_descriptor')!;
    assert.equal(tcp.size, 360);
    const at = (n: string) => tcp.byName.get(n)?.offset;
    // REAL-CAPTURES.md §1 "Decoded (descriptor offsets)".
    assert.deepEqual(
      [at('ifindex'), at('state'), at('pid'), at('epid'), at('local'), at('remote'), at('cc_algo'), at('pname'), at('uuid'), at('euuid'), at('persona_id'), at('uid'), at('ifnet_properties'), at('fallback_mode')],
      [72, 76, 116, 120, 124, 152, 180, 196, 260, 276, 340, 344, 352, 356],
    );
    assert.equal(at('vuuid'), undefined);
    assert.equal(at('fuuid'), undefined);
    assert.equal(p27.structs.get('nstat_quic_descriptor'), tcp, 'QUIC shares the TCP descriptor (LAYOUTS.md trap 4)');
    assert.equal(p27.structs.get('nstat_udp_descriptor')?.size, 280, 'UDP not observed grown');
  });

  test('Darwin 25/26 kern.version strings and --macos 26/27 name their own train, never an older tag', () => {
    const cases: [string, string, RegExp][] = [
      ['Darwin Kernel Version 25.0.0: Mon Aug 25 2025; root:xnu-12377.1.9~3/RELEASE_ARM64_T8103', 'p26', /xnu-12377\.1\.9.*macOS 26, Darwin 25/],
      ['Darwin Kernel Version 26.0.0: Mon Sep 21 2026; root:xnu-13000.1.1~1/RELEASE_ARM64_T6000', 'p27', /xnu-13000\.1\.1.*macOS 27, Darwin 26/],
      ['darwin:25.1.0', 'p26', /macOS 26/],
      ['darwin:26.0.0', 'p27', /macOS 27/],
      ['xnu-12377.1.9', 'p26', /xnu-12377\.1\.9 is macOS 26/],
      ['12377.41.6', 'p26', /xnu-12377\.41\.6/],
    ];
    for (const [input, family, warn] of cases) {
      const d = dialectFor(input);
      assert.equal(d.family, family, input);
      assert.equal(d.verified, false, input);
      assert.match(d.warning!, warn, input);
      assert.doesNotMatch(d.warning!, /11417|11215/, `${input}: never labelled as an older tag`);
    }
    for (const m of ['26', '26.1', '16']) assert.equal(dialectFor(m, 'macos').family, 'p26', m);
    assert.equal(dialectFor('27.0', 'macos').family, 'p27');
    assert.equal(macosForDarwin('25.0.0'), '26.0');
    assert.equal(macosForDarwin('26.2.0'), '27.2');
    assert.throws(() => dialectFor('20', 'macos'), (e: unknown) => e instanceof NtstatError && e.code === 'ERR_NTSTAT_UNKNOWN_VERSION');
    assert.equal(provisionalDialects().length, 2);
  });
});

// ---------------------------------------------------------------------------------------------
// The real macOS 27 capture

function captureHex(): [Uint8Array, Uint8Array] {
  const text = readFileSync(resolve(H.SHARED_DIR, 'xnu/REAL-CAPTURES.md'), 'utf8');
  const blocks = [...text.matchAll(/```\n([0-9a-f]+)\n```/g)].map((m) => Uint8Array.from(Buffer.from(m[1], 'hex')));
  assert.ok(blocks.length >= 2, 'REAL-CAPTURES.md §1 holds the SRC_DESC and SRC_COUNTS hex');
  return [blocks[0], blocks[1]];
}

/** A SRC_UPDATE in the capture's shape: update head (d10002 offsets, from the facts) + counts + the captured descriptor. */
function buildUpdate(desc: Uint8Array, countsMsg: Uint8Array, srcref: bigint): Uint8Array {
  const v = H.mustFacts().versions[H.mustFacts().versions.length - 1];
  const upd = H.mustStruct(v, 'nstat_msg_src_update');
  const cnt = H.mustStruct(v, 'nstat_msg_src_counts');
  const dsc = H.mustStruct(v, 'nstat_msg_src_description');
  const head = H.fieldOf(upd, 'data')!.offset;
  const descStart = H.fieldOf(dsc, 'data')!.offset;
  const descriptor = desc.subarray(descStart);
  const out = new Uint8Array(head + descriptor.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, H.constant(v, 'NSTAT_MSG_TYPE_SRC_UPDATE'), true);
  dv.setUint16(12, out.length, true);
  dv.setBigUint64(H.fieldOf(upd, 'srcref')!.offset, srcref, true);
  const cOff = H.fieldOf(cnt, 'counts')!.offset;
  out.set(countsMsg.subarray(cOff, cOff + 112), H.fieldOf(upd, 'counts')!.offset);
  dv.setUint32(H.fieldOf(upd, 'provider')!.offset, new DataView(desc.buffer, desc.byteOffset).getUint32(H.fieldOf(dsc, 'provider')!.offset, true), true);
  out.set(descriptor, head);
  return out;
}

describe('real macOS 27 bytes (REAL-CAPTURES.md §1)', { skip: H.needsFacts().skip }, () => {
  test('SRC_DESC (400) and SRC_COUNTS (144) decode with the macOS 27 dialect', () => {
    const [desc, cnt] = captureHex();
    assert.equal(desc.length, 400);
    const p27 = dialectFor('27');
    const [d] = decodeDatagram(desc, p27);
    assert.equal(d.kind, 'srcDesc');
    const x = (d as Extract<Message, { kind: 'srcDesc' }>).descriptor!;
    assert.equal(x.pid, 28329);
    assert.equal(x.pname, 'curl');
    assert.deepEqual([x.local, x.remote].map((e) => e && `${(e as { address: string }).address}:${(e as { port: number }).port}`), ['10.9.8.151:62856', '104.20.23.154:80']);
    assert.equal(x.state, 4);
    assert.equal(x.ifindex, 14);
    assert.equal(x.uid, 501);
    assert.equal(x.ifnetProperties, 0x08011008);
    const [c] = decodeDatagram(cnt, p27);
    const counts = (c as Extract<Message, { kind: 'srcCounts' }>).counts;
    assert.deepEqual([counts.rxPackets, counts.rxBytes, counts.txPackets, counts.txBytes], [5, 1547, 5, 1272]);
  });

  test('read with the 15.x layout (macOS 26 tables) it is accepted by length but uid and interface would be wrong: why the self-test exists', () => {
    const [desc] = captureHex();
    assert.throws(() => decodeDatagram(desc, newestPublished()), /must be 384 bytes, got 400/);
    const [d] = decodeDatagram(desc, dialectFor('26'));
    assert.equal(d.trailing, 16);
    const x = (d as Extract<Message, { kind: 'srcDesc' }>).descriptor!;
    assert.equal(x.pid, 28329); // before the insertion: right
    assert.notEqual(x.uid, 501); // after it: wrong (0)
  });

  test('served to the client: stream and JSON carry the captured facts', async () => {
    const [desc, cnt] = captureHex();
    // The two fixtures come from different sources (srcref 1 and 111): give the counts srcref 1.
    const counts1 = cnt.slice();
    new DataView(counts1.buffer).setBigUint64(16, 1n, true);
    const update = buildUpdate(desc, cnt, 2n);
    assert.equal(update.length, 512, 'REAL-CAPTURES.md: a TCP SRC_UPDATE would be 512 bytes');
    const records = [desc, counts1, update].map((data, i) => ({ time: 1_000 + i, data, offset: 0 }));
    const seen = new Map<string, ReturnType<typeof streamToJson>>();
    const t2 = new ReplayTransport(records);
    // Selected as a live client would, from a Darwin 26 kern.version string.
    const c2 = new NetworkStatisticsClient({ transport: t2, dialect: 'Darwin Kernel Version 26.0.0: x; root:xnu-13000.1.1~1/RELEASE_ARM64_T6000', passive: true, interval: 0 });
    const errors: unknown[] = [];
    c2.on('error', (e) => errors.push(e));
    for (const ev of ['added', 'update'] as const) c2.on(ev, (s) => seen.set(s.id, { ...streamToJson(ev, 0, s), uid: s.descriptor?.uid } as ReturnType<typeof streamToJson>));
    await c2.connect();
    await c2.closed();
    assert.deepEqual(errors, []);
    for (const id of ['1', '2']) {
      const j = seen.get(id) as ReturnType<typeof streamToJson> & { uid?: number };
      assert.ok(j, `stream ${id}`);
      assert.equal(j.pid, 28329);
      assert.equal(j.process, 'curl');
      assert.deepEqual(j.local, { address: '10.9.8.151', port: 62856 });
      assert.deepEqual(j.remote, { address: '104.20.23.154', port: 80 });
      assert.equal(j.state, 'ESTABLISHED');
      assert.equal(j.ifindex, 14);
      assert.equal(j.interface, 'wifi');
      assert.equal(j.uid, 501);
      assert.equal(j.counts?.rxBytes, 1547);
      assert.equal(j.counts?.txBytes, 1272);
    }
  });
});

describe('issue 18 bug 3: the simulated macOS 26/27 kernel is named by its own release', () => {
  const doctor = async (args: string[]) => {
    let out = '';
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, env: {}, platform: 'linux' as const };
    const { main } = await import('../src/cli/main.js');
    assert.equal(await main(['doctor', '--simulate', ...args], io), 0);
    return out;
  };
  test('--macos 26 -> xnu-12377 (macOS 26, Darwin 25), never xnu-11417/11215', async () => {
    const out = await doctor(['--macos', '26']);
    assert.match(out, /kernel\s+SIMULATED xnu-12377 \(macOS 26, Darwin 25, provisional layout, unverified\)/);
    assert.match(out, /dialect\s+p26 \(provisional, macOS 26: observed, not from headers\), UNVERIFIED/);
    assert.doesNotMatch(out, /11417|11215/);
  });
  test('--xnu 12377.1.9 keeps its own build number; --macos 27 says the xnu build is unknown', async () => {
    assert.match(await doctor(['--xnu', '12377.1.9']), /kernel\s+SIMULATED xnu-12377\.1\.9 \(macOS 26, Darwin 25/);
    const out27 = await doctor(['--macos', '27']);
    assert.match(out27, /kernel\s+SIMULATED xnu-\? \(macOS 27, Darwin 26, provisional layout, unverified; xnu build unknown\)/);
    assert.doesNotMatch(out27, /11417|11215|12377/);
  });
});
