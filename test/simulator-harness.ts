/**
 * Test harness for the simulator: a Probe sends real encoded requests (the codec's encoder)
 * and decodes the exact records the simulated kernel queued. Not a test file itself.
 */
import {
  decodeDatagram,
  dialectFor,
  encodeRequest,
  layoutFamilies,
  providerId,
  srcrefAll,
  type Dialect,
  type Message,
  type ProviderName,
  type Request,
} from '../src/protocol/index.js';
import { createSimulator, SendError, type Simulator, type SimulatorOptions } from '../src/simulator/index.js';
import type { KernelSocket, NetInterface, Process } from '../src/simulator/world/entities.js';
import type { World } from '../src/simulator/world/world.js';
import { endpoint } from '../src/simulator/world/catalog.js';

/** Every layout family (first header version of each). */
export const FAMILIES: readonly Dialect[] = layoutFamilies();
/** Families whose header has length/flags (10.11+). */
export const MODERN: readonly Dialect[] = FAMILIES.filter((d) => d.hasLength);
export const LEGACY: readonly Dialect[] = FAMILIES.filter((d) => !d.hasLength);

/** Behaviour points inside families: [label, dialect input, kernelVersion]. */
export const BEHAVIOUR_POINTS: readonly { label: string; dialect: string; kernel?: string }[] = [
  { label: '11', dialect: 'd3247' },
  { label: '12', dialect: 'd3789' },
  { label: '13', dialect: 'd4570' },
  { label: '15', dialect: '6153.11.26' },
  { label: 'B11', dialect: 'd7195' },
  { label: 'B13', dialect: '8792.41.9', kernel: '8792.81.2' },
  { label: 'B14', dialect: '10063.101.15', kernel: '10063.141.1' },
  { label: 'B15', dialect: '11215.61.5' },
];

type DistOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface RecordOut {
  msgs: Message[];
  length: number;
  truncated: boolean;
  bytes: Uint8Array;
}

export class Probe {
  readonly sim: Simulator;
  readonly d: Dialect;
  readonly w: World;
  private nextCtx = 100n;

  constructor(opts: SimulatorOptions = {}) {
    this.sim = createSimulator({ scenario: 'bare', ...opts });
    this.d = this.sim.dialect;
    this.w = this.sim.kernel.world;
  }

  static for(dialect: Dialect | string, opts: Omit<SimulatorOptions, 'dialect'> = {}): Probe {
    return new Probe({ ...opts, dialect: typeof dialect === 'string' ? dialectFor(dialect) : dialect });
  }

  pid(name: ProviderName): number {
    const id = providerId(this.d, name);
    if (id === undefined) throw new Error(`no ${name} provider in ${this.d.family}`);
    return id;
  }

  has(name: ProviderName): boolean {
    return providerId(this.d, name) !== undefined;
  }

  get all(): bigint {
    return srcrefAll(this.d);
  }

  ctx(): bigint {
    return this.nextCtx++;
  }

  /** Encode and send; returns the context used. Throws SendError like send(2). */
  send(req: DistOmit<Request, 'context' | 'flags'> & { context?: bigint; flags?: number }): bigint {
    const context = req.context ?? this.ctx();
    const full = { flags: 0, ...req, context } as Request;
    this.sim.send(encodeRequest(this.d, full));
    return context;
  }

  /** send() that returns the errno it failed with (0 on success). */
  trySendRaw(bytes: Uint8Array): number {
    try {
      this.sim.send(bytes);
      return 0;
    } catch (e) {
      if (e instanceof SendError) return e.errno;
      throw e;
    }
  }

  addAll(provider: ProviderName, opts: { filter?: bigint; events?: bigint; targetPid?: number; context?: bigint } = {}): bigint {
    return this.send({ kind: 'addAllSrcs', provider: this.pid(provider), filter: opts.filter ?? 0n, events: opts.events ?? 0n, targetPid: opts.targetPid ?? 0, context: opts.context });
  }

  poll(kind: 'querySrc' | 'getSrcDesc' | 'getUpdate' | 'remSrc', srcref: bigint | 'all', flags = 0, context?: bigint): bigint {
    return this.send({ kind, srcref: srcref === 'all' ? this.all : srcref, flags, context });
  }

  /** Read and decode every queued record. */
  records(bufferSize = 65536): RecordOut[] {
    const out: RecordOut[] = [];
    for (let r = this.sim.recv(bufferSize); r; r = this.sim.recv(bufferSize)) {
      out.push({ msgs: r.truncated ? [] : decodeDatagram(r.data, this.d), length: r.length, truncated: r.truncated, bytes: r.data });
    }
    return out;
  }

  msgs(): Message[] {
    return this.records().flatMap((r) => r.msgs);
  }

  // ---------------------------------------------------------------- world helpers
  iface(ifindex = 7): NetInterface {
    return this.w.interfaces.get(ifindex)!;
  }

  proc(name = 'curl'): Process {
    return this.w.spawn(name);
  }

  /** An outgoing TCP connection: socket(), connect(), ESTABLISHED. */
  tcp(opts: { proc?: Process; remote?: string; port?: number; ifindex?: number; established?: boolean; family?: 4 | 6 } = {}): KernelSocket {
    const fam = opts.family ?? 4;
    const s = this.w.tcpSocket(opts.proc ?? this.proc(), fam);
    this.w.tcpConnect(s, endpoint(opts.remote ?? (fam === 4 ? '203.0.113.10' : '2001:db8::10'), opts.port ?? 443), this.iface(opts.ifindex), 20);
    if (opts.established ?? true) this.w.tcpSetState(s, 4);
    return s;
  }

  udp(opts: { proc?: Process; connectTo?: string; ifindex?: number } = {}): KernelSocket {
    const s = this.w.udpSocket(opts.proc ?? this.proc('mDNSResponder'), 4);
    this.w.udpBind(s, endpoint('0.0.0.0', 5353));
    if (opts.connectTo) this.w.udpConnect(s, endpoint(opts.connectTo, 53), this.iface(opts.ifindex));
    return s;
  }
}

/** Short text of a message for assertion messages. */
export function brief(m: Message): string {
  const f = m.flags ? ` f=${m.flags}` : '';
  const sr = 'srcref' in m ? ` #${m.srcref}` : '';
  const e = m.kind === 'error' ? ` errno=${m.errno}` : '';
  return `${m.kind} ctx=${m.context}${sr}${f}${e}`;
}

export function kinds(ms: Message[]): string[] {
  return ms.map((m) => m.kind);
}
