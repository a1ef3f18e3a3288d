/**
 * Hostile inputs for the fuzz, storm and soak tests (not a test file itself):
 *  - `simulatorCorpus(xnu)`: valid kernel records of one dialect as the simulator queues them
 *    (aggregated batches, ERROR echoes, CLOSING goodbyes, SRC_REMOVED, extended updates, sysinfo),
 *    plus encoded requests;
 *  - `mutate(bytes, ops)`: a small, shrinkable mutation language (fast-check generates the ops);
 *  - `checkDecode`: the decoder's invariants (only NtstatError MALFORMED/RANGE with an in-range
 *    offset, bounded time, output no larger than the input);
 *  - `ScriptedKernel`: a KernelEndpoint that answers the client's requests with whatever a script
 *    says (truncated records, lies, silence);
 *  - `TableOracle`: which srcrefs a client may legitimately hold after a stream of records;
 *  - `FaultyEndpoint`: wraps a Simulator and injects faults (ERROR storms, duplicates, foreign
 *    SRC_REMOVED, drops, truncation, a close in the middle of a sweep).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NtstatError, type NtstatErrorCode } from '../../src/errors.js';
import {
  HeaderFlag,
  MessageType,
  decodeDatagram,
  dialectFor,
  encodeMessage,
  encodeRequest,
  srcrefAll,
  type Dialect,
  type Message,
  type Request,
} from '../../src/protocol/index.js';
import { Rng, SimKernel, type Simulator } from '../../src/simulator/index.js';
import { simulatorEndpoint, type KernelEndpoint, type KernelRecord } from '../../src/transport/memory.js';

export { Rng };

/** Every NtstatError code (src/errors.ts); anything else thrown is a bug. */
export const KNOWN_CODES: ReadonlySet<NtstatErrorCode> = new Set<NtstatErrorCode>([
  'ERR_NTSTAT_MALFORMED',
  'ERR_NTSTAT_RANGE',
  'ERR_NTSTAT_UNKNOWN_VERSION',
  'ERR_NTSTAT_UNSUPPORTED',
  'ERR_NTSTAT_UNSUPPORTED_OS',
  'ERR_NTSTAT_PERMISSION',
  'ERR_NTSTAT_KERNEL',
  'ERR_NTSTAT_TRANSPORT',
  'ERR_NTSTAT_NATIVE',
  'ERR_NTSTAT_CAPTURE',
  'ERR_NTSTAT_USAGE',
  'ERR_NTSTAT_CLOSED',
  'ERR_NTSTAT_TIMEOUT',
]);

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function unhex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Wall-clock deadlines are hang detectors only, never speed claims (speed belongs in
 * `npm run bench`): `ms` is what the step normally needs on an idle machine, and the deadline is
 * HANG_MARGIN times that, so a loaded 2-core CI box (load ~7) cannot turn slowness into a failure.
 * What bounds the work itself (chunks, retries, simulated time) is asserted by the tests.
 */
export const HANG_MARGIN = 10;

/** Reject after HANG_MARGIN × `ms` of wall time: a promise that does not settle is a hang. */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = ms * HANG_MARGIN;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`HANG: ${what} did not settle within ${limit} ms`)), limit);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// Corpus: valid records from the simulated kernel

export interface Corpus {
  dialect: Dialect;
  /** Kernel records exactly as queued (each one recv()), deduplicated by shape, capped. */
  records: Uint8Array[];
  /** Records holding more than one message (aggregated batches), 10.11+. */
  aggregates: Uint8Array[];
  /**
   * Small valid records cut from the real ones: every distinct single message, and runs of 2–3
   * consecutive messages of aggregated batches (aggregation is plain concatenation). Cheap to
   * decode, so most mutations start here.
   */
  small: Uint8Array[];
  /** Encoded requests of every kind the dialect has. */
  requests: Uint8Array[];
  /** Decoded messages of the records, as templates to re-encode with other srcrefs/flags. */
  templates: Message[];
  /** Message types seen, for the report. */
  types: Map<number, number>;
}

const corpusCache = new Map<string, Corpus>();

function recordShape(d: Dialect, b: Uint8Array): string {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (!d.hasLength) return `${dv.getUint32(8, true)}:${b.length}`;
  const parts: string[] = [];
  for (let at = 0; at + 16 <= b.length && parts.length < 8; ) {
    const len = dv.getUint16(at + 12, true);
    parts.push(`${dv.getUint32(at + 8, true)}/${len}/${dv.getUint16(at + 14, true)}`);
    if (len < 16) break;
    at += len;
  }
  return parts.join(',');
}

/**
 * Valid records for one header version, produced by the simulator running `browser-burst` and
 * `udp-heavy` as root (extensions, sysinfo), with walks, goodbyes, single and ALL polls of every
 * kind, aggregated and direct, paced and not, and rejected requests (ERROR with echo).
 */
