/**
 * A large libntstat recording for the replay benchmark (bench/replay.ts): a steady world of
 * `live` TCP/UDP sources (IPv4 and IPv6) with churn, recorded the way libntstat records a session
 * (DESIGN.md §5: u32 LE unix time, u32 LE length, the bytes of one kernel record or request).
 * The session as a client sees it: ADD_ALL_SRCS for TCP and UDP (SRC_ADDED for every source,
 * then SUCCESS), a first GET_UPDATE(ALL) that describes them all (the log's ` +` lines: the first
 * sweep ends with its SUCCESS, BEHAVIOUR.md §2.6), then each simulated second: `churn` sources
 * close (CLOSING SRC_COUNTS + SRC_REMOVED, one record each) and as many open (SRC_ADDED +
 * SRC_DESC), a tenth of the sources report SRC_COUNTS on their own (one record each); every
 * `pollEvery` seconds a GET_UPDATE(ALL) request, its aggregated SRC_UPDATE reply for every live
 * source (context 0, batches of at most 4096 bytes), in which a fifth of the sources moved bytes,
 * and the SUCCESS that ends it. Deterministic (no randomness): the same arguments give the same bytes.
 */
import { openSync, writeSync, closeSync } from 'node:fs';
import { aggregate, encodeMessage } from '../src/protocol/encode.js';
import { HeaderFlag, providerId } from '../src/protocol/constants.js';
import type { Dialect } from '../src/protocol/dialect.js';
import type { Counts, Descriptor } from '../src/protocol/messages.js';
import { encodeLibntstatRecord } from '../src/transport/libntstat-reader.js';

const NAMES = ['Safari', 'com.apple.WebKit.Networking', 'mDNSResponder', 'Slack Helper', 'nsurlsessiond', 'apsd', 'Dropbox', 'node'];
export const RECORDING_T0 = 1_700_000_000;

export interface RecordingStats {
  records: number;
  bytes: number;
  messages: number;
}

interface Src {
  ref: number;
  tcp: boolean;
  desc: Descriptor;
  rx: number;
  tx: number;
}

function descriptor(ref: number, tcp: boolean): Descriptor {
  const v6 = ref % 3 === 0;
  const local = v6 ? { family: 6 as const, address: `2001:db8::${(ref % 65000).toString(16)}`, port: 49152 + (ref % 16000) } : { family: 4 as const, address: `192.168.1.${ref % 250}`, port: 49152 + (ref % 16000) };
  const remote = v6 ? { family: 6 as const, address: '2606:4700::6810:84e5', port: 443 } : { family: 4 as const, address: `203.0.113.${ref % 250}`, port: 443 };
  return { local, remote, pid: 300 + (ref % 97), epid: 300 + (ref % 97), upid: 9000 + ref, pname: NAMES[ref % NAMES.length], ...(tcp ? { state: 4 } : {}), ifindex: 4, ifnetProperties: 8, uuid: '6f1c2e3a-0000-4000-8000-00000000abcd' };
}

function counts(s: Src): Counts {
  return {
    rxPackets: (s.rx >> 10) + 1, rxBytes: s.rx, txPackets: (s.tx >> 10) + 1, txBytes: s.tx,
    rxDuplicateBytes: 0, rxOutOfOrderBytes: 0, txRetransmit: 0, connectAttempts: 1, connectSuccesses: 1,
    minRtt: 320, avgRtt: 480, varRtt: 32, cellRxBytes: 0, cellTxBytes: 0, wifiRxBytes: s.rx, wifiTxBytes: s.tx, wiredRxBytes: 0, wiredTxBytes: 0,
  };
}

