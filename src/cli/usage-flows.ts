/**
 * `ntstat usage --flows`: closed flows read back from the agent's flow log (issue 14). Newest
 * first (by end); with `--top N` the N largest (rx + tx), largest first. `--process` and `--app`
 * take a substring or a /regexp/ as the live views do. Text by default (UTC times), exact numbers
 * with --json (one object per line) or --csv.
 */
import { NtstatError } from '../errors.js';
import type { FlowLogRow } from '../store/flow-log.js';
import type { CliOptions } from './options.js';
import { escapeTerminal } from './escape.js';
import { compileProcessMatcher } from './filters.js';
import { csvField, humanBytes, type UsageArgs } from './usage.js';

export interface FlowArgs {
  match?: (r: FlowLogRow) => boolean;
}

/** --process / --app as a row filter (or a usage error for a bad /regexp/). */
export function flowFilter(o: CliOptions): FlowArgs {
  const proc = o.process;
  const app = typeof o.extra.app === 'string' ? o.extra.app : undefined;
  const compile = (spec: string, flag: string) => {
    try {
      return compileProcessMatcher(spec);
    } catch (e) {
      throw new NtstatError('ERR_NTSTAT_USAGE', `${flag}: ${(e as Error).message}`);
    }
  };
  const p = proc !== undefined ? compile(proc, '--process') : undefined;
  const a = app !== undefined ? compile(app, '--app') : undefined;
  if (!p && !a) return {};
  // A flow's app is its responsible app, or its own process when it has none (as --by app groups).
  return { match: (r) => (!p || p(r.process)) && (!a || a(r.app ?? r.process)) };
}

const COLUMNS = ['start', 'end', 'durationMs', 'process', 'pid', 'app', 'provider', 'local', 'remote', 'interface', 'kind', 'rxBytes', 'txBytes', 'rxPackets', 'txPackets'] as const;

function duration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatFlows(rows: FlowLogRow[], format: UsageArgs['format']): string {
  if (format === 'json') return rows.map((r) => JSON.stringify(r) + '\n').join('');
  if (format === 'csv') return [COLUMNS.join(','), ...rows.map((r) => COLUMNS.map((c) => csvField(r[c])).join(','))].join('\n') + '\n';
  const head = `${'END (UTC)'.padEnd(19)} ${'DURATION'.padStart(8)} ${'PROCESS'.padEnd(20)} ${'PROTO'.padEnd(12)} ${'LOCAL -> REMOTE'.padEnd(48)} ${'IF'.padEnd(8)} ${'RX'.padStart(9)} ${'TX'.padStart(9)}`;
  const lines = rows.map((r) => {
    const who = escapeTerminal(r.app && r.app !== r.process ? `${r.process} (${r.app})` : r.process);
    const ends = `${r.local ?? '?'} -> ${r.remote ?? '-'}`;
    return `${r.end.slice(0, 19).replace('T', ' ')} ${duration(r.durationMs).padStart(8)} ${who.padEnd(20)} ${r.provider.padEnd(12)} ${ends.padEnd(48)} ${escapeTerminal(r.interface).padEnd(8)} ${humanBytes(r.rxBytes).padStart(9)} ${humanBytes(r.txBytes).padStart(9)}`;
  });
  return [head, ...lines].join('\n') + '\n';
}
