/**
 * The ledger's attribution against a reference written from its rules, under random event
 * sequences on streams the caller mutates in place (as the client does): every growth goes to
 * the flow's group (process, responsible app by the epid's last known name, pid), interface and
 * minute as they are at that event, whatever changed since (pid, delegate, a name learnt later,
 * interface, minute, a flush in between). The ledger remembers those lookups per flow (issue 17);
 * this catches a remembered group, interface or bucket used after its inputs changed. The live
 * streams (read by every /metrics scrape, kept between scrapes) follow the flows opening and ending.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UsageLedger } from '../src/agent/ledger.js';
import type { Stream, InterfaceKind } from '../src/model/stream.js';
import type { UsageDelta } from '../src/store/records.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 30);

type Op =
  | { k: 'grow'; i: number; rx: number; tx: number; rp: number; tp: number }
  | { k: 'shrink'; i: number }
  | { k: 'owner'; i: number; pid: number | undefined; process: string | undefined; epid: number | undefined }
  | { k: 'iface'; i: number; ifname: string | undefined; ifindex: number | undefined; kind: InterfaceKind }
  | { k: 'time'; ms: number }
  | { k: 'flush' }
  | { k: 'remove'; i: number }
  | { k: 'fresh'; i: number };

const N = 4;
const pidArb = fc.constantFrom(undefined, 10, 11, 12);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('grow' as const), i: fc.nat(N - 1), rx: fc.nat(5000), tx: fc.nat(500), rp: fc.nat(5), tp: fc.nat(5) }), weight: 6 },
  fc.record({ k: fc.constant('shrink' as const), i: fc.nat(N - 1) }),
  { arbitrary: fc.record({ k: fc.constant('owner' as const), i: fc.nat(N - 1), pid: pidArb, process: fc.constantFrom(undefined, 'curl', 'Safari', 'nsurlsessiond', '?'), epid: pidArb }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('iface' as const), i: fc.nat(N - 1), ifname: fc.constantFrom(undefined, undefined, 'en0', 'utun3'), ifindex: fc.constantFrom(undefined, 0, 4, 7, 7), kind: fc.constantFrom<InterfaceKind>('wifi', 'wifi', 'other') }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('time' as const), ms: fc.constantFrom(1000, 20_000, 59_000, MINUTE, 3 * MINUTE) }), weight: 2 },
  fc.record({ k: fc.constant('flush' as const) }),
  fc.record({ k: fc.constant('remove' as const), i: fc.nat(N - 1) }),
  fc.record({ k: fc.constant('fresh' as const), i: fc.nat(N - 1) }),
);

let serial = 0;
function newStream(): Stream {
  serial++;
  return {
    id: String(serial), srcref: BigInt(serial), provider: 'tcp', providerKind: 'tcp', providerId: 2, userland: false, interface: 'wifi', ifindex: 4, ifname: 'en0',
    listener: false, failed: false, pid: 10, epid: 10, process: 'curl', firstSeen: 0, lastUpdated: 0, closed: false,
    local: { family: 4, address: '10.0.0.2', port: 40000 + serial },
    remote: { family: 4, address: '192.0.2.1', port: 443 },
    descriptor: { startTimestamp: 1_000_000 + serial } as Stream['descriptor'],
    counts: { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 } as Stream['counts'],
  };
}

/** The rules, computed the plain way: every lookup at every event. */
class Reference {
  readonly names = new Map<number, string>();
  readonly flows = new Map<string, { rx: number; tx: number; rp: number; tp: number }>();
  buckets = new Map<string, UsageDelta>();
  readonly groups = new Map<string, number[]>();
  readonly ifaces = new Map<string, number[]>();

  apply(event: 'added' | 'update' | 'removed', s: Stream, now: number): void {
    if (s.pid !== undefined && s.process !== undefined) this.names.set(s.pid, s.process);
    const process = s.process ?? '?';
    const app = s.epid && s.epid !== s.pid ? this.names.get(s.epid) : undefined;
    const shownApp = app !== undefined && app !== process ? app : undefined;
    const group = `name:${process}${shownApp !== undefined ? `|app:${shownApp}` : ''}|pid:${s.pid ?? '?'}`;
    const ifname = s.ifname ?? (s.ifindex ? `if${s.ifindex}` : '?');
    const iface = `${ifname}/${s.interface}`;
    const minute = Math.floor(now / MINUTE) * MINUTE;
    const bucket = () => {
      const key = `${minute}/${group}/${iface}`;
      let b = this.buckets.get(key);
      if (!b) {
        b = { minute, process, ifname, ifkind: s.interface, rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0, flows: 0 };
        if (s.pid !== undefined) b.pid = s.pid;
        if (shownApp !== undefined) b.app = shownApp;
        this.buckets.set(key, b);
      }
      return b;
    };
    let f = this.flows.get(s.id);
    if (!f) {
      this.flows.set(s.id, (f = { rx: 0, tx: 0, rp: 0, tp: 0 }));
      bucket().flows++;
    }
    const c = s.counts!;
    const d = [Math.max(0, c.rxBytes - f.rx), Math.max(0, c.txBytes - f.tx), Math.max(0, c.rxPackets - f.rp), Math.max(0, c.txPackets - f.tp)];
    f.rx += d[0];
    f.tx += d[1];
    f.rp += d[2];
    f.tp += d[3];
    if (d.some((x) => x > 0)) {
      const b = bucket();
      b.rxBytes += d[0];
      b.txBytes += d[1];
      b.rxPackets += d[2];
      b.txPackets += d[3];
      for (const [m, k] of [[this.groups, group], [this.ifaces, iface]] as const) {
        const t = m.get(k) ?? [0, 0, 0, 0];
        for (let j = 0; j < 4; j++) t[j] += d[j];
        m.set(k, t);
      }
    }
    if (event === 'removed') this.flows.delete(s.id);
  }

