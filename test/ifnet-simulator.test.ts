/**
 * The simulated ifnet provider for every layout family that has it (issue 13 §2; BEHAVIOUR.md
 * §2.2, §2.3, §3.3, §5.7): ADD_SRC only (ADD_ALL → ENOTSUP), EPERM under privcheck, EINVAL for a
 * threshold below 1 MiB or an unknown index, 64-bit counters equal to the world's interface
 * (flows + non-flow traffic), threshold notices (SRC_COUNTS, context 0; at most one per 2 s from
 * 10.13), and lowering the threshold re-describing every client's ifnet sources.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DarwinErrno as E, decodeDatagram, encodeRequest, layoutFamilies, providerId, type Dialect, type Message, type Request } from '../src/protocol/index.js';
import { encodeIfnetAddParam } from '../src/protocol/ifnet.js';
import { SimKernel, type Simulator } from '../src/simulator/index.js';
import { interfaceTruth } from '../src/simulator/world/interfaces.js';

const WITH_IFNET: readonly Dialect[] = layoutFamilies().filter((d) => providerId(d, 'ifnet') !== undefined);
const MIB = 1024 * 1024;

function read(sim: Simulator, d: Dialect): Message[] {
  const out: Message[] = [];
  for (let r = sim.recv(65536); r; r = sim.recv(65536)) out.push(...decodeDatagram(r.data, d));
  return out;
}

let nextCtx = 500n;
function send(sim: Simulator, d: Dialect, req: Omit<Request, 'context' | 'flags'> & { flags?: number }): bigint {
  const context = nextCtx++;
  sim.send(encodeRequest(d, { flags: 0, ...req, context } as Request));
  return context;
}

function addIfnet(sim: Simulator, d: Dialect, ifindex: number, threshold: number): bigint {
  return send(sim, d, { kind: 'addSrc', provider: providerId(d, 'ifnet')!, param: encodeIfnetAddParam(d, ifindex, threshold) } as Omit<Request, 'context' | 'flags'>);
}

/** ADD_SRC and read the answer: the SRC_ADDED's srcref (what else arrived is returned too). */
function addRead(sim: Simulator, d: Dialect, ifindex: number, threshold: number): bigint {
  const ctx = addIfnet(sim, d, ifindex, threshold);
  return added(read(sim, d), ctx);
}

function added(ms: Message[], ctx: bigint): bigint {
  const m = ms.find((x) => x.kind === 'srcAdded' && x.context === ctx);
  assert.ok(m && m.kind === 'srcAdded', `SRC_ADDED for context ${ctx}: got ${JSON.stringify(ms.map((x) => x.kind))}`);
  return m.srcref;
}

test('at least seven layout families have the ifnet provider (10.9 on)', () => {
  assert.ok(WITH_IFNET.length >= 7, WITH_IFNET.map((d) => d.family).join(' '));
  assert.ok(!WITH_IFNET.some((d) => d.family === 'd2050'), '10.8 has none');
});

