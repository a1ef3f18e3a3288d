/**
 * The dashboard's extra CPU in the agent process (issue 16's closing figure): an agent at about
 * 2,000 live flows polled once a second, measured without a browser, then with one headless
 * chromium showing the Live view (event stream open, chart and table redrawn every poll), then
 * without again. CPU time of this process only (chromium is another process), so other load on a
 * shared machine inflates it less than wall time would. Run: npm run build && npm run build:test && node build/bench/web-cpu.js
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWebServer } from '../src/web/server.js';
import { SimAgentView } from '../test/helpers/sim-agent-view.js';

const SECONDS = Number(process.env.WEB_CPU_SECONDS ?? 60);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function phase(label: string): Promise<{ label: string; cpuPercent: number }> {
  const c0 = cpu();
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const cpuPercent = (100 * (cpu() - c0)) / ((performance.now() - t0) / 1000);
  console.log(`${label.padEnd(28)} ${cpuPercent.toFixed(1)} % of one core`);
  return { label, cpuPercent };
}

async function main(): Promise<void> {
  const view = new SimAgentView({ scenario: 'idle-laptop', scale: Number(process.env.WEB_CPU_SCALE ?? 13), dialect: '15.0' });
  await view.start();
  for (let i = 0; i < 20; i++) await view.step(1000);
  const live = () => view.streams().filter((s) => !s.closed).length;
  console.log(`live flows: ${live()}`);
  const srv = await startWebServer(view, { listen: { host: '127.0.0.1', port: 0 }, now: () => view.now() });
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void view.step(1000).finally(() => (busy = false));
  }, 1000);
  const results = [];
  results.push(await phase('agent, no browser'));
  // chromium as its own process (not driven from here: a CDP client in this process would be
  // counted as the agent's CPU), showing the Live view with its event stream open.
  const profile = mkdtempSync(join(tmpdir(), 'ntstat-web-cpu-'));
  const browser = spawn(CHROMIUM, ['--headless=new', '--disable-gpu', `--user-data-dir=${profile}`, '--window-size=1360,900', ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), srv.dashboardUrl], { stdio: 'ignore' });
  await sleep(8000);
  const conns = execFileSync('ss', ['-Htn', 'state', 'established', `( sport = :${srv.port} )`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
  console.log(`connections from the browser: ${conns}`);
  results.push(await phase('one browser, Live view'));
  browser.kill();
  await sleep(3000);
  rmSync(profile, { recursive: true, force: true });
  results.push(await phase('agent, browser closed'));
  console.log(`live flows at the end: ${live()}`);
  console.log(JSON.stringify({ seconds: SECONDS, flows: live(), results }));
  clearInterval(timer);
  await srv.close();
  view.stop();
}

void main();
