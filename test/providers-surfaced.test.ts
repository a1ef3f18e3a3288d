/**
 * Issue 13 §2 (providers surfaced), the parts done here:
 *  - responsible app: the simulated world has a daemon working for apps (nsurlsessiond, delegated
 *    sockets: epid/euuid of the app, pid/uuid/pname of the daemon, BEHAVIOUR.md §5.1), visible in
 *    `ntstat json` and grouped under the app by `ntstat top --by app`;
 *  - process names: up to 32 bytes where the kernel sends p_name (macOS 15, xnu-11215+), 16 (p_comm)
 *    before, with no trailing padding (§7);
 *  - doctor reads net.statistics_privcheck and counts the flows it sees by uid/pid, saying plainly
 *    when it sees only its own.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../src/cli/main.js';
import { visibilityText, privcheckText } from '../src/cli/doctor-visibility.js';
import { NetworkStatisticsClient } from '../src/client/client.js';
import type { Stream } from '../src/model/stream.js';
import { SimKernel } from '../src/simulator/index.js';
import { MemoryTransport } from '../src/transport/memory.js';

function io() {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env: {}, platform: 'linux' as const },
    out: () => out,
    err: () => err,
  };
}

describe('responsible app: daemons working for apps', () => {
  test('json --simulate: nsurlsessiond flows carry the app as epid/euuid (pid/uuid stay the daemon)', async () => {
    const c = io();
    assert.equal(await main(['json', '--simulate', '--macos', '14', '--scenario', 'idle-laptop', '--duration', '3'], c.io), 0, c.err());
    const evs = c.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const delegated = evs.filter((e) => e.process === 'nsurlsessiond' && e.epid !== undefined && e.epid !== e.pid);
    assert.ok(delegated.length >= 2, `${delegated.length} delegated flows`);
    for (const e of delegated) assert.notEqual(e.euuid, e.uuid, 'euuid is the app, uuid the daemon');
    // Each epid is an app seen with its own flows too.
    const appPids = new Set(evs.filter((e) => e.process !== 'nsurlsessiond').map((e) => e.pid));
    assert.ok(delegated.every((e) => appPids.has(e.epid)), 'the responsible pids are apps of the scenario');
  });

  test('top --by app counts the daemon flows under the app; --by process under the daemon', async () => {
    const rows = async (by: string) => {
      const c = io();
      assert.equal(await main(['top', '--simulate', '--macos', '14', '--scenario', 'idle-laptop', '--duration', '2', '--by', by], c.io), 0, c.err());
      return c.out().split('by ').pop()!.split('\n');
    };
    const c = io();
    assert.equal(await main(['json', '--simulate', '--macos', '14', '--scenario', 'idle-laptop', '--duration', '2'], c.io), 0);
    const evs = c.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const daemonPid = evs.find((e) => e.process === 'nsurlsessiond' && e.epid !== e.pid)?.pid;
    assert.ok(daemonPid !== undefined, 'the delegating daemon');
    const flows = (lines: string[], pid: unknown) => {
      const l = lines.find((x) => new RegExp(`^\\s*${String(pid)}\\s`).test(x));
      const m = l ? /(\d+)\/\d+/.exec(l) : null;
      return m ? Number(m[1]) : 0;
    };
    const byProcess = await rows('process');
    const byApp = await rows('app');
    assert.ok(flows(byProcess, daemonPid) >= 2, `the daemon (pid ${String(daemonPid)}) is a process row with its flows`);
    assert.equal(flows(byApp, daemonPid), 0, 'by app, every delegated flow is counted under its app');
  });
});

describe('process names: p_name (32 bytes) on macOS 15, p_comm (16) before, no padding', () => {
  const NAME = 'com.example.VeryLongDaemonName-Helper'; // 37 bytes
  for (const [dialect, max] of [
    ['4570.71.2', 16],
    ['10063.141.1', 16],
    ['11417.121.6', 32],
  ] as const) {
    test(`xnu-${dialect}: the name is cut to ${max} bytes`, async () => {
      const kernel = new SimKernel({ dialect, scenario: 'bare', seed: 2 });
      const w = kernel.world;
      const p = w.spawn(NAME, { pid: 777 });
      const s = w.tcpSocket(p, 4);
      const ifp = [...w.interfaces.values()][1];
      w.tcpConnect(s, { family: 4, address: '203.0.113.7', port: 443 }, ifp, 10);
      const client = new NetworkStatisticsClient({ transport: new MemoryTransport(kernel.connect({ root: false })), dialect: kernel.dialect, interval: 0, providers: ['tcp'], clock: () => kernel.now });
      try {
        await client.connect();
        await client.sweep();
        const st = client.snapshot().find((x) => x.pid === 777);
        assert.ok(st);
        assert.equal(st.process, NAME.slice(0, max));
        assert.ok(!st.process!.includes('\0'), 'no trailing NUL padding');
      } finally {
        client.stop();
      }
    });
  }
});

describe('doctor: privcheck and who the client sees', () => {
  const mk = (pid: number, uid?: number): Stream => ({ pid, ...(uid !== undefined ? { descriptor: { uid } } : {}) }) as unknown as Stream;

  test('privcheckText says what 0 and 1 mean (BEHAVIOUR.md §1)', () => {
    assert.match(privcheckText(0), /= 0: any user may subscribe/);
    assert.match(privcheckText(1), /= 1: subscribing needs root/);
    assert.match(privcheckText(undefined), /unreadable/);
  });

  test('visibilityText: only its own user, only its own process, or others visible', () => {
    assert.match(visibilityText([mk(10, 501), mk(11, 501)], { uid: 501, pid: 99 }), /ONLY this user's own flows \(uid 501\)/);
    assert.match(visibilityText([mk(99), mk(99)], { uid: 501, pid: 99 }), /ONLY this process's own flows/);
    const mixed = visibilityText([mk(10, 501), mk(11, 0), mk(12, 65)], { uid: 501, pid: 99 });
    assert.match(mixed, /3 flows from 3 processes \(uid 501: 1, uid 0: 1, uid 65: 1\)/);
    assert.match(mixed, /other users are visible/);
    assert.match(visibilityText([], { pid: 1 }), /no flows/);
  });

  test('doctor --simulate prints privcheck and the flows it sees by uid/pid', async () => {
    const c = io();
    assert.equal(await main(['doctor', '--simulate', '--macos', '14'], c.io), 0, c.err());
    assert.match(c.out(), /privcheck\s+net\.statistics_privcheck = 0: any user may subscribe/);
    assert.match(c.out(), /flows seen\s+\d+ flows from \d+ processes \(uid 501: \d+\)/);
  });
});
