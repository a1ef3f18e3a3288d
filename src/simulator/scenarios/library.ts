/**
 * The shipped scenarios. Each is a small program over the toolkit; rates and populations are
 * multiplied by `ctx.scale` so tests can run them smaller without changing their shape.
 */
import { Rng } from '../prng.js';
import { SERVER_APPS, UDP_APPS, endpoint } from '../world/catalog.js';
import { TCPS, type KernelSocket, type NetInterface, type Process } from '../world/entities.js';
import {
  AppPool,
  closeTcp,
  domainFor,
  periodic,
  poisson,
  remoteFor,
  rttFor,
  standardMachine,
  tcpClient,
  userlandFlow,
  type CloseStyle,
  type Scenario,
  type ScenarioContext,
} from './toolkit.js';

const n = (ctx: ScenarioContext, v: number) => Math.max(1, Math.round(v * ctx.scale));
const rate = (ctx: ScenarioContext, v: number) => v * ctx.scale;

/** A long-lived TCP connection that exchanges a little data every few seconds. */
function longLivedTcp(ctx: ScenarioContext, proc: Process, ifp: NetInterface, port: number, replace: () => void): KernelSocket {
  const { world: w, rng } = ctx;
  const remote = remoteFor(rng, rng.chance(0.35) ? 6 : 4, port);
  const rtt = rttFor(rng, remote);
  const s = w.tcpSocket(proc, remote.family, { fuuid: rng.chance(0.5) ? rng.uuid() : undefined });
  w.tcpConnect(s, remote, ifp, rtt);
  w.tcpSetState(s, TCPS.ESTABLISHED);
  w.transfer(s, rng.int(2_000, 200_000), rng.int(500, 20_000));
  const life = rng.logUniform(60_000, 3 * 3_600_000);
  const born = w.now;
  const tick = () => {
    if (s.pcbDead) return;
    if (w.now - born >= life) {
      closeTcp(ctx, s, rng.pick<CloseStyle>(['active', 'active', 'passive', 'reset']), rtt);
      replace();
      return;
    }
    w.transfer(s, rng.logUniform(60, 60_000), rng.logUniform(40, 8_000), rng.chance(0.05) ? { retx: rng.int(100, 3000), dup: rng.int(0, 500), ooo: rng.int(0, 2000) } : {});
    w.setRtt(s, rtt * rng.real(0.8, 1.8));
    w.sched.after(rng.logUniform(1_000, 30_000), tick);
  };
  w.sched.after(rng.logUniform(500, 10_000), tick);
  return s;
}

function longLivedUdp(ctx: ScenarioContext, proc: Process, ifp: NetInterface, port: number): KernelSocket {
  const { world: w, rng } = ctx;
  const s = w.udpSocket(proc, rng.chance(0.5) ? 6 : 4);
  w.udpBind(s, endpoint(s.family === 4 ? '0.0.0.0' : '::', port));
  const peers = [remoteFor(rng, s.family, rng.pick([53, 443, 5353, 123])), remoteFor(rng, s.family, 443)];
  periodic(ctx, rng.logUniform(2_000, 60_000), () => {
    if (s.pcbDead) return;
    w.udpSendTo(s, rng.pick(peers), ifp, rng.int(0, 1500), rng.int(40, 600));
  });
  return s;
}

