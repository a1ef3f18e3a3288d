/**
 * BSD interface name -> index on this machine, without native code: an interface's IPv6
 * link-local address carries its index as the scope id (RFC 4007), and os.networkInterfaces()
 * reports it. Interfaces without IPv6 link-local (rare on macOS) are not found by name.
 */
import { networkInterfaces } from 'node:os';

export function localInterfaceIndex(name: string): number | undefined {
  for (const a of networkInterfaces()[name] ?? []) {
    if (a.family === 'IPv6' && a.scopeid) return a.scopeid;
  }
  return undefined;
}
