/**
 * Pieces of the simulated ifnet provider kept out of providers.ts: the descriptor's link status
 * (`nstat_ifnet_copy_link_status`: the driver's Wi-Fi or cellular report, else type NONE; absent
 * from the 10.9/10.10 descriptor, which has no link status field).
 */
import { encodeIfnetLinkStatus } from '../../protocol/ifnet.js';
import type { NetInterface } from '../world/entities.js';
import type { ProviderEnv } from './providers.js';

/** `{ linkStatus }` for the descriptor, or nothing (no report, or no such field in this dialect). */
export function ifnetLinkStatusField(env: ProviderEnv, ifp: NetInterface): { linkStatus?: Uint8Array } {
  if (!ifp.link || ifp.link.type === 'none') return {};
  const bytes = encodeIfnetLinkStatus(env.profile.dialect, ifp.link);
  return bytes ? { linkStatus: bytes } : {};
}