/** ~150 long-lived flows, a few new short ones per second. */
export const idleLaptop: Scenario = {
  name: 'idle-laptop',
  description: 'A laptop on Wi-Fi: ~150 long-lived flows (kernel TCP/UDP, userland/QUIC where the dialect has them), a few short new flows per second, a process restart now and then',
  install(ctx) {
    const { world: w, rng } = ctx;
    const m = standardMachine(w, { cellular: true });
    const apps = new AppPool(ctx);
    const spawnLong = () => {
      const { app, proc } = apps.pick();
      longLivedTcp(ctx, proc, m.primary, rng.pick(app.ports), spawnLong);
    };
    for (let i = 0; i < n(ctx, 110); i++) spawnLong();
    const udpApps = new AppPool(ctx, UDP_APPS);
    for (let i = 0; i < n(ctx, 25); i++) {
      const { app, proc } = udpApps.pick();
      longLivedUdp(ctx, proc, m.primary, rng.pick(app.ports));
    }
    // A couple of listeners (AirDrop/Handoff daemons, a dev server on loopback).
    const sharingd = w.spawn('sharingd');
    const l1 = w.tcpSocket(sharingd, 6);
    w.tcpListen(l1, endpoint('::', 8770));
    const node = w.spawn('node');
    const l2 = w.tcpSocket(node, 4);
    w.tcpListen(l2, endpoint('127.0.0.1', 3000));
    daemonsWorkingForApps(ctx, apps, m.primary);
    // Userland flows (Network.framework) where the dialect has them.
    if (ctx.caps.userland) {
      for (let i = 0; i < n(ctx, 12); i++) {
        const { app, proc } = apps.pick();
        const remote = remoteFor(rng, rng.chance(0.4) ? 6 : 4, 443);
        userlandFlow(ctx, { kind: ctx.caps.quic && app.quic && rng.chance(0.5) ? 'quic' : 'tcpUserland', proc, remote, ifp: m.primary, rttMs: rttFor(rng, remote), rxBytes: rng.logUniform(1e3, 1e6), txBytes: rng.logUniform(500, 1e5), lifeMs: rng.logUniform(120_000, 3_600_000), domain: domainFor(rng, app), withConn: true });
      }
    }
    // A few new short flows per second.
    poisson(ctx, rate(ctx, 3), () => {
      const { app, proc } = apps.pick();
      const remote = remoteFor(rng, rng.chance(0.4) ? 6 : 4, rng.pick(app.ports));
      if (ctx.caps.userland && app.userland && rng.chance(0.4)) {
        userlandFlow(ctx, { kind: 'tcpUserland', proc, remote, ifp: m.primary, rttMs: rttFor(rng, remote), rxBytes: rng.logUniform(500, 5e5), txBytes: rng.logUniform(200, 5e4), lifeMs: rng.logUniform(200, 20_000), domain: domainFor(rng, app), withConn: true });
        return;
      }
      tcpClient(ctx, { proc, remote, ifp: m.primary, rttMs: rttFor(rng, remote), rxBytes: rng.logUniform(500, 5e5), txBytes: rng.logUniform(200, 5e4), lifeMs: rng.logUniform(200, 20_000), close: rng.weighted<CloseStyle>(['active', 'passive', 'reset', 'fail'], [70, 20, 8, 2]), domain: domainFor(rng, app) });
    });
    // Occasional DNS over UDP (short-lived sockets).
    poisson(ctx, rate(ctx, 1), () => {
      const { proc } = udpApps.pick();
      const s = w.udpSocket(proc, 4);
      w.udpConnect(s, endpoint('192.168.1.1', 53), m.primary);
      w.transfer(s, rng.int(60, 400), rng.int(40, 80));
      w.sched.after(rng.real(5, 60), () => w.udpClose(s));
    });
    // Now and then a process restarts and a connection falls back to cellular.
    periodic(ctx, 45_000, () => apps.respawn(rng.int(0, apps.all().length - 1)));
    periodic(ctx, 20_000, () => {
      const socks = [...w.tcpPcbs.values()];
      if (socks.length === 0 || !m.cell) return;
      const s = rng.pick(socks);
      if (s.pcbDead || s.state !== TCPS.ESTABLISHED) return;
      w.setCellFallback(s, true, m.cell, m.primary);
      w.sched.after(rng.real(2_000, 15_000), () => {
        if (!s.pcbDead) w.setCellFallback(s, false, m.cell, m.primary);
      });
    });
  },
};

