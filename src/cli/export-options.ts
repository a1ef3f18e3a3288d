/**
 * The agent's export flags (issue 15): --metrics-pid, --node-exporter-names, --max-processes N,
 * --metrics-ttl SECONDS, --otlp URL, --otlp-interval SECONDS. Parsed here, used by the agent
 * command (OTLP) and the web server's `/metrics` route.
 */
import { NtstatError } from '../errors.js';
import type { MetricsOptions } from '../export/prometheus.js';

/** node:util parseArgs option specs, merged into the agent's own. */
export const EXPORT_OPTIONS = {
  'metrics-pid': { type: 'boolean' },
  'node-exporter-names': { type: 'boolean' },
  'max-processes': { type: 'string' },
  'metrics-ttl': { type: 'string' },
  otlp: { type: 'string' },
  'otlp-interval': { type: 'string' },
} as const;

export interface ExportSettings {
  metrics: MetricsOptions;
  otlp?: { url: string; intervalSeconds: number };
}

function number(extra: Record<string, unknown>, flag: string, ok: (n: number) => boolean, what: string): number | undefined {
  const v = extra[flag];
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!ok(n)) throw new NtstatError('ERR_NTSTAT_USAGE', `--${flag} expects ${what}, got ${JSON.stringify(v)}`);
  return n;
}

export function exportSettings(extra: Record<string, string | boolean | undefined>): ExportSettings {
  const metrics: MetricsOptions = {};
  if (extra['metrics-pid'] === true) metrics.metricsPid = true;
  if (extra['node-exporter-names'] === true) metrics.nodeExporterNames = true;
  const max = number(extra, 'max-processes', (n) => Number.isInteger(n) && n >= 0 && n <= 100_000, 'a whole number from 0 to 100000');
  if (max !== undefined) metrics.maxProcesses = max;
  const ttl = number(extra, 'metrics-ttl', (n) => Number.isFinite(n) && n > 0, 'seconds > 0');
  if (ttl !== undefined) metrics.metricsTtlSeconds = ttl;
  const out: ExportSettings = { metrics };
  const interval = number(extra, 'otlp-interval', (n) => Number.isFinite(n) && n > 0, 'seconds > 0');
  if (typeof extra.otlp === 'string') {
    let url: URL | undefined;
    try {
      url = new URL(extra.otlp);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new NtstatError('ERR_NTSTAT_USAGE', `--otlp expects an http(s) URL such as http://collector:4318/v1/metrics, got ${JSON.stringify(extra.otlp)}`);
    out.otlp = { url: url.href, intervalSeconds: interval ?? 15 };
  } else if (interval !== undefined) {
    throw new NtstatError('ERR_NTSTAT_USAGE', '--otlp-interval needs --otlp URL');
  }
  return out;
}
