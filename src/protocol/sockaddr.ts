/**
 * BSD sockaddrs inside descriptors: byte 0 = length, byte 1 = family (AF_INET 2, AF_INET6 30 on
 * Darwin), port and address in network order (LAYOUTS.md "Reading the JSON"; BEHAVIOUR.md §7).
 */
import { AF_INET, AF_INET6 } from './constants.js';
import { Bytes16Cache, Bytes4Cache } from './intern.js';

export interface Endpoint {
  /** 4 or 6 (the IP version, not the Darwin AF_ number). */
  family: 4 | 6;
  /** Canonical text: dotted quad, or RFC 5952 compressed IPv6. */
  address: string;
  /** Host-order port. */
  port: number;
  /** IPv6 scope (interface index) for link-local addresses; omitted when 0. */
  scopeId?: number;
  /** IPv6 flow info; omitted when 0. */
  flowInfo?: number;
  /** sa_len when it is not the standard 16/28 (route netmasks are cut short). */
  saLen?: number;
}

/**
 * A sockaddr of another family (route gateways can be AF_LINK, 18): kept as its bytes so that
 * nothing the kernel sent is lost or guessed.
 */
export interface OtherSockaddr {
  family: 'other';
  /** sa_family */
  saFamily: number;
  /** sa_len */
  saLen: number;
  /** Bytes after len/family, up to sa_len, as hex. */
  data: string;
}

export const SOCKADDR_IN_LEN = 16;
export const SOCKADDR_IN6_LEN = 28;

export function formatIPv4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * formatIPv4 through a bounded cache keyed by the address word (intern.ts): one flat string per
 * address (a template literal of 13+ characters is a rope of several heap objects) shared by
 * every endpoint that carries it.
 */
const ipv4Cache = new Bytes4Cache((b, off) => [b[off], b[off + 1], b[off + 2], b[off + 3]].join('.'));