/** Write the recording to `path` until it holds at least `minRecords` records. */
export function writeLibntstatRecording(path: string, d: Dialect, minRecords: number, live = 500, churn = 10, pollEvery = 10): RecordingStats {
  const tcpId = providerId(d, 'tcp')!;
  const udpId = providerId(d, 'udp')!;
  const fd = openSync(path, 'w');
  const stats: RecordingStats = { records: 0, bytes: 0, messages: 0 };
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = () => {
    const all = new Uint8Array(pendingBytes);
    let at = 0;
    for (const p of pending) {
      all.set(p, at);
      at += p.length;
    }
    writeSync(fd, all);
    pending = [];
    pendingBytes = 0;
  };
  const put = (t: number, data: Uint8Array, messages: number) => {
    const r = encodeLibntstatRecord(t, data);
    pending.push(r);
    pendingBytes += r.length;
    stats.records++;
    stats.bytes += r.length;
    stats.messages += messages;
    if (pendingBytes > 1 << 20) flush();
  };
  const base = { context: 0n, flags: 0 };
  const srcs: Src[] = [];
  let next = 1;
  const make = (): Src => {
    const tcp = next % 4 !== 3;
    const s: Src = { ref: next++, tcp, desc: descriptor(next, tcp), rx: 0, tx: 0 };
    srcs.push(s);
    return s;
  };
  const added = (t: number, s: Src) => put(t, encodeMessage(d, { ...base, kind: 'srcAdded', srcref: BigInt(s.ref), provider: s.tcp ? tcpId : udpId }), 1);
  const open = (t: number) => {
    const s = make();
    added(t, s);
    put(t, encodeMessage(d, { ...base, kind: 'srcDesc', srcref: BigInt(s.ref), provider: s.tcp ? tcpId : udpId, eventFlags: 0n, descriptor: s.desc }), 1);
  };
  /** GET_UPDATE(ALL) with `context`, its aggregated replies, and the SUCCESS that ends the poll. */
  const poll = (t: number, context: number, moved: (i: number) => boolean) => {
    put(t, encodeMessage(d, { kind: 'getUpdate', context: BigInt(context), flags: 0, srcref: 0xffff_ffff_ffff_ffffn }), 1);
    let batch: Uint8Array[] = [];
    let size = 0;
    for (let i = 0; i < srcs.length; i++) {
      const s = srcs[i];
      if (moved(i)) s.tx += 700;
      const msg = encodeMessage(d, { ...base, kind: 'srcUpdate', srcref: BigInt(s.ref), provider: s.tcp ? tcpId : udpId, eventFlags: 0n, counts: counts(s), descriptor: s.desc });
      if (size + msg.length > 4096) {
        put(t, aggregate(d, batch), batch.length);
        batch = [];
        size = 0;
      }
      batch.push(msg);
      size += msg.length;
    }
    if (batch.length) put(t, aggregate(d, batch), batch.length);
    put(t, encodeMessage(d, { kind: 'success', context: BigInt(context), flags: 0 }), 1);
  };
  let t = RECORDING_T0;
  // Subscribe: ADD_ALL_SRCS per provider, SRC_ADDED for each existing source, SUCCESS each.
  for (let i = 0; i < live; i++) make();
  for (const [context, provider] of [[1, tcpId], [2, udpId]]) {
    put(t, encodeMessage(d, { kind: 'addAllSrcs', context: BigInt(context), flags: 0, provider, filter: 0n, events: 0n, targetPid: 0 }), 1);
    for (const s of srcs) if ((s.tcp ? tcpId : udpId) === provider) added(t, s);
    put(t, encodeMessage(d, { kind: 'success', context: BigInt(context), flags: 0 }), 1);
  }
  poll(t, 3, () => false); // the first sweep: describes every source
  let second = 0;
  while (stats.records < minRecords) {
    t++;
    second++;
    for (let c = 0; c < churn; c++) {
      const s = srcs.splice((second * 7919 + c * 104729) % srcs.length, 1)[0];
      put(t, encodeMessage(d, { ...base, flags: HeaderFlag.CLOSING, kind: 'srcCounts', srcref: BigInt(s.ref), eventFlags: 0n, counts: counts(s) }), 1);
      put(t, encodeMessage(d, { ...base, kind: 'srcRemoved', srcref: BigInt(s.ref) }), 1);
      open(t);
    }
    for (let i = second % 10; i < srcs.length; i += 10) {
      const s = srcs[i];
      s.rx += 1500;
      put(t, encodeMessage(d, { ...base, kind: 'srcCounts', srcref: BigInt(s.ref), eventFlags: 0n, counts: counts(s) }), 1);
    }
    if (second % pollEvery === 0) poll(t, 3 + second, (i) => (i + second) % 5 === 0);
  }
  flush();
  closeSync(fd);
  return stats;
}