export function simulatorCorpus(xnu: string, maxRecords = 240): Corpus {
  const cached = corpusCache.get(`${xnu}/${maxRecords}`);
  if (cached) return cached;
  const shapes = new Map<string, number>();
  const records: Uint8Array[] = [];
  let dialect: Dialect | undefined;
  const types = new Map<number, number>();
  const keep = (b: Uint8Array, d: Dialect) => {
    const s = recordShape(d, b);
    const n = shapes.get(s) ?? 0;
    if (n >= 3) return;
    shapes.set(s, n + 1);
    records.push(b);
  };
  for (const [scenario, seed] of [
    ['browser-burst', 5],
    ['udp-heavy', 6],
    ['bare', 7],
  ] as const) {
    if (scenario === 'bare' && dialectFor(xnu).constants['NSTAT_MSG_TYPE_SUBSCRIBE_SYSINFO'] === undefined) continue;
    const kernel = new SimKernel({ dialect: xnu, scenario, seed, scale: 0.2, sysinfoIntervalMs: 400 });
    dialect = kernel.dialect;
    const d = kernel.dialect;
    kernel.advance(800);
    const sim = kernel.connect({ root: true });
    sim.setReceiveBufferSize(1 << 20);
    const drain = () => {
      for (let r = sim.recv(65536); r; r = sim.recv(65536)) if (!r.truncated) keep(r.data, d);
    };
    let ctx = 1n;
    const send = (req: Request) => {
      try {
        sim.send(encodeRequest(d, req));
      } catch {
        // send(2) failures are part of the model; nothing queued
      }
      drain();
    };
    const ids = Object.values(sim.profile.providers).filter((x): x is number => typeof x === 'number');
    // The second run asks for every extension (B13+: SRC_EXTENDED_UPDATE with items).
    const shift = d.constants['NSTAT_FILTER_ALLOWED_EXTENSIONS_SHIFT'];
    const filter = scenario === 'udp-heavy' && shift !== undefined ? 0xffn << BigInt(Number(shift)) : 0n;
    for (const provider of ids) send({ kind: 'addAllSrcs', context: ctx++, flags: 0, provider, filter, events: 0n, targetPid: 0 });
    send({ kind: 'addAllSrcs', context: ctx++, flags: 0, provider: 77, filter: 0n, events: 0n, targetPid: 0 }); // ERROR ENOENT (+ echo)
    if (d.constants['NSTAT_MSG_TYPE_SUBSCRIBE_SYSINFO'] !== undefined) send({ kind: 'subscribeSysinfo', context: ctx++, flags: 0 });
    const all = srcrefAll(d);
    const polls: ('querySrc' | 'getSrcDesc' | 'getUpdate')[] = ['getSrcDesc', 'querySrc'];
    if (d.constants['NSTAT_MSG_TYPE_GET_UPDATE'] !== undefined) polls.push('getUpdate');
    const flagSets = d.hasLength ? [0, HeaderFlag.SUPPORTS_AGGREGATE, HeaderFlag.SUPPORTS_AGGREGATE | HeaderFlag.CONTINUATION, HeaderFlag.CONTINUATION] : [0];
    for (let round = 0; round < 3; round++) {
      kernel.advance(350);
      drain();
      for (const kind of polls) {
        for (const flags of flagSets) {
          const c = ctx++;
          for (let chunk = 0; chunk < 4; chunk++) send({ kind, context: c, flags, srcref: all });
        }
        // Single-source polls (silent successes) and an unknown srcref (ERROR ENOENT).
        send({ kind, context: ctx++, flags: 0, srcref: 1n });
        send({ kind, context: ctx++, flags: 0, srcref: 3n });
        send({ kind, context: ctx++, flags: 0, srcref: d.srcrefSize === 8 ? 0x7fff_0000_0000n : 0x7fff_0000n });
      }
    }
    send({ kind: 'remSrc', context: ctx++, flags: 0, srcref: 2n });
    kernel.advance(1200);
    drain();
    // The idle check (every 60 s) reaps and sends the sysinfo report (an idle world: cheap).
    if (scenario === 'bare') {
      for (let i = 0; i < 31; i++) {
        kernel.advance(2000);
        drain();
      }
    }
    sim.close();
  }
  const d = dialect!;
  // Take every shape once before repeats, then cap.
  const firstOfShape = new Map<string, Uint8Array>();
  const rest: Uint8Array[] = [];
  for (const r of records) {
    const s = recordShape(d, r);
    if (!firstOfShape.has(s)) firstOfShape.set(s, r);
    else rest.push(r);
  }
  const picked = [...firstOfShape.values(), ...rest].slice(0, maxRecords);
  const templates: Message[] = [];
  const aggregates: Uint8Array[] = [];
  for (const r of picked) {
    const ms = decodeDatagram(r, d);
    if (ms.length > 1) aggregates.push(r);
    for (const m of ms) templates.push(m);
    const dv = new DataView(r.buffer, r.byteOffset, r.byteLength);
    for (let at = 0; at + 16 <= r.length; ) {
      const t = dv.getUint32(at + 8, true);
      types.set(t, (types.get(t) ?? 0) + 1);
      if (!d.hasLength) break;
      at += dv.getUint16(at + 12, true);
    }
  }
  const small: Uint8Array[] = [];
  const smallShapes = new Set<string>();
  const addSmall = (b: Uint8Array) => {
    const sh = recordShape(d, b);
    if (smallShapes.has(sh) && small.length > 40) return;
    smallShapes.add(sh);
    small.push(b);
  };
  for (const r of picked) {
    const spans: [number, number][] = [];
    eachMessage(d, r, (at, _t, len) => spans.push([at, at + len]));
    for (let i = 0; i < spans.length; i++) {
      addSmall(r.slice(spans[i][0], spans[i][1]));
      if (i + 1 < spans.length && i % 3 === 0) addSmall(r.slice(spans[i][0], spans[i + 1][1]));
      if (i + 2 < spans.length && i % 5 === 0) addSmall(r.slice(spans[i][0], spans[i + 2][1]));
    }
  }
  const requests: Uint8Array[] = [];
  const reqs: Request[] = [
    { kind: 'addAllSrcs', context: 9n, flags: 0, provider: 2, filter: 0n, events: 0n, targetPid: 0 },
    { kind: 'remSrc', context: 9n, flags: 0, srcref: 5n },
    { kind: 'querySrc', context: 9n, flags: 0, srcref: srcrefAll(d) },
    { kind: 'getSrcDesc', context: 9n, flags: 0, srcref: 5n },
    { kind: 'addSrc', context: 9n, flags: 0, provider: 1, param: new Uint8Array(16) },
  ];
  if (d.constants['NSTAT_MSG_TYPE_GET_UPDATE'] !== undefined) reqs.push({ kind: 'getUpdate', context: 9n, flags: HeaderFlag.CONTINUATION, srcref: srcrefAll(d) });
  if (d.constants['NSTAT_MSG_TYPE_SET_FILTER'] !== undefined) reqs.push({ kind: 'setFilter', context: 9n, flags: 0, srcref: 5n, filter: 1 });
  if (d.constants['NSTAT_MSG_TYPE_SUBSCRIBE_SYSINFO'] !== undefined) reqs.push({ kind: 'subscribeSysinfo', context: 9n, flags: 0 });
  for (const r of reqs) {
    try {
      requests.push(encodeRequest(d, r));
    } catch {
      // a request this dialect cannot express
    }
  }
  const corpus: Corpus = { dialect: d, records: picked, aggregates, small, requests, templates, types };
  corpusCache.set(`${xnu}/${maxRecords}`, corpus);
  return corpus;
}

