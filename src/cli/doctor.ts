/**
 * `ntstat doctor`: what this machine offers. OS, native FFI, kernel version and dialect (and
 * whether it is verified), which providers this user may subscribe to, the receive buffer.
 */
import { createRequire } from 'node:module';
import { NetworkStatisticsClient, type ClientProvider } from '../client/client.js';
import { packageVersion } from '../version.js';
import type { CliIo } from './io.js';
import type { CliOptions } from './options.js';
import { defaultSourceFactory } from './sources.js';
import { escapeTerminal } from './escape.js';
import { privcheckText, readPrivcheck, visibilityText } from './doctor-visibility.js';
import { NtstatError } from '../errors.js';
import { CapturingTransport } from './doctor-report.js';
import { printRefusal, printSelfTest, writeReport, type ReportTarget } from './doctor-selftest.js';

const ALL: ClientProvider[] = ['tcp', 'udp', 'quic', 'conn', 'udpSubflow', 'route', 'ifnet', 'sysinfo'];

function koffiStatus(): string {
  try {
    const require = createRequire(import.meta.url);
    const k = require('koffi') as { version?: string; node?: { poll?: unknown } };
    return `${k.version ?? '?'} loaded (fd readiness via koffi.node.poll: ${typeof k.node?.poll === 'function' ? 'yes' : 'no'})`;
  } catch (e) {
    return `not loadable on ${process.platform}-${process.arch}: ${(e as Error).message.split('\n')[0]}`;
  }
}

export async function runDoctor(o: CliOptions, io: CliIo): Promise<number> {
  const line = (k: string, v: string) => io.stdout.write(`${k.padEnd(15)} ${v}\n`);
  line('ntstat', `${packageVersion()} (node ${process.version}, ${io.platform} ${process.arch})`);
  line('native FFI', `koffi ${koffiStatus()}`);
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  line('user', uid === undefined ? 'unknown' : uid === 0 ? 'root (uid 0): privileged providers allowed' : `uid ${uid} (not root): sysinfo, conn, udpSubflow and extensions need root or an entitlement`);
  if (io.platform !== 'darwin' && !o.simulate && !o.socket) {
    line('kernel', `${io.platform}: the statistics control exists only on macOS`);
    line('try', 'ntstat doctor --simulate [--macos 14]   or   ntstat replay FILE');
    return 0;
  }
  const source = await defaultSourceFactory(o, io);
  if (source.simulated) line('note', o.privileged ? 'the simulated kernel sees a privileged client (--privileged: root or the entitlement)' : 'the simulated kernel sees an unprivileged client (as a normal user on a Mac)');
  const opts: ConstructorParameters<typeof NetworkStatisticsClient>[0] = { providers: ALL, interval: 0 };
  let transport = source.transport;
  let dialect = source.dialect;
  let kernelVersion = o.xnu ?? (o.macos !== undefined ? `macos:${o.macos}` : undefined);
  if (!transport && o.report) {
    // The report captures the session: open the kernel here to wrap its transport.
    const { openKernelTransport } = await import('../client/live.js');
    const live = await openKernelTransport(4 << 20);
    transport = live.transport;
    dialect = live.dialect;
    kernelVersion = live.kernelVersion;
  }
  const capture = o.report && transport ? new CapturingTransport(transport) : undefined;
  if (capture ?? transport) opts.transport = capture ?? transport;
  if (dialect) opts.dialect = dialect;
  if (source.calibrationFlows) opts.calibrationFlows = source.calibrationFlows;
  if (source.interfaceNames) opts.interfaceNames = source.interfaceNames;
  opts.selfTest = o.selfTest || o.report ? 'always' : 'auto';
  const client = new NetworkStatisticsClient(opts);
  const target: ReportTarget | undefined =
    capture && o.report && dialect
      ? { file: o.report, redact: !o.noRedact, kernelVersion: kernelVersion ?? dialect.family, label: source.xnuLabel ?? dialect.xnu, dialect, tool: `ntstat ${packageVersion()}`, capture }
      : undefined;
  try {
    await client.connect();
  } catch (e) {
    if (e instanceof NtstatError && e.code === 'ERR_NTSTAT_LAYOUT') printRefusal(line, e);
    else line('connect', `FAILED: ${escapeTerminal((e as Error).message)}`);
    if (target) line('report', writeReport(target, undefined, e instanceof NtstatError ? e : undefined));
    client.stop();
    return 1;
  }
  const d = client.dialect!;
  line('kernel', `${source.simulated ? 'SIMULATED ' : ''}xnu-${source.xnuLabel ?? d.xnu}`);
  const header = d.provisional ? `provisional, macOS ${d.macos}: observed, not from headers` : `header xnu-${d.xnu}, macOS ${d.macos}+`;
  line('dialect', `${d.family} (${header}), ${d.verified ? 'verified against published headers' : `UNVERIFIED: ${d.warning}`}`);
  for (const p of client.providers()) line(p.available ? '  available' : '  unavailable', p.available ? p.provider : `${p.provider}: ${p.reason}`);
  line('receive buffer', client.receiveBufferSize !== undefined ? `${client.receiveBufferSize} bytes (SO_RCVBUF)` : 'unknown');
  printSelfTest(line, client.selfTest, d);
  if (target) {
    // A few ordinary sweeps after the calibration, for the capture.
    for (let i = 0; i < 2; i++) await client.sweep();
    line('report', writeReport(target, client.selfTest, undefined));
  }
  line('privcheck', privcheckText(await readPrivcheck(o, io, source.privcheck)));
  await client.sweep();
  line('flows seen', visibilityText(client.snapshot(), { ...(uid !== undefined ? { uid } : {}), pid: process.pid }));
  const ifs = client.interfaces();
  if (ifs.length > 0) line('interfaces', `${ifs.length} from the ifnet provider: ${ifs.map((i) => `${escapeTerminal(i.name ?? `if${i.index}`)} (${i.kind})`).join(', ')}`);
  client.stop();
  return 0;
}