/**
 * Daemons working for apps (issue 13 §2, "responsible app"): nsurlsessiond downloads for the app
 * that asked, so its sockets are delegated (SOF_DELEGATED) and the kernel reports epid/eupid/euuid
 * of the app while pid/uuid/pname name the daemon (BEHAVIOUR.md §5.1, `nstat_tcp_copy_descriptor`).
 * Drawn from a generator of its own so the rest of the scenario is unchanged.
 */
function daemonsWorkingForApps(ctx: ScenarioContext, apps: AppPool, ifp: NetInterface): void {
  const w = ctx.world;
  const rng = new Rng(0x6e7375 ^ w.now);
  const dctx: ScenarioContext = { ...ctx, rng };
  const daemon = w.spawn('nsurlsessiond');
  for (const { proc } of apps.all().slice(0, n(ctx, 4))) {
    tcpClient(dctx, { proc: daemon, delegate: proc, remote: remoteFor(rng, 4, 443), ifp, rttMs: 30, rxBytes: rng.logUniform(1e5, 5e6), txBytes: rng.logUniform(1e3, 2e4), lifeMs: rng.logUniform(600_000, 3_600_000), close: 'active' });
  }
}

/** Hundreds of short TLS connections, IPv4/IPv6, QUIC where the dialect has it. */
export const browserBurst: Scenario = {
  name: 'browser-burst',
  description: 'A browser loading pages: bursts of 50–150 short TLS connections every couple of seconds, half IPv6, QUIC on dialects with the QUIC provider',
  install(ctx) {
    const { world: w, rng } = ctx;
    const m = standardMachine(w);
    const browsers = new AppPool(
      ctx,
      [
        { name: 'com.apple.WebKit.Networking', ports: [443], weight: 5, userland: true, quic: true, bundleId: 'com.apple.Safari', domains: ['www.example.com', 'cdn.example.net', 'tracker.example.org', 'fonts.example.com'] },
        { name: 'Google Chrome Helper', ports: [443, 80], weight: 4, quic: true, domains: ['www.example.org', 'apis.example.com'] },
        { name: 'firefox', ports: [443], weight: 2, domains: ['www.example.net'] },
      ],
    );
    for (let i = 0; i < n(ctx, 20); i++) {
      const { proc } = browsers.pick();
      longLivedUdp(ctx, proc, m.primary, 5353);
    }
    periodic(ctx, 2_000, () => {
      const count = n(ctx, rng.int(50, 150));
      const { app, proc } = browsers.pick();
      for (let i = 0; i < count; i++) {
        w.sched.after(rng.real(0, 400), () => {
          const remote = remoteFor(rng, rng.chance(0.5) ? 6 : 4, rng.pick(app.ports));
          const rtt = rttFor(rng, remote);
          const life = rng.logUniform(100, 5_000);
          const domain = domainFor(rng, app);
          if (app.quic && rng.chance(0.3)) {
            if (ctx.caps.quic && app.userland) {
              userlandFlow(ctx, { kind: 'quic', proc, remote, ifp: m.primary, rttMs: rtt, rxBytes: rng.logUniform(2e3, 2e6), txBytes: rng.logUniform(500, 5e4), lifeMs: life, domain, withConn: true });
            } else {
              // Chrome's QUIC is plain kernel UDP.
              const s = w.udpSocket(proc, remote.family, { domain });
              w.udpConnect(s, { ...remote, port: 443 }, m.primary);
              const k = rng.int(1, 4);
              for (let j = 1; j <= k; j++) w.sched.after((life * j) / (k + 1), () => !s.pcbDead && w.transfer(s, rng.logUniform(2e3, 5e5), rng.logUniform(500, 2e4)));
              w.sched.after(life, () => w.udpClose(s));
            }
            return;
          }
          if (ctx.caps.userland && app.userland && rng.chance(0.5)) {
            userlandFlow(ctx, { kind: 'tcpUserland', proc, remote, ifp: m.primary, rttMs: rtt, rxBytes: rng.logUniform(2e3, 2e6), txBytes: rng.logUniform(500, 5e4), lifeMs: life, domain, withConn: true });
            return;
          }
          tcpClient(ctx, { proc, remote, ifp: m.primary, rttMs: rtt, rxBytes: rng.logUniform(2e3, 2e6), txBytes: rng.logUniform(500, 5e4), lifeMs: life, close: rng.weighted<CloseStyle>(['active', 'passive', 'reset', 'fail'], [75, 15, 8, 2]), domain });
        });
      }
    });
  },
};

