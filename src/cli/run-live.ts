/**
 * Live views (log, json, top) over a NetworkStatisticsClient whose kernel is the real one
 * (macOS), the simulator (--simulate) or a Unix datagram socket (--socket PATH).
 */
import { NtstatError } from '../errors.js';
import { NetworkStatisticsClient, type ClientOptions, type ClientProvider } from '../client/client.js';
import type { StreamEvent } from '../model/events.js';
import type { Dialect } from '../protocol/dialect.js';
import type { CalibrationFlowMaker } from '../client/calibration-flow.js';
import type { Transport } from '../transport/transport.js';
import { packageVersion } from '../version.js';
import { compileFilter, compileInterfaceFilter, type InterfaceIndexFn } from './filters.js';
import type { InterfaceEvent } from '../model/interface.js';
import type { InterfaceNames } from '../model/interface-names.js';
import { BSD_IFNAME, INTERFACE_KINDS } from './options.js';
import type { HostResolver, ReverseFn } from './resolve.js';
import type { CliIo } from './io.js';
import type { CliOptions } from './options.js';
import { makeEventSink } from './output.js';
import { sysinfoToJson, type SysinfoEvent } from '../model/sysinfo.js';
import { formatSysinfoLog } from './format-sysinfo.js';
import { unsupportedOsMessage } from './messages.js';

/** Where the protocol comes from, as chosen by the options. */
export interface LiveSource {
  transport?: Transport;
  dialect?: Dialect;
  /** Shown on stderr before the session (e.g. the simulation notice). */
  banner?: string;
  /** Label for the log's `XNU version:` line. */
  xnuLabel?: string;
  simulated?: boolean;
  /** Clock for stream times (simulated time under --simulate). */
  clock?: () => number;
  /** How the layout self-test's flows reach this kernel (default: real loopback sockets). */
  calibrationFlows?: CalibrationFlowMaker;
  /** sysctl net.statistics_privcheck of this kernel (doctor), when the source knows it. */
  privcheck?: () => number | undefined;
  /** Starts whatever drives the source (the simulator's clock); returns a stop function. */
  start?(): () => void;
  /** The watched machine's interfaces (index <-> BSD name): names flows, serves --interface en0. */
  interfaceNames?: InterfaceNames;
  /** Reverse DNS for --resolve (default dns.promises.reverse; tests inject one). */
  reverse?: ReverseFn;
}

/** BSD name -> index on the watched machine, for --interface NAME (undefined when unknown). */
export function interfaceIndexOf(source: LiveSource): InterfaceIndexFn | undefined {
  const names = source.interfaceNames;
  return names ? (name) => names.index(name) : undefined;
}

export type LiveSourceFactory = (o: CliOptions, io: CliIo) => Promise<LiveSource>;

/** Providers for the client from --tcp/--udp/--quic/--all (default tcp, as the seed demo). */
export function clientProviders(o: CliOptions): ClientProvider[] {
  const p = o.providers;
  if (p.size === 0) return o.by === 'interface' ? ['tcp', 'ifnet'] : ['tcp'];
  const out: ClientProvider[] = [];
  if (p.has('tcp')) out.push('tcp');
  if (p.has('udp')) out.push('udp');
  if (p.has('quic')) out.push('quic');
  if (p.has('conn')) out.push('conn');
  if (p.has('route')) out.push('route');
  // Interfaces (ifnet): --all, and what `top --by interface` shows.
  if (p.has('ifnet') || o.by === 'interface') out.push('ifnet');
  // --all also asks for sysinfo: privileged only, an unprivileged EPERM just marks it unavailable.
  if (p.has('sysinfo')) out.push('sysinfo');
  return out;
}

export async function openLiveClient(o: CliOptions, io: CliIo, factory: LiveSourceFactory): Promise<{ client: NetworkStatisticsClient; source: LiveSource }> {
  if (io.platform !== 'darwin' && !o.simulate && !o.socket) {
    throw new NtstatError('ERR_NTSTAT_UNSUPPORTED_OS', unsupportedOsMessage(io.platform).trimEnd());
  }
  const source = await factory(o, io);
  if (source.banner) io.stderr.write(source.banner);
  let transport = source.transport;
  // Whole microseconds: what an ntcap record stores exactly, so a replay sees the same times.
  const sourceClock = source.clock;
  const clock = sourceClock ? () => Math.round(sourceClock() * 1000) / 1000 : undefined;
  if (o.record) {
    if (!transport || !source.dialect) {
      throw new NtstatError('ERR_NTSTAT_USAGE', '--record needs the simulator or --socket in this build');
    }
    // Records carry the client's own clock, so a replay computes the same times and rates.
    // The interfaces at the start of the recording go into the header (docs/capture-format.md):
    // a replay names flows with them; ones that appear later replay as if<index>.
    const names = source.interfaceNames;
    if (names && names.refreshes === 0) await names.refresh();
    const interfaces = names?.entries() ?? [];
    // Loaded only to record (issue 17: every module costs startup time).
    const { RecordingTransport } = await import('../transport/tee.js');
    transport = new RecordingTransport(
      transport,
      o.record,
      {
        xnu: source.xnuLabel ?? source.dialect.xnu,
        dialect: source.dialect.family,
        simulated: source.simulated ?? false,
        tool: `ntstat ${packageVersion()}`,
        ...(interfaces.length > 0 ? { interfaces } : {}),
      },
      clock,
    );
  }
  const opts: ClientOptions = {
    providers: clientProviders(o),
    interval: Math.round((o.interval ?? 1) * 1000),
  };
  if (transport) opts.transport = transport;
  if (source.dialect) opts.dialect = source.dialect;
  if (clock) opts.clock = clock;
  // Domain names need privilege (§6): ask when the (simulated) client is root or entitled.
  if (o.privileged || (!o.simulate && !o.socket && typeof process.getuid === 'function' && process.getuid() === 0)) opts.domains = true;
  if (source.calibrationFlows) opts.calibrationFlows = source.calibrationFlows;
  if (source.interfaceNames) opts.interfaceNames = source.interfaceNames;
  if (io.signal) opts.signal = io.signal;
  const client = new NetworkStatisticsClient(opts);
  client.on('warning', (w: string) => io.stderr.write(`ntstat: warning: ${w}\n`));
  if (o.interface !== undefined && !INTERFACE_KINDS.includes(o.interface) && BSD_IFNAME.test(o.interface) && source.interfaceNames?.index(o.interface) === undefined) {
    io.stderr.write(`ntstat: warning: no interface named ${o.interface} is known now; flows on it are shown if it appears\n`);
  }
  // --duration counts from here: a kernel that never answers the subscription must not hold the
  // command past it (issue 13). stop() during connect() makes connect() return early.
  if (o.duration !== undefined) {
    const timer = setTimeout(() => client.stop(), o.duration * 1000);
    client.once('close', () => clearTimeout(timer));
  }
  return { client, source };
}

