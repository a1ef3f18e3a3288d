/**
 * `sysinfo` events in the log view (issue 13 §2): a SYSINFO_COUNTS report (BEHAVIOUR.md §5.8) is
 * not about a source, so it gets its own `S` line (time, number of values) and one indented line
 * per key/value. The value is shown as the kernel flags it: a scalar (NSTAT_SYSINFO_FLAG_SCALAR
 * 0x1), a distribution (0x2, a double) or, 10.13+, a string (0x4, valsize > 8; untrusted text,
 * escaped). JSON keeps every form (model/sysinfo.ts).
 */
import { sysinfoToJson, type SysinfoEvent } from '../model/sysinfo.js';
import { escapeTerminal } from './escape.js';
import { clock } from './format-log.js';

const FLAG_DISTRIBUTION = 0x2;
const FLAG_STRING = 0x4;

/** Lines (without newlines) for one sysinfo report. */
export function formatSysinfoLog(ev: SysinfoEvent, opts: { utc?: boolean } = {}): string[] {
  const json = sysinfoToJson(ev);
  const lines = [`S ${clock(ev.time, opts.utc)} SYSINFO ${json.keyvals.length} value${json.keyvals.length === 1 ? '' : 's'}`];
  for (const k of json.keyvals) {
    const value = k.flags & FLAG_STRING && k.text !== undefined ? `text:${escapeTerminal(k.text)}` : k.flags & FLAG_DISTRIBUTION ? String(k.distribution) : String(k.scalar);
    lines.push(`  key:${k.key} ${value}`);
  }
  return lines;
}
