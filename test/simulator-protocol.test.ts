/**
 * Protocol-level behaviour of the simulated kernel, per layout family: real encoded requests in,
 * exact records out, each test citing the BEHAVIOUR.md section it checks.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DarwinErrno as E, HeaderFlag, MessageType, constantBig, encodeRequest } from '../src/protocol/index.js';
import { BEHAVIOUR_POINTS, FAMILIES, LEGACY, MODERN, Probe, brief, kinds } from './simulator-harness.js';

const errOf = (p: Probe) => p.msgs().filter((m) => m.kind === 'error');

describe('§1 / §10.1 kctl semantics', () => {
  for (const d of FAMILIES) {
    test(`§1 a datagram larger than 2048 bytes fails send() with EMSGSIZE, nothing queued [${d.family}]`, () => {
      const p = Probe.for(d);
      const big = new Uint8Array(2049);
      assert.equal(p.trySendRaw(big), E.EMSGSIZE);
      assert.equal(p.sim.pendingRecords, 0);
      // Exactly 2048 bytes passes the socket layer (and is then an unknown type 0 → EINVAL ERROR).
      assert.equal(p.trySendRaw(new Uint8Array(2048)), 0);
      assert.equal(p.sim.pendingRecords, 1);
    });

    test(`§2.1 a datagram shorter than 16 bytes fails send() with EINVAL, nothing queued [${d.family}]`, () => {
      const p = Probe.for(d);
      for (const n of [0, 1, 15]) assert.equal(p.trySendRaw(new Uint8Array(n)), E.EINVAL);
      assert.equal(p.sim.pendingRecords, 0);
    });
  }

  test('§1 receive queue is 8192 bytes; SO_RCVBUF changes it [d10002]', () => {
    const p = Probe.for('d10002');
    assert.equal(p.sim.receiveBufferSize, 8192);
    assert.equal(p.sim.setReceiveBufferSize(1 << 20), 1 << 20);
    assert.equal(p.sim.receiveBufferSize, 1 << 20);
    // Beyond sb_max × MCLBYTES / (MSIZE + MCLBYTES) the reservation fails.
    assert.throws(() => p.sim.setReceiveBufferSize(64 << 20), (e: unknown) => (e as { errno?: number }).errno === E.ENOBUFS);
  });
});

describe('§2.1 dispatch', () => {
  for (const d of MODERN) {
    test(`§2.1 unknown type → ERROR(EINVAL) with the request echoed, hdr.length = ERROR + request [${d.family}]`, () => {
      const p = Probe.for(d);
      const req = new Uint8Array(40);
      const dv = new DataView(req.buffer);
      dv.setBigUint64(0, 0x1234n, true);
      dv.setUint32(8, 999, true);
      dv.setUint16(12, 40, true);
      p.trySendRaw(req);
      const recs = p.records();
      assert.equal(recs.length, 1);
      const [m] = recs[0].msgs;
      assert.equal(m.kind, 'error');
      if (m.kind !== 'error') return;
      assert.equal(m.errno, E.EINVAL);
      assert.equal(m.context, 0x1234n);
      assert.equal(m.flags, 0);
      assert.deepEqual(m.request, req);
      const errSize = d.structs.get('nstat_msg_error')!.size;
      assert.equal(recs[0].length, errSize + 40);
    });

    test(`§2.1 hdr.length ≠ datagram length: length rewritten and flags cleared in the echo [${d.family}]`, () => {
      const p = Probe.for(d);
      const req = new Uint8Array(30);
      const dv = new DataView(req.buffer);
      dv.setBigUint64(0, 7n, true);
      dv.setUint32(8, 4242, true);
      dv.setUint16(12, 16, true); // lies
      dv.setUint16(14, HeaderFlag.CONTINUATION | HeaderFlag.SUPPORTS_AGGREGATE, true);
      p.trySendRaw(req);
      const [m] = p.msgs();
      assert.equal(m.kind, 'error');
      if (m.kind !== 'error') return;
      const echo = new DataView(m.request!.buffer, m.request!.byteOffset);
      assert.equal(echo.getUint16(12, true), 30, 'length rewritten to the datagram length');
      assert.equal(echo.getUint16(14, true), 0, 'flags cleared');
    });

    test(`§2.1 request shorter than its struct → ERROR(EINVAL) [${d.family}]`, () => {
      const p = Probe.for(d);
      const full = encodeRequest(d, { kind: 'querySrc', context: 5n, flags: 0, srcref: 1n });
      const short = full.slice(0, full.length - 1);
      new DataView(short.buffer).setUint16(12, short.length, true);
      p.trySendRaw(short);
      const [m] = p.msgs();
      assert.equal(brief(m), `error ctx=5 errno=${E.EINVAL}`);
    });

    test(`§2.1 extra bytes after a request are ignored [${d.family}]`, () => {
      const p = Probe.for(d);
      p.tcp();
      const full = encodeRequest(d, { kind: 'addAllSrcs', context: 9n, flags: 0, provider: p.pid('tcp'), filter: 0n, events: 0n, targetPid: 0 });
      const long = new Uint8Array(full.length + 12);
      long.set(full);
      new DataView(long.buffer).setUint16(12, long.length, true);
      p.trySendRaw(long);
      assert.deepEqual(kinds(p.msgs()), ['srcAdded', 'success']);
    });

    test(`§2.1 silent successes: ADD_SRC, REM_SRC, single polls send no SUCCESS [${d.family}]`, () => {
      const p = Probe.for(d);
      const s = p.tcp();
      p.addAll('tcp');
      const added = p.msgs().find((m) => m.kind === 'srcAdded');
      assert.ok(added && added.kind === 'srcAdded');
      void s;
      const ref = added.srcref;
      for (const k of ['querySrc', 'getSrcDesc', 'getUpdate'] as const) {
        const ctx = p.poll(k, ref);
        const ms = p.msgs();
        assert.equal(ms.length, 1, `${k}: ${ms.map(brief)}`);
        assert.equal(ms[0].context, ctx);
      }
      p.poll('remSrc', ref);
      assert.deepEqual(p.msgs().map(brief), [`srcRemoved ctx=0 #${ref}`]);
    });

    test(`§2.1 send() fails ENOBUFS when not even the ERROR fits [${d.family}]`, () => {
      const p = Probe.for(d);
      // Fill the queue with critical ERRORs (no reads) until growth is exhausted.
      let errno = 0;
      for (let i = 0; i < 2000 && errno === 0; i++) errno = p.trySendRaw(encodeRequest(d, { kind: 'remSrc', context: BigInt(i + 1), flags: 0, srcref: 12345n }));
      assert.equal(errno, E.ENOBUFS);
      // The queue grew to 1.25 × ideal at most (critical growth, §4).
      assert.ok(p.sim.receiveBufferSize <= 10240, `hiwat ${p.sim.receiveBufferSize}`);
      assert.ok(p.sim.receiveBufferSize > 8192);
    });

    test(`§2.1 when the ERROR with its echoed request does not fit, a bare ERROR is sent [${d.family}]`, () => {
      const p = Probe.for(d);
      const req = new Uint8Array(2000);
      new DataView(req.buffer).setUint32(8, 999, true);
      new DataView(req.buffer).setUint16(12, 2000, true);
      let errno = 0;
      for (let i = 0; i < 100 && errno === 0; i++) errno = p.trySendRaw(req);
      assert.equal(errno, E.ENOBUFS);
      const errSize = d.structs.get('nstat_msg_error')!.size;
      const lengths = p.records().map((r) => r.length);
      assert.equal(lengths[0], errSize + 2000, 'echoed while it fits');
      assert.ok(lengths.includes(errSize), 'then bare');
    });
  }

  for (const d of LEGACY) {
    test(`§0 pre-10.11: ERROR is bare (no echo) and GET_UPDATE does not exist [${d.family}]`, () => {
      const p = Probe.for(d);
      const req = new Uint8Array(24);
      new DataView(req.buffer).setUint32(8, 1007, true); // GET_UPDATE
      new DataView(req.buffer).setBigUint64(0, 3n, true);
      p.trySendRaw(req);
      const recs = p.records();
      assert.equal(recs.length, 1);
      assert.equal(recs[0].length, d.structs.get('nstat_msg_error')!.size);
      assert.equal(brief(recs[0].msgs[0]), `error ctx=3 errno=${E.EINVAL}`);
    });
  }
});

describe('§2.3 ADD_ALL_SRCS', () => {
  for (const d of FAMILIES) {
    test(`§2.3 one SRC_ADDED (context 0) per existing socket, newest first, then SUCCESS(ctx, flags 0) [${d.family}]`, () => {
      const p = Probe.for(d);
      const socks = [p.tcp(), p.tcp(), p.tcp()];
      const ctx = p.addAll('tcp');
      const ms = p.msgs();
      assert.deepEqual(kinds(ms), ['srcAdded', 'srcAdded', 'srcAdded', 'success']);
      for (const m of ms.slice(0, 3)) {
        assert.equal(m.context, 0n);
        assert.ok(m.kind === 'srcAdded' && m.provider === p.pid('tcp'));
      }
      assert.equal(ms[3].context, ctx);
      assert.equal(ms[3].flags, 0);
      const truth = p.sim.groundTruth();
      const order = ms.slice(0, 3).map((m) => truth.sources.get((m as { srcref: bigint }).srcref)!.objectId);
      assert.deepEqual(order, socks.map((s) => s.id).reverse(), 'newest socket first (LIST_FOREACH over ipi_listhead)');
    });

    test(`§2.3 ADD_ALL twice for the same provider → EALREADY [${d.family}]`, () => {
      const p = Probe.for(d);
      p.addAll('tcp');
      p.msgs();
      const ctx = p.addAll('tcp');
      assert.deepEqual(errOf(p).map(brief), [`error ctx=${ctx} errno=${E.EALREADY}`]);
    });

    test(`§2.3 provider above NSTAT_PROVIDER_LAST or unregistered (sysinfo) → ENOENT [${d.family}]`, () => {
      const p = Probe.for(d);
      const last = Number(d.constants['NSTAT_PROVIDER_LAST']);
      let ctx = p.send({ kind: 'addAllSrcs', provider: last + 1, filter: 0n, events: 0n, targetPid: 0 });
      assert.deepEqual(errOf(p).map(brief), [`error ctx=${ctx} errno=${E.ENOENT}`]);
      if (p.has('sysinfo')) {
        ctx = p.send({ kind: 'addAllSrcs', provider: p.pid('sysinfo'), filter: 0n, events: 0n, targetPid: 0 });
        assert.deepEqual(errOf(p).map(brief), [`error ctx=${ctx} errno=${E.ENOENT}`]);
      }
    });

    if (d.constants['NSTAT_PROVIDER_IFNET'] !== undefined) {
      test(`§2.3 ifnet has no watcher → ENOTSUP [${d.family}]`, () => {
        const p = Probe.for(d);
        const ctx = p.addAll('ifnet');
        assert.deepEqual(errOf(p).map(brief), [`error ctx=${ctx} errno=${E.ENOTSUP}`]);
      });
    }

    test(`§2.3 the TCP walk stops at the first failed enqueue, SUCCESS still sent [${d.family}]`, () => {
      const p = Probe.for(d);
      for (let i = 0; i < 400; i++) p.tcp();
      const ctx = p.addAll('tcp');
      const ms = p.msgs();
      const added = ms.filter((m) => m.kind === 'srcAdded').length;
      const truth0 = p.sim.groundTruth();
      if (p.sim.profile.criticalClass) {
        assert.equal(ms[ms.length - 1].kind, 'success');
        assert.equal(ms[ms.length - 1].context, ctx);
      } else {
        // 10.7–10.9 register without CTL_FLAG_REG_CRIT (§4): no reserve, so the SUCCESS is lost too.
        assert.equal(ms[ms.length - 1].kind, 'srcAdded');
        assert.equal(truth0.dropped.byKind.success, 1);
      }
      // 8 KB queue: non-critical data stops at 75 % (or storage), §2.3 "roughly 190–250".
      assert.ok(added >= 150 && added <= 340, `added ${added}`);
      const truth = p.sim.groundTruth();
      assert.equal(truth.sources.size, added, 'the rest were never added');
      assert.equal(truth.dropped.byKind.srcAdded, 1, 'exactly one failed SRC_ADDED ends the walk');
      assert.equal(truth.dropped.sourcesNeverAdded, 1);
    });
  }

  for (const pt of BEHAVIOUR_POINTS) {
    test(`§2.3 route walk failure → ERROR(ENOBUFS), no SUCCESS; watcher sticky on 13+ [${pt.label}]`, () => {
      const p = Probe.for(pt.dialect, { kernelVersion: pt.kernel });
      for (let i = 0; i < 400; i++) p.w.addRoute({ dst: `198.51.${Math.floor(i / 200)}.${i % 200}`, prefixLen: 32, ifp: p.iface(7) });
      const ctx = p.addAll('route');
      const ms = p.msgs();
      assert.equal(ms.filter((m) => m.kind === 'success').length, 0);
      assert.deepEqual(errOf({ msgs: () => ms } as unknown as Probe).map(brief), [`error ctx=${ctx} errno=${E.ENOBUFS}`]);
      const retry = p.addAll('route');
      const after = p.msgs();
      if (['11', '12'].includes(pt.label)) {
        assert.ok(after.some((m) => m.kind === 'srcAdded'), 'the watcher was undone: a retry walks again');
      } else {
        assert.deepEqual(after.map(brief), [`error ctx=${retry} errno=${E.EALREADY}`], 'watcher bit left set (13+)');
      }
    });

    test(`§2.3 SUPPRESS_SRC_ADDED: no SRC_ADDED; 13+ also switches to update mode [${pt.label}]`, () => {
      const p = Probe.for(pt.dialect, { kernelVersion: pt.kernel });
      const s = p.tcp();
      const ctx = p.addAll('tcp', { filter: constantBig(p.d, 'NSTAT_FILTER_SUPPRESS_SRC_ADDED')! });
      assert.deepEqual(p.msgs().map(brief), [`success ctx=${ctx}`]);
      assert.equal(p.sim.groundTruth().sources.size, 1, 'the source exists, unannounced');
      p.w.tcpClose(s);
      const ms = p.msgs();
      if (pt.label === '11' || pt.label === '12') assert.deepEqual(kinds(ms), ['srcCounts', 'srcDesc', 'srcRemoved']);
      else {
        assert.deepEqual(kinds(ms), ['srcUpdate', 'srcRemoved']);
        assert.equal(ms[0].flags & HeaderFlag.CLOSING, HeaderFlag.CLOSING);
      }
    });
  }
});

describe('§1 privilege outcomes', () => {
  test('§1 SUBSCRIBE_SYSINFO → EPERM unless root; root is silent [d10002]', () => {
    const p = Probe.for('d10002');
    const ctx = p.send({ kind: 'subscribeSysinfo' });
    assert.deepEqual(errOf(p).map(brief), [`error ctx=${ctx} errno=${E.EPERM}`]);
    const r = Probe.for('d10002', { root: true });
    r.send({ kind: 'subscribeSysinfo' });
    assert.deepEqual(r.msgs(), []);
  });

  test('§1 CONN_USERLAND / UDP_SUBFLOW ADD_ALL → EPERM unless root from xnu-8792.81.2; allowed on 8792.41.9 [B13]', () => {
    const b13 = Probe.for('8792.41.9', { kernelVersion: '8792.81.2' });
    for (const prov of ['conn', 'udpSubflow'] as const) {
      const ctx = b13.addAll(prov);
      assert.deepEqual(errOf(b13).map(brief), [`error ctx=${ctx} errno=${E.EPERM}`]);
    }
    const root = Probe.for('8792.41.9', { kernelVersion: '8792.81.2', root: true });
    root.addAll('conn');
    assert.deepEqual(kinds(root.msgs()), ['success']);
    const early = Probe.for('8792.41.9');
    early.addAll('conn');
    assert.deepEqual(kinds(early.msgs()), ['success']);
  });

  test('§1 privcheck=1: every ADD_ALL and the ifnet ADD_SRC need privilege [d4570]', () => {
    const p = Probe.for('d4570', { privcheck: true });
    const ctx = p.addAll('tcp');
    assert.deepEqual(errOf(p).map(brief), [`error ctx=${ctx} errno=${E.EPERM}`]);
    const r = Probe.for('d4570', { privcheck: true, root: true });
    r.addAll('tcp');
    assert.deepEqual(kinds(r.msgs()), ['success']);
  });
});

describe('§2.2 ADD_SRC', () => {
  const tcpParam = (p: Probe, s: { local?: { address: string; port: number }; remote?: { address: string; port: number } }) => {
    const b = new Uint8Array(56);
    const dv = new DataView(b.buffer);
    const put = (off: number, ep?: { address: string; port: number }) => {
      if (!ep) return;
      b[off] = 16;
      b[off + 1] = 2;
      dv.setUint16(off + 2, ep.port, false);
      b.set(ep.address.split('.').map(Number), off + 4);
    };
    put(0, s.local);
    put(28, s.remote);
    void p;
    return b;
  };

  for (const pt of BEHAVIOUR_POINTS) {
    test(`§2.2 TCP ADD_SRC: found → SRC_ADDED with the request context (ENOTSUP from B14) [${pt.label}]`, () => {
      const p = Probe.for(pt.dialect, { kernelVersion: pt.kernel });
      const s = p.tcp();
      const ctx = p.send({ kind: 'addSrc', provider: p.pid('tcp'), param: tcpParam(p, { local: s.local, remote: s.remote }) });
      const ms = p.msgs();
      if (pt.label === 'B14' || pt.label === 'B15') {
        assert.deepEqual(ms.map(brief), [`error ctx=${ctx} errno=${E.ENOTSUP}`]);
        return;
      }
      assert.equal(ms.length, 1);
      assert.ok(ms[0].kind === 'srcAdded' && ms[0].context === ctx && ms[0].provider === p.pid('tcp'));
      const missing = p.send({ kind: 'addSrc', provider: p.pid('tcp'), param: tcpParam(p, { local: { address: '192.0.2.1', port: 1 }, remote: { address: '192.0.2.2', port: 2 } }) });
      assert.deepEqual(p.msgs().map(brief), [`error ctx=${missing} errno=${E.ENOENT}`]);
      const bad = p.send({ kind: 'addSrc', provider: p.pid('tcp'), param: new Uint8Array(20) });
      assert.deepEqual(p.msgs().map(brief), [`error ctx=${bad} errno=${E.EINVAL}`]);
    });

    test(`§2.2 ifnet ADD_SRC: threshold < 1 MiB and unknown ifindex → EINVAL; ok → SRC_ADDED [${pt.label}]`, () => {
      const p = Probe.for(pt.dialect, { kernelVersion: pt.kernel });
      const layout = p.d.structs.get('nstat_ifnet_add_param')!;
      const param = (ifindex: number, threshold: number) => {
        const b = new Uint8Array(layout.size);
        const dv = new DataView(b.buffer);
        dv.setUint32(layout.byName.get('ifindex')!.offset, ifindex, true);
        dv.setBigUint64(layout.byName.get('threshold')!.offset, BigInt(threshold), true);
        return b;
      };
      let ctx = p.send({ kind: 'addSrc', provider: p.pid('ifnet'), param: param(4, 1024) });
      assert.deepEqual(p.msgs().map(brief), [`error ctx=${ctx} errno=${E.EINVAL}`]);
      ctx = p.send({ kind: 'addSrc', provider: p.pid('ifnet'), param: param(99, 1 << 20) });
      assert.deepEqual(p.msgs().map(brief), [`error ctx=${ctx} errno=${E.EINVAL}`]);
      ctx = p.send({ kind: 'addSrc', provider: p.pid('ifnet'), param: param(4, 1 << 21) });
      const ms = p.msgs();
      assert.equal(ms.length, 1);
      assert.ok(ms[0].kind === 'srcAdded' && ms[0].context === ctx);
      // The descriptor reports the interface's effective threshold.
      p.poll('getSrcDesc', (ms[0] as { srcref: bigint }).srcref);
      const [desc] = p.msgs();
      assert.ok(desc.kind === 'srcDesc');
      assert.equal(desc.descriptor?.threshold, 1 << 21);
      assert.equal(desc.descriptor?.name, 'en0');
    });

    test(`§2.2 duplicate route ADD_SRC: two srcrefs up to B13, goodbye + new srcref from B14 [${pt.label}]`, () => {
      const p = Probe.for(pt.dialect, { kernelVersion: pt.kernel });
      const param = new Uint8Array(60);
      param[0] = 16;
      param[1] = 2;
      param.set([203, 0, 113, 9], 4); // longest match: the default route
      const c1 = p.send({ kind: 'addSrc', provider: p.pid('route'), param });
      const [a] = p.msgs();
      assert.ok(a.kind === 'srcAdded' && a.context === c1);
      const c2 = p.send({ kind: 'addSrc', provider: p.pid('route'), param });
      const ms = p.msgs();
      if (pt.label === 'B14' || pt.label === 'B15') {
        assert.deepEqual(kinds(ms), ['srcCounts', 'srcDesc', 'srcRemoved', 'srcAdded']);
        assert.equal((ms[2] as { srcref: bigint }).srcref, a.srcref);
        assert.ok(ms[3].kind === 'srcAdded' && ms[3].context === c2 && ms[3].srcref !== a.srcref);
        const retry = p.addAll('route');
        assert.deepEqual(p.msgs().map(brief), [`error ctx=${retry} errno=${E.EALREADY}`], 'B14: ADD_SRC(P) blocks ADD_ALL(P)');
      } else {
        assert.deepEqual(kinds(ms), ['srcAdded']);
        assert.equal(p.sim.groundTruth().sources.size, 2);
      }
    });
  }
});

describe('§2.5 REM_SRC, §2.7 SET_FILTER', () => {
  for (const d of FAMILIES) {
    test(`§2.5 REM_SRC → SRC_REMOVED (context 0, flags 0), no SUCCESS; unknown → ENOENT [${d.family}]`, () => {
      const p = Probe.for(d);
      p.tcp();
      p.addAll('tcp');
      const ref = (p.msgs()[0] as { srcref: bigint }).srcref;
      p.poll('remSrc', ref, 0, 77n);
      const ms = p.msgs();
      assert.deepEqual(ms.map(brief), [`srcRemoved ctx=0 #${ref}`]);
      p.poll('remSrc', ref, 0, 78n);
      assert.deepEqual(p.msgs().map(brief), [`error ctx=78 errno=${E.ENOENT}`]);
      assert.ok(p.sim.groundTruth().removedSrcrefs.has(ref));
    });
  }

  for (const pt of BEHAVIOUR_POINTS) {
    test(`§2.7 SET_FILTER NOZEROBYTES: silent; zero-byte source then EAGAIN on a single QUERY; ALL/0 → EINVAL; B15 → EINVAL (unknown type) [${pt.label}]`, () => {
      const p = Probe.for(pt.dialect, { kernelVersion: pt.kernel });
      p.tcp();
      p.addAll('tcp');
      const ref = (p.msgs()[0] as { srcref: bigint }).srcref;
      const ctx = p.send({ kind: 'setFilter', srcref: ref, filter: 1 });
      if (pt.label === 'B15') {
        assert.deepEqual(p.msgs().map(brief), [`error ctx=${ctx} errno=${E.EINVAL}`]);
        return;
      }
      assert.deepEqual(p.msgs(), []);
      const q = p.poll('querySrc', ref);
      assert.deepEqual(p.msgs().map(brief), [`error ctx=${q} errno=${E.EAGAIN}`]);
      const all = p.send({ kind: 'setFilter', srcref: p.all, filter: 1 });
      assert.deepEqual(p.msgs().map(brief), [`error ctx=${all} errno=${E.EINVAL}`]);
      const zero = p.send({ kind: 'setFilter', srcref: 0n, filter: 1 });
      assert.deepEqual(p.msgs().map(brief), [`error ctx=${zero} errno=${E.EINVAL}`]);
    });
  }
});

describe('§10.11 per-dialect encodings', () => {
  test('§A.1 srcref is 32-bit in 10.11, ALL = 0xFFFFFFFF; 64-bit from 10.12', () => {
    const p11 = Probe.for('d3247');
    assert.equal(p11.all, 0xffffffffn);
    assert.equal(p11.d.srcrefSize, 4);
    const p12 = Probe.for('d3789');
    assert.equal(p12.all, 0xffff_ffff_ffff_ffffn);
  });

  test('§7 provider ids renumbered in 10.12: UDP 3 → 4; a 10.11-era "3" is TCP_USERLAND on 12+', () => {
    const p11 = Probe.for('d3247');
    p11.udp();
    p11.send({ kind: 'addAllSrcs', provider: 3, filter: 0n, events: 0n, targetPid: 0 });
    const m11 = p11.msgs();
    assert.ok(m11[0].kind === 'srcAdded' && m11[0].provider === 3);
    const p12 = Probe.for('d3789');
    p12.udp();
    p12.send({ kind: 'addAllSrcs', provider: 3, filter: 0n, events: 0n, targetPid: 0 });
    assert.deepEqual(kinds(p12.msgs()), ['success'], 'no UDP socket reported under TCP_USERLAND');
    p12.addAll('udp');
    const m12 = p12.msgs();
    assert.ok(m12[0].kind === 'srcAdded' && m12[0].provider === 4);
  });

  test('§7 PROVIDER_NOZEROBYTES is 0x100 on 10.11 and 0x400000 from 10.12', () => {
    for (const [fam, bit] of [['d3247', 0x100n], ['d4570', 0x400000n]] as const) {
      const p = Probe.for(fam);
      p.tcp({ established: false });
      p.addAll('tcp', { filter: bit });
      const ref = (p.msgs()[0] as { srcref: bigint }).srcref;
      const q = p.poll('querySrc', ref);
      assert.deepEqual(p.msgs().map(brief), [`error ctx=${q} errno=${E.EAGAIN}`], fam);
    }
  });

  test('§7 13 re-ordered ADD_ALL: a 12-layout request on 13+ puts provider inside events → ENOENT', () => {
    const p13 = Probe.for('d4570');
    const req12 = encodeRequest(Probe.for('d3789').d, { kind: 'addAllSrcs', context: 4n, flags: 0, provider: 2, filter: 0n, events: 0n, targetPid: 0 });
    p13.trySendRaw(req12);
    assert.deepEqual(p13.msgs().map(brief), [`error ctx=4 errno=${E.ENOENT}`]);
  });

  test('§A.1 message types and header layout on the wire [d10002]', () => {
    const p = Probe.for('d10002');
    p.tcp();
    p.addAll('tcp');
    const [rec] = p.records();
    const dv = new DataView(rec.bytes.buffer, rec.bytes.byteOffset);
    assert.equal(dv.getUint32(8, true), MessageType.SRC_ADDED);
    assert.equal(dv.getUint16(12, true), 32);
  });
});
