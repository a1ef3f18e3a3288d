/**
 * Realistic names and addresses for scenarios. Addresses come only from documentation and
 * private ranges (RFC 5737 192.0.2/24, 198.51.100/24, 203.0.113/24; RFC 3849 2001:db8::/32;
 * RFC 1918; link-local fe80::/10 with a scope id), so nothing here points at a real host.
 */
import type { Endpoint } from '../../protocol/index.js';
import type { Rng } from '../prng.js';

export interface AppProfile {
  /** Executable name as the kernel knows it (p_name; p_comm is its first 16 bytes). */
  name: string;
  /** Remote ports this app talks to, with weights. */
  ports: readonly number[];
  /** Relative share of new flows. */
  weight: number;
  /** Domains for the DOMAIN extension (Network.framework apps only). */
  domains?: readonly string[];
  /** Uses Network.framework/QUIC (userland flows on dialects that have them). */
  userland?: boolean;
  quic?: boolean;
  bundleId?: string;
}

/**
 * Process names seen on a Mac, plus awkward ones on purpose: names longer than p_comm (16 bytes),
 * UTF-8 names (multi-byte characters straddling the 16/32-byte cut) and one hostile name with a
 * terminal escape sequence (terminal-safety tests).
 */
export const APPS: readonly AppProfile[] = [
  { name: 'Safari', ports: [443, 443, 443, 80], weight: 10, userland: true, quic: true, bundleId: 'com.apple.Safari', domains: ['www.example.com', 'static.example.net', 'cdn.example.org'] },
  { name: 'com.apple.WebKit.Networking', ports: [443, 443, 80], weight: 14, userland: true, quic: true, bundleId: 'com.apple.WebKit.Networking', domains: ['www.example.com', 'images.example.net', 'tracker.example.org'] },
  { name: 'Google Chrome Helper', ports: [443, 443, 443, 80], weight: 12, quic: true, domains: ['www.example.org', 'apis.example.com'] },
  { name: 'firefox', ports: [443, 80], weight: 5, domains: ['www.example.net'] },
  { name: 'Mail', ports: [993, 587, 443], weight: 3, userland: true, bundleId: 'com.apple.mail', domains: ['imap.example.com', 'smtp.example.com'] },
  { name: 'Slack Helper', ports: [443], weight: 3, domains: ['wss.example.com'] },
  { name: 'Spotify', ports: [443, 4070], weight: 3, domains: ['audio.example.net'] },
  { name: 'apsd', ports: [5223, 443], weight: 2, userland: true, bundleId: 'com.apple.apsd', domains: ['courier.push.example.com'] },
  { name: 'nsurlsessiond', ports: [443], weight: 3, userland: true, bundleId: 'com.apple.nsurlsessiond', domains: ['updates.example.com'] },
  { name: 'trustd', ports: [80, 443], weight: 2, userland: true, domains: ['ocsp.example.com'] },
  { name: 'cloudd', ports: [443], weight: 2, userland: true, bundleId: 'com.apple.cloudd', domains: ['icloud.example.com'] },
  { name: 'mDNSResponder', ports: [53, 5353], weight: 2 },
  { name: 'ssh', ports: [22], weight: 1 },
  { name: 'git-remote-https', ports: [443], weight: 1, domains: ['git.example.org'] },
  { name: 'node', ports: [443, 8080, 3000], weight: 2 },
  { name: 'Microsoft Teams Helper (Renderer)', ports: [443, 3478], weight: 2, quic: true },
  { name: 'zoom.us', ports: [443, 8801], weight: 1 },
  { name: 'Dropbox', ports: [443], weight: 1, domains: ['sync.example.com'] },
  { name: 'Über Sync Помощник', ports: [443], weight: 1 },
  { name: '日本語アプリケーション', ports: [443], weight: 1 },
  { name: 'evil\x1b[2J\x1b[31mpwned', ports: [443, 6667], weight: 1 },
];

export const SERVER_APPS: readonly AppProfile[] = [
  { name: 'nginx', ports: [80, 443], weight: 5 },
  { name: 'postgres', ports: [5432], weight: 2 },
  { name: 'sshd', ports: [22], weight: 1 },
  { name: 'redis-server', ports: [6379], weight: 2 },
];

/** Daemons that own long-lived UDP sockets. */
export const UDP_APPS: readonly AppProfile[] = [
  { name: 'mDNSResponder', ports: [53, 5353], weight: 5 },
  { name: 'timed', ports: [123], weight: 1 },
  { name: 'identityservicesd', ports: [4500, 443], weight: 2 },
  { name: 'FaceTime', ports: [3478, 16393], weight: 2 },
  { name: 'rapportd', ports: [49153], weight: 1 },
  { name: 'sharingd', ports: [8770], weight: 1 },
  { name: 'WiFiAgent', ports: [67], weight: 1 },
];

/** Remote host pools: documentation ranges only. */
export function remoteV4(rng: Rng): string {
  const net = rng.pick(['192.0.2', '198.51.100', '203.0.113']);
  return `${net}.${rng.int(1, 254)}`;
}

export function remoteV6(rng: Rng): string {
  return `2001:db8:${rng.int(1, 0xffff).toString(16)}:${rng.int(0, 0xff).toString(16)}::${rng.int(1, 0xffff).toString(16)}`;
}

export function ephemeralPort(rng: Rng): number {
  return rng.int(49152, 65535);
}

export function endpoint(address: string, port: number, scopeId?: number): Endpoint {
  const family = address.includes(':') ? 6 : 4;
  return scopeId ? { family, address, port, scopeId } : { family, address, port };
}

/** A small deterministic NECP TLV blob (type u8, length u32 LE, value) for the TLV extensions. */
export function necpTlv(rng: Rng, domain: string): Uint8Array {
  const enc = new TextEncoder();
  const parts: number[] = [];
  const add = (type: number, value: Uint8Array) => {
    parts.push(type, value.length & 0xff, (value.length >> 8) & 0xff, 0, 0, ...value);
  };
  add(7, enc.encode(domain)); // NECP_CLIENT_PARAMETER_DOMAIN
  add(100, enc.encode('com.example.app'));
  const uuid = new Uint8Array(16);
  for (let i = 0; i < 16; i++) uuid[i] = rng.int(0, 255);
  add(9, uuid); // a UUID parameter
  return Uint8Array.from(parts);
}
