/**
 * The dashboard's HTTP server (node:http, no framework), served by the agent on its --listen
 * address. Every request passes, in order: method (GET/HEAD), the Host check (DNS rebinding),
 * the route table, then the route's access rule (the token for the page and /api/*; /metrics
 * tokenless only for loopback peers), with the security headers on every answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NtstatError } from '../errors.js';
import type { AgentView } from '../agent/types.js';
import { API, runApi, type ApiContext } from './api.js';
import { authenticate, newToken, securityHeaders, sendJson, sendText, tokenCookie } from './guard.js';
import { LiveHistory, appRates, liveSnapshot } from './live.js';
import { allowedHosts, checkListenPolicy, hostAllowed, isLoopbackHost, urlHost, type ListenAddress } from './listen.js';
import { EventHub } from './sse.js';
import { loadAssets, type Asset } from './static.js';

export type MetricsHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface WebServerOptions {
  listen: ListenAddress;
  /** Required for a non-loopback address. */
  allowRemote?: boolean;
  /** GET /metrics (export's Prometheus route); 404 when absent. */
  metrics?: MetricsHandler;
  /** Clock for API defaults (ms); default Date.now. */
  now?: () => number;
  /** Directory of the page's files (default: next to this module). */
  staticDir?: string;
}

export interface WebServer {
  /** http://HOST:PORT (no token). */
  readonly url: string;
  /** The URL to open: with ?token=… */
  readonly dashboardUrl: string;
  readonly token: string;
  readonly port: number;
  readonly remote: boolean;
  close(): Promise<void>;
}

type Access = 'token' | 'metrics';
interface Route {
  access: Access;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): void | Promise<void>;
}

function serveAsset(req: IncomingMessage, res: ServerResponse, a: Asset): void {
  res.setHeader('Content-Type', a.type);
  res.setHeader('ETag', a.etag);
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Vary', 'Accept-Encoding');
  if (req.headers['if-none-match'] === a.etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? a.gzip : a.body;
  if (gzip) res.setHeader('Content-Encoding', 'gzip');
  res.setHeader('Content-Length', body.length);
  res.statusCode = 200;
  res.end(req.method === 'HEAD' ? undefined : body);
}

export async function startWebServer(view: AgentView, opts: WebServerOptions): Promise<WebServer> {
  const { remote } = checkListenPolicy(opts.listen, opts.allowRemote ?? false);
  const assets = loadAssets(opts.staticDir);
  const token = newToken();
  const now = opts.now ?? Date.now;
  const history = new LiveHistory();
  const hub = new EventHub();
  let port = opts.listen.port;
  let hosts = new Set<string>();
  const ctx: ApiContext = { view, history, now, listen: { url: '', remote } };

  const routes = new Map<string, Route>();
  for (const [path, a] of assets) routes.set(path, { access: 'token', handle: (req, res) => serveAsset(req, res, a) });
  for (const [path, h] of Object.entries(API)) {
    routes.set(path, {
      access: 'token',
      handle: (_req, res, url) => {
        const r = runApi(h, ctx, url.searchParams);
        sendJson(res, r.status, r.body);
      },
    });
  }
  routes.set('/api/events', { access: 'token', handle: (_req, res) => void hub.add(res, { event: 'poll', data: liveSnapshot(view, now()) }) });
  routes.set('/metrics', {
    access: 'metrics',
    handle: (req, res) => (opts.metrics ? opts.metrics(req, res) : sendText(res, 404, 'metrics export is not available in this build')),
  });

  const onPoll = (time: number) => {
    // With no page connected only the history needs this poll: its per-app rates, not the
    // status (two stat calls on the database each poll) or the snapshot sent to pages.
    if (hub.size === 0) return history.record(time, appRates(view.processes()));
    const snap = liveSnapshot(view, time);
    history.record(time, snap.apps);
    hub.broadcast('poll', snap);
  };
  const onFlush = (time: number) => hub.broadcast('flush', { time });
  view.on('poll', onPoll);
  view.on('flush', onFlush);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    securityHeaders(res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendText(res, 405, 'method not allowed');
    }
    if (!hostAllowed(req.headers.host, hosts)) return sendText(res, 403, 'forbidden: the Host header does not name this server');
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const route = routes.get(url.pathname === '/index.html' ? '/' : url.pathname);
    if (!route) return sendText(res, 404, 'not found');
    const peerLoopback = isLoopbackHost(req.socket.remoteAddress ?? '');
    const auth = authenticate(req, url, token, port);
    if (route.access === 'metrics' ? !peerLoopback && auth === 'none' : auth === 'none') {
      res.setHeader('WWW-Authenticate', 'Bearer realm="ntstat"');
      return sendText(res, 401, 'unauthorized: open the dashboard with the URL the agent printed (…/?token=…)');
    }
    if (auth === 'query') {
      res.setHeader('Set-Cookie', tokenCookie(token, port));
      if (url.pathname === '/') {
        // Keep the token out of the address bar and the history once the cookie holds it.
        res.statusCode = 303;
        res.setHeader('Location', '/');
        res.end();
        return;
      }
    }
    await route.handle(req, res, url);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendText(res, 500, `internal error: ${e instanceof Error ? e.message : String(e)}`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      view.removeListener('poll', onPoll);
      view.removeListener('flush', onFlush);
      reject(new NtstatError('ERR_NTSTAT_USAGE', `--listen ${opts.listen.host}:${opts.listen.port}: ${e.code === 'EADDRINUSE' ? 'address in use' : e.message}`, { cause: e }));
    };
    server.once('error', onError);
    server.listen(opts.listen.port, opts.listen.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(opts.listen, port);
  const url = `http://${urlHost(opts.listen, port)}`;
  ctx.listen.url = url;
  return {
    url,
    dashboardUrl: `${url}/?token=${token}`,
    token,
    port,
    remote,
    async close() {
      view.removeListener('poll', onPoll);
      view.removeListener('flush', onFlush);
      hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
