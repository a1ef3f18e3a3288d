/**
 * OpenTelemetry push: the agent's counters through the OTel JS metrics SDK and its OTLP/HTTP
 * exporter (http/protobuf, the OTLP default), every `intervalSeconds`.
 *
 * Packages (optional dependencies, imported only here and only when started): the 2.x SDK line
 * (@opentelemetry/sdk-metrics 2.12.0, resources 2.12.0, exporter-metrics-otlp-proto 0.223.0,
 * engines `^18.19.0 || >=20.6.0`); the 3.x line (exporters 0.300+) needs Node >= 22.15.
 *
 * Metrics (OTel semantic conventions): `process.network.io` {network.io.direction,
 * process.executable.name[, process.pid]} and `system.network.io` {network.interface.name,
 * network.io.direction}, unit By, cumulative monotonic sums from the same MonotonicFold as
 * /metrics (the bucket of smaller processes carries `ntstat.other_processes=true`). Resource:
 * service.name=ntstat, service.version, host.name.
 */
import { hostname } from 'node:os';
import { NtstatError } from '../errors.js';
import { packageVersion } from '../version.js';
import { ExportState, type ExportOptions, type ExportSource } from './state.js';

export interface OtlpOptions extends ExportOptions {
  /** OTLP/HTTP metrics endpoint, e.g. http://collector:4318/v1/metrics. */
  url: string;
  /** Push interval in seconds (default 15). */
  intervalSeconds?: number;
  /** host.name resource attribute (default os.hostname()). */
  hostName?: string;
  /** Extra HTTP headers for the exporter (e.g. an auth token). */
  headers?: Record<string, string>;
}

export interface OtlpExport {
  /** Export now (also what stop() does last). */
  flush(): Promise<void>;
  /** Final export, then shut the SDK down. */
  stop(): Promise<void>;
}

async function load<T>(name: string, get: () => Promise<T>): Promise<T> {
  try {
    return await get();
  } catch (e) {
    throw new NtstatError('ERR_NTSTAT_DEPENDENCY', `--otlp needs the optional package ${name} (npm install ${name})`, { cause: e });
  }
}

export async function startOtlpExport(agent: ExportSource, opts: OtlpOptions): Promise<OtlpExport> {
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new NtstatError('ERR_NTSTAT_USAGE', `--otlp: not a URL: ${JSON.stringify(opts.url)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new NtstatError('ERR_NTSTAT_USAGE', `--otlp: expected an http(s) URL, got ${url.protocol}`);
  const interval = opts.intervalSeconds ?? 15;
  if (!(interval > 0) || !Number.isFinite(interval)) throw new NtstatError('ERR_NTSTAT_USAGE', '--otlp-interval must be a positive number of seconds');

  const api = await load('@opentelemetry/api', () => import('@opentelemetry/api'));
  const sdk = await load('@opentelemetry/sdk-metrics', () => import('@opentelemetry/sdk-metrics'));
  const res = await load('@opentelemetry/resources', () => import('@opentelemetry/resources'));
  const exp = await load('@opentelemetry/exporter-metrics-otlp-proto', () => import('@opentelemetry/exporter-metrics-otlp-proto'));

  const exporter = new exp.OTLPMetricExporter({ url: url.href, ...(opts.headers ? { headers: opts.headers } : {}) });
  const reader = new sdk.PeriodicExportingMetricReader({ exporter, exportIntervalMillis: Math.round(interval * 1000), exportTimeoutMillis: Math.min(30_000, Math.round(interval * 1000)) });
  const provider = new sdk.MeterProvider({
    resource: res.resourceFromAttributes({ 'service.name': 'ntstat', 'service.version': packageVersion(), 'host.name': opts.hostName ?? hostname() }),
    readers: [reader],
  });
  const meter = provider.getMeter('ntstat', packageVersion());
  const processIo = meter.createObservableCounter('process.network.io', { unit: 'By', description: 'Bytes per process (closed connections included).', valueType: api.ValueType.INT });
  const systemIo = meter.createObservableCounter('system.network.io', { unit: 'By', description: 'Bytes per network interface.', valueType: api.ValueType.INT });
  const state = new ExportState(agent, opts);
  const withPid = opts.metricsPid === true;
  meter.addBatchObservableCallback(
    (obs) => {
      const s = state.snapshot();
      for (const p of s.processes) {
        const attrs: Record<string, string | number | boolean> = p.other ? { 'process.executable.name': p.labels.process, 'ntstat.other_processes': true } : { 'process.executable.name': p.labels.process };
        if (withPid && !p.other && p.labels.process_id) attrs['process.pid'] = Number(p.labels.process_id);
        obs.observe(processIo, p.values[0], { ...attrs, 'network.io.direction': 'receive' });
        obs.observe(processIo, p.values[1], { ...attrs, 'network.io.direction': 'transmit' });
      }
      for (const i of s.interfaces) {
        obs.observe(systemIo, i.values[0], { 'network.interface.name': i.device, 'network.io.direction': 'receive' });
        obs.observe(systemIo, i.values[1], { 'network.interface.name': i.device, 'network.io.direction': 'transmit' });
      }
    },
    [processIo, systemIo],
  );
  let stopped = false;
  return {
    flush: () => provider.forceFlush(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await provider.shutdown();
    },
  };
}
