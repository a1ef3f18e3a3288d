/**
 * `ntstat agent`: the always-on recorder in the foreground. Sources as every live command (live
 * on macOS, --simulate, --socket PATH --xnu V); every flow provider by default (usage must count
 * all traffic), --tcp/--udp/--quic narrow it. SIGINT/SIGTERM: last sweep, final flush, exit 0.
 */
import { homedir } from 'node:os';
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
  'keep-minutes': { type: 'string' },
  'keep-hours': { type: 'string' },
  'keep-days': { type: 'string' },
  'flow-log': { type: 'string' },
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
  noDb: boolean;
  retention: { minuteDays?: number; hourDays?: number; dayDays?: number; flowLogRows?: number };
}

function positive(o: CliOptions, flag: string, integer = false): number | undefined {
  const v = o.extra[flag];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new NtstatError('ERR_NTSTAT_USAGE', `--${flag} expects ${integer ? 'an integer' : 'a number'} > 0, got ${JSON.stringify(v)}`);
  }
  return n;
}

export function agentSettings(o: CliOptions): AgentSettings {
  if (o.extra.db !== undefined && o.extra['no-db']) throw new NtstatError('ERR_NTSTAT_USAGE', 'give --db PATH or --no-db, not both');
  const s: AgentSettings = { flushSeconds: positive(o, 'flush') ?? 10, noDb: o.extra['no-db'] === true, retention: {} };
  if (typeof o.extra.db === 'string') s.db = o.extra.db;
  const r = s.retention;
  const set = (k: keyof AgentSettings['retention'], v: number | undefined) => {
    if (v !== undefined) r[k] = v;
  };
  set('minuteDays', positive(o, 'keep-minutes'));
  set('hourDays', positive(o, 'keep-hours'));
  set('dayDays', positive(o, 'keep-days'));
  set('flowLogRows', positive(o, 'flow-log', true));
  return s;
}

export type AgentSink = UsageSink & Partial<UsageQuery> & { close(): void };

/** The usage database the settings name (default path per platform), or none with --no-db. */
export async function openAgentSink(settings: AgentSettings, io: CliIo): Promise<AgentSink | undefined> {
  if (settings.noDb) return undefined;
  const { UsageStore, defaultUsageDbPath } = await import('../store/usage-store.js');
  const path = settings.db ?? defaultUsageDbPath(io.env, io.platform, io.env.HOME ?? homedir());
  return UsageStore.open(path, { record: true, retention: settings.retention });
}

export async function runAgent(o: CliOptions, io: CliIo, factory: LiveSourceFactory): Promise<number> {
  const sub = o.positionals[0];
  if (sub === 'install' || sub === 'uninstall' || sub === 'status') {
    const { runAgentService } = await import('./agent-service.js');
    return runAgentService(sub, o, io);
  }
  if (sub !== undefined) throw new NtstatError('ERR_NTSTAT_USAGE', `unknown agent subcommand ${JSON.stringify(sub)} (install, uninstall, status)`);
  const settings = agentSettings(o);
  checkDashboardFlags(o);
  const exporting = exportSettings(o.extra);
  // The database first: a second agent on it refuses before touching the kernel.
  const sink = await openAgentSink(settings, io);
  // The agent handles SIGINT/SIGTERM itself (last sweep and flush first), so the client gets no signal.
  const clientIo: CliIo = { ...io };
  delete clientIo.signal;
  let opened;
  try {
    // ifnet too: the kernel's own interface counters for ntstat_network_* (issue 15), where permitted.
    opened = await openLiveClient({ ...o, providers: new Set([...(agentProviders(o) as ('tcp' | 'udp' | 'quic')[]), 'ifnet' as const]) }, clientIo, factory);
  } catch (e) {
    sink?.close();
    throw e;
  }
  const { client, source } = opened;
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
  if (client.getNumDrops() > 0) io.stderr.write(`ntstat: ${client.getNumDrops()} kernel messages were lost (${JSON.stringify(client.dropCounts())}); counters of flows that ended then may be short\n`);
  if (failure instanceof NtstatError && failure.code !== 'ERR_NTSTAT_CLOSED') throw failure;
  return 0;
}