describe('simulated ifnet provider, per layout family', () => {
  for (const d of WITH_IFNET) {
    test(`[${d.family}] ADD_ALL → ENOTSUP; privcheck: EPERM unprivileged, SRC_ADDED as root; EINVAL below 1 MiB or for an unknown index`, () => {
      const k = new SimKernel({ dialect: d, scenario: 'bare', privcheck: true });
      const user = k.connect();
      const all = send(user, d, { kind: 'addAllSrcs', provider: providerId(d, 'ifnet')!, filter: 0n, events: 0n, targetPid: 0 } as Omit<Request, 'context' | 'flags'>);
      assert.deepEqual(read(user, d).map((m) => (m.kind === 'error' ? [m.context, m.errno] : m.kind)), [[all, E.ENOTSUP]]);
      const denied = addIfnet(user, d, 4, 2 * MIB);
      assert.deepEqual(read(user, d).map((m) => (m.kind === 'error' ? [m.context, m.errno] : m.kind)), [[denied, E.EPERM]]);
      const root = k.connect({ root: true });
      const small = addIfnet(root, d, 4, MIB - 1);
      const unknown = addIfnet(root, d, 99, 2 * MIB);
      const ok = addIfnet(root, d, 4, 2 * MIB);
      const ms = read(root, d);
      assert.deepEqual(ms.filter((m) => m.kind === 'error').map((m) => m.kind === 'error' && [m.context, m.errno]), [
        [small, E.EINVAL],
        [unknown, E.EINVAL],
      ]);
      added(ms, ok);
    });

    test(`[${d.family}] counts are the interface's 64-bit counters: non-flow traffic + every flow's bytes`, () => {
      const k = new SimKernel({ dialect: d, scenario: 'bare' });
      const w = k.world;
      const en0 = w.interfaces.get(4)!;
      const p = w.spawn('curl');
      const s = w.tcpSocket(p, 4);
      w.tcpConnect(s, { family: 4, address: '203.0.113.5', port: 443 }, en0, 20);
      w.tcpSetState(s, 4);
      w.transfer(s, 3_000_000, 40_000);
      k.advance(5000); // five seconds of LAN chatter on en0
      const sim = k.connect();
      const srcref = addRead(sim, d, 4, 1 << 30);
      send(sim, d, { kind: 'querySrc', srcref } as Omit<Request, 'context' | 'flags'>);
      const counts = read(sim, d).find((m) => m.kind === 'srcCounts');
      assert.ok(counts && counts.kind === 'srcCounts');
      const truth = interfaceTruth(w).find((i) => i.ifindex === 4)!;
      assert.equal(counts.counts.rxBytes, truth.rxBytes);
      assert.equal(counts.counts.txBytes, truth.txBytes);
      assert.equal(counts.counts.rxPackets, truth.rxPackets);
      assert.equal(counts.counts.txPackets, truth.txPackets);
      assert.ok(truth.rxBytes > 2 ** 32, `rx ${truth.rxBytes} is above 2^32 (64-bit)`);
      // Ground truth: the interface counted its flows' bytes plus what no flow carried.
      assert.equal(truth.rxBytes, truth.nonFlow.rxBytes + 3_000_000);
      assert.equal(truth.txBytes, truth.nonFlow.txBytes + 40_000);
      assert.equal(truth.nonFlow.rxBytes, 6_710_886_400 + 12_345 + 5 * 420, 'boot counters + 5 s of chatter');
    });

    test(`[${d.family}] threshold reached: SRC_COUNTS with context 0 to every ifnet source of that interface; ${d.hasLength && d.family !== 'd3247' && d.family !== 'd3789' ? 'at most one per 2 s' : 'no rate limit'}`, () => {
      const k = new SimKernel({ dialect: d, scenario: 'bare' });
      const w = k.world;
      const en0 = w.interfaces.get(4)!;
      const a = k.connect();
      const b = k.connect();
      const ra = addRead(a, d, 4, 2 * MIB);
      const rb = addRead(b, d, 4, 8 * MIB);
      assert.equal(read(a, d).length, 0, 'a higher threshold re-describes nothing');
      const s = w.tcpSocket(w.spawn('curl'), 4);
      w.tcpConnect(s, { family: 4, address: '203.0.113.6', port: 443 }, en0, 20);
      const notices = (sim: Simulator) => read(sim, d).filter((m) => m.kind === 'srcCounts' && m.context === 0n);
      w.transfer(s, MIB, 0); // 1 MiB: not over the 2 MiB effective threshold
      assert.equal(notices(a).length, 0);
      w.transfer(s, MIB + 1, 0); // now over it
      const na = notices(a);
      const nb = notices(b);
      assert.equal(na.length, 1);
      assert.equal(nb.length, 1, 'every client with a source on the interface gets one');
      assert.ok(na[0].kind === 'srcCounts' && na[0].srcref === ra && nb[0].kind === 'srcCounts' && nb[0].srcref === rb);
      assert.equal(na[0].kind === 'srcCounts' && na[0].counts.rxBytes, en0.rxBytes);
      w.transfer(s, 3 * MIB, 0); // over it again, right away
      const limited = ['d3247', 'd3789'].includes(d.family) || !d.hasLength ? false : true;
      assert.equal(notices(a).length, limited ? 0 : 1, limited ? '13+: rate-limited to one per 2 s' : '11/12: no rate limit');
      k.advance(2100);
      w.transfer(s, 3 * MIB, 0);
      assert.equal(notices(a).length, 1, 'after 2 s a notice comes again');
    });

    test(`[${d.family}] lowering the threshold re-describes every client's ifnet sources (SRC_DESC, context 0) before the new SRC_ADDED`, () => {
      const k = new SimKernel({ dialect: d, scenario: 'bare' });
      const a = k.connect();
      const b = k.connect();
      const ra = addRead(a, d, 4, 64 * MIB);
      const rb1 = addRead(b, d, 1, 64 * MIB); // lo0
      // lo0 had no threshold: setting one is a change too, so a's en0 source was re-described.
      assert.deepEqual(read(a, d).map((m) => m.kind === 'srcDesc' && m.srcref), [ra]);
      const ctx = addIfnet(b, d, 4, 16 * MIB); // lower for en0
      const ma = read(a, d);
      const mb = read(b, d);
      const desc = ma.filter((m) => m.kind === 'srcDesc');
      assert.equal(desc.length, 1);
      assert.ok(desc[0].kind === 'srcDesc' && desc[0].context === 0n && desc[0].srcref === ra);
      assert.equal(desc[0].kind === 'srcDesc' && desc[0].descriptor?.threshold, 16 * MIB, 'the effective threshold: the minimum');
      // b's own lo0 source is re-described too (all ifnet sources of all clients), then SRC_ADDED.
      assert.deepEqual(mb.map((m) => m.kind), ['srcDesc', 'srcAdded']);
      assert.ok(mb[0].kind === 'srcDesc' && mb[0].srcref === rb1 && mb[1].kind === 'srcAdded' && mb[1].context === ctx);
      // A higher threshold changes nothing.
      addIfnet(a, d, 4, 128 * MIB);
      assert.equal(read(b, d).filter((m) => m.kind === 'srcDesc').length, 0);
    });
  }
});