/** Listeners and many accepted connections. */
export const server: Scenario = {
  name: 'server',
  description: 'A server: nginx on :80/:443 (IPv4 and IPv6), postgres and redis on loopback, sshd; ~200 accepted connections per second with passive and active closes',
  install(ctx) {
    const { world: w, rng } = ctx;
    const m = standardMachine(w, { wired: true });
    const pool = new AppPool(ctx, SERVER_APPS);
    const byName = (name: string) => pool.all().find((p) => p.app.name === name)!.proc;
    const nginx = byName('nginx');
    const listeners: { sock: KernelSocket; weight: number; loop: boolean }[] = [];
    const listen = (proc: Process, fam: 4 | 6, addr: string, port: number, weight: number, loop = false) => {
      const s = w.tcpSocket(proc, fam);
      w.tcpListen(s, endpoint(addr, port));
      listeners.push({ sock: s, weight, loop });
    };
    listen(nginx, 4, '0.0.0.0', 443, 8);
    listen(nginx, 6, '::', 443, 5);
    listen(nginx, 4, '0.0.0.0', 80, 2);
    listen(byName('postgres'), 4, '127.0.0.1', 5432, 3, true);
    listen(byName('redis-server'), 4, '127.0.0.1', 6379, 3, true);
    listen(byName('sshd'), 6, '::', 22, 0.2);
    // Worker processes handle accepted sockets (so->last_pid is the worker).
    const workers = [w.spawn('nginx'), w.spawn('nginx'), w.spawn('nginx'), w.spawn('nginx')];
    poisson(ctx, rate(ctx, 200), () => {
      const l = rng.weighted(listeners, listeners.map((x) => x.weight));
      const fam = l.sock.family;
      const remote = l.loop ? endpoint('127.0.0.1', rng.int(49152, 65535)) : remoteFor(rng, fam, rng.int(49152, 65535));
      const ifp = l.loop ? m.lo0 : m.primary;
      const rtt = rttFor(rng, remote);
      const owner = l.sock.proc === nginx ? rng.pick(workers) : l.sock.proc;
      const s = w.tcpAccept(l.sock, remote, ifp, rtt, owner);
      w.sched.after(rtt, () => {
        if (s.pcbDead) return;
        w.tcpSetState(s, TCPS.ESTABLISHED);
        const life = rng.logUniform(50, 30_000);
        const k = rng.int(1, 5);
        for (let j = 1; j <= k; j++) w.sched.after((life * j) / (k + 1), () => s.state === TCPS.ESTABLISHED && w.transfer(s, rng.logUniform(200, 2e4), rng.logUniform(500, 2e6)));
        w.sched.after(life, () => closeTcp(ctx, s, rng.weighted<CloseStyle>(['passive', 'active', 'reset'], [60, 30, 10]), rtt));
      });
    });
    // Outgoing: the app servers talk to an upstream now and then.
    poisson(ctx, rate(ctx, 5), () => {
      const remote = remoteFor(rng, 4, rng.pick([443, 5432]));
      tcpClient(ctx, { proc: rng.pick(workers), remote, ifp: m.primary, rttMs: rttFor(rng, remote), rxBytes: rng.logUniform(500, 1e5), txBytes: rng.logUniform(200, 1e4), lifeMs: rng.logUniform(100, 10_000), close: 'active' });
    });
  },
};

