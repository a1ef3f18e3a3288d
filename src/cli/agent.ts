/**
 * `ntstat agent`: the always-on recorder in the foreground. Sources as every live command (live
 * on macOS, --simulate, --socket PATH --xnu V); every flow provider by default (usage must count
 * all traffic), --tcp/--udp/--quic narrow it. SIGINT/SIGTERM: last sweep, final flush, exit 0.
 */
import { NtstatError } from '../errors.js';
import type { ClientProvider } from '../client/client.js';
import { UsageAgent } from '../agent/usage-agent.js';
import type { UsageSink } from '../store/records.js';
import type { UsageQuery } from '../agent/types.js';
import type { CliIo } from './io.js';
import type { CliOptions, ExtraOptions } from './options.js';
import { clientProviders, openLiveClient, type LiveSourceFactory } from './run-live.js';
import { escapeTerminal } from './escape.js';
import { WEB_OPTIONS, checkDashboardFlags, startDashboard } from './web.js';
import type { WebServer } from '../web/server.js';
import { EXPORT_OPTIONS, exportSettings } from './export-options.js';
import { startOtlpExport, type OtlpExport } from '../export/otlp.js';

/** The agent's own flags (issues 15 and 16 add theirs here). */
export const AGENT_OPTIONS: ExtraOptions = {
  db: { type: 'string' },
  'no-db': { type: 'boolean' },
  flush: { type: 'string' },
  'dry-run': { type: 'boolean' },
  ...WEB_OPTIONS,
  ...EXPORT_OPTIONS,
};

/** Flow providers (TCP, UDP, QUIC; kernel and userland) unless --tcp/--udp/--quic narrow them. */
export function agentProviders(o: CliOptions): ClientProvider[] {
  const p = o.providers;
  if (!p.has('tcp') && !p.has('udp') && !p.has('quic')) return ['tcp', 'udp', 'quic'];
  return clientProviders(o).filter((x) => x === 'tcp' || x === 'udp' || x === 'quic');
}

export interface AgentSettings {
  flushSeconds: number;
  db?: string;
}

export function agentSettings(o: CliOptions): AgentSettings {
  const flush = o.extra.flush;
  let flushSeconds = 10;
  if (flush !== undefined) {
    flushSeconds = Number(flush);
    if (typeof flush !== 'string' || !Number.isFinite(flushSeconds) || flushSeconds <= 0) throw new NtstatError('ERR_NTSTAT_USAGE', `--flush expects seconds > 0, got ${JSON.stringify(flush)}`);
  }
  if (o.extra.db !== undefined && o.extra['no-db']) throw new NtstatError('ERR_NTSTAT_USAGE', 'give --db PATH or --no-db, not both');
  const s: AgentSettings = { flushSeconds };
  if (typeof o.extra.db === 'string') s.db = o.extra.db;
  return s;
}

/** Opens the usage store for the agent; replaced by the SQLite store (src/store). */
export type OpenSink = (o: CliOptions, io: CliIo, settings: AgentSettings) => Promise<(UsageSink & Partial<UsageQuery> & { close(): void }) | undefined>;

const noStore: OpenSink = async (o, io) => {
  if (!o.extra['no-db']) io.stderr.write('ntstat: agent: usage history is not stored in this build (live totals only)\n');
  return undefined;
};

export async function runAgent(o: CliOptions, io: CliIo, factory: LiveSourceFactory, openSink: OpenSink = noStore): Promise<number> {
  const sub = o.positionals[0];
  if (sub !== undefined) throw new NtstatError('ERR_NTSTAT_USAGE', `unknown agent subcommand ${JSON.stringify(sub)}`);
  const settings = agentSettings(o);
  checkDashboardFlags(o);
  const exporting = exportSettings(o.extra);
  // The agent handles SIGINT/SIGTERM itself (last sweep and flush first), so the client gets no signal.
  const clientIo: CliIo = { ...io };
  delete clientIo.signal;
  const { client, source } = await openLiveClient({ ...o, providers: new Set(agentProviders(o) as ('tcp' | 'udp' | 'quic')[]) }, clientIo, factory);
  const sink = await openSink(o, io, settings);
  let failure: unknown;
  client.on('error', (e: unknown) => {
    failure ??= e;
  });
  const kernel: { xnu?: string; simulated: boolean } = { simulated: source.simulated ?? false };
  if (source.xnuLabel) kernel.xnu = source.xnuLabel;
  const agent = new UsageAgent({ client, flushSeconds: settings.flushSeconds, kernel, ...(sink ? { sink } : {}), ...(source.clock ? { clock: source.clock } : {}) });
  let stopSource: (() => void) | undefined;
  let web: WebServer | undefined;
  let otlp: OtlpExport | undefined;
  try {
    await agent.start();
    stopSource = source.start?.();
    if (exporting.otlp) {
      otlp = await startOtlpExport(agent, { ...exporting.metrics, ...exporting.otlp });
      io.stderr.write(`ntstat: agent pushing OTLP to ${escapeTerminal(exporting.otlp.url)} every ${exporting.otlp.intervalSeconds} s\n`);
    }
    const providers = client.providers().filter((p) => p.available).map((p) => p.provider);
    io.stderr.write(`ntstat: agent recording ${providers.join(', ') || 'nothing'}${sink ? ` to ${escapeTerminal(sink.path)} (flush every ${settings.flushSeconds} s)` : ''}\n`);
    web = await startDashboard(o, io, agent);
    await new Promise<void>((resolve) => {
      if (io.signal?.aborted) return resolve();
      io.signal?.addEventListener('abort', () => resolve(), { once: true });
      void client.closed().then(resolve);
      if (o.duration !== undefined) setTimeout(resolve, o.duration * 1000).unref();
    });
    await agent.stop();
  } finally {
    await web?.close();
    // After the agent's last sweep: one last push with the final totals.
    await otlp?.stop().catch(() => {});
    stopSource?.();
    client.stop();
    sink?.close();
  }
  const procs = agent.processes();
  const rx = procs.reduce((a, p) => a + p.rxBytes, 0);
  const tx = procs.reduce((a, p) => a + p.txBytes, 0);
  io.stderr.write(`ntstat: agent stopped: ${procs.reduce((a, p) => a + p.flows, 0)} flows, ${procs.length} process groups, ${rx} B received, ${tx} B sent\n`);
  if (failure instanceof NtstatError && failure.code !== 'ERR_NTSTAT_CLOSED') throw failure;
  return 0;
}