// ---------------------------------------------------------------------------------------------
// Mutations

/** One mutation: [operation, a, b]; operands are taken modulo whatever they index. */
export type MutOp = [op: number, a: number, b: number];
export const MUT_OPS = 16;

const I16 = [0, 1, 8, 15, 16, 17, 24, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff];
const I32 = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 1000, 1001, 1002, 1003, 1004, 1005,
  1006, 1007, 1008, 10001, 10002, 10003, 10004, 10005, 10006, 10007, 4242,
];
const I64 = [0n, 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n];
const TYPES = [0, 1, 2, 999, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 10001, 10002, 10003, 10004, 10005, 10006, 10007, 10008, 0xffffffff];
const FLAGS = [0, 1, 2, 4, 8, 0x10, 0x40, 6, 0xc, 0xffff];

/** Message boundaries of a (possibly already corrupt) datagram: start offsets. */
function messageStarts(b: Uint8Array, hasLength: boolean): number[] {
  if (!hasLength || b.length < 16) return [0];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: number[] = [];
  for (let at = 0; at + 16 <= b.length && out.length < 64; ) {
    out.push(at);
    const len = dv.getUint16(at + 12, true);
    if (len < 16) break;
    at += len;
  }
  return out;
}

function bytesFrom(seed: number, n: number): Uint8Array {
  const r = new Rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (r.next() * 256) | 0;
  return out;
}

/**
 * Apply `ops` to a copy of `src`. `others` supplies datagrams to splice in (other records of the
 * corpus). Each op is total: any operands are valid.
 */
