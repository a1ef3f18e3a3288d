/**
 * The JSON API behind the page (documented in docs/web-api.md). Handlers are pure functions of
 * the agent's view and the query string; bad parameters are a 400 with an NtstatError code.
 */
import { NtstatError } from '../errors.js';
import type { AgentView, UsageQuery } from '../agent/types.js';
import { appFlows, liveSnapshot, type LiveHistory } from './live.js';
import { streamToJson } from '../model/json.js';

export interface ApiContext {
  view: AgentView;
  history: LiveHistory;
  now: () => number;
  listen: { url: string; remote: boolean };
}

export interface ApiResult {
  status: number;
  body: unknown;
}

const USAGE_BY = ['app', 'process', 'pid', 'interface', 'day', 'hour'] as const;
const SERIES_BY = ['app', 'process', 'interface'] as const;
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

function bad(message: string): NtstatError {
  return new NtstatError('ERR_NTSTAT_USAGE', message);
}

/** ms epoch, an ISO date, or a duration before now ("90m", "24h", "7d"). */
export function parseTime(name: string, v: string | null, now: number, fallback: number): number {
  if (v === null || v === '') return fallback;
  if (/^\d{1,16}$/.test(v)) return Number(v);
  const rel = /^(\d{1,9})([smhdw])$/.exec(v);
  if (rel) return now - Number(rel[1]) * UNITS[rel[2]];
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw bad(`${name}: expected ms since the epoch, an ISO date or a duration like 24h, got ${JSON.stringify(v.slice(0, 40))}`);
  return t;
}

function oneOf<T extends string>(name: string, v: string | null, allowed: readonly T[], fallback: T): T {
  if (v === null || v === '') return fallback;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw bad(`${name}: expected one of ${allowed.join(', ')}`);
}

function intParam(name: string, v: string | null, fallback: number, max: number): number {
  if (v === null || v === '') return fallback;
  if (!/^\d{1,6}$/.test(v) || Number(v) < 1 || Number(v) > max) throw bad(`${name}: expected an integer 1..${max}`);
  return Number(v);
}

function range(q: URLSearchParams, now: number): { since: number; until: number } {
  const until = parseTime('until', q.get('until'), now, now);
  const since = parseTime('since', q.get('since'), now, until - UNITS.d);
  if (since >= until) throw bad('since must be before until');
  return { since, until };
}

function store(ctx: ApiContext): UsageQuery {
  const s = ctx.view.store();
  if (!s) throw new NtstatError('ERR_NTSTAT_UNSUPPORTED', 'no history: the agent runs without a database (--no-db)');
  return s;
}

export type ApiHandler = (ctx: ApiContext, q: URLSearchParams) => ApiResult;

export const API: Record<string, ApiHandler> = {
  '/api/status': (ctx) => ({ status: 200, body: { ...ctx.view.status(), listen: ctx.listen, now: ctx.now() } }),

  '/api/live': (ctx, q) => {
    const body: Record<string, unknown> = { ...liveSnapshot(ctx.view, ctx.now()), interfaces: ctx.view.interfaces() };
    if (q.get('streams') === '1') {
      const limit = intParam('limit', q.get('limit'), 5000, 100_000);
      const all = ctx.view.streams().filter((s) => !s.closed);
      body.streamList = all.slice(0, limit).map((s) => streamToJson('live', s.lastUpdated, s));
      body.truncated = all.length > limit;
    }
    return { status: 200, body };
  },

  '/api/flows': (ctx, q) => {
    const app = q.get('app');
    if (app === null) throw bad('app: required');
    return { status: 200, body: appFlows(ctx.view, app, intParam('limit', q.get('limit'), 500, 10_000)) };
  },

  '/api/usage': (ctx, q) => {
    const { since, until } = range(q, ctx.now());
    const by = oneOf('by', q.get('by'), USAGE_BY, 'app');
    const query: Parameters<UsageQuery['query']>[0] = { since, until, by };
    if (q.get('top') !== null) query.top = intParam('top', q.get('top'), 10, 10_000);
    return { status: 200, body: { since, until, by, rows: store(ctx).query(query) } };
  },

  '/api/series': (ctx, q) => {
    const top = intParam('top', q.get('top'), 10, 100);
    if (q.get('window') === 'live') {
      const app = q.get('app');
      return { status: 200, body: { window: 'live', ...ctx.history.series(top, app ?? undefined) } };
    }
    const { since, until } = range(q, ctx.now());
    const by = oneOf('by', q.get('by'), SERIES_BY, 'app');
    return { status: 200, body: { since, until, by, ...store(ctx).series({ since, until, by, top }) } };
  },
};

/** Runs a handler; NtstatErrors become 400 (bad input) or 404 (no database), with the code. */
export function runApi(h: ApiHandler, ctx: ApiContext, q: URLSearchParams): ApiResult {
  try {
    return h(ctx, q);
  } catch (e) {
    if (e instanceof NtstatError) return { status: e.code === 'ERR_NTSTAT_UNSUPPORTED' ? 404 : 400, body: { error: e.message, code: e.code } };
    throw e;
  }
}
