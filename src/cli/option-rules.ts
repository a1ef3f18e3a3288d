/**
 * Which options apply to which command, and repeated options. An option that does not apply is
 * refused (exit 2) rather than silently ignored: `json --speed 2` would otherwise look accepted.
 * Only the commands and options listed here are checked, so a new command or option added
 * elsewhere is not refused by omission.
 */
import { NtstatError } from '../errors.js';

const LIVE = ['log', 'json', 'top'];
const EVENTS = ['log', 'json', 'top', 'replay'];
const KNOWN_COMMANDS = new Set(['log', 'json', 'top', 'doctor', 'replay', 'serve']);

const APPLIES: Record<string, readonly string[]> = {
  tcp: EVENTS,
  udp: EVENTS,
  quic: EVENTS,
  all: EVENTS,
  mode: EVENTS,
  pid: EVENTS,
  process: EVENTS,
  port: EVENTS,
  interface: EVENTS,
  interval: LIVE,
  duration: [...LIVE, 'serve'],
  count: EVENTS,
  samples: ['top'],
  once: ['top'],
  record: LIVE,
  simulate: [...LIVE, 'doctor'],
  socket: [...LIVE, 'doctor', 'serve'],
  scenario: [...LIVE, 'doctor', 'serve'],
  seed: [...LIVE, 'doctor', 'serve'],
  xnu: [...LIVE, 'doctor', 'serve', 'replay'],
  macos: [...LIVE, 'doctor', 'serve', 'replay'],
  format: ['replay'],
  speed: ['replay'],
  json: ['log', 'json', 'replay'],
  csv: ['log', 'top', 'replay'],
  columns: ['log', 'top', 'replay'],
  utc: ['log', 'json', 'replay'],
  'self-test': ['doctor'],
  report: ['doctor'],
  'no-redact': ['doctor'],
  raw: ['top'],
  by: ['top'],
  'per-process': ['top'],
  sort: ['top'],
  reverse: ['top'],
  resolve: EVENTS,
  'no-resolve': EVENTS,
};

/** Options that may be given more than once (each value counts). */
const REPEATABLE = new Set(['pid', 'port']);

interface Token {
  kind: string;
  name?: string;
  rawName?: string;
}

export function checkApplicable(command: string, tokens: readonly Token[], given: ReadonlySet<string>): void {
  if (!KNOWN_COMMANDS.has(command)) return; // a command with its own options checks them itself
  const seen = new Map<string, string>();
  for (const t of tokens) {
    if (t.kind !== 'option' || !t.name) continue;
    const raw = t.rawName ?? `--${t.name}`;
    if (seen.has(t.name) && !REPEATABLE.has(t.name) && t.name !== 'help') {
      throw new NtstatError('ERR_NTSTAT_USAGE', `${raw} given twice (only --pid and --port take several values)`);
    }
    seen.set(t.name, raw);
  }
  if (given.has('help') || given.has('version')) return;
  for (const [name, raw] of seen) {
    const where = APPLIES[name];
    if (where && !where.includes(command)) {
      throw new NtstatError('ERR_NTSTAT_USAGE', `${raw} does not apply to '${command}' (it applies to: ${where.join(', ')})`);
    }
  }
  const simulatedOnly = ['scenario', 'seed'].filter((n) => seen.has(n));
  if (simulatedOnly.length > 0 && command !== 'serve' && !seen.has('simulate')) {
    throw new NtstatError('ERR_NTSTAT_USAGE', `${seen.get(simulatedOnly[0])} applies to the simulated kernel: add --simulate`);
  }
}

/**
 * `--pid -1` is a value, not an option: parseArgs calls it ambiguous. Join a negative number to
 * its option (`--pid=-1`) so the value check gives a clear message.
 */
export function preferLongValues(argv: readonly string[], options: Record<string, { type: string; short?: string }>): string[] {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(options)) {
    if (o.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if (o.short) takesValue.add(`-${o.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (takesValue.has(a) && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      out.push(a.startsWith('--') ? `${a}=${next}` : `${a}${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}
