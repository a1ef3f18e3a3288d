/**
 * §2.6 polls against the simulator: single vs ALL, aggregation per version, pacing with
 * CONTINUATION (100-source chunks, empty final chunk on 13+), EAGAIN on context switch, the
 * context-0 pitfall, NOZEROBYTES, gone-source reaping.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DarwinErrno as E, HeaderFlag, constantBig, type Message } from '../src/protocol/index.js';
import { BEHAVIOUR_POINTS, FAMILIES, MODERN, Probe, brief, kinds } from './simulator-harness.js';

const C = HeaderFlag.CONTINUATION;
const AGG = HeaderFlag.SUPPORTS_AGGREGATE;

/**
 * A probe watching TCP with `n` established sockets (large queue so nothing drops). The macOS 15
 * lock yield (on by default there, chunks of 5..99) is off: these tests pin the 100-source cap;
 * the yield has its own tests (xnu-audit.test.ts).
 */
function withSockets(dialect: string, n: number, kernel?: string): { p: Probe; refs: bigint[] } {
  const p = Probe.for(dialect, { kernelVersion: kernel, lockYield: 0 });
  p.sim.setReceiveBufferSize(4 << 20);
  for (let i = 0; i < n; i++) {
    const s = p.tcp();
    p.w.transfer(s, 1000 + i, 100);
  }
  p.addAll('tcp');
  const refs = p.msgs().filter((m) => m.kind === 'srcAdded').map((m) => (m as { srcref: bigint }).srcref);
  return { p, refs };
}

function successes(ms: Message[]): Message[] {
  return ms.filter((m) => m.kind === 'success');
}

describe('§2.6 single-srcref polls', () => {
  for (const d of FAMILIES) {
    test(`§2.6 single poll: one response with the request context, no SUCCESS; unknown srcref → ENOENT [${d.family}]`, () => {
      const p = Probe.for(d);
      p.tcp();
      p.addAll('tcp');
      const ref = (p.msgs()[0] as { srcref: bigint }).srcref;
      const ctx = p.poll('querySrc', ref);
      const ms = p.msgs();
      assert.equal(ms.length, 1);
      assert.ok(ms[0].kind === 'srcCounts' && ms[0].context === ctx && ms[0].srcref === ref);
      const d2 = p.poll('getSrcDesc', ref);
      const [desc] = p.msgs();
      assert.ok(desc.kind === 'srcDesc' && desc.context === d2 && desc.descriptor?.state === 4);
      const miss = p.poll('querySrc', ref + 1000n);
      assert.deepEqual(p.msgs().map(brief), [`error ctx=${miss} errno=${E.ENOENT}`]);
    });
  }
});

describe('§2.6 ALL polls and aggregation', () => {
  for (const pt of BEHAVIOUR_POINTS) {
    test(`§2.6 QUERY_SRC(ALL) without SUPPORTS_AGGREGATE: one record per source with the request context, newest first (aggregated in B15) [${pt.label}]`, () => {
      const { p, refs } = withSockets(pt.dialect, 5, pt.kernel);
      const ctx = p.poll('querySrc', 'all');
      const recs = p.records();
      const counts = recs.flatMap((r) => r.msgs).filter((m) => m.kind === 'srcCounts');
      assert.equal(counts.length, 5);
      assert.deepEqual(counts.map((m) => (m as { srcref: bigint }).srcref), [...refs].sort((a, b) => Number(b - a)), 'newest first');
      if (pt.label === 'B15') {
        assert.equal(recs.length, 2, 'one batch + SUCCESS');
        for (const m of counts) assert.equal(m.context, 0n);
      } else {
        assert.equal(recs.length, 6, 'one record per source + SUCCESS');
        for (const m of counts) assert.equal(m.context, ctx);
      }
      const last = recs[recs.length - 1].msgs;
      assert.deepEqual(last.map(brief), [`success ctx=${ctx}`]);
    });

    test(`§2.6 SUPPORTS_AGGREGATE: batches ≤ 4096 B of context-0 messages; GET_UPDATE(ALL) always aggregated [${pt.label}]`, () => {
      const { p } = withSockets(pt.dialect, 40, pt.kernel);
      for (const kind of ['querySrc', 'getSrcDesc', 'getUpdate'] as const) {
        const ctx = p.poll(kind, 'all', kind === 'getUpdate' ? 0 : AGG);
        const recs = p.records();
        const data = recs.slice(0, -1);
        assert.ok(data.length < 40, `${kind}: aggregated into ${data.length} records`);
        for (const r of data) {
          assert.ok(r.length <= 4096, `${kind}: record of ${r.length}`);
          for (const m of r.msgs) {
            assert.equal(m.context, 0n);
            if ('eventFlags' in m) assert.equal(m.eventFlags, 0n);
          }
        }
        assert.equal(data.flatMap((r) => r.msgs).length, 40, kind);
        assert.deepEqual(recs[recs.length - 1].msgs.map(brief), [`success ctx=${ctx}`]);
      }
    });
  }
});

