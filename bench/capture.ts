/**
 * Captures for the decode benchmarks: GET_UPDATE(ALL)-style records (aggregated SRC_UPDATE
 * batches of at most 4096 bytes, BEHAVIOUR.md §2.6) with a TCP/UDP mix, IPv4 and IPv6, realistic
 * process names, encoded with ntstat's own encoder for the given dialect.
 */
import { aggregate, encodeMessage } from '../src/protocol/encode.js';
import { providerId } from '../src/protocol/constants.js';
import type { Dialect } from '../src/protocol/dialect.js';
import type { Counts } from '../src/protocol/messages.js';

const NAMES = ['Safari', 'com.apple.WebKit.Networking', 'mDNSResponder', 'Slack Helper', 'nsurlsessiond', 'apsd', 'Dropbox', 'node'];

function counts(i: number): Counts {
  return {
    rxPackets: 100 + i, rxBytes: 150_000 + i * 7, txPackets: 80 + i, txBytes: 9_000 + i * 3,
    rxDuplicateBytes: 0, rxOutOfOrderBytes: i % 7, txRetransmit: i % 5, connectAttempts: 1, connectSuccesses: 1,
    minRtt: 320, avgRtt: 480, varRtt: 32, cellRxBytes: 0, cellTxBytes: 0, wifiRxBytes: 150_000 + i * 7, wifiTxBytes: 9_000 + i * 3, wiredRxBytes: 0, wiredTxBytes: 0,
  };
}

export function syntheticCapture(d: Dialect, sources = 2000): Uint8Array[] {
  const tcp = providerId(d, 'tcp')!;
  const udp = providerId(d, 'udp')!;
  const records: Uint8Array[] = [];
  let batch: Uint8Array[] = [];
  let size = 0;
  for (let i = 0; i < sources; i++) {
    const v6 = i % 3 === 0;
    const isTcp = i % 4 !== 3;
    const local = v6 ? { family: 6 as const, address: `2001:db8::${(i % 65000).toString(16)}`, port: 49152 + (i % 16000) } : { family: 4 as const, address: `192.168.1.${i % 250}`, port: 49152 + (i % 16000) };
    const remote = v6 ? { family: 6 as const, address: '2606:4700::6810:84e5', port: 443 } : { family: 4 as const, address: `203.0.113.${i % 250}`, port: 443 };
    const msg = encodeMessage(d, {
      kind: 'srcUpdate', context: 0n, flags: 0, srcref: BigInt(i + 1), eventFlags: 0n, counts: counts(i), provider: isTcp ? tcp : udp,
      descriptor: { local, remote, pid: 300 + (i % 97), epid: 300 + (i % 97), upid: 9000 + i, pname: NAMES[i % NAMES.length], state: isTcp ? 4 : undefined, ifindex: 4, ifnetProperties: 8, uuid: '6f1c2e3a-0000-4000-8000-00000000abcd', ccAlgo: 'cubic' },
    });
    if (size + msg.length > 4096) {
      records.push(aggregate(d, batch));
      batch = [];
      size = 0;
    }
    batch.push(msg);
    size += msg.length;
  }
  if (batch.length) records.push(aggregate(d, batch));
  return records;
}