/** 10 000 flows per second open and close. */
export const churn10k: Scenario = {
  name: 'churn-10k',
  description: '10 000 short flows per second (70 % TCP, 30 % UDP), each living 5–200 ms: mostly passive closes and resets, some TIME_WAIT',
  install(ctx) {
    const { world: w, rng } = ctx;
    const m = standardMachine(w, { wired: true });
    const apps = new AppPool(ctx);
    const perTick = rate(ctx, 10_000) / 1000; // flows per ms
    let carry = 0;
    const remotes = Array.from({ length: 400 }, () => remoteFor(rng, rng.chance(0.3) ? 6 : 4, rng.pick([443, 80, 53, 8080])));
    periodic(
      ctx,
      1,
      () => {
        carry += perTick;
        while (carry >= 1) {
          carry--;
          const { proc } = apps.pick();
          const remote = rng.pick(remotes);
          const life = rng.real(5, 200);
          if (rng.chance(0.7)) {
            tcpClient(ctx, { proc, remote, ifp: m.primary, rttMs: rng.real(1, 20), rxBytes: rng.int(100, 20_000), txBytes: rng.int(60, 2_000), lifeMs: life, bursts: 1, close: rng.weighted<CloseStyle>(['passive', 'reset', 'active'], [80, 15, 5]) });
          } else {
            const s = w.udpSocket(proc, remote.family);
            w.udpConnect(s, remote, m.primary);
            w.sched.after(life / 2, () => w.transfer(s, rng.int(40, 1500), rng.int(40, 600)));
            w.sched.after(life, () => w.udpClose(s));
          }
        }
      },
      0,
    );
  },
};

/** UDP everywhere: DNS, mDNS, QUIC-like bulk, unconnected sockets with many peers. */
export const udpHeavy: Scenario = {
  name: 'udp-heavy',
  description: 'UDP-dominated: short DNS sockets, mDNS/NTP daemons, bulk QUIC-like transfers, unconnected sockets talking to many peers (UDP subflows), connect/disconnect cycles',
  install(ctx) {
    const { world: w, rng } = ctx;
    const m = standardMachine(w, { cellular: true });
    const udpApps = new AppPool(ctx, UDP_APPS);
    for (let i = 0; i < n(ctx, 40); i++) {
      const { app, proc } = udpApps.pick();
      longLivedUdp(ctx, proc, m.primary, rng.pick(app.ports));
    }
    // DNS: a socket per query.
    poisson(ctx, rate(ctx, 50), () => {
      const { proc } = udpApps.pick();
      const v6 = rng.chance(0.3);
      const s = w.udpSocket(proc, v6 ? 6 : 4);
      w.udpConnect(s, v6 ? endpoint('fe80::1', 53, m.en0.ifindex) : endpoint('192.168.1.1', 53), m.en0);
      w.sched.after(rng.real(1, 40), () => {
        w.transfer(s, rng.int(60, 512), rng.int(30, 90));
        w.udpClose(s);
      });
    });
    // Unconnected sockets with many peers (media, P2P): UDP_SUBFLOW where available.
    const facetime = w.spawn('avconferenced');
    for (let i = 0; i < n(ctx, 6); i++) {
      const s = w.udpSocket(facetime, 4);
      w.udpBind(s, endpoint('0.0.0.0', 16393 + i));
      const peers = Array.from({ length: 12 }, () => remoteFor(rng, 4, rng.int(1024, 65535)));
      periodic(ctx, 200, () => !s.pcbDead && w.udpSendTo(s, rng.pick(peers), m.primary, rng.int(200, 1200) * 10, rng.int(200, 1200) * 10));
    }
    // Connect/disconnect cycles (the cached tuple after disconnect, §5.2).
    const ntp = w.spawn('timed');
    for (let i = 0; i < n(ctx, 4); i++) {
      const s = w.udpSocket(ntp, 4);
      w.udpBind(s, endpoint('0.0.0.0', 1230 + i));
      periodic(ctx, 4_000, () => {
        if (s.pcbDead) return;
        if (s.connected) w.udpDisconnect(s);
        else {
          w.udpConnect(s, remoteFor(rng, 4, 123), m.primary);
          w.transfer(s, 48, 48);
        }
      });
    }
    // Bulk QUIC-like transfers: userland QUIC where the dialect has it, kernel UDP otherwise.
    const chrome = w.spawn('Google Chrome Helper');
    poisson(ctx, rate(ctx, 4), () => {
      const remote = remoteFor(rng, rng.chance(0.5) ? 6 : 4, 443);
      const life = rng.logUniform(500, 20_000);
      if (ctx.caps.quic) {
        userlandFlow(ctx, { kind: 'quic', proc: chrome, remote, ifp: m.primary, rttMs: rttFor(rng, remote), rxBytes: rng.logUniform(1e5, 5e7), txBytes: rng.logUniform(1e4, 1e6), lifeMs: life, withConn: true });
      } else {
        const s = w.udpSocket(chrome, remote.family);
        w.udpConnect(s, remote, m.primary);
        periodic(ctx, 250, () => !s.pcbDead && w.transfer(s, rng.int(1e4, 3e5), rng.int(1e3, 2e4)));
        w.sched.after(life, () => w.udpClose(s));
      }
    });
    if (ctx.caps.userland) {
      poisson(ctx, rate(ctx, 3), () => {
        const remote = remoteFor(rng, 4, 443);
        userlandFlow(ctx, { kind: 'udpUserland', proc: chrome, remote, ifp: m.primary, rttMs: rttFor(rng, remote), rxBytes: rng.logUniform(1e3, 1e5), txBytes: rng.logUniform(1e3, 1e4), lifeMs: rng.logUniform(100, 5000) });
      });
    }
  },
};