/** Wait until the client closed (--duration, abort, the kernel going away, or an error). */
export async function runUntilDone(client: NetworkStatisticsClient, _o: CliOptions, stopSource?: () => void): Promise<void> {
  try {
    await client.closed();
  } finally {
    stopSource?.();
  }
}

/** A reverse-DNS resolver with --resolve (its module is loaded only then), else undefined. */
export async function hostResolver(o: CliOptions, source: LiveSource): Promise<HostResolver | undefined> {
  if (!o.resolve) return undefined;
  const { HostResolver } = await import('./resolve.js');
  return new HostResolver(source.reverse ? { reverse: source.reverse } : {});
}

/** The first error that should fail the command (a transport that died, a kernel that lied). */
export function watchFailure(client: NetworkStatisticsClient): () => unknown {
  let failure: unknown;
  client.on('error', (e: unknown) => {
    failure ??= e;
  });
  return () => (failure instanceof NtstatError && failure.code !== 'ERR_NTSTAT_CLOSED' ? failure : undefined);
}

/** `ntstat [log]` and `ntstat json`. */
export async function runEventView(o: CliOptions, io: CliIo, factory: LiveSourceFactory): Promise<number> {
  const { client, source } = await openLiveClient(o, io, factory);
  const resolver = await hostResolver(o, source);
  const sink = makeEventSink(io, {
    json: o.json,
    csv: o.csv,
    ...(o.columns ? { columns: o.columns } : {}),
    utc: o.utc,
    count: o.count,
    filter: compileFilter(o, interfaceIndexOf(source)),
    interfaceFilter: compileInterfaceFilter(o),
    ...(resolver ? { resolver } : {}),
  });
  const onEvent = (ev: StreamEvent) => {
    if (!sink.write(ev)) client.stop();
  };
  for (const kind of ['added', 'update', 'removed'] as const) client.on(kind, (_s, ev: StreamEvent) => onEvent(ev));
  client.on('interface', (ev: InterfaceEvent) => sink.writeInterface(ev));
  if (o.json) client.on('sysinfo', (ev: SysinfoEvent) => sink.text(JSON.stringify(sysinfoToJson(ev)) + '\n'));
  // The log view shows sysinfo reports too (CSV rows are streams only).
  else if (!o.csv) client.on('sysinfo', (ev: SysinfoEvent) => sink.text(formatSysinfoLog(ev, { utc: o.utc }).join('\n') + '\n'));
  const failure = watchFailure(client);
  await connectExplained(client, o);
  if (!o.json && !o.csv) sink.text(`XNU version:${source.xnuLabel ?? client.dialect?.xnu ?? '?'}\n`);
  const stopSource = source.start?.();
  try {
    await runUntilDone(client, o, stopSource);
  } finally {
    sink.flush();
  }
  if (client.getNumDrops() > 0) io.stderr.write(`ntstat: ${client.getNumDrops()} kernel messages were lost (${JSON.stringify(client.dropCounts())}); the table was resynchronised\n`);
  const f = failure();
  if (f) throw f;
  return 0;
}

/**
 * connect(), with a hint when a --socket peer speaks for another kernel version: its answers do
 * not decode for our dialect, so nothing can be subscribed.
 */
export async function connectExplained(client: NetworkStatisticsClient, o: CliOptions): Promise<void> {
  try {
    await client.connect();
  } catch (e) {
    if (o.socket && e instanceof NtstatError && (e.code === 'ERR_NTSTAT_KERNEL' || e.code === 'ERR_NTSTAT_TIMEOUT' || e.code === 'ERR_NTSTAT_MALFORMED')) {
      throw new NtstatError(
        e.code,
        `${e.message}\n  Does the peer speak for another kernel? Give the same --xnu/--macos as the server (\`ntstat serve\` prints it: "give clients --socket PATH --xnu V").`,
        { cause: e },
      );
    }
    throw e;
  }
}