export function mutate(src: Uint8Array, ops: readonly MutOp[], hasLength: boolean, others: readonly Uint8Array[] = []): Uint8Array {
  let b: Uint8Array = src.slice();
  for (const [op, a, c] of ops) {
    const len = b.length;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    switch (op % MUT_OPS) {
      case 0: // flip a bit
        if (len) b[a % len] ^= 1 << (c & 7);
        break;
      case 1: // set a byte
        if (len) b[a % len] = c & 0xff;
        break;
      case 2: // interesting u16 (length-like values near the size too)
        if (len >= 2) {
          const vals = [...I16, len - 1, len, len + 1];
          dv.setUint16((a % (len - 1)) & ~1, vals[c % vals.length] & 0xffff, true);
        }
        break;
      case 3: // interesting u32
        if (len >= 4) dv.setUint32((a % (len - 3)) & ~3, I32[c % I32.length] >>> 0, true);
        break;
      case 4: // interesting u64 (counters, srcrefs, contexts)
        if (len >= 8) dv.setBigUint64((a % (len - 7)) & ~7, I64[c % I64.length], true);
        break;
      case 5: {
        // header field of the k-th message: length, type, flags, context
        const starts = messageStarts(b, hasLength);
        const at = starts[a % starts.length];
        if (at + 16 > len) break;
        const which = c % 4;
        const v = c >>> 2;
        if (which === 0 && hasLength) {
          const vals = [0, 1, 15, 16, 17, len - at - 1, len - at, len - at + 1, 0xffff, dv.getUint16(at + 12, true) + 8, dv.getUint16(at + 12, true) - 8];
          dv.setUint16(at + 12, vals[v % vals.length] & 0xffff, true);
        } else if (which === 1) dv.setUint32(at + 8, TYPES[v % TYPES.length] >>> 0, true);
        else if (which === 2 && hasLength) dv.setUint16(at + 14, FLAGS[v % FLAGS.length], true);
        else dv.setBigUint64(at, I64[v % I64.length], true);
        break;
      }
      case 6: // truncate
        b = b.slice(0, a % (len + 1));
        break;
      case 7: // append bytes
        b = concat(b, bytesFrom(a, c % 72));
        break;
      case 8: {
        // duplicate a slice at the end (or a whole message when aligned)
        if (!len) break;
        const s = a % len;
        b = concat(b, b.slice(s, s + (c % 256)));
        break;
      }
      case 9: {
        // delete a slice
        if (!len) break;
        const s = a % len;
        b = concat(b.subarray(0, s), b.subarray(Math.min(len, s + 1 + (c % 64))));
        break;
      }
      case 10: // splice another record after this one (an aggregate of two records)
        if (others.length) b = concat(b, others[a % others.length]);
        break;
      case 11: {
        // swap / duplicate whole messages in an aggregate
        const starts = messageStarts(b, hasLength);
        if (starts.length < 2) break;
        const i = a % starts.length;
        const j = c % starts.length;
        const end = (k: number) => (k + 1 < starts.length ? starts[k + 1] : len);
        const mi = b.slice(starts[i], end(i));
        const mj = b.slice(starts[j], end(j));
        if (i === j) b = concat(b.subarray(0, end(i)), mi, b.subarray(end(i)));
        else {
          const [x, y] = i < j ? [i, j] : [j, i];
          const mx = x === i ? mi : mj;
          const my = x === i ? mj : mi;
          b = concat(b.subarray(0, starts[x]), my, b.subarray(end(x), starts[y]), mx, b.subarray(end(y)));
        }
        break;
      }
      case 12: // zero a run
        if (len) b.fill(0, a % len, (a % len) + 1 + (c % 32));
        break;
      case 13: // 0xff run
        if (len) b.fill(0xff, a % len, (a % len) + 1 + (c % 16));
        break;
      case 14: // random run
        if (len) {
          const s = a % len;
          b.set(bytesFrom(c, Math.min(len - s, 1 + (c % 24))), s);
        }
        break;
      case 15: // replace with another record's prefix (cross-message confusion)
        if (others.length) {
          const o = others[a % others.length];
          b = concat(o.subarray(0, c % (o.length + 1)), b.subarray(Math.min(len, c % (o.length + 1))));
        }
        break;
    }
  }
  return b;
}

// ---------------------------------------------------------------------------------------------
// Decoder invariants

export interface DecodeCheck {
  ok: boolean;
  messages?: Message[];
  error?: NtstatError;
  ms: number;
}

/** Bytes held by Uint8Arrays reachable from decoded messages (shallow: depth 3). */
export function outputBytes(ms: readonly Message[], input: Uint8Array): number {
  let n = 0;
  const seen = new Set<ArrayBufferLike>();
  const visit = (v: unknown, depth: number) => {
    if (v instanceof Uint8Array) {
      // A view of the input itself allocates nothing new.
      if (v.buffer === input.buffer) return;
      if (!seen.has(v.buffer)) {
        seen.add(v.buffer);
        n += v.buffer.byteLength;
      }
      return;
    }
    if (depth <= 0 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) for (const x of v) visit(x, depth - 1);
    else for (const k in v as Record<string, unknown>) visit((v as Record<string, unknown>)[k], depth - 1);
  };
  for (const m of ms) visit(m, 4);
  return n;
}

export class InvariantError extends Error {
  constructor(
    message: string,
    readonly input?: Uint8Array,
  ) {
    super(message);
    this.name = 'InvariantError';
  }
}

const DECODE_CODES = new Set(['ERR_NTSTAT_MALFORMED', 'ERR_NTSTAT_RANGE']);

/**
 * decodeDatagram under the invariants: returns, or throws NtstatError MALFORMED/RANGE with an
 * offset inside the input; the output holds no more bytes than the input; and it returns at all
 * (`maxMs` + 20 µs per byte is a hang guard, not a speed test: a loaded 2-core machine once took
 * 298 ms for one 1 331-byte case under GC, so the budget is the suite's usual 5 s. Speed lives in
 * `npm run bench`). Violations throw InvariantError.
 */
export function checkDecode(bytes: Uint8Array, d: Dialect, skip: boolean, maxMs = 5000): DecodeCheck {
  const t0 = performance.now();
  let messages: Message[] | undefined;
  let error: NtstatError | undefined;
  try {
    messages = decodeDatagram(bytes, d, skip ? { unknownTypes: 'skip' } : {});
  } catch (e) {
    if (!(e instanceof NtstatError)) throw new InvariantError(`decode threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} (not an NtstatError)`, bytes);
    if (!DECODE_CODES.has(e.code)) throw new InvariantError(`decode threw ${e.code}: ${e.message}`, bytes);
    if (typeof e.offset !== 'number' || e.offset < 0 || e.offset > bytes.length) throw new InvariantError(`offset ${String(e.offset)} outside the ${bytes.length}-byte input: ${e.message}`, bytes);
    error = e;
  }
  const ms = performance.now() - t0;
  if (ms > maxMs + bytes.length * 0.02) throw new InvariantError(`decode of ${bytes.length} bytes took ${ms.toFixed(1)} ms`, bytes);
  if (messages) {
    const out = outputBytes(messages, bytes);
    if (out > bytes.length) throw new InvariantError(`decoded output holds ${out} bytes for a ${bytes.length}-byte input`, bytes);
    return { ok: true, messages, ms };
  }
  return { ok: false, error, ms };
}