/** Thousands of sources appear and vanish while the client reads slowly. */
export const backpressureStorm: Scenario = {
  name: 'backpressure-storm',
  description: 'Storms of 1 000–3 000 sockets created within 100 ms and gone within seconds, on top of 2 000/s steady churn; meant for a client that reads slowly',
  hints: { readBudget: 8, readIntervalMs: 50, receiveBuffer: 8192 },
  install(ctx) {
    const { world: w, rng } = ctx;
    const m = standardMachine(w, { wired: true });
    const apps = new AppPool(ctx);
    const remotes = Array.from({ length: 200 }, () => remoteFor(rng, rng.chance(0.4) ? 6 : 4, 443));
    periodic(ctx, 3_000, () => {
      const count = n(ctx, rng.int(1_000, 3_000));
      for (let i = 0; i < count; i++) {
        w.sched.after(rng.real(0, 100), () => {
          const { proc } = apps.pick();
          tcpClient(ctx, { proc, remote: rng.pick(remotes), ifp: m.primary, rttMs: rng.real(1, 30), rxBytes: rng.int(0, 50_000), txBytes: rng.int(0, 5_000), lifeMs: rng.real(500, 3_000), bursts: 1, close: rng.weighted<CloseStyle>(['reset', 'passive', 'active'], [40, 40, 20]) });
        });
      }
    });
    poisson(ctx, rate(ctx, 2_000), () => {
      const { proc } = apps.pick();
      const remote = rng.pick(remotes);
      if (rng.chance(0.8)) tcpClient(ctx, { proc, remote, ifp: m.primary, rttMs: rng.real(1, 30), rxBytes: rng.int(0, 20_000), txBytes: rng.int(0, 2_000), lifeMs: rng.real(20, 1_000), bursts: 1, close: rng.pick<CloseStyle>(['reset', 'passive']) });
      else {
        const s = w.udpSocket(proc, remote.family);
        w.udpConnect(s, remote, m.primary);
        w.sched.after(rng.real(20, 500), () => w.udpClose(s));
      }
    });
  },
};

export const SCENARIOS: readonly Scenario[] = [idleLaptop, browserBurst, server, churn10k, udpHeavy, backpressureStorm];

/** An empty machine (interfaces and routes only): protocol tests add exactly what they need. */
export const bare: Scenario = {
  name: 'bare',
  description: 'Interfaces and routes only; nothing happens unless the test makes it happen',
  install(ctx) {
    standardMachine(ctx.world, { wired: true, cellular: true });
  },
};
