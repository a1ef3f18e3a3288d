/**
 * The in-app collector: `process_network_receive_bytes_total` / `..._transmit_bytes_total` for
 * the running Node process (client_golang's names, no labels), in any prom-client registry.
 *
 * Right where a naive collector is wrong:
 *  - the kernel filters by pid with the SPECIFIC_USER_BY_PID bit of the RUNNING kernel's header
 *    (0x01000000 up to macOS 12.0, 0x100000000 from xnu-8019.61.5 / 12.1; pid-filter.ts), and
 *    streams of other pids are dropped here too (headers before 10.12 cannot filter);
 *  - totals are monotonic: bytes of closed connections keep counting (ProcessTotals adds deltas,
 *    including each source's final counts from its goodbye, BEHAVIOUR.md §3.2).
 *
 * The metrics are plain metric objects in the registry (prom-client calls `get()`), so the
 * registry's default labels apply and any prom-client 15 registry works.
 */
import promClient, { type Registry } from 'prom-client';
import { NetworkStatisticsClient, type ClientProvider } from '../client/client.js';
import type { Dialect } from '../protocol/dialect.js';
import { ProcessTotals } from '../model/process-totals.js';
import type { Stream } from '../model/stream.js';
import type { Transport } from '../transport/transport.js';

export interface ProcessNetworkMetricsOptions {
  /** Registry to add the two counters to (default: prom-client's global `register`). */
  register?: Registry;
  /** Metric name prefix, as prom-client's `collectDefaultMetrics({ prefix })`. */
  prefix?: string;
  /** Labels added to both series, as `collectDefaultMetrics({ labels })`. */
  labels?: Record<string, string>;
  /** The process to account (default: this one, `process.pid`). */
  pid?: number;
  /** Background poll interval in ms (default 0: the kernel is polled at each scrape). */
  interval?: number;
  /** Kernel transport and its dialect (simulator, tests); default the macOS kernel. */
  transport?: Transport;
  dialect?: Dialect | string;
  /** Called once with the error when the kernel cannot be read (then the series are absent). */
  onError?: (e: unknown) => void;
}

export interface ProcessNetworkMetrics {
  /** Resolves when the kernel subscription is up (rejects never: errors go to onError). */
  readonly ready: Promise<void>;
  /** Close the kernel connection and remove the two metrics from the registry. */
  stop(): void;
}

const PROVIDERS: ClientProvider[] = ['tcp', 'udp', 'quic'];

/** Adds the two counters to `register` and starts reading this process's flows from the kernel. */
export function registerProcessNetworkMetrics(opts: ProcessNetworkMetricsOptions = {}): ProcessNetworkMetrics {
  const register = opts.register ?? promClient.register;
  const pid = opts.pid ?? process.pid;
  const prefix = opts.prefix ?? '';
  const labels = { ...(opts.labels ?? {}) };
  const totals = new ProcessTotals('pid');
  const client = new NetworkStatisticsClient({
    providers: PROVIDERS,
    interval: opts.interval ?? 0,
    pid,
    ...(opts.transport ? { transport: opts.transport } : {}),
    ...(opts.dialect ? { dialect: opts.dialect } : {}),
  });
  const account = (ev: 'added' | 'update' | 'removed') => (s: Stream) => {
    if (s.pid === pid) totals.apply(ev, s);
  };
  for (const ev of ['added', 'update', 'removed'] as const) client.on(ev, account(ev));
  let failed: unknown;
  const fail = (e: unknown) => {
    if (failed !== undefined) return;
    failed = e;
    opts.onError?.(e);
  };
  client.on('error', fail);
  const ready = client.connect().then(
    () => client.sweep().then(() => undefined),
    (e: unknown) => fail(e),
  );

  const sum = (k: 'rxBytes' | 'txBytes') => totals.totals().reduce((a, t) => a + t[k], 0);
  const metric = (name: string, help: string, k: 'rxBytes' | 'txBytes') => ({
    name: prefix + name,
    help,
    type: 'counter' as const,
    aggregator: 'sum' as const,
    get: async () => {
      await ready;
      if (failed === undefined && client.state === 'running') {
        try {
          await client.sweep();
        } catch (e) {
          fail(e);
        }
      }
      const values = failed === undefined ? [{ labels, value: sum(k) }] : [];
      return { name: prefix + name, help, type: 'counter' as const, aggregator: 'sum' as const, values };
    },
    reset: () => {},
  });
  const rx = metric('process_network_receive_bytes_total', 'Number of bytes received by the process over the network (closed connections included).', 'rxBytes');
  const tx = metric('process_network_transmit_bytes_total', 'Number of bytes sent by the process over the network (closed connections included).', 'txBytes');
  type M = Parameters<Registry['registerMetric']>[0];
  register.registerMetric(rx as unknown as M);
  register.registerMetric(tx as unknown as M);
  return {
    ready,
    stop() {
      register.removeSingleMetric(rx.name);
      register.removeSingleMetric(tx.name);
      client.stop();
    },
  };
}
