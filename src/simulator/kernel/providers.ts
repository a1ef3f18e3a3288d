/**
 * The ntstat providers (BEHAVIOUR.md §5): for each, how its objects are looked up (ADD_SRC),
 * walked (ADD_ALL), counted, described, filtered and whether they are "gone". Descriptor
 * values use the decoder's camelCase field names; the dialect's layout decides which of them
 * exist on the wire (`writeStruct` writes only the fields the layout has).
 *
 * This file is the registry; the providers live beside it: provider-sockets.ts (kernel TCP/UDP),
 * provider-userland.ts (userland, CONN, UDP_SUBFLOW), provider-route-ifnet.ts, with what they share
 * in provider-common.ts and the Provider interface in provider-api.ts.
 */
import type { ProviderName } from '../../protocol/index.js';
import { DESCRIPTOR_STRUCT } from '../../protocol/index.js';
import type { KernelProfile } from '../profile.js';
import type { WorldObject } from '../world/entities.js';
import type { Provider } from './provider-api.js';
import { ifnetProvider, routeProvider } from './provider-route-ifnet.js';
import { kernelSocketProvider } from './provider-sockets.js';
import { genericProvider, userlandProvider } from './provider-userland.js';

export {
  EAFNOSUPPORT,
  EAGAIN,
  EALREADY,
  EINVAL,
  EIO,
  EMSGSIZE,
  ENOBUFS,
  ENOENT,
  ENOMEM,
  ENOTSUP,
  EOPNOTSUPP,
  EPERM,
  ZERO_UUID,
  emptyFilter,
  type CountsResult,
  type Descriptor,
  type ExtensionData,
  type LookupResult,
  type Provider,
  type ProviderEnv,
  type ProviderFilter,
} from './provider-api.js';
export { flowIfFlags, ifnetFlags, kernelProcName, writeValues } from './provider-common.js';
export { IFNET_MIN_THRESHOLD } from './provider-route-ifnet.js';

// --------------------------------------------------------------------------- registry

/** The providers registered by this kernel (sysinfo is never a provider: ENOENT, §A.1). */
export function buildProviders(profile: KernelProfile): Map<number, Provider> {
  const d = profile.dialect;
  const p = profile.providers;
  const out = new Map<number, Provider>();
  const layout = (n: ProviderName) => d.structs.get(DESCRIPTOR_STRUCT[n]);
  if (p.route !== undefined) out.set(p.route, routeProvider(p.route, layout('route')));
  if (p.tcp !== undefined) out.set(p.tcp, kernelSocketProvider('tcp', p.tcp, layout('tcp')));
  if (p.udp !== undefined) out.set(p.udp, kernelSocketProvider('udp', p.udp, layout('udp')));
  if (p.tcpUserland !== undefined) out.set(p.tcpUserland, userlandProvider('tcpUserland', p.tcpUserland, layout('tcpUserland')));
  if (p.udpUserland !== undefined) out.set(p.udpUserland, userlandProvider('udpUserland', p.udpUserland, layout('udpUserland')));
  if (p.quic !== undefined) out.set(p.quic, userlandProvider('quic', p.quic, layout('quic')));
  if (p.conn !== undefined) out.set(p.conn, genericProvider('conn', p.conn, layout('conn')));
  if (p.udpSubflow !== undefined) out.set(p.udpSubflow, genericProvider('udpSubflow', p.udpSubflow, layout('udpSubflow')));
  if (p.ifnet !== undefined) out.set(p.ifnet, ifnetProvider(p.ifnet, layout('ifnet')));
  return out;
}

/** The provider whose objects have this world kind. */
export function providerForKind(profile: KernelProfile, kind: WorldObject['kind']): number | undefined {
  const p = profile.providers;
  switch (kind) {
    case 'tcp':
      return p.tcp;
    case 'udp':
      return p.udp;
    case 'tcpUserland':
      return p.tcpUserland;
    case 'udpUserland':
      // 10.12 bug: new UDP-userland flows are attached with the TCP-userland provider (§5.3).
      return profile.udpUserlandAsTcpBug ? p.tcpUserland : p.udpUserland;
    case 'quic':
      return p.quic;
    case 'conn':
      return p.conn;
    case 'udpSubflow':
      return p.udpSubflow;
    case 'route':
      return p.route;
    case 'ifnet':
      return p.ifnet;
  }
}