describe('§2.6 paced sweeps (CONTINUATION)', () => {
  for (const pt of BEHAVIOUR_POINTS) {
    test(`§2.6 100-source chunks; CONTINUATION on SUCCESS; empty final chunk on 13+ only [${pt.label}]`, () => {
      const { p, refs } = withSockets(pt.dialect, 200, pt.kernel);
      const ctx = p.ctx();
      const seen = new Set<bigint>();
      const chunkSizes: number[] = [];
      for (let i = 0; i < 5; i++) {
        p.poll('getSrcDesc', 'all', C, ctx);
        const ms = p.msgs();
        const descs = ms.filter((m) => m.kind === 'srcDesc');
        for (const m of descs) seen.add((m as { srcref: bigint }).srcref);
        chunkSizes.push(descs.length);
        const [ok] = successes(ms);
        assert.equal(ok.context, ctx);
        if ((ok.flags & C) === 0) break;
      }
      assert.equal(seen.size, refs.length, 'every source exactly once across chunks');
      const early = pt.label === '11' || pt.label === '12';
      assert.deepEqual(chunkSizes, early ? [100, 100] : [100, 100, 0]);
    });

    test(`§2.6 a CONTINUATION request with another context: ERROR(EAGAIN) for the old context, a new sequence starts [${pt.label}]`, () => {
      const { p } = withSockets(pt.dialect, 150, pt.kernel);
      p.poll('getSrcDesc', 'all', C, 500n);
      p.msgs();
      p.poll('getSrcDesc', 'all', C, 600n);
      const ms = p.msgs();
      assert.equal(brief(ms[0]), `error ctx=500 errno=${E.EAGAIN}`);
      assert.equal(ms.filter((m) => m.kind === 'srcDesc').length, 100, 'a fresh sequence: the first 100 again');
    });

    test(`§2.6 a plain poll interrupting a paced one: EAGAIN on 10.11 and 10.12.0–10.12.1, silent cancel later [${pt.label}]`, () => {
      const { p } = withSockets(pt.dialect, 150, pt.kernel);
      p.poll('getSrcDesc', 'all', C, 500n);
      p.msgs();
      p.poll('getSrcDesc', 'all', 0, 700n);
      const errs = p.msgs().filter((m) => m.kind === 'error');
      // d3789's own header is xnu-3789.1.32 (10.12.0), whose begin_query still has the branch.
      if (pt.label === '11' || pt.label === '12') assert.deepEqual(errs.map(brief), [`error ctx=500 errno=${E.EAGAIN}`]);
      else assert.deepEqual(errs, []);
    });

    if (pt.label === '12') {
      test('§2.6 10.12: the plain-poll EAGAIN is in xnu-3789.1.32 and 3789.21.4, gone from 3789.31.2 (10.12.2) on', () => {
        for (const [kernel, eagain] of [['3789.1.32', true], ['3789.21.4', true], ['3789.31.2', false], ['3789.70.16', false]] as const) {
          const { p } = withSockets(pt.dialect, 150, kernel);
          p.poll('getSrcDesc', 'all', C, 500n);
          p.msgs();
          p.poll('getSrcDesc', 'all', 0, 700n);
          const errs = p.msgs().filter((m) => m.kind === 'error').map(brief);
          assert.deepEqual(errs, eagain ? [`error ctx=500 errno=${E.EAGAIN}`] : [], kernel);
        }
      });
    }

    test(`§2.6 context 0 with CONTINUATION: the sequence never starts, nothing is reported [${pt.label}]`, () => {
      const { p } = withSockets(pt.dialect, 20, pt.kernel);
      p.poll('getSrcDesc', 'all', C, 0n);
      assert.deepEqual(p.msgs().map(brief), ['success ctx=0']);
    });
  }
});

