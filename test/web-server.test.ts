/**
 * The dashboard's HTTP server without a browser: the listen policy, the token (401 without it,
 * then an HttpOnly SameSite=Strict cookie), the Host check (403), the CSP on every answer, no
 * inline script in the page, /metrics tokenless from loopback only, and the JSON API and SSE
 * fed by the real UsageAgent on a real client over the simulator (time advanced by steps, not by the clock).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { isNtstatError } from '../src/errors.js';
import { checkListenPolicy, parseListen } from '../src/web/listen.js';
import { startWebServer, type WebServer } from '../src/web/server.js';
import { hostileNames } from '../src/simulator/scenarios/hostile-names.js';
import { SimAgentView } from './helpers/sim-agent-view.js';
import { main } from '../src/cli/main.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = Buffer.alloc(0);
      res.on('data', (c: Buffer) => (body = Buffer.from(body.toString('latin1') + c.toString('latin1'), 'latin1')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let view: SimAgentView;
let srv: WebServer;
let auth: Record<string, string>;

before(async () => {
  view = new SimAgentView({ scenario: hostileNames, scale: 0.2, dialect: '15.0' });
  await view.start();
  for (let i = 0; i < 5; i++) await view.step(1000);
  srv = await startWebServer(view, { listen: { host: '127.0.0.1', port: 0 }, now: () => view.now() });
  auth = { cookie: `ntstat_token_${srv.port}=${srv.token}` };
});

after(async () => {
  await srv.close();
  view.stop();
});

test('listen: loopback by default; anything else needs --allow-remote', () => {
  assert.deepEqual(parseListen(undefined), { host: '127.0.0.1', port: 9183 });
  assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen('[::1]:7000'), { host: '::1', port: 7000 });
  assert.deepEqual(parseListen('7001'), { host: '127.0.0.1', port: 7001 });
  assert.deepEqual(parseListen('localhost'), { host: 'localhost', port: 9183 });
  for (const bad of ['127.0.0.1:99999', '127.0.0.1:x', 'a b:80', ':80']) assert.throws(() => parseListen(bad), (e) => isNtstatError(e, 'ERR_NTSTAT_USAGE'), bad);
  assert.equal(checkListenPolicy(parseListen('127.0.0.5:80'), false).remote, false);
  assert.equal(checkListenPolicy(parseListen('[::1]:80'), false).remote, false);
  assert.throws(() => checkListenPolicy(parseListen('0.0.0.0:80'), false), (e) => isNtstatError(e, 'ERR_NTSTAT_USAGE') && /--allow-remote/.test(e.message));
  assert.throws(() => checkListenPolicy(parseListen('192.168.1.23:80'), false), /--allow-remote/);
  assert.equal(checkListenPolicy(parseListen('0.0.0.0:80'), true).remote, true);
});

test('a non-loopback address is refused by the server itself without allowRemote', async () => {
  await assert.rejects(startWebServer(view, { listen: { host: '0.0.0.0', port: 0 } }), (e) => isNtstatError(e, 'ERR_NTSTAT_USAGE'));
});

test('401 without the token for the page, the API, the event stream and the assets', async () => {
  for (const path of ['/', '/index.html', '/api/status', '/api/live', '/api/usage', '/api/events', '/app.js', '/vendor/uPlot.iife.min.js']) {
    const r = await get(srv.port, path);
    assert.equal(r.status, 401, path);
    assert.match(String(r.headers['content-security-policy']), /default-src 'self'/, path);
  }
  const wrong = await get(srv.port, `/?token=${'A'.repeat(srv.token.length)}`);
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers['set-cookie'], undefined);
  assert.equal((await get(srv.port, '/api/status', { cookie: `ntstat_token_${srv.port}=nope` })).status, 401);
});

test('the printed URL sets an HttpOnly SameSite=Strict cookie and drops the token from the address', async () => {
  const r = await get(srv.port, `/?token=${srv.token}`);
  assert.equal(r.status, 303);
  assert.equal(r.headers.location, '/');
  const cookie = String(r.headers['set-cookie']);
  assert.match(cookie, new RegExp(`^ntstat_token_${srv.port}=${srv.token};`));
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const page = await get(srv.port, '/', auth);
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.equal((await get(srv.port, '/api/status', { authorization: `Bearer ${srv.token}` })).status, 200);
  assert.ok(srv.dashboardUrl.startsWith(`http://127.0.0.1:${srv.port}/?token=`));
});

test('403 when the Host header does not name the listen address (DNS rebinding)', async () => {
  for (const host of [`evil.example:${srv.port}`, `127.0.0.1:${srv.port + 1}`, 'evil.example', '127.0.0.1']) {
    const r = await get(srv.port, `/?token=${srv.token}`, { host });
    assert.equal(r.status, 403, host);
    assert.equal(r.headers['set-cookie'], undefined, host);
  }
  for (const host of [`localhost:${srv.port}`, `LOCALHOST:${srv.port}`, `[::1]:${srv.port}`]) assert.equal((await get(srv.port, '/api/status', { ...auth, host })).status, 200, host);
});

test('strict CSP and security headers on every answer; the page has no inline script or style', async () => {
  const r = await get(srv.port, '/', auth);
  const csp = String(r.headers['content-security-policy']);
  for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'"]) assert.ok(csp.includes(d), d);
  assert.ok(!/unsafe-inline|unsafe-eval|https?:/.test(csp), csp);
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  const html = r.body.toString('utf8');
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    assert.match(m[1], /\bsrc="\/[^"/]/, 'every script is a same-origin file');
    assert.equal(m[2].trim(), '', 'no inline script');
  }
  assert.ok(!/<style\b|\sstyle=|\son[a-z]+=/i.test(html), 'no inline style or handler attribute');
  assert.ok(!/(src|href)="(https?:)?\/\//.test(html), 'no external asset');
});

test('assets: gzip when accepted, identical bytes; uPlot is served locally', async () => {
  const plain = await get(srv.port, '/vendor/uPlot.iife.min.js', auth);
  assert.equal(plain.status, 200);
  assert.match(plain.body.toString('utf8', 0, 4000), /uPlot/);
  const gz = await get(srv.port, '/vendor/uPlot.iife.min.js', { ...auth, 'accept-encoding': 'gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gunzipSync(new Uint8Array(gz.body.buffer as ArrayBuffer, gz.body.byteOffset, gz.body.length)).toString('latin1'), plain.body.toString('latin1'));
  const again = await get(srv.port, '/vendor/uPlot.iife.min.js', { ...auth, 'if-none-match': String(plain.headers.etag) });
  assert.equal(again.status, 304);
});

test('the built package serves the page from dist/ (what an installed ntstat has)', async () => {
  const repo = new URL('../../', import.meta.url);
  const built = (await import(new URL('dist/web/static.js', repo).href)) as typeof import('../src/web/static.js');
  assert.equal(built.staticDir(), fileURLToPath(new URL('dist/web/static/', repo)));
  const assets = built.loadAssets();
  for (const path of ['/', '/app.js', '/live.js', '/history.js', '/health.js', '/charts.js', '/format.js', '/style.css', '/vendor/uPlot.iife.min.js', '/vendor/uPlot.min.css']) assert.ok(assets.has(path), path);
  // Every module the page imports is served.
  for (const [path, a] of assets) {
    if (!path.endsWith('.js')) continue;
    for (const m of a.body.toString('utf8').matchAll(/from '\.\/([\w-]+\.js)'/g)) assert.ok(assets.has(`/${m[1]}`), `${path} imports ${m[1]}`);
  }
});

test('only GET and HEAD', async () => {
  const r = await get(srv.port, '/api/status', auth, 'POST');
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, 'GET, HEAD');
});

test('/metrics: 404 without the exporter; tokenless from loopback when mounted', async () => {
  assert.equal((await get(srv.port, '/metrics')).status, 404);
  const m = await startWebServer(view, {
    listen: { host: '127.0.0.1', port: 0 },
    metrics: (_req, res) => {
      res.setHeader('Content-Type', 'text/plain; version=0.0.4');
      res.end('ntstat_up 1\n');
    },
  });
  try {
    const r = await get(m.port, '/metrics');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'ntstat_up 1\n');
    assert.equal((await get(m.port, '/metrics', { host: `evil.example:${m.port}` })).status, 403);
    assert.equal((await get(m.port, '/api/status')).status, 401, 'the rest still needs the token');
  } finally {
    await m.close();
  }
});

test('/metrics mounted from the exporter: the agent\'s series, tokenless from loopback', async () => {
  const { createMetricsRoute } = await import('../src/export/prometheus.js');
  const m = await startWebServer(view, { listen: { host: '127.0.0.1', port: 0 }, metrics: createMetricsRoute(view) });
  try {
    const r = await get(m.port, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.body.toString(), /^ntstat_connections\b/m);
    assert.match(String(r.headers['content-security-policy']), /default-src 'self'/);
  } finally {
    await m.close();
  }
});

test('/api/live: per-app rates and totals are the sums of the agent\'s process groups', async () => {
  const r = await get(srv.port, '/api/live', auth);
  assert.equal(r.status, 200);
  const live = JSON.parse(r.body.toString());
  const procs = view.processes();
  assert.equal(live.processes.length, procs.length);
  const sum = (xs: { rxBytes: number }[]) => xs.reduce((a, x) => a + x.rxBytes, 0);
  assert.equal(sum(live.apps), sum(procs));
  const xss = live.apps.find((a: { app: string }) => a.app === '<img src=x onerror=alert(1)>');
  assert.ok(xss, 'the hostile name arrives as exact JSON text');
  assert.equal(xss.liveFlows, 1, 'the scenario gives it one connection');
  const flows = JSON.parse((await get(srv.port, `/api/flows?app=${encodeURIComponent(xss.app)}`, auth)).body.toString());
  assert.equal(flows.flows.length, 1);
  assert.equal(flows.flows[0].remote.port, 443);
  assert.equal(flows.flows[0].state, 'ESTABLISHED');
  const withStreams = JSON.parse((await get(srv.port, '/api/live?streams=1', auth)).body.toString());
  assert.equal(withStreams.streamList.length, view.streams().filter((s) => !s.closed).length);
});

test('/api/usage and /api/series answer from the store; bad parameters are a 400 with a code', async () => {
  const now = view.now();
  const r = JSON.parse((await get(srv.port, `/api/usage?since=${now - 3_600_000}&until=${now + 1}&by=app`, auth)).body.toString());
  assert.deepEqual(r.rows, view.store().query({ since: now - 3_600_000, until: now + 1, by: 'app' }));
  const rel = JSON.parse((await get(srv.port, '/api/usage?since=1h&by=interface', auth)).body.toString());
  assert.equal(rel.since, now - 3_600_000);
  assert.equal(rel.until, now);
  const s = JSON.parse((await get(srv.port, '/api/series?since=1h&by=app&top=3', auth)).body.toString());
  assert.ok(s.series.length <= 3 && s.series.length > 0);
  assert.equal(s.times.length, s.series[0].rx.length);
  for (const q of ['since=yesterday', 'by=nonsense', 'since=2h&until=3h', 'top=0']) {
    const bad = await get(srv.port, `/api/usage?${q}`, auth);
    assert.equal(bad.status, 400, q);
    assert.equal(JSON.parse(bad.body.toString()).code, 'ERR_NTSTAT_USAGE', q);
  }
});

test('/api/usage gives the same rows as `ntstat usage --json` on the agent\'s database', async () => {
  const until = new Date(view.now() + 60_000).toISOString();
  const since = new Date(view.now() - 3_600_000).toISOString();
  for (const by of ['app', 'process', 'interface', 'hour']) {
    const api = JSON.parse((await get(srv.port, `/api/usage?since=${since}&until=${until}&by=${by}`, auth)).body.toString());
    const out: string[] = [];
    const io = { stdout: { write: (c: string) => out.push(c) }, stderr: { write: () => true }, env: {}, platform: 'linux' as const };
    assert.equal(await main(['usage', '--json', '--db', view.dbPath, '--since', since, '--until', until, '--by', by], io), 0);
    const cli = out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.ok(cli.length > 0, by);
    assert.deepEqual(api.rows, cli, by);
  }
});

test('the live window fills from polls while no page is connected: per-app rates of each poll', async () => {
  // What each poll's per-app rates are, summed here from the agent's process groups.
  const expected = new Map<number, Map<string, [number, number]>>();
  const onPoll = (time: number) => {
    const byApp = new Map<string, [number, number]>();
    for (const p of view.processes()) {
      const r = byApp.get(p.app ?? p.process) ?? [0, 0];
      r[0] += p.rxBytesPerSec;
      r[1] += p.txBytesPerSec;
      byApp.set(p.app ?? p.process, r);
    }
    expected.set(time, byApp);
  };
  view.on('poll', onPoll);
  for (let i = 0; i < 3; i++) await view.step(1000);
  view.off('poll', onPoll);
  const r = await get(srv.port, '/api/series?window=live&top=100', auth);
  assert.equal(r.status, 200);
  const live = JSON.parse(r.body.toString()) as { times: number[]; series: { key: string; rx: number[]; tx: number[] }[] };
  let moving = 0;
  for (const [time, byApp] of expected) {
    const at = live.times.indexOf(time);
    assert.ok(at >= 0, `poll ${time} is in the window`);
    for (const [app, [rx, tx]] of byApp) {
      const se = live.series.find((x) => x.key === app);
      if (rx === 0 && tx === 0) {
        if (se) assert.deepEqual([se.rx[at], se.tx[at]], [0, 0], app);
        continue;
      }
      moving++;
      assert.ok(se, `${app} has a series`);
      assert.deepEqual([se.rx[at], se.tx[at]], [Math.round(rx), Math.round(tx)], app);
    }
  }
  assert.ok(moving > 0, 'some app moved bytes in these polls');
});

test('/api/events: one poll event per agent poll, carrying that poll\'s time', async () => {
  const events: { event: string; data: { time: number } }[] = [];
  let buf = '';
  const req = request({ host: '127.0.0.1', port: srv.port, path: '/api/events', headers: { ...auth, host: `127.0.0.1:${srv.port}` } });
  const opened = new Promise<void>((resolve) => {
    req.on('response', (res) => {
      assert.match(String(res.headers['content-type']), /^text\/event-stream/);
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
        }
      });
      resolve();
    });
  });
  req.end();
  await opened;
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    await view.step(1000);
    times.push(view.now());
  }
  for (let i = 0; i < 50 && events.length < 7; i++) await new Promise((r) => setImmediate(r));
  req.destroy();
  assert.equal(events[0].event, 'poll', 'the current snapshot first');
  assert.deepEqual(
    events.slice(1).filter((e) => e.event === 'poll').map((e) => e.data.time),
    times,
  );
  // The agent flushes after every sweep here (flushSeconds 0): one flush event each.
  assert.deepEqual(
    events.filter((e) => e.event === 'flush').map((e) => e.data.time),
    times,
  );
});
