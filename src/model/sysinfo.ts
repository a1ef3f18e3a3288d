/**
 * SYSINFO_COUNTS as events (issue 13 §2): after SUBSCRIBE_SYSINFO (always privileged, BEHAVIOUR.md
 * §2.8, §5.8) the kernel pushes key/flags/value records when a subsystem report is due (TCP stats
 * every 12 h, low-internet stats, net API stats…). They are not about a source, so they are their
 * own event: `{event: "sysinfo", time, keyvals: [{key, flags, scalar, distribution, text?}]}`.
 */
import type { SysinfoKeyval } from '../protocol/messages.js';

export interface SysinfoEvent {
  /** ms since epoch (the client's clock). */
  time: number;
  keyvals: readonly SysinfoKeyval[];
}

export interface JsonSysinfoValue {
  key: number;
  flags: number;
  /** The value as a signed 64-bit scalar (a decimal string beyond 2^53). */
  scalar: number | string;
  distribution: number;
  /** 10.13+ string values (valsize > 8): the bytes up to the first NUL. */
  text?: string;
}

export interface JsonSysinfoEvent {
  event: 'sysinfo';
  time: string;
  keyvals: JsonSysinfoValue[];
}

export function sysinfoToJson(ev: SysinfoEvent): JsonSysinfoEvent {
  return {
    event: 'sysinfo',
    time: new Date(ev.time).toISOString(),
    keyvals: ev.keyvals.map((k) => {
      const safe = k.scalar >= BigInt(Number.MIN_SAFE_INTEGER) && k.scalar <= BigInt(Number.MAX_SAFE_INTEGER);
      const v: JsonSysinfoValue = { key: k.key, flags: k.flags, scalar: safe ? Number(k.scalar) : k.scalar.toString(), distribution: k.distribution };
      if (k.valsize !== undefined && k.valsize > 8) {
        const end = k.value.indexOf(0);
        v.text = new TextDecoder().decode(k.value.subarray(0, end < 0 ? Math.min(k.valsize, k.value.length) : end));
      }
      return v;
    }),
  };
}