// ---------------------------------------------------------------------------------------------
// A scripted kernel for the client

export interface Delivered {
  data: Uint8Array;
  truncated: boolean;
}

/**
 * A KernelEndpoint that plays the kernel by script: every request the client sends is decoded
 * (the client must never send a malformed request) and handed to `respond`, which queues
 * whatever records it likes with `push` (synchronously, like the kernel, or later).
 * `delivered` is what the client's reader actually received, after truncation.
 */
export class ScriptedKernel implements KernelEndpoint {
  private readonly queue: Delivered[] = [];
  private readonly readable = new Set<() => void>();
  private readonly closers: (() => void)[] = [];
  readonly requests: Message[] = [];
  readonly delivered: Delivered[] = [];
  readonly violations: string[] = [];
  closed = false;
  respond: (req: Message, k: ScriptedKernel) => void = () => undefined;
  rcvbuf = 8192;
  /** Throw this errno from setsockopt(SO_RCVBUF) (e.g. 55 ENOBUFS), or undefined. */
  rcvbufErrno?: number;
  /** Called with each record as the client's reader takes it (before the client handles it). */
  onDeliver?: (r: Delivered) => void;

  constructor(readonly dialect: Dialect) {}

  push(data: Uint8Array, truncated = false): void {
    if (this.closed) return;
    this.queue.push({ data, truncated });
    for (const f of this.readable) f();
  }

  get queued(): number {
    return this.queue.length;
  }

  send(datagram: Uint8Array): void {
    if (this.closed) throw Object.assign(new Error('closed'), { errno: 57 });
    let ms: Message[];
    try {
      ms = decodeDatagram(datagram, this.dialect);
    } catch (e) {
      this.violations.push(`client sent a malformed request: ${String(e)} ${hex(datagram)}`);
      return;
    }
    if (ms.length !== 1) this.violations.push(`client sent ${ms.length} messages in one datagram`);
    if (this.dialect.hasLength && new DataView(datagram.buffer, datagram.byteOffset).getUint16(12, true) !== datagram.length) this.violations.push('request length differs from the datagram');
    for (const m of ms) {
      if (m.context === 0n && (m.kind === 'addAllSrcs' || m.kind === 'querySrc' || m.kind === 'getSrcDesc' || m.kind === 'getUpdate')) this.violations.push(`${m.kind} with context 0`);
      this.requests.push(m);
      this.respond(m, this);
    }
  }

  recv(bufferSize: number): KernelRecord | undefined {
    const r = this.queue.shift();
    if (!r) return undefined;
    const out = r.data.length > bufferSize ? { data: r.data.subarray(0, bufferSize), truncated: true } : { data: r.data, truncated: r.truncated };
    this.delivered.push(out);
    this.onDeliver?.(out);
    return out;
  }

  onReadable(fn: () => void): () => void {
    this.readable.add(fn);
    return () => this.readable.delete(fn);
  }

  onClose(fn: () => void): void {
    this.closers.push(fn);
  }

  setReceiveBufferSize(bytes: number): number {
    if (this.rcvbufErrno !== undefined) throw Object.assign(new Error('setsockopt'), { errno: this.rcvbufErrno });
    this.rcvbuf = bytes;
    return bytes;
  }

  /** The kernel closes the socket: queued records are lost, the reader sees the close. */
  kernelClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    for (const c of this.closers.splice(0)) c();
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.closers.length = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Oracle: which srcrefs a client may hold

type RefState = 'pending' | 'live' | 'ended' | 'vanished';

/**
 * Replays the records a client received and applies SourceTable's documented rules
 * (source-table.ts): SRC_ADDED creates a pending source (an ended one only with 32-bit srcrefs,
 * which wrap); SRC_DESC/SRC_UPDATE announce (an ended srcref too unless CLOSING: proof of life);
 * SRC_REMOVED ends a source the table holds and is ignored otherwise; counts never
 * create. A client table may be *smaller* (sweeps remove vanished sources) but never hold a
 * srcref that is not live here, and each stream's pid/process must be the last descriptor's.
 * Fed online (`feed` as the reader takes each record, `removedByClient` from the client's
 * 'removed' events), it also follows sweep removals: a vanished source may come back (or not)
 * with whatever a later report says.
 */
export class TableOracle {
  private readonly state = new Map<bigint, RefState>();
  readonly lastDesc = new Map<bigint, { pid?: number; pname?: string }>();
  /** SRC_REMOVEDs of live sources in the record fed last, per srcref (see feed). */
  private readonly explained = new Map<bigint, number>();
  /** Records that did not decode (the client drops them whole). */
  rejected = 0;
  messages = 0;

  constructor(readonly dialect: Dialect) {}

