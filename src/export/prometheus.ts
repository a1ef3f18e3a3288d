/**
 * Prometheus `/metrics` for the agent: the text exposition format written by prom-client's
 * Registry (escaping, default labels, content type), fed from ExportState.
 *
 * The families are prom-client metric objects of our own (the registry only calls `get()`), not
 * prom-client Counters: a Counter keys its series by a string built from the label values, and
 * two crafted process names (kernel text, untrusted) could collide into one series there. Here
 * every series is a separate value straight from MonotonicFold.
 *
 * prom-client is an optional dependency, imported on the first scrape only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { NtstatError } from '../errors.js';
import { ExportState, type ExportOptions, type ExportSnapshot, type ExportSource } from './state.js';

export interface MetricsOptions extends ExportOptions {
  /** Also emit node_exporter's node_network_* names (`--node-exporter-names`). */
  nodeExporterNames?: boolean;
}

type Family = { name: string; help: string | ((s: ExportSnapshot) => string); type: 'counter' | 'gauge'; values: (s: ExportSnapshot) => { labels: Record<string, string | number>; value: number }[] };

const DIRS = [
  ['receive', 'bytes', 0, 'Bytes received'],
  ['transmit', 'bytes', 1, 'Bytes sent'],
  ['receive', 'packets', 2, 'Packets received'],
  ['transmit', 'packets', 3, 'Packets sent'],
] as const;

function interfaceHelp(what: string, s: ExportSnapshot): string {
  const { ifnet, flows } = s.interfaceSources;
  if (flows.length === 0) return `${what} per interface, from the kernel's ifnet provider.`;
  const none = ' Flows without an interface (ifindex 0) are in no device.';
  if (ifnet.length === 0) return `${what} per interface, summed from the flows ntstat saw (the ifnet provider is not available).${none}`;
  return `${what} per interface, from the kernel's ifnet provider for ${ifnet.join(' ')}; summed from flows for ${flows.join(' ')}.${none}`;
}

/** Every metric family, in exposition order. */
export function metricFamilies(opts: MetricsOptions = {}): Family[] {
  const out: Family[] = [];
  for (const [dir, unit, i, what] of DIRS) {
    out.push({
      name: `ntstat_process_network_${dir}_${unit}_total`,
      help: `${what} per process (closed flows included; the smaller processes summed under process="other").`,
      type: 'counter',
      values: (s) => s.processes.map((p) => ({ labels: { ...p.labels }, value: p.values[i] })),
    });
  }
  for (const [dir, unit, i, what] of DIRS) {
    out.push({
      name: `ntstat_network_${dir}_${unit}_total`,
      help: (s) => interfaceHelp(what, s),
      type: 'counter',
      values: (s) => s.interfaces.map((f) => ({ labels: { device: f.device, kind: f.kind }, value: f.values[i] })),
    });
  }
  if (opts.nodeExporterNames) {
    for (const [dir, unit, i, what] of DIRS) {
      out.push({
        name: `node_network_${dir}_${unit}_total`,
        help: (s) => `${interfaceHelp(what, s)} Same as ntstat_network_${dir}_${unit}_total, named like node_exporter's.`,
        type: 'counter',
        values: (s) => s.interfaces.map((f) => ({ labels: { device: f.device }, value: f.values[i] })),
      });
    }
  }
  out.push({
    name: 'ntstat_connections',
    help: 'Live streams by provider and state (TCP state, LISTEN for listeners, none for stateless providers).',
    type: 'gauge',
    values: (s) => s.connections.map((c) => ({ labels: { provider: c.provider, state: c.state }, value: c.count })),
  });
  out.push({
    name: 'ntstat_kernel_drops_total',
    help: 'Messages the kernel or the transport lost, by reason (see ntstat doctor).',
    type: 'counter',
    values: (s) => s.drops.map((d) => ({ labels: { reason: d.reason }, value: d.count })),
  });
  out.push({
    name: 'ntstat_build_info',
    help: 'ntstat version, the kernel version and protocol dialect in use, and whether that dialect is verified for this kernel.',
    type: 'gauge',
    values: (s) => [{ labels: { ...s.build }, value: 1 }],
  });
  return out;
}

/** prom-client, loaded on first use (an optional dependency). */
export async function loadPromClient(): Promise<typeof import('prom-client')> {
  try {
    const m = (await import('prom-client')) as typeof import('prom-client') & { default?: typeof import('prom-client') };
    return m.Registry ? m : m.default!;
  } catch (e) {
    throw new NtstatError('ERR_NTSTAT_DEPENDENCY', 'Prometheus export needs the optional package prom-client (npm install prom-client@15.1.3)', { cause: e });
  }
}

/** A registry holding the agent's families; `collect()` takes a fresh snapshot first. */
export class AgentMetrics {
  readonly state: ExportState;
  /** @internal */
  private snap?: ExportSnapshot;
  /** @internal */
  private registry?: Registry;

  constructor(
    source: ExportSource,
    /** @internal */ private readonly opts: MetricsOptions = {},
  ) {
    this.state = new ExportState(source, opts);
  }

  /** The registry (created on first call); register your own metrics in it if you like. */
  async getRegistry(): Promise<Registry> {
    if (this.registry) return this.registry;
    const prom = await loadPromClient();
    const reg = new prom.Registry();
    for (const f of metricFamilies(this.opts)) {
      const metric = {
        name: f.name,
        help: typeof f.help === 'string' ? f.help : f.name,
        type: f.type,
        aggregator: 'sum' as const,
        get: async () => {
          const s = this.snap!;
          return { name: f.name, help: typeof f.help === 'string' ? f.help : f.help(s), type: f.type, aggregator: 'sum' as const, values: f.values(s) };
        },
        reset: () => {},
      };
      reg.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
    }
    this.registry = reg;
    return reg;
  }

  /** The exposition text (Prometheus text format 0.0.4) and its content type. */
  async collect(): Promise<{ contentType: string; body: string }> {
    const reg = await this.getRegistry();
    this.snap = this.state.snapshot();
    // prom-client renders the text (a hand-written writer saved ~0.2 ms a scrape, 0.02 % of a
    // core at one scrape a second: not worth owning the exposition format).
    return { contentType: reg.contentType, body: await reg.metrics() };
  }
}

/** The `GET /metrics` handler the web server mounts (CONTRACT-agent.md). */
export function createMetricsRoute(agent: ExportSource, opts: MetricsOptions = {}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const metrics = new AgentMetrics(agent, opts);
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return;
    }
    let out: { contentType: string; body: string };
    try {
      out = await metrics.collect();
    } catch (e) {
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`metrics unavailable: ${e instanceof NtstatError ? e.message : 'internal error'}\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': out.contentType, 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : out.body);
  };
}
