/**
 * The dashboard's listen address: parsing `--listen [HOST:PORT]`, the loopback rule (anything
 * else needs --allow-remote, since the dashboard shows every connection of the machine), and
 * the Host header values that name this server (the DNS-rebinding defence: a page on
 * evil.example whose name now resolves to 127.0.0.1 still sends `Host: evil.example`).
 */
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { NtstatError } from '../errors.js';

export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 9183 } as const;

export interface ListenAddress {
  host: string;
  port: number;
}

function usage(message: string): NtstatError {
  return new NtstatError('ERR_NTSTAT_USAGE', message);
}

/** `HOST:PORT`, `[V6]:PORT`, `PORT` or `HOST` (default port); empty = the default address. */
export function parseListen(value: string | undefined): ListenAddress {
  if (value === undefined || value === '') return { ...DEFAULT_LISTEN };
  let host: string = DEFAULT_LISTEN.host;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(value);
  if (v6) {
    host = v6[1];
    portText = v6[2];
  } else if (/^\d+$/.test(value)) {
    portText = value;
  } else if (isIP(value) === 6) {
    host = value;
  } else {
    const i = value.lastIndexOf(':');
    if (i < 0) host = value;
    else {
      host = value.slice(0, i);
      portText = value.slice(i + 1);
    }
  }
  if (host === '' || /[\s/@?#]/.test(host)) throw usage(`--listen: bad host in ${JSON.stringify(value)}`);
  let port: number = DEFAULT_LISTEN.port;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw usage(`--listen: bad port in ${JSON.stringify(value)} (0-65535)`);
    port = Number(portText);
  }
  return { host: host.toLowerCase(), port };
}

/** 127.0.0.0/8, ::1, ::ffff:127.x and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** Refuses a non-loopback address unless the user said --allow-remote. */
export function checkListenPolicy(addr: ListenAddress, allowRemote: boolean): { remote: boolean } {
  const remote = !isLoopbackHost(addr.host);
  if (remote && !allowRemote) {
    throw usage(
      `--listen ${addr.host}: not a loopback address. The dashboard shows every connection of this machine; ` +
        `to serve it to the network anyway add --allow-remote (it is still protected by the token)`,
    );
  }
  return { remote };
}

function hostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * Host header values (lower case, with port) that name this server. Loopback: the loopback names.
 * A wildcard bind: every local interface address and the host name. Otherwise the given host.
 */
export function allowedHosts(addr: ListenAddress, port: number): Set<string> {
  const names = new Set<string>();
  const add = (h: string) => names.add(hostPort(h.toLowerCase(), port));
  add(addr.host);
  if (isLoopbackHost(addr.host) || isWildcardHost(addr.host)) {
    for (const h of ['localhost', '127.0.0.1', '::1']) add(h);
  }
  if (isWildcardHost(addr.host)) {
    add(hostname());
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) add(a.address);
  }
  return names;
}

/** The Host header check: the header must be present and name this server (port included). */
export function hostAllowed(header: string | undefined, allowed: Set<string>): boolean {
  if (header === undefined) return false;
  return allowed.has(header.trim().toLowerCase());
}

/** The host part of a URL for this address (wildcards print as loopback, which always works). */
export function urlHost(addr: ListenAddress, port: number): string {
  const h = isWildcardHost(addr.host) ? '127.0.0.1' : addr.host;
  return hostPort(h, port);
}
