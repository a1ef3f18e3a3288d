/**
 * Addresses: parsing (memoised), prefix matching and netmasks for the routing table, and the
 * local address a connection gets on an interface.
 */
import type { Endpoint } from '../../protocol/index.js';
import { endpoint } from './catalog.js';
import type { NetInterface } from './entities.js';

export interface InterfaceAddresses {
  v4?: string;
  v6?: string;
  linkLocal?: string;
  gatewayV4?: string;
  gatewayV6?: string;
}

/** Local address for a connection to `remote` over `ifp` (link-local remotes keep the scope). */
export function localEndpointOn(a: InterfaceAddresses, family: 4 | 6, ifp: NetInterface, port: number, remote?: Endpoint): Endpoint {
  if (family === 4) return endpoint(ifp.kind === 'loopback' ? '127.0.0.1' : a.v4 ?? '0.0.0.0', port);
  if (ifp.kind === 'loopback') return endpoint('::1', port);
  if (remote?.address.startsWith('fe80:') && a.linkLocal) return endpoint(a.linkLocal, port, ifp.ifindex);
  return endpoint(a.v6 ?? '::', port);
}

/**
 * Parsed addresses, memoised (bounded): route lookups parse every route's destination for every
 * new connection, which was a fifth of `ntstat json --simulate` startup. Frozen: callers only read.
 */
const addrCache = new Map<string, readonly number[]>();

export function addrBytes(address: string): readonly number[] {
  let bytes = addrCache.get(address);
  if (bytes === undefined) {
    bytes = Object.freeze(parseAddrBytes(address));
    if (addrCache.size >= 4096) addrCache.clear();
    addrCache.set(address, bytes);
  }
  return bytes;
}

function parseAddrBytes(address: string): number[] {
  if (!address.includes(':')) return address.split('.').map(Number);
  const [head, tail = ''] = address.split('%')[0].split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out: number[] = [];
  for (const g of groups) {
    const v = parseInt(g, 16);
    out.push(v >> 8, v & 0xff);
  }
  return out;
}

export function sameAddress(a: string, b: string): boolean {
  const x = addrBytes(a);
  const y = addrBytes(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

export function prefixMatch(a: readonly number[], b: readonly number[], len: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length && len > 0; i++, len -= 8) {
    const m = len >= 8 ? 0xff : (0xff << (8 - len)) & 0xff;
    if ((a[i] & m) !== (b[i] & m)) return false;
  }
  return true;
}

export function maskEndpoint(fam: 4 | 6, len: number): Endpoint {
  const bytes: number[] = [];
  for (let i = 0; i < (fam === 4 ? 4 : 16); i++, len -= 8) bytes.push(len >= 8 ? 0xff : len > 0 ? (0xff << (8 - len)) & 0xff : 0);
  if (fam === 4) return { family: 4, address: bytes.join('.'), port: 0 };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return { family: 6, address: compressV6(groups), port: 0 };
}

function compressV6(groups: string[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}
