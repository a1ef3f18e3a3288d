/**
 * `ntstat doctor --report FILE` (issue 12): what a user on a new macOS attaches to a bug report.
 * Versions, the self-test's verdict and findings (offsets found, fields kept and dropped), and a
 * short ntcap capture of the session (subscription, calibration sweeps, a few more sweeps), with
 * the descriptors of every source that is not a calibration flow blanked (addresses and names of
 * other processes) unless --no-redact. `replayReport` re-runs the self-test on the captured bytes,
 * so a report from a real Mac becomes a regression test.
 */
import { NtstatError } from '../errors.js';
import type { CalibrationFlowFacts, CalibrationFlowMaker } from '../client/calibration-flow.js';
import { replyLayoutProblem, runSelfTest, type SelfTestHost, type SelfTestResult } from '../client/calibration.js';
import { findSockaddr, type LayoutCheck } from '../client/layout-inference.js';
import { MessageType } from '../protocol/constants.js';
import { dialectFor, type Dialect } from '../protocol/dialect.js';
import { decodeDatagram, scanDatagram } from '../protocol/decode.js';
import { Direction, encodeNtcapPreamble, encodeNtcapRecord, parseNtcap } from '../transport/ntcap.js';
import type { Transport, TransportHandlers } from '../transport/transport.js';

export type Verdict = 'verified' | 'inferred' | 'refused' | 'not-run';

export interface LayoutReport {
  format: 'ntstat-layout-report';
  version: 1;
  created: string;
  tool: string;
  node: string;
  platform: string;
  /** The kernel as named to dialectFor (kern.version, --xnu, macos:V). */
  kernel: { version: string; label: string; dialect: string; verifiedByHeaders: boolean };
  verdict: Verdict;
  error?: string;
  checks?: { total: number; failed: LayoutCheck[] };
  inference?: SelfTestResult['inference'];
  /** Every calibration flow made, in order. */
  flows: CalibrationFlowFacts[];
  /** Index ranges [from, to) of the calibration rounds among the capture's kernel records. */
  rounds: [number, number][];
  redacted: boolean;
  /** The session as an ntcap file, base64. */
  capture: string;
}

interface Captured {
  direction: Direction;
  time: bigint;
  data: Uint8Array;
}

/** Keeps a copy of every datagram both ways (the session is short: a few sweeps). */
export class CapturingTransport implements Transport {
  readonly kind: string;
  readonly records: Captured[] = [];
  constructor(private readonly inner: Transport) {
    this.kind = `${inner.kind}+capture`;
  }
  start(handlers: TransportHandlers): void {
    this.inner.start({
      onDatagram: (d, truncated) => {
        this.records.push({ direction: Direction.FromKernel, time: BigInt(Date.now()) * 1_000_000n, data: d.slice() });
        handlers.onDatagram(d, truncated);
      },
      onClose: (err) => handlers.onClose(err),
    });
  }
  send(datagram: Uint8Array): void {
    this.records.push({ direction: Direction.ToKernel, time: BigInt(Date.now()) * 1_000_000n, data: datagram.slice() });
    this.inner.send(datagram);
  }
  pause(): void {
    this.inner.pause();
  }
  resume(): void {
    this.inner.resume();
  }
  setReceiveBufferSize(bytes: number): number | undefined {
    return this.inner.setReceiveBufferSize?.(bytes);
  }
  close(): void {
    this.inner.close();
  }
}