  feed(data: Uint8Array): void {
    // The client emits a record's events after handling the whole record, so removals explained by
    // this record's SRC_REMOVEDs arrive (removedByClient) after the oracle has read all of it.
    this.explained.clear();
    let ms: Message[];
    try {
      ms = decodeDatagram(data, this.dialect, { unknownTypes: 'skip', from: 'kernel' });
    } catch {
      this.rejected++;
      return;
    }
    for (const m of ms) this.apply(m);
  }

  /**
   * The client emitted 'removed' for `srcref`. If no SRC_REMOVED explains it, a sweep found the
   * source absent ("vanished"): from now on the table may hold it again or not.
   */
  removedByClient(srcref: bigint): void {
    const n = this.explained.get(srcref) ?? 0;
    if (n > 0) {
      // Explained by a SRC_REMOVED of the record just fed (the seed 2037679977 case: SRC_REMOVED
      // then a fresh report of the same srcref in one aggregated record).
      this.explained.set(srcref, n - 1);
      return;
    }
    const s = this.state.get(srcref);
    if (s === 'live' || s === 'pending') {
      this.state.set(srcref, 'vanished');
      this.lastDesc.delete(srcref);
    }
  }

  apply(m: Message): void {
    this.messages++;
    switch (m.kind) {
      case 'srcAdded': {
        const s = this.state.get(m.srcref);
        if (s === undefined || s === 'vanished' || (s === 'ended' && this.dialect.srcrefSize === 4)) this.state.set(m.srcref, 'pending');
        break;
      }
      case 'srcDesc':
      case 'srcUpdate': {
        const s = this.state.get(m.srcref);
        // A late goodbye (CLOSING) for an ended srcref changes nothing. Any other report means the
        // source is alive (a real kernel never mentions a srcref after its SRC_REMOVED; 32-bit
        // srcrefs may be reused): the client adds it again (source-table.ts onDescriptor).
        if (s === 'ended' && (m.flags & HeaderFlag.CLOSING) !== 0) break;
        this.state.set(m.srcref, 'live');
        if (m.descriptor) {
          const prev = this.lastDesc.get(m.srcref) ?? {};
          const next = { ...prev };
          if (typeof m.descriptor.pid === 'number') next.pid = m.descriptor.pid;
          if (typeof m.descriptor.pname === 'string') next.pname = m.descriptor.pname;
          this.lastDesc.set(m.srcref, next);
        }
        break;
      }
      case 'srcRemoved': {
        // A removal of a srcref the table does not hold is ignored (and not remembered).
        const s = this.state.get(m.srcref);
        if (s === 'live') this.explained.set(m.srcref, (this.explained.get(m.srcref) ?? 0) + 1);
        if (s === 'live' || s === 'pending') this.state.set(m.srcref, 'ended');
        this.lastDesc.delete(m.srcref);
        break;
      }
      default:
        break;
    }
  }

  isLive(srcref: bigint): boolean {
    return this.state.get(srcref) === 'live';
  }

