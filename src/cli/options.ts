/** Argument parsing with Node's util.parseArgs (no hand-written parser). */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { NtstatError } from '../errors.js';
import type { StreamProvider } from '../model/stream.js';
import { dialectFor, type Dialect } from '../protocol/dialect.js';

export const COMMANDS = ['log', 'top', 'json', 'doctor', 'replay', 'serve', 'agent', 'usage', 'web'] as const;
export type Command = (typeof COMMANDS)[number];

/** Options a command adds for itself (agent, usage): parsed here, interpreted by the command. */
export type ExtraOptions = NonNullable<ParseArgsConfig['options']>;

const OPTIONS = {
  tcp: { type: 'boolean' },
  udp: { type: 'boolean' },
  quic: { type: 'boolean' },
  all: { type: 'boolean' },
  interval: { type: 'string' },
  duration: { type: 'string' },
  count: { type: 'string' },
  pid: { type: 'string' },
  process: { type: 'string' },
  port: { type: 'string' },
  interface: { type: 'string' },
  record: { type: 'string' },
  simulate: { type: 'boolean' },
  xnu: { type: 'string' },
  macos: { type: 'string' },
  scenario: { type: 'string' },
  'future-layout': { type: 'string' },
  seed: { type: 'string' },
  socket: { type: 'string' },
  format: { type: 'string' },
  json: { type: 'boolean' },
  speed: { type: 'string' },
  utc: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  'self-test': { type: 'boolean' },
  report: { type: 'string' },
  'no-redact': { type: 'boolean' },
  raw: { type: 'boolean' },
  by: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

export interface CliOptions {
  command: Command;
  positionals: string[];
  providers: Set<StreamProvider>;
  interval?: number;
  duration?: number;
  count?: number;
  pid?: number;
  process?: string;
  port?: number;
  interface?: string;
  record?: string;
  simulate: boolean;
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
  speed?: number;
  utc: boolean;
  color: boolean;
  raw: boolean;
  /** --by as given; `top` accepts stream|process|app, `usage` its own groupings. */
  by?: string;
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
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
    throw usage(`--${name} expects ${opts.integer ? 'an integer' : 'a number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''}, got ${JSON.stringify(v)}`);
  }
  return n;
}

const INTERFACES = ['wifi', 'wired', 'cellular', 'loopback', 'awdl', 'other', 'unknown'];

export function parseCli(argv: string[], env: Record<string, string | undefined>, extraOptions: ExtraOptions = {}): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...OPTIONS, ...extraOptions }, allowPositionals: true, strict: true });
  } catch (e) {
    throw usage((e as Error).message);
  }
  const v = parsed.values as Record<string, string | boolean | undefined> & { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };
  const pos = [...parsed.positionals];
  let command: Command = 'log';
  if (pos.length > 0 && (COMMANDS as readonly string[]).includes(pos[0])) command = pos.shift() as Command;
  else if (pos.length > 0) throw usage(`unknown command ${JSON.stringify(pos[0])} (commands: ${COMMANDS.join(', ')})`);
  if (v.json && command === 'log') command = 'json';

  const providers = new Set<StreamProvider>();
  if (v.all) for (const p of ['tcp', 'udp', 'quic', 'conn', 'ifnet', 'route'] as const) providers.add(p);
  if (v.tcp) providers.add('tcp');
  if (v.udp) providers.add('udp');
  if (v.quic) providers.add('quic');

  if (v.interface !== undefined && !INTERFACES.includes(v.interface)) {
    throw usage(`--interface expects one of ${INTERFACES.join(', ')}`);
  }
  if (v.format !== undefined && v.format !== 'ntcap' && v.format !== 'libntstat') throw usage('--format expects ntcap or libntstat');
  if (v.by !== undefined && command !== 'usage' && !['stream', 'process', 'app'].includes(v.by)) throw usage('--by expects stream, process or app');
  if (v.xnu !== undefined && v.macos !== undefined) throw usage('give --xnu or --macos, not both');
  if (v.process !== undefined && /^\/.*\/[a-z]*$/s.test(v.process)) {
    try {
      const m = /^\/(.*)\/([a-z]*)$/s.exec(v.process)!;
      new RegExp(m[1], m[2]);
    } catch (e) {
      throw usage(`--process: invalid regular expression: ${(e as Error).message}`);
    }
  }
  const opts: CliOptions = {
    command,
    positionals: pos,
    providers,
    simulate: v.simulate ?? false,
    json: v.json ?? command === 'json',
    utc: v.utc ?? false,
    color: !(v['no-color'] ?? false) && env.NO_COLOR === undefined,
    raw: v.raw ?? false,
    extra: Object.fromEntries(Object.keys(extraOptions).map((k) => [k, v[k]])),
    help: v.help ?? false,
    version: v.version ?? false,
  };
  const set = <K extends keyof CliOptions>(k: K, val: CliOptions[K] | undefined) => {
    if (val !== undefined) opts[k] = val;
  };
  set('interval', num('interval', v.interval, { min: 0.05 }));
  set('duration', num('duration', v.duration, { min: 0 }));
  set('count', num('count', v.count, { min: 1, integer: true }));
  set('pid', num('pid', v.pid, { min: 0, integer: true }));
  set('port', num('port', v.port, { min: 0, max: 65535, integer: true }));
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
  set('by', v.by);
  return opts;
}

/** The dialect named by --xnu / --macos; `required` is the usage message when neither is given. */
export function selectDialect(o: CliOptions, required: string | undefined): Dialect | undefined {
  if (o.xnu !== undefined) return dialectFor(o.xnu, /^\d/.test(o.xnu.trim()) ? 'xnu' : undefined);
  if (o.macos !== undefined) return dialectFor(o.macos, 'macos');
  if (required) throw new NtstatError('ERR_NTSTAT_USAGE', required);
  return undefined;
}
