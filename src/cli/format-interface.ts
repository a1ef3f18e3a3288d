/**
 * Interface events as log lines (issue 13 §2), in the log's own style: `+`/`#`/`-`, the time,
 * `IFNET name index:N kind`, the link report when there is one, and the bytes line with the
 * kernel's 64-bit counters. Names and descriptions come from the kernel: escaped for the terminal.
 */
import type { InterfaceEvent, InterfaceStat } from '../model/interface.js';
import { escapeTerminal } from './escape.js';
import { clock, type LogFormatOptions } from './format-log.js';

/** `wifi`, `cellular quality:50` …: the link report's type and its quality metric when valid. */
export function linkText(i: InterfaceStat): string {
  if (i.link.type === 'none') return '';
  const q = i.link.fields?.linkQualityMetric;
  return q === undefined ? i.link.type : `${i.link.type} quality:${q}`;
}

function describe(i: InterfaceStat): string {
  const link = linkText(i);
  return `IFNET ${escapeTerminal(i.name ?? '?')} index:${i.index} ${i.kind}${link ? ` link:${link}` : ''}`;
}

function bytesLine(i: InterfaceStat): string {
  return `  bytes (tx/rx):${i.txBytes}/${i.rxBytes}  packets:${i.txPackets}/${i.rxPackets}`;
}

export function formatInterfaceLog(ev: InterfaceEvent, opts: LogFormatOptions = {}): string[] {
  const t = clock(ev.time, opts.utc);
  const i = ev.interface;
  switch (ev.change) {
    case 'added':
      return [`${ev.initial ? ' ' : ''}+ ${t} ${describe(i)}`, bytesLine(i)];
    case 'update':
      return [`# ${t} ${describe(i)}`, bytesLine(i)];
    case 'removed':
      return [`- ${t} ${describe(i)}`, bytesLine(i)];
  }
}
