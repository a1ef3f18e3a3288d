/// <reference lib="dom" />  // the functions given to page.evaluate run in the browser
/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core (which never
 * downloads a browser here: executablePath), the real UsageAgent on a real client over the simulator. Asserts rows,
 * a drawn chart (non-empty canvas pixels), sorting, the rate/total toggle, the app drill-down,
 * the history range picker, kernel strings shown literally (no <img> from a process name, no
 * dialog), no CSP violation, 401 without the token and 403 for a rebound DNS name.
 * UPDATE_SCREENSHOTS=1 also writes docs/dashboard-*.png. Under CI=true a missing chromium fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { startWebServer, type WebServer } from '../src/web/server.js';
import { hostileNames, HOSTILE_NAMES } from '../src/simulator/scenarios/hostile-names.js';
import { SimAgentView } from './helpers/sim-agent-view.js';

const repo = resolve(fileURLToPath(import.meta.url), '../../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const skip = haveChromium || process.env.CI === 'true' ? false : `${CHROMIUM} is missing (apt-get install chromium)`;
const XSS = HOSTILE_NAMES[0];
const SHOTS = process.env.UPDATE_SCREENSHOTS === '1';

interface Harness {
  view: SimAgentView;
  srv: WebServer;
  browser: Browser;
}

async function harness(): Promise<Harness> {
  assert.ok(haveChromium, `${CHROMIUM} is missing: .ci/run installs it (apt-get install chromium)`);
  const { chromium } = await import('playwright-core');
  // macOS 15's 32-byte p_name keeps the whole 28-byte hostile name (p_comm would cut it at 16).
  const view = new SimAgentView({ scenario: hostileNames, scale: 0.3, dialect: '15.0' });
  await view.start();
  for (let i = 0; i < 90; i++) await view.step(60_000); // 90 simulated minutes of history
  const srv = await startWebServer(view, { listen: { host: '127.0.0.1', port: 0 }, now: () => view.now() });
  for (let i = 0; i < 40; i++) await view.step(1000); // 40 s of live samples before the page opens
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // A DNS rebinding attack, for real: evil.example resolves to our loopback server.
    args: ['--host-resolver-rules=MAP evil.example 127.0.0.1', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])],
  });
  return { view, srv, browser };
}

/** Advance the simulation one poll and wait until the page has drawn it. */
async function poll(h: Harness, page: Page, n = 1): Promise<void> {
  // The event stream is open once the page has drawn the snapshot it sends on connect.
  await page.waitForFunction(() => document.body.dataset.polled !== undefined);
  for (let i = 0; i < n; i++) {
    await h.view.step(1000);
    await page.waitForFunction((t) => document.body.dataset.polled === t, String(h.view.now()));
  }
}

/** Share of painted (non-transparent) pixels in the chart canvas under `selector`. */
function painted(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const c = document.querySelector(`${sel} canvas`) as HTMLCanvasElement | null;
    if (!c || c.width === 0 || c.height === 0) return 0;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n / (c.width * c.height);
  }, selector);
}

