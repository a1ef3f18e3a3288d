/**
 * Source lifecycle and unsolicited traffic (BEHAVIOUR.md §3, §5, §6): creation at socket(),
 * goodbye sequences per mode, TIME_WAIT, UDP caching, events, ifnet thresholds, idle check,
 * extensions, user filters.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HeaderFlag, constantBig, decodeDatagram, encodeRequest, type Message } from '../src/protocol/index.js';
import { endpoint } from '../src/simulator/world/catalog.js';
import { BEHAVIOUR_POINTS, FAMILIES, MODERN, Probe, brief, kinds } from './simulator-harness.js';

const CLOSING = HeaderFlag.CLOSING;
const refOf = (m: Message) => (m as { srcref: bigint }).srcref;

describe('§3.1 source creation', () => {
  for (const d of FAMILIES) {
    test(`§3.1 a TCP source appears at socket() with a zero tuple and state CLOSED [${d.family}]`, () => {
      const p = Probe.for(d);
      p.addAll('tcp');
      p.msgs();
      const s = p.w.tcpSocket(p.proc('curl'), 4);
      const [added] = p.msgs();
      assert.ok(added.kind === 'srcAdded' && added.context === 0n);
      p.poll('getSrcDesc', added.srcref);
      const [desc] = p.msgs();
      assert.ok(desc.kind === 'srcDesc');
      assert.deepEqual(desc.descriptor?.local, { family: 4, address: '0.0.0.0', port: 0 });
      assert.deepEqual(desc.descriptor?.remote, { family: 4, address: '0.0.0.0', port: 0 });
      assert.equal(desc.descriptor?.state, 0);
      assert.equal(desc.descriptor?.pid, s.proc.pid);
    });

    test(`§3.1 srcrefs are allocated in order and never reused [${d.family}]`, () => {
      const p = Probe.for(d);
      p.sim.setReceiveBufferSize(1 << 20);
      p.addAll('tcp');
      const seen: bigint[] = [];
      for (let i = 0; i < 50; i++) {
        const s = p.tcp();
        p.w.tcpClose(s);
        for (const m of p.msgs()) if (m.kind === 'srcAdded') seen.push(m.srcref);
      }
      assert.equal(new Set(seen).size, 50);
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1]);
      assert.ok(seen.every((r) => r !== 0n));
    });
  }

  test('§3.1 an unsolicited SRC_ADDED that does not fit is dropped silently: the socket is never reported, not even on close [d10002]', () => {
    const p = Probe.for('d10002');
    p.addAll('tcp');
    p.msgs();
    const socks = Array.from({ length: 300 }, () => p.w.tcpSocket(p.proc(), 4));
    const added = p.msgs().filter((m) => m.kind === 'srcAdded');
    assert.ok(added.length < 300);
    const truth = p.sim.groundTruth();
    assert.equal(truth.dropped.sourcesNeverAdded, 300 - added.length);
    assert.ok(truth.dropped.log.every((r) => r.kind === 'srcAdded' && r.unsolicited));
    const unreported = socks.filter((s) => ![...truth.sources.values()].some((t) => t.objectId === s.id));
    for (const s of unreported) p.w.tcpClose(s);
    assert.deepEqual(p.msgs(), [], 'no goodbye for sources that never existed');
  });

  test('§5.3 10.12 bug: new UDP-userland flows are attached with the TCP-userland provider [d3789]', () => {
    const p = Probe.for('d3789');
    p.addAll('udpUserland');
    p.msgs();
    p.w.openUserland('udpUserland', p.proc('Safari'), endpoint('203.0.113.5', 443), p.iface(4), 10);
    const [m] = p.msgs();
    assert.ok(m.kind === 'srcAdded' && m.provider === p.pid('tcpUserland'));
  });
});

describe('§3.2 goodbye', () => {
  for (const pt of BEHAVIOUR_POINTS) {
    test(`§3.2 entering TIME_WAIT: SRC_COUNTS(CLOSING), SRC_DESC(CLOSING), SRC_REMOVED, all context 0 [${pt.label}]`, () => {
      const p = Probe.for(pt.dialect, { kernelVersion: pt.kernel });
      const s = p.tcp();
      p.w.transfer(s, 5000, 400);
      p.addAll('tcp');
      const ref = refOf(p.msgs()[0]);
      p.w.tcpSetState(s, 6);
      p.w.tcpSetState(s, 9);
      p.w.tcpTimeWait(s);
      const ms = p.msgs();
      assert.deepEqual(ms.map(brief), [`srcCounts ctx=0 #${ref} f=${CLOSING}`, `srcDesc ctx=0 #${ref} f=${CLOSING}`, `srcRemoved ctx=0 #${ref}`]);
      assert.ok(ms[0].kind === 'srcCounts' && ms[0].counts.rxBytes === 5000);
      assert.ok(ms[1].kind === 'srcDesc' && ms[1].descriptor?.state === 10);
    });

    test(`§3.2 update mode: SRC_UPDATE(CLOSING) then SRC_REMOVED [${pt.label}]`, () => {
      const p = Probe.for(pt.dialect, { kernelVersion: pt.kernel });
      const s = p.tcp();
      p.addAll('tcp');
      const ref = refOf(p.msgs()[0]);
      p.poll('getUpdate', ref); // GET_UPDATE switches to update mode
      p.msgs();
      p.w.tcpClose(s);
      assert.deepEqual(p.msgs().map(brief), [`srcUpdate ctx=0 #${ref} f=${CLOSING}`, `srcRemoved ctx=0 #${ref}`]);
    });

    test(`§3.2 CLOSED_AFTER_FILTER / CLOSED_AFTER_DROP on SRC_REMOVED (12.1+) [${pt.label}]`, () => {
      const p = Probe.for(pt.dialect, { kernelVersion: pt.kernel });
      const wifi = p.tcp({ ifindex: 4 });
      const wired = p.tcp({ ifindex: 7 });
      p.addAll('tcp', { filter: constantBig(p.d, 'NSTAT_FILTER_ACCEPT_WIRED')! });
      p.msgs();
      const modern = ['B13', 'B14', 'B15'].includes(pt.label);
      p.w.tcpClose(wifi);
      const filtered = p.msgs();
      assert.deepEqual(kinds(filtered), ['srcRemoved'], 'the filter hides the final counts/desc');
      assert.equal(filtered[0].flags, modern ? HeaderFlag.CLOSED_AFTER_FILTER : 0);
      // Fill the non-critical space, then close: counts/desc are dropped, SRC_REMOVED (critical) is not.
      for (let i = 0; i < 400; i++) p.w.tcpSocket(p.proc(), 4);
      p.w.tcpClose(wired);
      const recs = p.msgs();
      const last = recs[recs.length - 1];
      assert.equal(last.kind, 'srcRemoved');
      assert.equal(last.flags, modern ? HeaderFlag.CLOSED_AFTER_DROP : 0);
      const truth = p.sim.groundTruth();
      assert.ok(truth.dropped.byKind.srcCounts >= 1 && truth.dropped.byKind.srcDesc >= 1);
    });
  }

  test('§3.2 a TIME_WAIT socket picked up by ADD_ALL is removed when its pcb is freed after 2×MSL [d4570]', () => {
    const p = Probe.for('d4570');
    const s = p.tcp();
    p.w.tcpTimeWait(s);
    p.addAll('tcp');
    const [added] = p.msgs();
    assert.ok(added.kind === 'srcAdded');
    p.poll('getSrcDesc', added.srcref);
    const [d] = p.msgs();
    assert.equal(d.kind === 'srcDesc' && d.descriptor?.state, 10);
    p.sim.advance(31_000);
    const ms = p.msgs();
    assert.deepEqual(ms.map((m) => m.kind), ['srcCounts', 'srcDesc', 'srcRemoved']);
  });

  for (const pt of BEHAVIOUR_POINTS.filter((x) => !['B14', 'B15'].includes(x.label))) {
    test(`§3.2 nobody watches TCP: an ADD_SRC source outlives its pcb until QUERY_SRC reaps it (counts, then ERROR EINVAL) [${pt.label}]`, () => {
      const p = Probe.for(pt.dialect, { kernelVersion: pt.kernel });
      const s = p.tcp();
      const param = new Uint8Array(56);
      const dv = new DataView(param.buffer);
      param.set([16, 2], 0);
      dv.setUint16(2, s.local!.port, false);
      param.set(s.local!.address.split('.').map(Number), 4);
      param.set([16, 2], 28);
      dv.setUint16(30, s.remote!.port, false);
      param.set(s.remote!.address.split('.').map(Number), 32);
      p.send({ kind: 'addSrc', provider: p.pid('tcp'), param });
      const ref = refOf(p.msgs()[0]);
      p.w.tcpClose(s);
      assert.deepEqual(p.msgs(), [], 'no detach handling without a watcher');
      const q = p.poll('querySrc', ref);
      // Counts are still readable (gone=1), the final descriptor is not: ERROR(EINVAL), source kept.
      assert.deepEqual(p.msgs().map(brief), [`srcCounts ctx=${q} #${ref}`, `error ctx=${q} errno=22`]);
      assert.ok(p.sim.groundTruth().sources.has(ref));
    });
  }
});

describe('§5.1 / §5.2 kernel sockets', () => {
  for (const d of MODERN) {
    test(`§5.2 UDP: remote after connect(); after disconnect the last tuple is kept for existing sources [${d.family}]`, () => {
      const p = Probe.for(d);
      const s = p.udp({ connectTo: '192.168.1.1' });
      p.addAll('udp');
      const ref = refOf(p.msgs()[0]);
      p.w.udpDisconnect(s);
      p.poll('getSrcDesc', ref);
      const [cached] = p.msgs();
      assert.ok(cached.kind === 'srcDesc');
      assert.equal((cached.descriptor?.remote as { address?: string } | undefined)?.address, '192.168.1.1', 'cached tuple');
      // A new client added after the disconnect sees the socket as it is now: no remote.
      const q = p.sim.kernel.connect();
      q.send(buildAddAll(p, 'udp'));
      const recs: Message[] = [];
      for (let r = q.recv(); r; r = q.recv()) recs.push(...decode(p, r.data));
      const ref2 = refOf(recs[0]);
      q.send(buildPoll(p, ref2));
      const fresh = decode(p, q.recv()!.data)[0];
      assert.ok(fresh.kind === 'srcDesc');
      assert.deepEqual(fresh.descriptor?.remote, { family: 4, address: '0.0.0.0', port: 0 });
    });

    test(`§5.1 listener reports LISTEN with no remote; accepted connections are their own sources with 0/0 → 1/1 connect counts [${d.family}]`, () => {
      const p = Probe.for(d);
      p.addAll('tcp');
      const l = p.w.tcpSocket(p.proc('nginx'), 4);
      p.w.tcpListen(l, endpoint('0.0.0.0', 443));
      const a = p.w.tcpAccept(l, endpoint('198.51.100.20', 50123), p.iface(7), 15);
      p.w.tcpSetState(a, 4);
      const added = p.msgs().filter((m) => m.kind === 'srcAdded');
      assert.equal(added.length, 2);
      p.poll('querySrc', 'all');
      const counts = p.msgs().filter((m) => m.kind === 'srcCounts') as Extract<Message, { kind: 'srcCounts' }>[];
      const byRef = new Map(counts.map((c) => [c.srcref, c.counts]));
      assert.equal(byRef.get(refOf(added[0]))!.connectAttempts, 0, 'listener: 0/0');
      assert.equal(byRef.get(refOf(added[1]))!.connectSuccesses, 1);
    });
  }

  test('§5.9 B14+ role bits: listener / inbound / outbound in ifnet_properties [B14]', () => {
    const p = Probe.for('10063.101.15', { kernelVersion: '10063.141.1' });
    p.addAll('tcp');
    const l = p.w.tcpSocket(p.proc('nginx'), 4);
    p.w.tcpListen(l, endpoint('0.0.0.0', 80));
    const a = p.w.tcpAccept(l, endpoint('198.51.100.21', 50000), p.iface(7), 5);
    const o = p.tcp();
    void a;
    void o;
    p.msgs();
    p.poll('getSrcDesc', 'all');
    const props = p.msgs().filter((m) => m.kind === 'srcDesc').map((m) => Number((m as { descriptor?: { ifnetProperties?: number } }).descriptor?.ifnetProperties) & 0xe000000);
    assert.deepEqual(props, [0x8000000, 0x4000000, 0x2000000], 'outbound, inbound, listener (newest first)');
  });
});

describe('§3.3 unsolicited traffic', () => {
  for (const pt of BEHAVIOUR_POINTS) {
    test(`§3.3 cell-fallback events: SRC_UPDATE with event_flags only on 15+, in update mode, when subscribed [${pt.label}]`, () => {
      const p = Probe.for(pt.dialect, { kernelVersion: pt.kernel });
      const s = p.tcp();
      const bit = constantBig(p.d, 'NSTAT_EVENT_SRC_ENTER_CELLFALLBACK') ?? 0x400n;
      const events = p.d.constants['NSTAT_EVENT_SRC_ENTER_CELLFALLBACK'] !== undefined ? bit | (constantBig(p.d, 'NSTAT_EVENT_SRC_EXIT_CELLFALLBACK') ?? 0n) : 0n;
      p.addAll('tcp', { events });
      const ref = refOf(p.msgs()[0]);
      p.w.setCellFallback(s, true, p.iface(15), p.iface(4));
      assert.deepEqual(p.msgs(), [], 'not in update mode yet');
      p.poll('getUpdate', ref);
      p.msgs();
      p.w.setCellFallback(s, false, p.iface(15), p.iface(4));
      p.w.setCellFallback(s, true, p.iface(15), p.iface(4));
      const ms = p.msgs();
      if (['11', '12', '13'].includes(pt.label) || events === 0n) {
        assert.deepEqual(ms, []);
      } else {
        assert.equal(ms.length, 2);
        const [exit, enter] = ms;
        assert.ok(enter.kind === 'srcUpdate' && enter.eventFlags === bit && enter.context === 0n);
        assert.ok(exit.kind === 'srcUpdate' && exit.eventFlags !== 0n);
        // Not subscribed: nothing.
        const q = Probe.for(pt.dialect, { kernelVersion: pt.kernel });
        const s2 = q.tcp();
        q.addAll('tcp');
        q.poll('getUpdate', refOf(q.msgs()[0]));
        q.msgs();
        q.w.setCellFallback(s2, true, q.iface(15), q.iface(4));
        assert.deepEqual(q.msgs(), []);
      }
    });

    test(`§3.3 ifnet threshold: SRC_COUNTS ctx 0 when exceeded; at most one per 2 s from 10.13 [${pt.label}]`, () => {
      const p = Probe.for(pt.dialect, { kernelVersion: pt.kernel });
      const layout = p.d.structs.get('nstat_ifnet_add_param')!;
      const param = new Uint8Array(layout.size);
      const dv = new DataView(param.buffer);
      dv.setUint32(layout.byName.get('ifindex')!.offset, 7, true);
      dv.setBigUint64(layout.byName.get('threshold')!.offset, BigInt(1 << 20), true);
      p.send({ kind: 'addSrc', provider: p.pid('ifnet'), param });
      const ref = refOf(p.msgs()[0]);
      const s = p.tcp({ ifindex: 7 });
      p.w.transfer(s, 2 << 20, 0);
      p.w.transfer(s, 2 << 20, 0);
      const ms = p.msgs();
      const limited = !['11', '12'].includes(pt.label);
      assert.equal(ms.length, limited ? 1 : 2);
      assert.ok(ms.every((m) => m.kind === 'srcCounts' && m.context === 0n && m.srcref === ref));
      p.sim.advance(2500);
      p.w.transfer(s, 2 << 20, 0);
      assert.equal(p.msgs().length, 1);
    });
  }

  test('§3.3 B14 FLOW_STATE_LISTEN / OUTBOUND events [B14]', () => {
    const p = Probe.for('10063.101.15', { kernelVersion: '10063.141.1' });
    const listen = constantBig(p.d, 'NSTAT_EVENT_SRC_FLOW_STATE_LISTEN')!;
    const outbound = constantBig(p.d, 'NSTAT_EVENT_SRC_FLOW_STATE_OUTBOUND')!;
    p.addAll('tcp', { events: listen | outbound, filter: constantBig(p.d, 'NSTAT_FILTER_SUPPRESS_SRC_ADDED')! });
    p.msgs();
    const l = p.w.tcpSocket(p.proc('nginx'), 4);
    p.w.tcpListen(l, endpoint('0.0.0.0', 8080));
    p.tcp();
    const ev = p.msgs().map((m) => (m as { eventFlags?: bigint }).eventFlags);
    assert.deepEqual(ev, [listen, outbound]);
  });

  test('§3.3 lowering an interface threshold sends SRC_DESC (ctx 0) to every ifnet source before the new SRC_ADDED [d4570]', () => {
    const p = Probe.for('d4570');
    const mk = (ifindex: number, t: number) => {
      const b = new Uint8Array(16);
      const dv = new DataView(b.buffer);
      dv.setBigUint64(0, BigInt(t), true);
      dv.setUint32(8, ifindex, true);
      return b;
    };
    p.send({ kind: 'addSrc', provider: p.pid('ifnet'), param: mk(7, 8 << 20) });
    const first = refOf(p.msgs()[0]);
    p.send({ kind: 'addSrc', provider: p.pid('ifnet'), param: mk(4, 4 << 20) });
    const ms = p.msgs();
    assert.deepEqual(ms.map((m) => m.kind), ['srcDesc', 'srcAdded']);
    assert.equal(refOf(ms[0]), first, 'even a source on another interface gets the SRC_DESC');
  });

  test('§5.8 SYSINFO_COUNTS reach subscribed clients at an idle check [d10002, root]', () => {
    const p = Probe.for('d10002', { root: true, sysinfoIntervalMs: 60_000 });
    p.send({ kind: 'subscribeSysinfo' });
    p.sim.advance(60_001);
    const ms = p.msgs();
    assert.deepEqual(kinds(ms), ['sysinfoCounts']);
    assert.ok(ms[0].kind === 'sysinfoCounts' && ms[0].keyvals.length > 0 && ms[0].context === 0n);
  });
});

describe('§3.4 idle check', () => {
  for (const pt of BEHAVIOUR_POINTS) {
    test(`§3.4 every 60 s gone sources get a goodbye; the first pass skips a client (REQCOUNTS) on 11–B14, not on B15 [${pt.label}]`, () => {
      const p = Probe.for(pt.dialect, { kernelVersion: pt.kernel });
      const param = new Uint8Array(60);
      param.set([16, 2, 0, 0, 198, 51, 100, 0]);
      const r = p.w.addRoute({ dst: '198.51.100.0', prefixLen: 24, ifp: p.iface(7) });
      p.send({ kind: 'addSrc', provider: p.pid('route'), param });
      const ref = refOf(p.msgs()[0]);
      p.w.routeDown(r);
      p.sim.advance(60_000);
      const first = p.msgs();
      if (pt.label === 'B15') assert.deepEqual(kinds(first), ['srcCounts', 'srcDesc', 'srcRemoved']);
      else {
        assert.deepEqual(first, [], 'first pass after connect skipped');
        p.sim.advance(60_000);
        const second = p.msgs();
        assert.deepEqual(kinds(second), ['srcCounts', 'srcDesc', 'srcRemoved']);
        assert.equal(refOf(second[2]), ref);
      }
    });
  }

  test('§3.4 QUERY_SRC(ALL) sets REQCOUNTS and exempts the client from the next pass [d4570]', () => {
    const p = Probe.for('d4570');
    const r = p.w.addRoute({ dst: '198.51.100.0', prefixLen: 24, ifp: p.iface(7) });
    const param = new Uint8Array(60);
    param.set([16, 2, 0, 0, 198, 51, 100, 0]);
    p.send({ kind: 'addSrc', provider: p.pid('route'), param });
    p.msgs();
    p.sim.advance(60_000); // first pass: skipped (flag from connect), flag cleared
    p.poll('getSrcDesc', 'all'); // not QUERY: no flag
    p.msgs();
    p.w.routeDown(r);
    // GET_SRC_DESC does not reap; the next idle pass does.
    p.sim.advance(60_000);
    assert.deepEqual(kinds(p.msgs()), ['srcCounts', 'srcDesc', 'srcRemoved']);
  });
});

describe('§2.4 / §6 filters and extensions', () => {
  test('§6 extensions: root gets SRC_EXTENDED_UPDATE with a DOMAIN item (exact length); non-root is silently denied [B13]', () => {
    for (const root of [true, false]) {
      const p = Probe.for('8792.41.9', { kernelVersion: '8792.81.2', root });
      const s = p.w.tcpSocket(p.proc('Safari'), 4, { domain: { domainName: 'www.example.com' } });
      p.w.tcpConnect(s, endpoint('203.0.113.1', 443), p.iface(4), 10);
      const shift = BigInt(Number(p.d.constants['NSTAT_FILTER_ALLOWED_EXTENSIONS_SHIFT']));
      p.addAll('tcp', { filter: 1n << (shift + 1n) });
      const ref = refOf(p.msgs()[0]);
      p.poll('getUpdate', ref);
      const [u] = p.msgs();
      assert.ok(u.kind === 'srcUpdate');
      if (root) {
        assert.equal(u.extended, true);
        assert.equal(u.extensions?.length, 1);
        assert.equal(u.extensions?.[0].type, 1);
        assert.equal(u.extensions?.[0].length, 1056);
        assert.equal(u.extensions?.[0].domain?.domainName, 'www.example.com');
      } else {
        assert.ok(!u.extended, 'plain SRC_UPDATE: extensions silently not granted');
      }
    }
  });

  test('§2.4 SPECIFIC_USER_BY_PID reports only the target process; sources are still announced [d10002]', () => {
    const p = Probe.for('d10002');
    const a = p.proc('Safari');
    const b = p.proc('Mail');
    p.tcp({ proc: a });
    p.tcp({ proc: b });
    p.addAll('tcp', { filter: constantBig(p.d, 'NSTAT_FILTER_SPECIFIC_USER_BY_PID')!, targetPid: a.pid });
    assert.equal(p.msgs().filter((m) => m.kind === 'srcAdded').length, 2);
    p.poll('getSrcDesc', 'all');
    const descs = p.msgs().filter((m) => m.kind === 'srcDesc');
    assert.equal(descs.length, 1);
    assert.equal(descs[0].kind === 'srcDesc' && descs[0].descriptor?.pid, a.pid);
  });

  test('§2.4 TCP_NO_EARLY_CLOSE keeps a userland flow past its TIME_WAIT event [B13]', () => {
    for (const keep of [false, true]) {
      const p = Probe.for('8792.41.9', { kernelVersion: '8792.81.2' });
      p.addAll('tcpUserland', { filter: keep ? constantBig(p.d, 'NSTAT_FILTER_TCP_NO_EARLY_CLOSE')! : 0n });
      const f = p.w.openUserland('tcpUserland', p.proc('Safari'), endpoint('203.0.113.3', 443), p.iface(4), 10);
      p.msgs();
      p.w.userlandTimeWait(f);
      assert.deepEqual(kinds(p.msgs()), keep ? [] : ['srcCounts', 'srcDesc', 'srcRemoved']);
      p.w.closeUserland(f);
      assert.deepEqual(kinds(p.msgs()), keep ? ['srcCounts', 'srcDesc', 'srcRemoved'] : []);
    }
  });

  test('§5.4 CONN_USERLAND: counts always zero; FLOW_UUID_ASSIGNED event in update mode [B13, root]', () => {
    const p = Probe.for('8792.41.9', { kernelVersion: '8792.81.2', root: true });
    const ev = constantBig(p.d, 'NSTAT_EVENT_SRC_FLOW_UUID_ASSIGNED')!;
    p.addAll('conn', { events: ev, filter: constantBig(p.d, 'NSTAT_FILTER_SUPPRESS_SRC_ADDED')! });
    p.msgs();
    const c = p.w.openConn(p.proc('Safari'), p.iface(4), 8);
    p.w.transfer(c, 1000, 1000);
    p.w.connAssignFlow(c, '11111111-2222-4333-8444-555555555555');
    const [u] = p.msgs();
    assert.ok(u.kind === 'srcUpdate' && u.eventFlags === ev);
    assert.equal(u.counts.rxBytes, 0);
    assert.equal(u.descriptor?.fuuid, '11111111-2222-4333-8444-555555555555');
  });
});

describe('§2.4 / §6 generic-provider filters, UDP medium fallback, extension framing', () => {
  const B13 = { dialect: '8792.41.9', kernel: '8792.81.2' };

  test('§2.4 SUPPRESS_BORING_POLL: a CONN source already reported is skipped by GET_UPDATE(ALL) until an event [B13, root]', () => {
    const p = Probe.for(B13.dialect, { kernelVersion: B13.kernel, root: true });
    p.addAll('conn', { filter: constantBig(p.d, 'NSTAT_FILTER_SUPPRESS_BORING_POLL')! });
    const c = p.w.openConn(p.proc('Safari'), p.iface(4), 8);
    p.msgs();
    const count = () => {
      p.poll('getUpdate', 'all');
      return p.msgs().filter((m) => m.kind === 'srcUpdate').length;
    };
    assert.equal(count(), 1);
    assert.equal(count(), 0, 'boring: unchanged since reported');
    p.w.connAssignFlow(c, '11111111-2222-4333-8444-555555555555');
    assert.equal(count(), 1, 'the event cleared nts_reported');
  });

  test('§2.4 SUPPRESS_BORING_CLOSE: no CLOSING update for an already-reported CONN source; SRC_REMOVED says CLOSED_AFTER_FILTER [B13, root]', () => {
    const p = Probe.for(B13.dialect, { kernelVersion: B13.kernel, root: true });
    p.addAll('conn', { filter: constantBig(p.d, 'NSTAT_FILTER_SUPPRESS_BORING_CLOSE')! | constantBig(p.d, 'NSTAT_FILTER_SUPPRESS_SRC_ADDED')! });
    const c = p.w.openConn(p.proc('Safari'), p.iface(4), 8);
    p.poll('getUpdate', 'all');
    p.msgs();
    p.w.closeGeneric(c);
    const ms = p.msgs();
    assert.deepEqual(kinds(ms), ['srcRemoved']);
    assert.equal(ms[0].flags, HeaderFlag.CLOSED_AFTER_FILTER);
  });

  test('§2.4 INITIAL_PROPERTIES: a new CONN object whose open-time interface does not match is never added [B13, root]', () => {
    const p = Probe.for(B13.dialect, { kernelVersion: B13.kernel, root: true });
    const wired = constantBig(p.d, 'NSTAT_FILTER_ACCEPT_WIRED')!;
    p.addAll('conn', { filter: constantBig(p.d, 'NSTAT_FILTER_INITIAL_PROPERTIES')! | wired });
    p.msgs();
    p.w.openConn(p.proc('Safari'), p.iface(4), 0x8); // opened on Wi-Fi
    assert.deepEqual(p.msgs(), []);
    p.w.openConn(p.proc('Mail'), p.iface(7), 0x10); // opened on wired
    assert.deepEqual(kinds(p.msgs()), ['srcAdded']);
  });

  for (const pt of [{ label: '11', dialect: 'd3247' }, { label: '13', dialect: 'd4570' }]) {
    test(`§2.4 UDP medium fallback (12+): a socket now on cellular still passes ACCEPT_WIFI if it counted Wi-Fi bytes [${pt.label}]`, () => {
      const p = Probe.for(pt.dialect);
      const s = p.udp({ connectTo: '203.0.113.53', ifindex: 4 });
      p.w.transfer(s, 300, 100);
      s.outIf = p.iface(15);
      p.addAll('udp', { filter: constantBig(p.d, 'NSTAT_FILTER_ACCEPT_WIFI')! });
      p.msgs();
      p.poll('getSrcDesc', 'all');
      const n = p.msgs().filter((m) => m.kind === 'srcDesc').length;
      assert.equal(n, pt.label === '11' ? 0 : 1);
    });
  }

  test('§6 BLUETOOTH_COUNTS (B15): a 32-byte item for kernel TCP, a type-0 filler for UDP (copy fails without a tcpcb) [B15, root]', () => {
    const p = Probe.for('11215.61.5', { root: true });
    const bt = p.w.addInterface({ ifindex: 20, name: 'en8', kind: 'companionBt', v4: '169.254.1.2' });
    const shift = BigInt(Number(p.d.constants['NSTAT_FILTER_ALLOWED_EXTENSIONS_SHIFT']));
    const t = p.tcp({ ifindex: 20 });
    p.w.transfer(t, 4000, 500);
    const u = p.udp({ connectTo: '169.254.1.1', ifindex: 20 });
    p.w.transfer(u, 700, 300);
    void bt;
    for (const prov of ['tcp', 'udp'] as const) p.addAll(prov, { filter: 1n << (shift + 6n) });
    const refs = p.msgs().filter((m) => m.kind === 'srcAdded').map(refOf);
    const updates = refs.map((r) => {
      p.poll('getUpdate', r);
      return p.msgs()[0];
    });
    const tcpU = updates.find((m) => m.kind === 'srcUpdate' && m.provider === p.pid('tcp'))!;
    const udpU = updates.find((m) => m.kind === 'srcUpdate' && m.provider === p.pid('udp'))!;
    assert.ok(tcpU.kind === 'srcUpdate' && udpU.kind === 'srcUpdate');
    assert.deepEqual(tcpU.extensions?.map((i) => [i.type, i.length]), [[6, 32]]);
    const dv = new DataView(tcpU.extensions![0].data.buffer, tcpU.extensions![0].data.byteOffset);
    assert.equal(dv.getBigUint64(8, true), 4000n, 'rx bytes');
    assert.deepEqual(udpU.extensions?.map((i) => [i.type, i.length]), [[0, 32]], 'type-0 filler covering the reserved space');
  });

  test('§6 item lengths: exact in a single update, padded to 8 in an aggregated one; data always 8-aligned [B13, root, NECP_TLV]', () => {
    const p = Probe.for(B13.dialect, { kernelVersion: B13.kernel, root: true });
    const shift = BigInt(Number(p.d.constants['NSTAT_FILTER_ALLOWED_EXTENSIONS_SHIFT']));
    p.addAll('tcpUserland', { filter: 1n << (shift + 2n) });
    const tlv = Uint8Array.from({ length: 13 }, (_, i) => i + 1);
    const f = p.w.openUserland('tcpUserland', p.proc('Safari'), endpoint('203.0.113.8', 443), p.iface(4), 10, { necpTlv: tlv });
    p.w.transfer(f, 10, 10);
    const ref = refOf(p.msgs().find((m) => m.kind === 'srcAdded')!);
    p.poll('getUpdate', ref);
    const [single] = p.msgs();
    assert.ok(single.kind === 'srcUpdate' && single.extended);
    assert.equal(single.extensions?.[0].length, 13);
    assert.deepEqual(single.extensions?.[0].data, tlv);
    p.poll('getUpdate', 'all');
    const [agg] = p.msgs();
    assert.ok(agg.kind === 'srcUpdate' && agg.extended && agg.context === 0n);
    assert.equal(agg.extensions?.[0].length, 16);
    // Without extension data the same source gets a plain SRC_UPDATE.
    const q = Probe.for(B13.dialect, { kernelVersion: B13.kernel, root: true });
    q.addAll('tcpUserland', { filter: 1n << (shift + 2n) });
    q.msgs();
    q.w.openUserland('tcpUserland', q.proc('Safari'), endpoint('203.0.113.9', 443), q.iface(4), 10);
    q.poll('getUpdate', refOf(q.msgs()[0]));
    const [plain] = q.msgs();
    assert.ok(plain.kind === 'srcUpdate' && !plain.extended);
  });
});

// -------------------------------------------------------------------- small helpers
function buildAddAll(p: Probe, prov: 'udp' | 'tcp'): Uint8Array {
  return encodeRequest(p.d, { kind: 'addAllSrcs', context: 900n, flags: 0, provider: p.pid(prov), filter: 0n, events: 0n, targetPid: 0 });
}
function buildPoll(p: Probe, ref: bigint): Uint8Array {
  return encodeRequest(p.d, { kind: 'getSrcDesc', context: 901n, flags: 0, srcref: ref });
}
function decode(p: Probe, bytes: Uint8Array): Message[] {
  return decodeDatagram(bytes, p.d);
}