/** RFC 5952 text for 16 bytes at `off`: longest run (≥ 2) of zero groups compressed, lowercase. */
export function formatIPv6(b: Uint8Array, off: number): string {
  const g: number[] = new Array(8);
  for (let i = 0; i < 8; i++) g[i] = (b[off + 2 * i] << 8) | b[off + 2 * i + 1];
  // IPv4-mapped addresses are shown as ::ffff:a.b.c.d (RFC 5952 §5).
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4(b, off + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const tail = g.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return `${head}::${tail}`;
}

const ipv6Cache = new Bytes16Cache(formatIPv6);

const UNION_SIZE = 28;

/**
 * Decode a sockaddr union at `off`; undefined for family 0 (no address: e.g. a fresh TCP socket).
 * Other families (and unusual lengths) are kept exactly, never guessed.
 */
export function decodeSockaddr(b: Uint8Array, dv: DataView, off: number): Endpoint | OtherSockaddr | undefined {
  const len = b[off];
  const family = b[off + 1];
  if (family === AF_INET) {
    const ep: Endpoint = { family: 4, address: ipv4Cache.get(b, dv, off + 4), port: dv.getUint16(off + 2, false) };
    if (len !== SOCKADDR_IN_LEN) ep.saLen = len;
    return ep;
  }
  if (family === AF_INET6) {
    const ep: Endpoint = { family: 6, address: ipv6Cache.get(b, dv, off + 8), port: dv.getUint16(off + 2, false) };
    const flow = dv.getUint32(off + 4, false);
    const scope = dv.getUint32(off + 24, true);
    if (scope !== 0) ep.scopeId = scope;
    if (flow !== 0) ep.flowInfo = flow;
    if (len !== SOCKADDR_IN6_LEN) ep.saLen = len;
    return ep;
  }
  if (family === 0 && len === 0) return undefined;
  const end = Math.min(off + UNION_SIZE, off + Math.max(2, len));
  let data = '';
  for (let i = off + 2; i < end; i++) data += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return { family: 'other', saFamily: family, saLen: len, data };
}

/**
 * Would decodeSockaddr of the bytes at `off` give a value equal to `v` (every field)? Reads in
 * place and allocates nothing for IPv4/IPv6 (addresses come from the same interning caches); a
 * sockaddr of another family is never claimed equal (the caller decodes it instead).
 */
export function sockaddrEquals(b: Uint8Array, dv: DataView, off: number, v: unknown): boolean {
  const len = b[off];
  const family = b[off + 1];
  if (family === 0 && len === 0) return v === undefined;
  if (typeof v !== 'object' || v === null) return false;
  const ep = v as Endpoint;
  if (family === AF_INET) {
    return (
      ep.family === 4 &&
      ep.port === dv.getUint16(off + 2, false) &&
      ep.saLen === (len !== SOCKADDR_IN_LEN ? len : undefined) &&
      ep.scopeId === undefined &&
      ep.flowInfo === undefined &&
      ep.address === ipv4Cache.get(b, dv, off + 4)
    );
  }
  if (family === AF_INET6) {
    const flow = dv.getUint32(off + 4, false);
    const scope = dv.getUint32(off + 24, true);
    return (
      ep.family === 6 &&
      ep.port === dv.getUint16(off + 2, false) &&
      ep.saLen === (len !== SOCKADDR_IN6_LEN ? len : undefined) &&
      ep.scopeId === (scope !== 0 ? scope : undefined) &&
      ep.flowInfo === (flow !== 0 ? flow : undefined) &&
      ep.address === ipv6Cache.get(b, dv, off + 8)
    );
  }
  return false;
}

export function isEndpoint(v: unknown): v is Endpoint {
  return typeof v === 'object' && v !== null && ((v as Endpoint).family === 4 || (v as Endpoint).family === 6);
}

export function parseIPv4(text: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.every((p) => p <= 255) ? parts : undefined;
}

export function parseIPv6(text: string): number[] | undefined {
  let s = text;
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  let tailV4: number[] | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIPv4(s.slice(lastColon + 1));
    if (!tailV4) return undefined;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parse = (h: string) => (h === '' ? [] : h.split(':').map((x) => (/^[0-9a-f]{1,4}$/i.test(x) ? parseInt(x, 16) : NaN)));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0 || [...head, ...tail].some(Number.isNaN)) return undefined;
  const groups = [...head, ...new Array(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes: number[] = [];
  for (const x of groups) bytes.push(x >> 8, x & 0xff);
  if (tailV4) bytes.splice(12, 4, ...tailV4);
  return bytes;
}

/** Encode an endpoint into a zeroed 28-byte sockaddr union at `off` (undefined → all zero). */
export function encodeSockaddr(b: Uint8Array, dv: DataView, off: number, ep: Endpoint | OtherSockaddr | undefined): void {
  if (!ep) return;
  if (ep.family === 'other') {
    b[off] = ep.saLen;
    b[off + 1] = ep.saFamily;
    for (let i = 0; i < ep.data.length / 2 && i < UNION_SIZE - 2; i++) b[off + 2 + i] = parseInt(ep.data.slice(2 * i, 2 * i + 2), 16);
    return;
  }
  if (ep.family === 4) {
    const a = parseIPv4(ep.address);
    if (!a) throw new TypeError(`bad IPv4 address ${ep.address}`);
    b[off] = ep.saLen ?? SOCKADDR_IN_LEN;
    b[off + 1] = AF_INET;
    dv.setUint16(off + 2, ep.port, false);
    b.set(a, off + 4);
  } else {
    const a = parseIPv6(ep.address);
    if (!a) throw new TypeError(`bad IPv6 address ${ep.address}`);
    b[off] = ep.saLen ?? SOCKADDR_IN6_LEN;
    b[off + 1] = AF_INET6;
    dv.setUint16(off + 2, ep.port, false);
    dv.setUint32(off + 4, ep.flowInfo ?? 0, false);
    b.set(a, off + 8);
    dv.setUint32(off + 24, ep.scopeId ?? 0, true);
  }
}

/** Text form used by logs: `addr` for v4, `addr%scope` for scoped v6. */
export function endpointAddressText(ep: Endpoint): string {
  return ep.scopeId ? `${ep.address}%${ep.scopeId}` : ep.address;
}