const bytesEqual = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Blank the descriptors of sources that are not calibration flows (other processes' data). */
function redact(data: Uint8Array, d: Dialect, flows: readonly CalibrationFlowFacts[]): Uint8Array {
  const out = data.slice();
  const ours = (m: Uint8Array) => flows.some((f) => f.sides.some((s) => findSockaddr(m, s.local).length > 0));
  const descAt = d.structs.get('nstat_msg_src_description')?.byName.get('data')?.offset ?? 40;
  const updAt = d.structs.get('nstat_msg_src_update')?.byName.get('data')?.offset ?? 152;
  try {
    scanDatagram(data, d, (type, offset, length) => {
      const msg = data.subarray(offset, offset + length);
      const head = type === MessageType.SRC_DESC ? descAt : type === MessageType.SRC_UPDATE || type === MessageType.SRC_EXTENDED_UPDATE ? updAt : undefined;
      if (head !== undefined && !ours(msg)) out.fill(0, offset + Math.min(head, length), offset + length);
    });
  } catch {
    if (!ours(data)) out.fill(0, Math.min(16, out.length)); // unframeable: keep only the header
  }
  return out;
}

export interface ReportInput {
  kernelVersion: string;
  label: string;
  dialect: Dialect;
  tool: string;
  records: Captured[];
  result?: SelfTestResult;
  error?: NtstatError;
  redact: boolean;
}

export function buildReport(i: ReportInput): LayoutReport {
  const flows = i.result?.made ?? [];
  // Where each calibration round sits among the kernel records.
  const fromKernel = i.records.filter((r) => r.direction === Direction.FromKernel);
  const rounds: [number, number][] = [];
  let at = 0;
  for (const round of i.result?.records ?? []) {
    if (round.length === 0) continue;
    const start = fromKernel.findIndex((r, k) => k >= at && bytesEqual(r.data, round[0]));
    if (start < 0) continue;
    rounds.push([start, start + round.length]);
    at = start + round.length;
  }
  const parts = [encodeNtcapPreamble({ xnu: i.label, dialect: i.dialect.family, kernelVersion: i.kernelVersion, tool: i.tool, created: new Date().toISOString() })];
  for (const r of i.records) {
    const data = i.redact && r.direction === Direction.FromKernel ? redact(r.data, i.dialect, flows) : r.data;
    parts.push(encodeNtcapRecord(r.direction, r.time, data));
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  const capture = Buffer.from(all.buffer, all.byteOffset, all.byteLength).toString('base64');
  const verdict: Verdict = i.error?.code === 'ERR_NTSTAT_LAYOUT' ? 'refused' : i.result ? i.result.verdict : 'not-run';
  const report: LayoutReport = {
    format: 'ntstat-layout-report',
    version: 1,
    created: new Date().toISOString(),
    tool: i.tool,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    kernel: { version: i.kernelVersion, label: i.label, dialect: i.dialect.family, verifiedByHeaders: i.dialect.verified },
    verdict,
    flows,
    rounds,
    redacted: i.redact,
    capture,
  };
  if (i.error) report.error = i.error.message;
  if (i.result) report.checks = { total: i.result.checks.length, failed: i.result.checks.filter((c) => !c.ok) };
  if (i.result?.inference) report.inference = i.result.inference;
  return report;
}

/** Re-run the self-test on a report's bytes; returns the verdict it reaches (and the findings). */
export async function replayReport(report: LayoutReport): Promise<{ verdict: Verdict; result?: SelfTestResult; error?: string }> {
  if (report.format !== 'ntstat-layout-report' || report.version !== 1) throw new NtstatError('ERR_NTSTAT_USAGE', 'not an ntstat layout report (version 1)');
  const d = dialectFor(report.kernel.version);
  const kernelRecords: Uint8Array[] = [];
  for (const r of parseNtcap(new Uint8Array(Buffer.from(report.capture, 'base64'))).records()) if (r.direction === Direction.FromKernel) kernelRecords.push(r.data);
  // The header check the client makes on every reply.
  for (const rec of kernelRecords) {
    let msgs;
    try {
      msgs = decodeDatagram(rec, d, { unknownTypes: 'skip' });
    } catch {
      continue;
    }
    for (const m of msgs) {
      const problem = d.verified ? undefined : replyLayoutProblem(m);
      if (problem) return { verdict: 'refused', error: problem };
    }
  }
  if (report.rounds.length === 0) return { verdict: 'not-run' };
  let round = -1;
  let deliver: ((d: Uint8Array) => void) | undefined;
  let delivered = false;
  const host: SelfTestHost = {
    dialect: d,
    watches: () => true,
    capture(fn) {
      if (fn) {
        round++;
        delivered = false;
      }
      deliver = fn;
    },
    async poll() {
      if (!delivered && deliver && report.rounds[round]) {
        const [from, to] = report.rounds[round];
        for (const rec of kernelRecords.slice(from, to)) deliver(rec);
      }
      delivered = true;
      return true;
    },
  };
  const used = new Set<number>();
  const maker: CalibrationFlowMaker = async (req) => {
    const k = report.flows.findIndex((f, n) => !used.has(n) && f.proto === req.proto && f.family === req.family && f.sides[0].txBytes === req.a && f.sides[0].rxBytes === req.b);
    if (k < 0) return undefined;
    used.add(k);
    return { facts: report.flows[k], close: async () => undefined };
  };
  try {
    const result = await runSelfTest(host, maker);
    return { verdict: result.verdict, result };
  } catch (e) {
    if (e instanceof NtstatError && e.code === 'ERR_NTSTAT_LAYOUT') return { verdict: 'refused', error: e.message };
    throw e;
  }
}
