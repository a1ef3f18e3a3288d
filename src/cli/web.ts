/**
 * The agent's dashboard flags (`--listen [HOST:PORT]`, `--allow-remote`) and `ntstat web`: the
 * agent with --listen on a free loopback port, opening the browser unless --no-open. The server
 * itself is src/web/server.ts; this file only wires it to the command line.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentView } from '../agent/types.js';
import { NtstatError } from '../errors.js';
import { checkListenPolicy, parseListen } from '../web/listen.js';
import type { MetricsHandler, WebServer } from '../web/server.js';
import { escapeTerminal } from './escape.js';
import type { CliIo } from './io.js';
import type { CliOptions, ExtraOptions } from './options.js';
import type { LiveSourceFactory } from './run-live.js';

export const WEB_OPTIONS: ExtraOptions = {
  listen: { type: 'string' },
  'allow-remote': { type: 'boolean' },
  'no-open': { type: 'boolean' },
};

/**
 * `--listen` may come without a value (the default address): parseArgs needs one, so a bare
 * `--listen` (last, or followed by another option) becomes `--listen=`.
 */
export function bareListen(argv: string[]): string[] {
  return argv.map((a, i) => (a === '--listen' && (i === argv.length - 1 || argv[i + 1].startsWith('-')) ? '--listen=' : a));
}

/** `ntstat web`: a free loopback port unless --listen says otherwise. */
export function webDefaults(o: CliOptions): CliOptions {
  return { ...o, extra: { ...o.extra, listen: typeof o.extra.listen === 'string' ? o.extra.listen : '127.0.0.1:0' } };
}

/**
 * `ntstat web`: the agent with the dashboard. Under --simulate without --db/--no-db the history
 * goes to a throwaway database, so simulated traffic never enters the real usage database (nor
 * waits on a running agent's lock); it is removed at exit.
 */
export async function runWeb(o: CliOptions, io: CliIo, factory: LiveSourceFactory): Promise<number> {
  const { runAgent } = await import('./agent.js');
  let opts = webDefaults(o);
  let scratch: string | undefined;
  if (o.simulate && opts.extra.db === undefined && !opts.extra['no-db']) {
    scratch = mkdtempSync(join(tmpdir(), 'ntstat-web-'));
    opts = { ...opts, extra: { ...opts.extra, db: join(scratch, 'simulated-usage.db') } };
  }
  try {
    return await runAgent(opts, io, factory);
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/** Opens `url` in the user's browser ($BROWSER, else open/xdg-open); never fails the command. */
export function openBrowser(url: string, io: CliIo): void {
  const cmd = io.env.BROWSER || (io.platform === 'darwin' ? 'open' : io.platform === 'win32' ? 'explorer' : 'xdg-open');
  try {
    const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => io.stderr.write(`ntstat: could not start ${escapeTerminal(cmd)}; open the dashboard URL above in a browser\n`));
    child.unref();
  } catch {
    io.stderr.write('ntstat: could not open a browser; open the dashboard URL above in one\n');
  }
}

/** Bad --listen / missing --allow-remote are usage errors before the agent starts anything. */
export function checkDashboardFlags(o: CliOptions): void {
  if (typeof o.extra.listen === 'string') checkListenPolicy(parseListen(o.extra.listen), o.extra['allow-remote'] === true);
}

/** The exporter's Prometheus route for GET /metrics (prom-client is an optional dependency). */
async function metricsRoute(o: CliOptions, io: CliIo, agent: AgentView): Promise<MetricsHandler | undefined> {
  try {
    const [{ createMetricsRoute }, { exportSettings }] = await Promise.all([import('../export/prometheus.js'), import('./export-options.js')]);
    return createMetricsRoute(agent, exportSettings(o.extra).metrics);
  } catch (e) {
    if (e instanceof NtstatError) throw e;
    io.stderr.write(`ntstat: /metrics is off: the Prometheus exporter did not load (${escapeTerminal((e as Error).message)})\n`);
    return undefined;
  }
}

/** Starts the dashboard when --listen was given (or for `ntstat web`); prints its URL on stderr. */
export async function startDashboard(o: CliOptions, io: CliIo, agent: AgentView): Promise<WebServer | undefined> {
  if (typeof o.extra.listen !== 'string') {
    if (o.extra['allow-remote']) io.stderr.write('ntstat: --allow-remote has no effect without --listen\n');
    return undefined;
  }
  const listen = parseListen(o.extra.listen);
  const metrics = await metricsRoute(o, io, agent);
  const { startWebServer } = await import('../web/server.js');
  const server = await startWebServer(agent, { listen, allowRemote: o.extra['allow-remote'] === true, ...(metrics ? { metrics } : {}) });
  if (server.remote) io.stderr.write(`ntstat: warning: the dashboard listens on ${escapeTerminal(listen.host)}, reachable from the network (--allow-remote); anyone with the token sees every connection of this machine\n`);
  io.stderr.write(`dashboard: ${server.dashboardUrl}\n`);
  if (o.command === 'web' && !o.extra['no-open']) openBrowser(server.dashboardUrl, io);
  return server;
}