  take(): UsageDelta[] {
    const out = [...this.buckets.values()];
    this.buckets = new Map();
    return out;
  }
}

const sortDeltas = (l: readonly UsageDelta[]) => [...l].map((d) => ({ ...d })).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

test('attribution with remembered lookups = every lookup at every event (random sequences, streams mutated in place)', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 120, size: 'medium' }), (ops) => {
      const ledger = new UsageLedger();
      const ref = new Reference();
      let now = T0;
      const streams: (Stream | undefined)[] = Array.from({ length: N }, () => undefined);
      // Live flows by first sight, as liveStreams() gives them (the objects last seen for each).
      const order = new Map<string, Stream>();
      const send = (event: 'added' | 'update' | 'removed', s: Stream) => {
        ledger.apply(event, s, now);
        ref.apply(event, s, now);
        if (event === 'removed') order.delete(s.id);
        else if (!order.has(s.id)) order.set(s.id, s);
        assert.deepEqual(ledger.liveStreams().map((x) => x.id), [...order.keys()]);
      };
      const live = (i: number): Stream => {
        let s = streams[i];
        if (!s) {
          streams[i] = s = newStream();
          send('added', s);
        }
        return s;
      };
      for (const op of ops) {
        switch (op.k) {
          case 'grow': {
            const s = live(op.i);
            const c = s.counts!;
            c.rxBytes += op.rx;
            c.txBytes += op.tx;
            c.rxPackets += op.rp;
            c.txPackets += op.tp;
            send('update', s);
            break;
          }
          case 'shrink': {
            const s = live(op.i);
            s.counts!.rxBytes = Math.floor(s.counts!.rxBytes / 2);
            send('update', s);
            break;
          }
          case 'owner': {
            const s = live(op.i);
            if (op.pid === undefined) delete s.pid;
            else s.pid = op.pid;
            if (op.process === undefined) delete s.process;
            else s.process = op.process;
            if (op.epid === undefined) delete s.epid;
            else s.epid = op.epid;
            send('update', s);
            break;
          }
          case 'iface': {
            const s = live(op.i);
            if (op.ifname === undefined) delete s.ifname;
            else s.ifname = op.ifname;
            if (op.ifindex === undefined) delete s.ifindex;
            else s.ifindex = op.ifindex;
            s.interface = op.kind;
            send('update', s);
            break;
          }
          case 'time':
            now += op.ms;
            break;
          case 'flush':
            assert.deepEqual(sortDeltas(ledger.takeBatch(now).deltas), sortDeltas(ref.take()));
            break;
          case 'remove': {
            const s = streams[op.i];
            if (s) {
              s.closed = true;
              send('removed', s);
              streams[op.i] = undefined;
            }
            break;
          }
          case 'fresh':
            // A new object for a live stream (a caller that does not mutate in place).
            if (streams[op.i]) {
              const s = { ...streams[op.i]!, counts: { ...streams[op.i]!.counts! } };
              streams[op.i] = s;
              send('update', s);
            }
            break;
        }
      }
      assert.deepEqual(sortDeltas(ledger.takeBatch(now).deltas), sortDeltas(ref.take()));
      const groups = new Map(ledger.groupList().filter((g) => g.rxBytes + g.txBytes + g.rxPackets + g.txPackets > 0).map((g) => [g.key, [g.rxBytes, g.txBytes, g.rxPackets, g.txPackets]]));
      assert.deepEqual(groups, ref.groups);
      const ifaces = new Map(ledger.interfaceList().filter((i) => i.rxBytes + i.txBytes + i.rxPackets + i.txPackets > 0).map((i) => [`${i.name}/${i.kind}`, [i.rxBytes, i.txBytes, i.rxPackets, i.txPackets]]));
      assert.deepEqual(ifaces, ref.ifaces);
    }),
    { numRuns: 400 },
  );
});
