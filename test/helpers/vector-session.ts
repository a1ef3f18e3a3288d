/**
 * Reads the kernel sessions made by test/vectors/make-vectors.c (sessions.txt) and serves them to
 * the real client (issue 13 §4): `VectorKernel` answers the client's requests with the C program's
 * records, writing the request's context into the messages marked "=" (the first 8 bytes of a
 * message are its context: BEHAVIOUR.md A.1). Requests are read by hand (type @8, context @0,
 * provider where the C struct says), never with src/protocol, and checked against the C structs'
 * sizes. Nothing here encodes or decodes a message.
 */
import { readFileSync } from 'node:fs';
import type { KernelEndpoint, KernelRecord } from '../../src/transport/memory.js';

export interface VectorMessage {
  reply: boolean;
  bytes: Uint8Array;
}
export type VectorRecord = VectorMessage[];

export interface VectorSession {
  /** 'addall 2', 'poll 1' ... -> the records that answer it ('' = records of a passive session). */
  steps: Map<string, { type?: number; records: VectorRecord[] }>;
  /** `${srcref} ${desc|counts} ${key}` -> expected value text (last written wins). */
  wants: Map<string, string>;
}

export interface VectorFamily {
  name: string;
  xnu: string;
  addAllSize: number;
  providerAt: number;
  pollSize: number;
  active: VectorSession;
  passive: VectorSession;
}

function unhex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function parseSessions(text: string): VectorFamily[] {
  const out: VectorFamily[] = [];
  let fam: Partial<VectorFamily> | undefined;
  let session: VectorSession | undefined;
  let step: { type?: number; records: VectorRecord[] } | undefined;
  for (const [i, line] of text.split('\n').entries()) {
    const w = line.split(' ');
    const where = `sessions.txt:${i + 1}`;
    switch (w[0]) {
      case '':
      case '#':
        break;
      case 'family':
        fam = { name: w[1], xnu: w[2].replace(/^xnu=/, '') };
        break;
      case 'request':
        if (!fam) throw new Error(`${where}: request outside a family`);
        if (w[1] === 'addall') [fam.addAllSize, fam.providerAt] = [Number(w[2]), Number(w[3])];
        else fam.pollSize = Number(w[2]);
        break;
      case 'session':
        if (!fam) throw new Error(`${where}: session outside a family`);
        session = { steps: new Map(), wants: new Map() };
        fam[w[1] as 'active' | 'passive'] = session;
        step = { records: [] };
        session.steps.set('', step);
        break;
      case 'on':
        if (!session) throw new Error(`${where}: "on" outside a session`);
        step = { records: [], ...(w[1] === 'poll' ? { type: Number(w[3]) } : {}) };
        session.steps.set(`${w[1]} ${w[2]}`, step);
        break;
      case 'rec':
        if (!step) throw new Error(`${where}: record outside a session`);
        step.records.push(w.slice(1).map((m) => ({ reply: m.startsWith('='), bytes: unhex(m.replace(/^=/, '')) })));
        break;
      case 'want':
        if (!session) throw new Error(`${where}: want outside a session`);
        session.wants.set(`${w[1]} ${w[2]} ${w[3]}`, w.slice(4).join(' '));
        break;
      case 'end':
        if (!fam?.active || !fam.passive || fam.addAllSize === undefined || fam.pollSize === undefined) throw new Error(`${where}: incomplete family`);
        out.push(fam as VectorFamily);
        fam = session = step = undefined;
        break;
      default:
        throw new Error(`${where}: unknown line ${JSON.stringify(line.slice(0, 40))}`);
    }
  }
  if (out.length === 0) throw new Error('sessions.txt holds no family');
  return out;
}

export function loadSessions(path: string): VectorFamily[] {
  return parseSessions(readFileSync(path, 'utf8'));
}