  /** Problems with a client snapshot: ghosts and fields that are not the last descriptor's. */
  check(snapshot: readonly { srcref: bigint; pid?: number; process?: string }[]): string[] {
    const bad: string[] = [];
    const ids = new Set<bigint>();
    for (const s of snapshot) {
      if (ids.has(s.srcref)) bad.push(`srcref ${s.srcref} twice in the snapshot`);
      ids.add(s.srcref);
      if (!this.isLive(s.srcref)) {
        bad.push(`srcref ${s.srcref} in the table but ${this.state.get(s.srcref) ?? 'never added'} in the input`);
        continue;
      }
      const d = this.lastDesc.get(s.srcref);
      if (d?.pid !== undefined && s.pid !== d.pid) bad.push(`srcref ${s.srcref}: pid ${s.pid} but the last descriptor said ${d.pid}`);
      if (d?.pname !== undefined && s.process !== d.pname) bad.push(`srcref ${s.srcref}: process ${JSON.stringify(s.process)} but the last descriptor said ${JSON.stringify(d.pname)}`);
    }
    return bad;
  }
}

// ---------------------------------------------------------------------------------------------
// Building hostile records from templates

export interface Templates {
  desc: Message[];
  update: Message[];
  counts: Message[];
}

export function templatesOf(c: Corpus): Templates {
  const t: Templates = { desc: [], update: [], counts: [] };
  for (const m of c.templates) {
    if (m.kind === 'srcDesc' && m.descriptor) t.desc.push(m);
    else if (m.kind === 'srcUpdate' && m.descriptor) t.update.push(m);
    else if (m.kind === 'srcCounts') t.counts.push(m);
  }
  return t;
}

/** Kinds of hostile message `buildMessage` makes. */
export const MSG_KINDS = ['srcAdded', 'srcRemoved', 'srcDesc', 'srcUpdate', 'srcCounts', 'success', 'error', 'unknown', 'sysinfo', 'request'] as const;
export type HostileKind = (typeof MSG_KINDS)[number];

const ERRNOS = [0, 1, 2, 12, 22, 35, 37, 45, 55, 57, 102, 0xffffffff];

/**
 * One valid message (bytes) of `kind` for `srcref`, re-encoded from a template where a
 * descriptor or counts are needed. `pick` chooses templates, errnos and providers.
 */
export function buildMessage(d: Dialect, t: Templates, kind: HostileKind, srcref: bigint, context: bigint, flags: number, pick: number): Uint8Array {
  const f = d.hasLength ? flags : 0;
  const ref = d.srcrefSize === 4 ? srcref & 0xffffffffn : srcref;
  switch (kind) {
    case 'srcAdded':
      return encodeMessage(d, { kind: 'srcAdded', context, flags: f, srcref: ref, provider: [2, 3, 4, 1, 9][pick % 5] });
    case 'srcRemoved':
      return encodeMessage(d, { kind: 'srcRemoved', context, flags: f, srcref: ref });
    case 'success':
      return encodeMessage(d, { kind: 'success', context, flags: f });
    case 'error':
      return encodeMessage(d, { kind: 'error', context, flags: f, errno: ERRNOS[pick % ERRNOS.length] });
    case 'unknown': {
      const b = encodeMessage(d, { kind: 'success', context, flags: f });
      const out = concat(b, new Uint8Array(8 * (pick % 4)));
      const dv = new DataView(out.buffer);
      dv.setUint32(8, [4242, 2, 10008, 999, 0xffffffff][pick % 5], true);
      if (d.hasLength) dv.setUint16(12, out.length, true);
      return out;
    }
    case 'request':
      return encodeMessage(d, { kind: 'querySrc', context, flags: f, srcref: ref });
    case 'sysinfo':
      if (d.constants['NSTAT_MSG_TYPE_SYSINFO_COUNTS'] === undefined) return encodeMessage(d, { kind: 'srcRemoved', context, flags: f, srcref: ref });
      return encodeMessage(d, { kind: 'sysinfoCounts', context, flags: f, srcref: ref, keyvals: [] });
    case 'srcDesc':
    case 'srcUpdate':
    case 'srcCounts': {
      const pool = kind === 'srcDesc' ? t.desc : kind === 'srcUpdate' ? (t.update.length ? t.update : t.desc) : t.counts;
      if (pool.length === 0) return encodeMessage(d, { kind: 'srcRemoved', context, flags: f, srcref: ref });
      const tm = pool[pick % pool.length];
      const m = { ...tm, context, flags: f, srcref: ref } as Message;
      if (kind === 'srcUpdate' && tm.kind === 'srcDesc') {
        // A dialect without SRC_UPDATE: a description again.
        return encodeMessage(d, m);
      }
      return encodeMessage(d, m);
    }
  }
}

/** Aggregate several messages into one record (10.11+); before, only the first is sent. */
export function aggregateRecord(d: Dialect, parts: readonly Uint8Array[]): Uint8Array {
  if (!d.hasLength || parts.length === 1) return parts[0];
  return concat(...parts);
}

// ---------------------------------------------------------------------------------------------
// Faults around a real simulator

export interface FaultPlan {
  /** Per request: answer ERROR(errno) for the request's context *instead of* forwarding it. */
  failRequest?: (req: Message, n: number) => number | undefined;
  /** Per record read: drop it. */
  dropRecord?: (rec: Uint8Array, n: number) => boolean;
  /** Per record read: deliver it twice. */
  duplicateRecord?: (rec: Uint8Array, n: number) => boolean;
  /** Per record read: report it truncated (cut to `cut` bytes). */
  truncateRecord?: (rec: Uint8Array, n: number) => number | undefined;
  /** Per record read: extra records to deliver right after it. */
  inject?: (rec: Uint8Array, n: number) => Uint8Array[] | undefined;
  /** Rewrite a record before delivery (e.g. srcref reuse). */
  rewrite?: (rec: Uint8Array, n: number) => Uint8Array;
  /** Called before each request is forwarded (e.g. to close the kernel mid-sweep). */
  beforeRequest?: (req: Message, n: number) => void;
}

/**
 * A KernelEndpoint over a Simulator that injects faults on the way in (requests) and out
 * (records). Without a plan it is exactly `simulatorEndpoint(sim)`.
 */
export class FaultyEndpoint implements KernelEndpoint {
  private readonly inner: KernelEndpoint;
  private readonly pending: KernelRecord[] = [];
  private readonly readable = new Set<() => void>();
  private requestsSeen = 0;
  private recordsSeen = 0;
  readonly stats = { failed: 0, dropped: 0, duplicated: 0, truncated: 0, injected: 0, rewritten: 0 };

  constructor(
    readonly sim: Simulator,
    public plan: FaultPlan = {},
  ) {
    this.inner = simulatorEndpoint(sim);
  }

  send(datagram: Uint8Array): void {
    const n = this.requestsSeen++;
    let req: Message | undefined;
    try {
      req = decodeDatagram(datagram, this.sim.dialect)[0];
    } catch {
      req = undefined;
    }
    if (req) this.plan.beforeRequest?.(req, n);
    const errno = req ? this.plan.failRequest?.(req, n) : undefined;
    if (req && errno !== undefined) {
      this.stats.failed++;
      this.pending.push({ data: encodeMessage(this.sim.dialect, { kind: 'error', context: req.context, flags: 0, errno }), truncated: false });
      for (const f of this.readable) f();
      return;
    }
    this.inner.send(datagram);
  }

