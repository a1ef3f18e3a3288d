/** Argument parsing with Node's util.parseArgs (no hand-written parser). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { NtstatError } from '../errors.js';
import type { StreamProvider } from '../model/stream.js';
import { dialectFor, type Dialect } from '../protocol/dialect.js';
import { checkApplicable, preferLongValues } from './option-rules.js';
import { closest } from './suggest.js';
import { SORT_KEYS, type SortKey } from './sort.js';

export const COMMANDS = ['log', 'top', 'json', 'doctor', 'replay', 'serve', 'agent', 'usage', 'web'] as const;
export type Command = (typeof COMMANDS)[number];

/** Options a command adds for itself (agent, usage): parsed here, interpreted by the command. */
export type ExtraOptions = NonNullable<ParseArgsConfig['options']>;

const OPTIONS = {
  tcp: { type: 'boolean' },
  udp: { type: 'boolean' },
  quic: { type: 'boolean' },
  all: { type: 'boolean' },
  interval: { type: 'string', short: 's' },
  duration: { type: 'string' },
  count: { type: 'string' },
  once: { type: 'boolean' },
  pid: { type: 'string', multiple: true },
  process: { type: 'string' },
  port: { type: 'string', multiple: true },
  interface: { type: 'string', short: 't' },
  record: { type: 'string' },
  simulate: { type: 'boolean' },
  privileged: { type: 'boolean' },
  xnu: { type: 'string' },
  macos: { type: 'string' },
  scenario: { type: 'string' },
  'future-layout': { type: 'string' },
  seed: { type: 'string' },
  socket: { type: 'string' },
  format: { type: 'string' },
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
  columns: { type: 'string', short: 'J' },
  speed: { type: 'string' },
  utc: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  'self-test': { type: 'boolean' },
  report: { type: 'string' },
  'no-redact': { type: 'boolean' },
  raw: { type: 'boolean', short: 'x' },
  by: { type: 'string' },
  sort: { type: 'string' },
  reverse: { type: 'boolean' },
  resolve: { type: 'boolean' },
  'no-resolve': { type: 'boolean', short: 'n' },
  // nettop-compatible spellings (docs: README "For nettop users").
  'per-process': { type: 'boolean', short: 'P' },
  samples: { type: 'string', short: 'L' },
  mode: { type: 'string', short: 'm' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

export interface CliOptions {
  command: Command;
  positionals: string[];
  providers: Set<StreamProvider>;
  interval?: number;
  duration?: number;
  /** Events (log/json/replay) or frames (top) before exiting. */
  count?: number;
  /** The first --pid (every one is in `pids`). */
  pid?: number;
  pids?: number[];
  process?: string;
  /** The first --port (every one is in `ports`). */
  port?: number;
  ports?: number[];
  /** A kind (wifi, wired, ...) or a BSD interface name (en0, utun3). */
  interface?: string;
  record?: string;
  simulate: boolean;
  /** --simulate as a root/entitled client (PRIV_NET_PRIVILEGED_NETWORK_STATISTICS): sysinfo, extensions. */
  privileged?: boolean;
  xnu?: string;
  macos?: string;
  scenario?: string;
  /** doctor: run the layout self-test even on a verified kernel (issue 12). */
  selfTest?: boolean;
  /** doctor: write a layout report (versions, self-test findings, short capture) to this file. */
  report?: string;
  /** doctor --report: keep other processes' addresses and names. */
  noRedact?: boolean;
  /** Simulated kernel only: serve a future layout (issue 12), see src/simulator/future-layouts.ts. */
  futureLayout?: string;
  seed?: number;
  socket?: string;
  format?: 'ntcap' | 'libntstat';
  json: boolean;
  csv: boolean;
  /** Column names chosen with --columns / -J. */
  columns?: string[];
  speed?: number;
  utc: boolean;
  color: boolean;
  raw: boolean;
  /** --by as given; `top` accepts stream|process|app, `usage` its own groupings. */
  by?: string;
  sort?: SortKey;
  reverse: boolean;
  /** Reverse DNS of remote addresses (--resolve; -n turns it off). */
  resolve: boolean;
  /** Values of the command's own options (see ExtraOptions), raw. */
  extra: Record<string, string | boolean | undefined>;
  help: boolean;
  version: boolean;
}

function usage(message: string): NtstatError {
  return new NtstatError('ERR_NTSTAT_USAGE', message);
}

function num(name: string, v: string | undefined, opts: { min?: number; integer?: boolean; max?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
    throw usage(`--${name} expects ${opts.integer ? 'an integer' : 'a number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''}, got ${JSON.stringify(v)}`);
  }
  return n;
}

export const INTERFACE_KINDS = ['wifi', 'wired', 'cellular', 'loopback', 'awdl', 'other', 'unknown'];
/** A BSD interface name: letters then a unit number (en0, utun3, bridge100, lo0). */
export const BSD_IFNAME = /^[a-z][a-z0-9_]{0,14}\d$/;
const MODES: Record<string, StreamProvider> = { tcp: 'tcp', udp: 'udp', quic: 'quic', route: 'route' };

function parseError(e: unknown): NtstatError {
  const err = e as Error & { code?: string };
  const m = /Unknown option '([^']+)'/.exec(err.message);
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && m) {
    const given = m[1].replace(/^-+/, '');
    const guess = closest(given, Object.keys(OPTIONS));
    return usage(`unknown option ${m[1]}${guess ? ` (did you mean --${guess}?)` : ''}`);
  }
  const v = /Option '(-\w, )?--([\w-]+) <value>' argument missing/.exec(err.message);
  if (v) return usage(`--${v[2]} needs a value`);
  return usage(err.message.split('\n')[0]);
}

