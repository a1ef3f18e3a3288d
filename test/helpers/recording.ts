/** Builds libntstat recordings (u32 LE time, u32 LE length, bytes) of a small, known session. */
import { encodeMessage, aggregate } from '../../src/protocol/encode.js';
import { providerId, HeaderFlag } from '../../src/protocol/constants.js';
import type { Dialect } from '../../src/protocol/dialect.js';
import type { Counts, Message } from '../../src/protocol/messages.js';
import { encodeLibntstatRecord } from '../../src/transport/libntstat-reader.js';

export const T0 = 1_700_000_000; // 2023-11-14T22:13:20Z

export function counts(c: Partial<Counts>): Counts {
  return {
    rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDuplicateBytes: 0, rxOutOfOrderBytes: 0,
    txRetransmit: 0, connectAttempts: 0, connectSuccesses: 0, minRtt: 0, avgRtt: 0, varRtt: 0,
    ...c,
  };
}

/**
 * The session: ADD_ALL request; walk reports srcref 7 (IPv4, epagd); SUCCESS; then an aggregated
 * record (10.11+) with SRC_ADDED 9 + SRC_DESC 9 (IPv6, WebKit, SYN_SENT) + SRC_COUNTS 7; a QUERY
 * request; 9 fails (attempt, no success) and is removed; 7 closes with CLOSING counts+desc.
 */
export function sessionRecording(d: Dialect): Uint8Array {
  const tcp = providerId(d, 'tcp')!;
  const wifi = typeof d.constants['NSTAT_IFNET_IS_WIFI'] === 'number' ? (d.constants['NSTAT_IFNET_IS_WIFI'] as number) : undefined;
  const closing = d.hasLength ? HeaderFlag.CLOSING : 0;
  const desc7 = {
    local: { family: 4 as const, address: '10.0.20.179', port: 58760 },
    remote: { family: 4 as const, address: '52.86.2.3', port: 443 },
    pid: 66, pname: 'epagd', state: 4, ifindex: 4,
    ...(wifi !== undefined ? { ifnetProperties: wifi } : {}),
  };
  const desc9 = {
    local: { family: 6 as const, address: 'fdd4:69cc:c669:be20::1d4c', port: 61615 },
    remote: { family: 6 as const, address: '2607:f8b0:4000:814::200e', port: 443 },
    pid: 18175, pname: 'com.apple.WebKit', state: 2, ifindex: 4,
  };
  const c7 = counts({ rxPackets: 314, rxBytes: 17047, txPackets: 5, txBytes: 926, connectAttempts: 1, connectSuccesses: 1, avgRtt: 32 * 14, minRtt: 32 * 12, varRtt: 16 * 2 });
  const c9 = counts({ txPackets: 2, txBytes: 128, connectAttempts: 1 });
  const enc = (m: Message) => encodeMessage(d, m);
  const base = { flags: 0, context: 0n };
  const records: [number, Uint8Array][] = [];
  records.push([T0, enc({ kind: 'addAllSrcs', context: 1n, flags: 0, provider: tcp, filter: 0n, events: 0n, targetPid: 0 })]);
  records.push([T0, enc({ ...base, kind: 'srcAdded', srcref: 7n, provider: tcp })]);
  records.push([T0, enc({ ...base, kind: 'srcDesc', srcref: 7n, eventFlags: 0n, provider: tcp, descriptor: desc7 })]);
  records.push([T0, enc({ kind: 'success', context: 1n, flags: 0 })]);
  const later = [
    enc({ ...base, kind: 'srcAdded', srcref: 9n, provider: tcp }),
    enc({ ...base, kind: 'srcDesc', srcref: 9n, eventFlags: 0n, provider: tcp, descriptor: desc9 }),
    enc({ ...base, kind: 'srcCounts', srcref: 7n, eventFlags: 0n, counts: c7 }),
  ];
  if (d.hasLength) records.push([T0 + 27, aggregate(d, later)]);
  else for (const m of later) records.push([T0 + 27, m]);
  records.push([T0 + 28, enc({ kind: 'querySrc', context: 2n, flags: 0, srcref: d.srcrefSize === 8 ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn })]);
  records.push([T0 + 28, enc({ ...base, kind: 'srcCounts', srcref: 9n, eventFlags: 0n, counts: c9 })]);
  records.push([T0 + 29, enc({ ...base, kind: 'srcRemoved', srcref: 9n })]);
  records.push([T0 + 55, enc({ ...base, flags: closing, kind: 'srcCounts', srcref: 7n, eventFlags: 0n, counts: { ...c7, rxBytes: 20000 } })]);
  records.push([T0 + 55, enc({ ...base, flags: closing, kind: 'srcDesc', srcref: 7n, eventFlags: 0n, provider: tcp, descriptor: { ...desc7, state: 5 } })]);
  records.push([T0 + 55, enc({ ...base, kind: 'srcRemoved', srcref: 7n })]);
  const parts = records.map(([t, b]) => encodeLibntstatRecord(t, b));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