describe('§2.6 filters, NOZEROBYTES and reaping', () => {
  for (const d of MODERN) {
    test(`§2.6 PROVIDER_NOZEROBYTES: zero-byte sources skipped in ALL polls, EAGAIN for single [${d.family}]`, () => {
      const p = Probe.for(d);
      const busy = p.tcp();
      p.w.transfer(busy, 500, 50);
      p.tcp(); // idle: zero bytes
      p.addAll('tcp', { filter: constantBig(d, 'NSTAT_FILTER_PROVIDER_NOZEROBYTES')! });
      const refs = p.msgs().filter((m) => m.kind === 'srcAdded').map((m) => (m as { srcref: bigint }).srcref);
      p.poll('querySrc', 'all');
      const counts = p.msgs().filter((m) => m.kind === 'srcCounts');
      assert.equal(counts.length, 1);
      assert.equal(counts[0].kind === 'srcCounts' && counts[0].counts.rxBytes, 500);
      const idleRef = refs.find((r) => r !== (counts[0] as { srcref: bigint }).srcref)!;
      const c = p.poll('getUpdate', idleRef);
      assert.deepEqual(p.msgs().map(brief), [`error ctx=${c} errno=${E.EAGAIN}`]);
      // GET_SRC_DESC has no NOZEROBYTES check: the liveness sweep sees both (§4).
      p.poll('getSrcDesc', 'all');
      assert.equal(p.msgs().filter((m) => m.kind === 'srcDesc').length, 2);
    });

    test(`§2.6 QUERY_SRC(ALL) reaps a gone route: SRC_COUNTS, SRC_DESC ctx 0, SUCCESS, then SRC_REMOVED [${d.family}]`, () => {
      const p = Probe.for(d);
      p.sim.setReceiveBufferSize(1 << 20);
      p.addAll('route');
      const added = p.msgs().filter((m) => m.kind === 'srcAdded');
      const r = p.w.addRoute({ dst: '198.51.100.0', prefixLen: 24, ifp: p.iface(7), gateway: '10.0.20.1' });
      const [na] = p.msgs();
      assert.ok(na.kind === 'srcAdded');
      p.w.routeDown(r);
      const ctx = p.poll('querySrc', 'all');
      const ms = p.msgs();
      // Newest first: the gone route is met first; its final SRC_DESC follows its counts at once.
      assert.deepEqual(ms.slice(0, 2).map(brief), [`srcCounts ctx=${ctx} #${na.srcref}`, `srcDesc ctx=0 #${na.srcref}`]);
      assert.deepEqual(ms.slice(-2).map(brief), [`success ctx=${ctx}`, `srcRemoved ctx=0 #${na.srcref}`]);
      assert.equal(ms.filter((m) => m.kind === 'srcCounts').length, added.length + 1);
      assert.ok(!p.sim.groundTruth().sources.has(na.srcref));
    });

    test(`§2.6 interface filters apply at report time, not at add time [${d.family}]`, () => {
      const p = Probe.for(d);
      p.tcp({ ifindex: 4 }); // Wi-Fi
      p.tcp({ ifindex: 7 }); // wired
      p.addAll('tcp', { filter: constantBig(d, 'NSTAT_FILTER_ACCEPT_WIRED')! });
      assert.equal(p.msgs().filter((m) => m.kind === 'srcAdded').length, 2, 'both announced');
      p.poll('getSrcDesc', 'all');
      const descs = p.msgs().filter((m) => m.kind === 'srcDesc');
      assert.equal(descs.length, 1);
      assert.equal(descs[0].kind === 'srcDesc' && descs[0].descriptor?.ifindex, 7);
    });
  }

  test('§2.6 an aggregated SRC_UPDATE over 2048 B is skipped from GET_UPDATE(ALL) but sent singly [B13, root, DOMAIN + ORIGINAL_DOMAIN]', () => {
    const p = Probe.for('8792.41.9', { kernelVersion: '8792.81.2', root: true });
    const shift = BigInt(Number(p.d.constants['NSTAT_FILTER_ALLOWED_EXTENSIONS_SHIFT']));
    const ext = (1n << (shift + 1n)) | (1n << (shift + 4n)); // DOMAIN, ORIGINAL_DOMAIN
    p.addAll('tcpUserland', { filter: ext });
    p.msgs();
    const proc = p.proc('Safari');
    const dom = { domainName: 'www.example.com', domainOwner: 'Example Inc.' };
    const f = p.w.openUserland('tcpUserland', proc, { family: 4, address: '203.0.113.7', port: 443 }, p.iface(4), 20, { domain: dom });
    const [added] = p.msgs();
    assert.ok(added.kind === 'srcAdded');
    p.w.transfer(f, 100, 10);
    const ctx = p.poll('getUpdate', 'all');
    assert.deepEqual(p.msgs().map(brief), [`success ctx=${ctx}`], 'silently skipped (EOPNOTSUPP is not an abort)');
    p.poll('getUpdate', added.srcref);
    const [u] = p.msgs();
    assert.ok(u.kind === 'srcUpdate' && u.extended);
    assert.deepEqual(u.extensions?.map((i) => i.type), [1, 4]);
    assert.equal(u.extensions?.[0].domain?.domainName, 'www.example.com');
  });
});

describe('§2.6 pre-10.11 polls', () => {
  for (const d of FAMILIES.filter((x) => !x.hasLength)) {
    test(`§2.6 pre-10.11 QUERY_SRC(ALL): one SRC_COUNTS per source with the request context, then SUCCESS [${d.family}]`, () => {
      const p = Probe.for(d);
      p.tcp();
      p.tcp();
      p.addAll('tcp');
      p.msgs();
      const ctx = p.poll('querySrc', 'all');
      const ms = p.msgs();
      assert.deepEqual(kinds(ms), ['srcCounts', 'srcCounts', 'success']);
      for (const m of ms) assert.equal(m.context, ctx);
    });
  }
});
