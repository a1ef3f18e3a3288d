/**
 * The layout self-test ("calibration", issue 12). On a kernel whose layout no published header
 * proves (`dialect.verified === false`), or on demand, the client makes flows whose every fact it
 * knows (calibration-flow.ts), sweeps, finds their messages by content and checks each known
 * value as decoded with the assumed layout. All pass: "layout verified by self-test". Otherwise
 * the offsets are derived from the bytes (layout-inference.ts), the adjusted layout is re-checked
 * with a second flow and used with every unplaced field left out; if that fails, or the header
 * itself does not check out, the client stops with ERR_NTSTAT_LAYOUT: a clear refusal beats a
 * wrong number.
 */
import { NtstatError } from '../errors.js';
import type { Dialect } from '../protocol/dialect.js';
import { scanDatagram } from '../protocol/decode.js';
import type { Message } from '../protocol/messages.js';
import type { CalibrationFlow, CalibrationFlowFacts, CalibrationFlowMaker, CalibrationFlowRequest } from './calibration-flow.js';
import { checkFlow, findSide, flowName, inferDialect, type LayoutCheck, type RawMessage, type SideMessages } from './layout-inference.js';

export type SelfTestMode = 'auto' | 'always' | 'never';

/** What the client needs to give the self-test: its polls and a view of the raw records. */
export interface SelfTestHost {
  readonly dialect: Dialect;
  /** One complete ALL poll; its records reach the capture callback. */
  poll(kind: 'getUpdate' | 'getSrcDesc' | 'querySrc'): Promise<boolean>;
  capture(onDatagram: ((datagram: Uint8Array) => void) | undefined): void;
  /** The provider group was subscribed. */
  watches(group: 'tcp' | 'udp'): boolean;
}

export interface SelfTestResult {
  verdict: 'verified' | 'inferred';
  /** The dialect to decode with from now on (the assumed one when verified). */
  dialect: Dialect;
  /** The dialect assumed before the test. */
  assumed: { family: string; xnu: string; kernel?: string; verified: boolean };
  flows: CalibrationFlowFacts[];
  /** Every check with the assumed layout. */
  checks: LayoutCheck[];
  /** When inferred: offsets found, fields kept and dropped per struct. */
  inference?: { offsets: Record<string, Record<string, number>>; kept: Record<string, string[]>; dropped: Record<string, string[]> };
  /** When inferred: the checks of the second flow with the adjusted layout. */
  recheck?: LayoutCheck[];
  /** Every flow made, in order (a report replays the test with them). */
  made: CalibrationFlowFacts[];
  /** The raw records of each calibration round (for `doctor --report`). */
  records: Uint8Array[][];
}

/** Distinct, uneven byte counts (each must differ from the other flows' and from its reverse). */
const FLOWS: CalibrationFlowRequest[] = [
  { proto: 'tcp', family: 4, a: 4099, b: 6151 },
  { proto: 'tcp', family: 6, a: 4253, b: 6311 },
  { proto: 'udp', family: 4, a: 1157, b: 1733 },
];
const SECOND: CalibrationFlowRequest = { proto: 'tcp', family: 4, a: 3359, b: 5527 };

function layoutError(message: string): NtstatError {
  // The code leads the text: the CLI prints messages, and this one must be recognisable.
  return new NtstatError('ERR_NTSTAT_LAYOUT', `ERR_NTSTAT_LAYOUT: ${message}`);
}

/**
 * A reply that cannot be right if the assumed header is: SUCCESS is a bare header in every
 * dialect; an ERROR carries a non-zero errno and (10.11+) echoes the failed request, which starts
 * with the request's context (BEHAVIOUR.md §2.1, `nstat_control_send`).
 */
export function replyLayoutProblem(m: Message): string | undefined {
  if (m.kind === 'success' && m.trailing) return `a SUCCESS reply of ${16 + m.trailing} bytes (a bare header is 16): the message header changed`;
  if (m.kind === 'error') {
    if (m.errno === 0) return 'an ERROR reply with errno 0: the message header changed';
    if (m.request && m.request.length >= 8 && new DataView(m.request.buffer, m.request.byteOffset).getBigUint64(0, true) !== m.context) {
      return 'an ERROR reply whose echoed request does not start with its context: the message header changed';
    }
  }
  return undefined;
}

interface Collected {
  messages: RawMessage[];
  records: Uint8Array[];
  framing?: string;
}

async function collect(host: SelfTestHost): Promise<Collected> {
  const out: Collected = { messages: [], records: [] };
  host.capture((datagram) => {
    out.records.push(datagram.slice());
    try {
      scanDatagram(datagram, host.dialect, (type, offset, length) => out.messages.push({ type, bytes: datagram.slice(offset, offset + length) }));
    } catch (e) {
      out.framing ??= (e as Error).message;
    }
  });
  try {
    if (host.dialect.constants['NSTAT_MSG_TYPE_GET_UPDATE'] !== undefined) await host.poll('getUpdate');
    await host.poll('getSrcDesc');
    await host.poll('querySrc');
  } finally {
    host.capture(undefined);
  }
  return out;
}

