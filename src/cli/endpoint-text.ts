/** Addresses as table cells: `192.0.2.1:443`, `[2001:db8::1]:443`, `host.example:443` (escaped). */
import { endpointAddressText, isEndpoint, type Endpoint, type OtherSockaddr } from '../protocol/sockaddr.js';
import { escapeTerminal } from './escape.js';

export function endpointText(e: Endpoint | OtherSockaddr | undefined, hostOf?: (address: string) => string | undefined): string {
  if (!e) return '*';
  if (!isEndpoint(e)) return e.saFamily === 18 ? 'link' : `af${e.saFamily}`;
  const a = endpointAddressText(e);
  const host = hostOf?.(e.address);
  if (host) return `${escapeTerminal(host)}:${e.port}`;
  return e.family === 6 ? `[${escapeTerminal(a)}]:${e.port}` : `${escapeTerminal(a)}:${e.port}`;
}

/** A route's destination or gateway: an address without a port. */
export function routeText(v: unknown): string {
  const e = v as Endpoint | OtherSockaddr | undefined;
  if (!e) return '*';
  if (!isEndpoint(e)) return e.saFamily === 18 ? 'link' : `af${e.saFamily}`;
  return escapeTerminal(endpointAddressText(e));
}