const rowApps = (page: Page) => page.$$eval('#apps-table tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.app ?? ''));
const cellTexts = (page: Page, col: number) => page.$$eval(`#apps-table tbody tr td:nth-child(${col})`, (tds) => tds.map((td) => td.textContent ?? ''));
const api = (page: Page, path: string) => page.evaluate(async (p) => (await fetch(p)).json(), path);

test('dashboard in chromium: live table and chart, sorting, drill-down, history, XSS-safe names, CSP', { skip, timeout: 180_000 }, async (t) => {
  const h = await harness();
  const context = await h.browser.newContext({ viewport: { width: 1360, height: 900 }, timezoneId: 'UTC', colorScheme: 'light' });
  const page = await context.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  let transferred = 0;
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('requestfinished', async (r) => {
    const s = await r.sizes().catch(() => undefined);
    if (s && !r.url().includes('/api/')) transferred += s.responseBodySize + s.responseHeadersSize;
  });
  await context.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[] };
    w.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  try {
    const resp = await page.goto(h.srv.dashboardUrl);
    assert.equal(resp?.status(), 200);
    assert.match(resp!.headers()['content-security-policy'], /default-src 'self'/);
    assert.ok(!page.url().includes('token='), 'the token left the address bar');
    await poll(h, page, 2);

    // Rows: one per app the agent knows, receive rate descending.
    const live = await api(page, '/api/live');
    const names = await rowApps(page);
    assert.deepEqual([...names].sort(), live.apps.map((a: { app: string }) => a.app).sort());
    const busy = live.apps.filter((a: { rxBytesPerSec: number }) => a.rxBytesPerSec > 0).sort((a: { rxBytesPerSec: number }, b: { rxBytesPerSec: number }) => b.rxBytesPerSec - a.rxBytesPerSec);
    assert.ok(busy.length >= 3, 'several apps receiving');
    assert.deepEqual(names.slice(0, busy.length), busy.map((a: { app: string }) => a.app));
    assert.ok((await cellTexts(page, 4)).every((c) => c.endsWith('/s')), 'rates shown');

    // The stacked chart is drawn (pixels on the canvas), with a legend entry per series.
    assert.ok((await painted(page, '#live-chart')) > 0.02, 'live chart has pixels');
    assert.ok((await page.$$('#live-legend li')).length >= 3);
    // Hovering the chart shows the values at that time, names as text.
    const over = page.locator('#live-chart .u-over');
    const box = (await over.boundingBox())!;
    await over.hover({ position: { x: box.width - 5, y: box.height / 3 } });
    await page.waitForSelector('#live-chart .tip:not([hidden]) .tip-row');
    const tipNames = await page.$$eval('#live-chart .tip .tip-name', (xs) => xs.map((x) => x.textContent ?? ''));
    assert.ok(tipNames.length > 0 && tipNames.every((n) => live.apps.some((a: { app: string }) => a.app === n) || n === 'other apps' || n.includes('\\u{')), tipNames.join(', '));
    await page.mouse.move(0, 0);

    // Kernel strings are text: the hostile process name appears literally and creates nothing.
    const xssRow = page.locator('#apps-table tbody tr', { hasText: XSS });
    assert.equal(await xssRow.count(), 1);
    assert.equal(await xssRow.locator('td.name').textContent(), XSS);
    assert.equal(await page.locator('img').count(), 0, 'no <img> element from a process name');
    assert.equal(await page.locator('#apps-table tbody i').count(), 0, 'no <i> element from a process name');
    assert.ok((await page.locator('#apps-table tbody td.name').allTextContents()).includes('evil\\u{202e}gnp.exe'), 'a bidi override is shown as an escape');

    // Sorting: by name (ascending, then descending), then by total received.
    await page.click('#apps-table th[data-sort="name"]');
    assert.equal(await page.getAttribute('#apps-table th[data-sort="name"]', 'aria-sort'), 'ascending');
    const asc = await rowApps(page);
    assert.ok(await page.evaluate((xs) => xs.every((x, i) => i === 0 || xs[i - 1].localeCompare(x) <= 0), asc), 'ascending by name');
    await page.click('#apps-table th[data-sort="name"]');
    assert.deepEqual(await rowApps(page), [...asc].reverse());
    await page.click('[data-metric="total"]');
    await page.click('#apps-table th[data-sort="rx"]');
    assert.equal(await page.getAttribute('#apps-table th[data-sort="rx"]', 'aria-sort'), 'descending');
    assert.ok((await cellTexts(page, 4)).every((c) => !c.endsWith('/s')), 'totals shown');
    const now = await api(page, '/api/live');
    const byTotal = now.apps.map((a: { app: string; rxBytes: number }) => a).sort((a: { rxBytes: number }, b: { rxBytes: number }) => b.rxBytes - a.rxBytes).slice(0, 5);
    const totalsOrder = await rowApps(page);
    assert.deepEqual(totalsOrder.slice(0, 5), byTotal.map((a: { app: string }) => a.app));
    await page.click('[data-metric="rate"]');
    if (SHOTS) {
      await page.evaluate(() => window.scrollTo(0, 0));
      await over.hover({ position: { x: box.width * 0.72, y: box.height / 3 } });
      await page.screenshot({ path: join(repo, 'docs', 'dashboard-live.png') });
      await page.mouse.move(0, 0);
    }

    // Processes view: one row per process group, PIDs shown.
    await page.click('[data-group="process"]');
    assert.equal(await page.locator('#apps-table tbody tr').count(), now.processes.length);
    await page.click('[data-group="app"]');

    // Drill-down: the hostile app's one connection (the scenario's ground truth: TCP to :443, ESTABLISHED).
    await page.locator('#apps-table tbody tr', { hasText: XSS }).click();
    await page.waitForSelector('#drill:not([hidden]) #flows-table tbody tr');
    assert.equal(await page.textContent('#drill-name'), XSS);
    const flow = await page.$$eval('#flows-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.children).map((td) => td.textContent)));
    assert.equal(flow.length, 1);
    assert.equal(flow[0][0], 'tcp');
    assert.match(flow[0][2] ?? '', /:443$/);
    assert.equal(flow[0][4], 'ESTABLISHED');
    await poll(h, page, 2);
    assert.ok((await painted(page, '#drill-chart')) > 0.01, 'the app has its own chart');
    if (SHOTS) await page.locator('#drill').screenshot({ path: join(repo, 'docs', 'dashboard-app.png') });
    await page.click('#drill-close');

    // History: range picker -> /api/usage with that range; the bars are its rows.
    await page.click('[data-view="history"]');
    for (const range of ['24h', '1h']) {
      const wait = page.waitForResponse((r) => r.url().includes(`/api/usage?since=${range}&`));
      await page.click(`[data-range="${range}"]`);
      await wait;
      await page.waitForFunction(() => document.querySelectorAll('#history-bars li').length > 0);
      const rows = (await api(page, `/api/usage?since=${range}&by=app&top=25`)).rows as { app: string }[];
      const bars = await page.$$eval('#history-bars li', (xs) => xs.map((x) => (x as HTMLElement).dataset.key));
      assert.deepEqual(bars, rows.map((r) => r.app), range);
      assert.ok((await painted(page, '#history-chart')) > 0.005, `history chart drawn (${range})`);
    }
    // 90 simulated minutes of history: the last hour holds less than the whole day.
    const oneHour = (await api(page, '/api/usage?since=1h&by=app')).rows.reduce((a: number, r: { rxBytes: number }) => a + r.rxBytes, 0);
    const day = (await api(page, '/api/usage?since=24h&by=app')).rows.reduce((a: number, r: { rxBytes: number }) => a + r.rxBytes, 0);
    assert.ok(oneHour < day);
    if (SHOTS) await shot(page, 'dashboard-history.png');
    // Custom range (browser in UTC): the first 30 simulated minutes.
    await page.click('[data-range="custom"]');
    await page.fill('#custom-since', '2026-11-27T09:00');
    await page.fill('#custom-until', '2026-11-27T09:30');
    const custom = page.waitForResponse((r) => r.url().includes(`/api/usage?since=${Date.UTC(2026, 10, 27, 9, 0)}&until=${Date.UTC(2026, 10, 27, 9, 30)}&`));
    await page.click('#custom-range button[type="submit"]');
    assert.equal((await custom).status(), 200);
    // Per-interface view.
    const ifWait = page.waitForResponse((r) => r.url().includes('by=interface'));
    await page.click('[data-hby="interface"]');
    await ifWait;
    await page.waitForFunction(() => document.getElementById('bars-title')?.textContent === 'Interfaces');

    // Health: kernel, dialect and verification, providers.
    await page.click('[data-view="health"]');
    await page.waitForSelector('#h-providers tbody tr');
    const kernel = await page.textContent('#h-kernel');
    assert.match(kernel ?? '', /xnu-\d+/);
    assert.match(kernel ?? '', /verified layout/);
    assert.ok((await page.locator('#h-providers tbody tr').count()) >= 3);

    assert.deepEqual(dialogs, [], 'no script ran from kernel strings');
    assert.deepEqual(errors, [], 'no page error');
    assert.deepEqual(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations), [], 'no CSP violation');
    t.diagnostic(`page transfer (HTML, JS, CSS, uPlot; gzip): ${transferred} bytes`);

    if (SHOTS) {
      const dark = await h.browser.newContext({ viewport: { width: 1360, height: 900 }, timezoneId: 'UTC', colorScheme: 'dark' });
      const p2 = await dark.newPage();
      await p2.goto(h.srv.dashboardUrl);
      await poll(h, p2, 3);
      await shot(p2, 'dashboard-dark.png');
      await dark.close();
    }
  } finally {
    await context.close();
    await h.browser.close();
    await h.srv.close();
    h.view.stop();
  }
});

test('chromium: 401 without the token, 403 for a rebound DNS name (Host check)', { skip, timeout: 120_000 }, async () => {
  const h = await harness();
  const context = await h.browser.newContext();
  const page = await context.newPage();
  try {
    const noToken = await page.goto(`${h.srv.url}/`);
    assert.equal(noToken?.status(), 401);
    assert.match(noToken!.headers()['content-security-policy'], /default-src 'self'/);
    assert.equal((await page.goto(`${h.srv.url}/api/live`))?.status(), 401);
    // evil.example -> 127.0.0.1 (host-resolver rule): same server, foreign Host, even with the token.
    const rebound = await page.goto(`http://evil.example:${h.srv.port}/?token=${h.srv.token}`);
    assert.equal(rebound?.status(), 403);
    assert.deepEqual(await context.cookies(), [], 'no cookie handed to the foreign name');
  } finally {
    await context.close();
    await h.browser.close();
    await h.srv.close();
    h.view.stop();
  }
});

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(join(repo, 'docs'), { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(repo, 'docs', name) });
}