const failed = (checks: LayoutCheck[]) =>
  checks
    .filter((c) => !c.ok)
    .slice(0, 6)
    .map((c) => `${c.message} ${c.field} (${c.flow}): got ${c.got ?? '?'}, want ${c.want ?? '?'}`)
    .join('; ');

interface Seen {
  flow: CalibrationFlowFacts;
  msgs: SideMessages[];
}

function locate(flows: CalibrationFlowFacts[], c: Collected): Seen[] {
  return flows.map((flow) => ({ flow, msgs: flow.sides.map((s) => findSide(c.messages, s)) }));
}

const reported = (s: Seen) => s.msgs.every((m) => m.update || m.desc);

export async function runSelfTest(host: SelfTestHost, maker: CalibrationFlowMaker): Promise<SelfTestResult> {
  const d = host.dialect;
  const made: CalibrationFlow[] = [];
  try {
    for (const req of FLOWS) {
      if (!host.watches(req.proto)) continue;
      const f = await maker(req);
      if (f) made.push(f);
    }
    const tcp4 = made.find((f) => f.facts.proto === 'tcp' && f.facts.family === 4);
    if (!tcp4) throw layoutError('the self-test could not make a loopback TCP connection (127.0.0.1), so the layout cannot be checked');
    const first = await collect(host);
    if (first.framing) throw layoutError(`records do not frame with the assumed message header: ${first.framing}`);
    const seen = locate(
      made.map((f) => f.facts),
      first,
    ).filter((s) => s.flow === tcp4.facts || reported(s));
    const main = seen.find((s) => s.flow === tcp4.facts)!;
    if (!reported(main)) {
      const [c] = tcp4.facts.sides;
      throw layoutError(`the self-test connection ${c.local.address}:${c.local.port} -> ${c.remote.address}:${c.remote.port} was not found in any of ${first.messages.length} messages: the layout cannot be checked`);
    }
    const checks = seen.flatMap((s) => checkFlow(d, s.flow, s.msgs));
    const assumed = { family: d.family, xnu: d.xnu, verified: d.verified, ...(d.kernel ? { kernel: d.kernel } : {}) };
    const flows = seen.map((s) => s.flow);
    if (checks.every((c) => c.ok)) return { verdict: 'verified', dialect: d, assumed, flows, checks, made: made.map((f) => f.facts), records: [first.records] };
    const udp = seen.find((s) => s.flow.proto === 'udp');
    const inf = inferDialect(d, main, udp);
    if (inf.problem) throw layoutError(`the assumed layout failed the self-test (${failed(checks)}) and no layout could be inferred: ${inf.problem}`);
    // Re-verify with a second flow (new bytes, new ports) and the flows already open.
    const second = await maker(SECOND);
    if (!second) throw layoutError('the self-test could not make its second connection to confirm the inferred layout');
    made.push(second);
    const again = await collect(host);
    const seen2 = locate([second.facts, ...flows.filter((f) => f !== tcp4.facts)], again);
    if (!reported(seen2[0])) throw layoutError(`the second self-test connection (${flowName(second.facts)}) was not reported`);
    const recheck = seen2.filter(reported).flatMap((s) => checkFlow(inf.dialect, s.flow, s.msgs));
    if (recheck.some((c) => !c.ok)) throw layoutError(`the inferred layout failed on a second connection: ${failed(recheck)}`);
    return {
      verdict: 'inferred',
      dialect: inf.dialect,
      assumed,
      flows: [...flows, second.facts],
      checks,
      inference: { offsets: inf.offsets, kept: inf.kept, dropped: inf.dropped },
      recheck,
      made: made.map((f) => f.facts),
      records: [first.records, again.records],
    };
  } finally {
    for (const f of made) await f.close().catch(() => undefined);
  }
}

/** One line for users: the verdict and, when inferred, what was kept and dropped. */
export function selfTestSummary(r: SelfTestResult): string {
  if (r.verdict === 'verified') return `layout verified by self-test (${r.checks.length} checks on ${r.flows.map(flowName).join(', ')})`;
  const dropped = Object.entries(r.inference!.dropped)
    .filter(([, v]) => v.length > 0)
    .map(([k, v]) => `${k}: ${v.join(' ')}`)
    .join('; ');
  return `layout INFERRED by self-test (the assumed ${r.assumed.family} layout failed: ${failed(r.checks)}); fields not placed are omitted: ${dropped || 'none'}`;
}