export function parseCli(argv: string[], env: Record<string, string | undefined>, extraOptions: ExtraOptions = {}): CliOptions {
  let parsed;
  try {
    const options = { ...OPTIONS, ...extraOptions };
    parsed = parseArgs({ args: preferLongValues(argv, options as Record<string, { type: string; short?: string }>), options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    throw parseError(e);
  }
  const v = parsed.values as Record<string, string | boolean | string[] | undefined> & {
    [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string;
  };
  const pos = [...parsed.positionals];
  let command: Command = 'log';
  let explicit = false;
  if (pos.length > 0 && (COMMANDS as readonly string[]).includes(pos[0])) {
    command = pos.shift() as Command;
    explicit = true;
  } else if (pos.length > 0) {
    const guess = closest(pos[0], COMMANDS);
    throw usage(`unknown command ${JSON.stringify(pos[0])}${guess ? ` (did you mean ${guess}?)` : ''} (commands: ${COMMANDS.join(', ')})`);
  }
  // nettop habits: -P, -L and the table options mean the table.
  if (!explicit && (v['per-process'] || v.samples !== undefined || v.sort !== undefined || v.once)) command = 'top';
  if (v.json && command === 'log') command = 'json';
  const given = new Set(parsed.tokens.flatMap((t) => (t.kind === 'option' ? [t.name] : [])));
  checkApplicable(command, parsed.tokens, given);

  const providers = new Set<StreamProvider>();
  if (v.all) for (const p of ['tcp', 'udp', 'quic', 'conn', 'ifnet', 'route', 'sysinfo'] as const) providers.add(p);
  if (v.tcp) providers.add('tcp');
  if (v.udp) providers.add('udp');
  if (v.quic) providers.add('quic');
  if (v.mode !== undefined) {
    const p = MODES[v.mode];
    if (!p) throw usage(`-m/--mode expects one of ${Object.keys(MODES).join(', ')} (nettop's modes)`);
    providers.add(p);
  }

  if (v.interface !== undefined && !INTERFACE_KINDS.includes(v.interface) && !BSD_IFNAME.test(v.interface)) {
    throw usage(`--interface expects a kind (${INTERFACE_KINDS.join(', ')}) or a BSD interface name such as en0 or utun3, got ${JSON.stringify(v.interface)}`);
  }
  if (v.format !== undefined && v.format !== 'ntcap' && v.format !== 'libntstat') throw usage('--format expects ntcap or libntstat');
  if (v.by !== undefined && command !== 'usage' && !['stream', 'process', 'app', 'interface'].includes(v.by)) throw usage('--by expects stream, process, app or interface');
  if (v['per-process'] && v.by !== undefined && v.by !== 'process') throw usage('-P means --by process; not with --by ' + v.by);
  if (v.sort !== undefined && !(SORT_KEYS as readonly string[]).includes(v.sort)) throw usage(`--sort expects one of ${SORT_KEYS.join(', ')}`);
  if (v.xnu !== undefined && v.macos !== undefined) throw usage('give --xnu or --macos, not both');
  if (v.simulate && v.socket !== undefined) throw usage('give --simulate or --socket, not both');
  if (v.resolve && v['no-resolve']) throw usage('give --resolve or -n/--no-resolve, not both');
  if (v.csv && v.json) throw usage('give --csv or --json, not both');
  if (v.once && (v.count !== undefined || v.samples !== undefined)) throw usage('--once is one sample: not with --count or -L');
  if (v.samples !== undefined && v.count !== undefined) throw usage('-L N and --count N say the same: give one');
  if (v.process !== undefined && /^\/.*\/[a-z]*$/s.test(v.process)) {
    try {
      const m = /^\/(.*)\/([a-z]*)$/s.exec(v.process)!;
      new RegExp(m[1], m[2]);
    } catch (e) {
      throw usage(`--process: invalid regular expression: ${(e as Error).message}`);
    }
  }
  for (const [name, kind] of [
    ['xnu', 'xnu'],
    ['macos', 'macos'],
  ] as const) {
    const val = v[name];
    if (val === undefined) continue;
    try {
      dialectFor(val, kind === 'macos' ? 'macos' : /^\d/.test(val.trim()) ? 'xnu' : undefined);
    } catch (e) {
      if (e instanceof NtstatError && e.code === 'ERR_NTSTAT_UNKNOWN_VERSION') throw usage(`--${name}: ${e.message}`);
      throw e;
    }
  }
  const opts: CliOptions = {
    command,
    positionals: pos,
    providers,
    simulate: v.simulate ?? false,
    json: v.json ?? command === 'json',
    csv: (v.csv ?? false) || v.samples !== undefined,
    utc: v.utc ?? false,
    color: !(v['no-color'] ?? false) && env.NO_COLOR === undefined,
    raw: v.raw ?? false,
    reverse: v.reverse ?? false,
    resolve: v.resolve ?? false,
    extra: Object.fromEntries(Object.keys(extraOptions).map((k) => [k, v[k] as string | boolean | undefined])),
    help: v.help ?? false,
    version: v.version ?? false,
  };
  const set = <K extends keyof CliOptions>(k: K, val: CliOptions[K] | undefined) => {
    if (val !== undefined) opts[k] = val;
  };
  set('interval', num('interval', v.interval, { min: 0.05 }));
  set('duration', num('duration', v.duration, { min: 0 }));
  set('count', num('count', v.count, { min: 1, integer: true }));
  const samples = num('samples', v.samples, { min: 0, integer: true });
  if (samples) opts.count = samples;
  if (v.once) opts.count = 1;
  const pids = (v.pid ?? []).map((x) => num('pid', x, { min: 0, integer: true })!);
  if (pids.length > 0) {
    opts.pid = pids[0];
    opts.pids = pids;
  }
  const ports = (v.port ?? []).map((x) => num('port', x, { min: 0, max: 65535, integer: true })!);
  if (ports.length > 0) {
    opts.port = ports[0];
    opts.ports = ports;
  }
  set('seed', num('seed', v.seed, { integer: true }));
  set('speed', num('speed', v.speed, { min: 0 }));
  set('process', v.process);
  set('interface', v.interface);
  set('record', v.record);
  set('xnu', v.xnu);
  set('macos', v.macos);
  set('scenario', v.scenario);
  set('futureLayout', v['future-layout']);
  set('selfTest', v['self-test']);
  set('report', v.report);
  set('noRedact', v['no-redact']);
  if ((v['self-test'] || v.report !== undefined || v['no-redact']) && command !== 'doctor') throw usage('--self-test, --report and --no-redact are doctor options');
  set('socket', v.socket);
  set('format', v.format as CliOptions['format']);
  set('by', v['per-process'] ? 'process' : v.by);
  set('sort', v.sort as SortKey | undefined);
  if (v.columns !== undefined) opts.columns = v.columns.split(',').map((c) => c.trim()).filter(Boolean);
  set('privileged', v.privileged);
  if (v.privileged && !v.simulate) throw usage('--privileged applies to --simulate (a real kernel checks the credential of the process)');
  return opts;
}

/** The dialect named by --xnu / --macos; `required` is the usage message when neither is given. */
export function selectDialect(o: CliOptions, required: string | undefined): Dialect | undefined {
  if (o.xnu !== undefined) return dialectFor(o.xnu, /^\d/.test(o.xnu.trim()) ? 'xnu' : undefined);
  if (o.macos !== undefined) return dialectFor(o.macos, 'macos');
  if (required) throw new NtstatError('ERR_NTSTAT_USAGE', required);
  return undefined;
}
