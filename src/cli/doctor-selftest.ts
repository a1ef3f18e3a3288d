/**
 * What `ntstat doctor` prints about the layout self-test (issue 12), and `--report FILE`.
 * Kernel-provided text (names, addresses in failed checks) is escaped before it reaches a terminal.
 */
import { writeFileSync } from 'node:fs';
import { NtstatError } from '../errors.js';
import type { SelfTestResult } from '../client/calibration.js';
import { flowName, type LayoutCheck } from '../client/layout-inference.js';
import type { Dialect } from '../protocol/dialect.js';
import { buildReport, type CapturingTransport } from './doctor-report.js';
import { escapeTerminal } from './escape.js';

type Line = (key: string, value: string) => void;

const checkText = (c: LayoutCheck) => escapeTerminal(`${c.message} ${c.field} (${c.flow}): got ${c.got ?? '-'}, want ${c.want ?? '-'}`);

export function printSelfTest(line: Line, r: SelfTestResult | undefined, d: Dialect): void {
  if (!r) {
    line('self-test', d.verified ? 'not run (layout verified against published headers; --self-test runs it anyway)' : 'not run');
    return;
  }
  const flows = r.flows.map(flowName).join(', ');
  if (r.verdict === 'verified') {
    line('self-test', `layout verified by self-test: ${r.checks.length} checks on ${flows}, all passed`);
    return;
  }
  const failed = r.checks.filter((c) => !c.ok);
  line('self-test', `layout INFERRED: the assumed ${r.assumed.family} layout failed ${failed.length} of ${r.checks.length} checks on ${flows}`);
  for (const c of failed.slice(0, 5)) line('  failed', checkText(c));
  if (failed.length > 5) line('  failed', `… and ${failed.length - 5} more`);
  const inf = r.inference!;
  for (const [struct, offs] of Object.entries(inf.offsets)) {
    const text = Object.entries(offs).map(([f, o]) => `${f}@${o}`).join(' ');
    if (text) line('  found', `${struct}: ${text}`);
  }
  for (const [struct, kept] of Object.entries(inf.kept)) {
    const dropped = inf.dropped[struct] ?? [];
    line('  fields', `${struct}: ${kept.length} kept${dropped.length ? `, dropped (never printed): ${dropped.join(' ')}` : ''}`);
  }
  line('  re-verified', `with a second connection: ${r.recheck?.length ?? 0} checks passed`);
  line('  events', 'decoded with this layout carry "layout":"inferred"');
}

export function printRefusal(line: Line, e: NtstatError): void {
  line('self-test', `REFUSED: ${escapeTerminal(e.message)}`);
}

export interface ReportTarget {
  file: string;
  redact: boolean;
  kernelVersion: string;
  label: string;
  dialect: Dialect;
  tool: string;
  capture: CapturingTransport;
}

/** Write the report (never over an existing file); returns the line to print. */
export function writeReport(t: ReportTarget, result: SelfTestResult | undefined, error: NtstatError | undefined): string {
  const report = buildReport({
    kernelVersion: t.kernelVersion,
    label: t.label,
    dialect: t.dialect,
    tool: t.tool,
    records: t.capture.records,
    redact: t.redact,
    ...(result ? { result } : {}),
    ...(error ? { error } : {}),
  });
  try {
    writeFileSync(t.file, `${JSON.stringify(report, null, 1)}\n`, { flag: 'wx' });
  } catch (e) {
    const exists = (e as NodeJS.ErrnoException).code === 'EEXIST';
    throw new NtstatError('ERR_NTSTAT_USAGE', exists ? `${t.file} exists; ntstat does not overwrite reports` : `cannot write ${t.file}: ${(e as Error).message}`);
  }
  return `${t.file}: verdict ${report.verdict}, ${t.capture.records.length} records${t.redact ? ', other processes redacted' : ', NOT redacted (--no-redact)'}`;
}