/** One record's bytes: its messages back to back (aggregation is plain concatenation, §4). */
export function recordBytes(rec: VectorRecord, context = 0n): Uint8Array {
  const out = new Uint8Array(rec.reduce((n, m) => n + m.bytes.length, 0));
  let at = 0;
  for (const m of rec) {
    out.set(m.bytes, at);
    if (m.reply) new DataView(out.buffer).setBigUint64(at, context, true);
    at += m.bytes.length;
  }
  return out;
}

/** The kernel side of an active session: answers each request with the C program's records. */
export class VectorKernel implements KernelEndpoint {
  readonly violations: string[] = [];
  /** Requests seen, as "addall 2" / "poll 1 1007 flags=2". */
  readonly seen: string[] = [];
  private readonly queue: Uint8Array[] = [];
  private readonly readable = new Set<() => void>();
  private polls = 0;
  private pollContext?: bigint;

  constructor(
    private readonly fam: VectorFamily,
    /** 10.11 on: the header has length and flags (LAYOUTS.md trap 7). */
    private readonly hasLength: boolean,
  ) {}

  send(dg: Uint8Array): void {
    const dv = new DataView(dg.buffer, dg.byteOffset, dg.byteLength);
    const context = dv.getBigUint64(0, true);
    const type = dv.getUint32(8, true);
    const flags = this.hasLength ? dv.getUint16(14, true) : 0;
    if (this.hasLength && dv.getUint16(12, true) !== dg.length) this.violations.push(`request ${type}: hdr.length ${dv.getUint16(12, true)} != ${dg.length}`);
    if (context === 0n) this.violations.push(`request ${type} with context 0 (§7)`);
    let key: string;
    if (type === 1002) {
      if (dg.length !== this.fam.addAllSize) this.violations.push(`ADD_ALL_SRCS is ${dg.length} bytes, the C struct ${this.fam.addAllSize}`);
      key = `addall ${dv.getUint32(this.fam.providerAt, true)}`;
      this.seen.push(key);
    } else if (type === 1004 || type === 1005 || type === 1007) {
      if (dg.length !== this.fam.pollSize) this.violations.push(`poll ${type} is ${dg.length} bytes, the C struct ${this.fam.pollSize}`);
      if (!dg.subarray(16).every((b) => b === 0xff)) this.violations.push(`poll ${type}: srcref is not ALL`);
      if (this.hasLength && !(flags & 2)) this.violations.push(`poll ${type} without CONTINUATION (§2.6)`);
      if (flags & 2 && this.pollContext !== undefined && this.polls > 0 && this.continues && context !== this.pollContext) this.violations.push(`continuation with a new context`);
      this.pollContext = context;
      key = `poll ${++this.polls}`;
      this.seen.push(`${key} ${type} flags=${flags}`);
      const want = this.fam.active.steps.get(key)?.type;
      if (want !== undefined && want !== type) this.violations.push(`${key}: the client sent ${type}, the session expects ${want}`);
    } else {
      this.violations.push(`unexpected request type ${type}`);
      return;
    }
    const step = this.fam.active.steps.get(key);
    if (!step) {
      this.violations.push(`no reply scripted for ${key}`);
      return;
    }
    this.continues = false;
    for (const rec of step.records) {
      const bytes = recordBytes(rec, context);
      // A SUCCESS saying CONTINUATION (flags @14 of a 16-byte message) asks for the same request again.
      if (this.hasLength && bytes.length === 16 && new DataView(bytes.buffer).getUint16(14, true) & 2) this.continues = true;
      this.queue.push(bytes);
    }
    for (const f of this.readable) f();
  }

  private continues = false;

  recv(bufferSize: number): KernelRecord | undefined {
    const r = this.queue.shift();
    if (!r) return undefined;
    if (r.length > bufferSize) this.violations.push(`record of ${r.length} bytes > receive buffer ${bufferSize}`);
    return { data: r, truncated: false };
  }

  onReadable(fn: () => void): () => void {
    this.readable.add(fn);
    return () => this.readable.delete(fn);
  }

  setReceiveBufferSize(bytes: number): number {
    return bytes;
  }

  close(): void {
    this.queue.length = 0;
  }
}