  recv(bufferSize: number): KernelRecord | undefined {
    for (;;) {
      const p = this.pending.shift();
      if (p) return p.data.length > bufferSize ? { data: p.data.subarray(0, bufferSize), truncated: true } : p;
      const r = this.inner.recv(bufferSize);
      if (!r) return undefined;
      const n = this.recordsSeen++;
      let data = r.data;
      if (this.plan.rewrite) {
        const w = this.plan.rewrite(data, n);
        if (w !== data) this.stats.rewritten++;
        data = w;
      }
      if (this.plan.dropRecord?.(data, n)) {
        this.stats.dropped++;
        continue;
      }
      const extra = this.plan.inject?.(data, n);
      if (extra) {
        this.stats.injected += extra.length;
        for (const e of extra) this.pending.push({ data: e, truncated: false });
      }
      if (this.plan.duplicateRecord?.(data, n)) {
        this.stats.duplicated++;
        this.pending.unshift({ data: data.slice(), truncated: r.truncated });
      }
      const cut = this.plan.truncateRecord?.(data, n);
      if (cut !== undefined && cut < data.length) {
        this.stats.truncated++;
        return { data: data.subarray(0, cut), truncated: true };
      }
      return { data, truncated: r.truncated };
    }
  }

  onReadable(fn: () => void): () => void {
    this.readable.add(fn);
    const un = this.inner.onReadable(fn);
    return () => {
      this.readable.delete(fn);
      un();
    };
  }

  onClose(fn: () => void): void {
    this.inner.onClose?.(fn);
  }

  setReceiveBufferSize(bytes: number): number {
    return this.inner.setReceiveBufferSize!(bytes);
  }

  close(): void {
    this.inner.close();
  }
}

/** srcref field offset of a message type in this dialect (for rewriting records in place). */
export function srcrefOffset(d: Dialect, type: number): number | undefined {
  const name =
    type === MessageType.SRC_ADDED
      ? 'nstat_msg_src_added'
      : type === MessageType.SRC_REMOVED
        ? 'nstat_msg_src_removed'
        : type === MessageType.SRC_COUNTS
          ? 'nstat_msg_src_counts'
          : type === MessageType.SRC_DESC
            ? 'nstat_msg_src_description'
            : type === MessageType.SRC_UPDATE || type === MessageType.SRC_EXTENDED_UPDATE
              ? 'nstat_msg_src_update'
              : undefined;
  if (!name) return undefined;
  return d.structs.get(name)?.byName.get('srcref')?.offset;
}

/** Call `fn(offset, type, length)` for each message of a record. */
export function eachMessage(d: Dialect, b: Uint8Array, fn: (at: number, type: number, len: number) => void): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (!d.hasLength) {
    if (b.length >= 16) fn(0, dv.getUint32(8, true), b.length);
    return;
  }
  for (let at = 0; at + 16 <= b.length; ) {
    const len = dv.getUint16(at + 12, true);
    if (len < 16 || at + len > b.length) return;
    fn(at, dv.getUint32(at + 8, true), len);
    at += len;
  }
}

export { FUZZ_SCALE, FUZZ_SEED, fuzzParams } from './seed.js';

/**
 * Run `fn` with Error.stackTraceLimit = 0: most fuzz inputs are rejected with an NtstatError and
 * capturing a stack per rejection would be most of the cost. Restored afterwards.
 */
export function withoutStacks<T>(fn: () => T): T {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = saved;
  }
}

export function dialectOf(input: string | Dialect): Dialect {
  return typeof input === 'string' ? dialectFor(input) : input;
}

// ---------------------------------------------------------------------------------------------
// Regression vectors (test/regressions/*.json): inputs a fuzz run once failed on, replayed by
// the test file of their target under the same invariants.

export interface RegressionVector {
  /** 'decode' | 'client' | 'ntcap' | 'libntstat' */
  target: string;
  /** Header version (dialectFor input). */
  xnu: string;
  /** The input, hex (decode, ntcap, libntstat). */
  hex?: string;
  /** 'client': records (hex) queued before the SUCCESS of each poll request, in order. */
  polls?: string[][];
  /** 'client': records delivered on the first poll (shorthand for `polls: [records]`). */
  records?: string[];
  /** 'client': sweeps to run (default polls + 2). */
  sweeps?: number;
  /** 'client': srcrefs (decimal) that must / must not be in the table at the end, and their pids. */
  live?: string[];
  absent?: string[];
  pids?: Record<string, number>;
  skip?: boolean;
  note?: string;
  /** Still failing: the reason (the replay is a todo test). */
  todo?: string;
}

// Compiled tests run from build/test/: the vectors stay in the source tree.
export const REGRESSIONS_DIR = fileURLToPath(new URL('../../../test/regressions/', import.meta.url));

export function regressionVectors(target: string, dir = REGRESSIONS_DIR): { file: string; v: RegressionVector }[] {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch (e) {
    // A missing folder must not turn the regression suites into silent no-ops (issue 13).
    throw new Error(`regression vectors: cannot read ${dir}: ${(e as Error).message}`);
  }
  if (files.length === 0) throw new Error(`regression vectors: ${dir} holds no .json vector`);
  const out: { file: string; v: RegressionVector }[] = [];
  for (const f of files.sort()) {
    const parsed = JSON.parse(readFileSync(join(dir, f), 'utf8')) as RegressionVector | RegressionVector[];
    for (const v of Array.isArray(parsed) ? parsed : [parsed]) if (v.target === target) out.push({ file: f, v });
  }
  return out;
}
