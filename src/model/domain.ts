/**
 * Domain names (issue 13 §2): from macOS 12.1 a client may ask for the DOMAIN extension (bit
 * 40 + 1 of the ADD_ALL filter); the kernel honours it only for a privileged client from
 * xnu-8792.81.2 (silently ignored otherwise) and delivers it only in SRC_UPDATE-shaped messages
 * (BEHAVIOUR.md §6). What the app told NECP: the name, its owner, and the attributed bundle id.
 */
import type { ExtensionItem } from '../protocol/messages.js';

export interface StreamDomain {
  name: string;
  owner?: string;
  /** The app a daemon's lookup is attributed to (userland/CONN flows). */
  attributedBundleId?: string;
}

/**
 * One-line text of a domain for people: the name, then who owns it and which app the lookup is
 * attributed to, when the kernel said. Raw text: display layers escape it (cli/escape.ts).
 */
export function domainText(d: StreamDomain): string {
  return `${d.name}${d.owner ? ` owner:${d.owner}` : ''}${d.attributedBundleId ? ` for:${d.attributedBundleId}` : ''}`;
}

/** NSTAT_EXTENDED_UPDATE_TYPE_DOMAIN (B13 header, also 12.1). */
const EXTENSION_DOMAIN = 1;

/** The DOMAIN item of an extended update, when it names a domain (silent items are blank). */
export function domainOf(items: readonly ExtensionItem[] | undefined): StreamDomain | undefined {
  const d = items?.find((i) => i.type === EXTENSION_DOMAIN && i.domain)?.domain;
  if (!d?.domainName) return undefined;
  const out: StreamDomain = { name: d.domainName };
  if (d.domainOwner) out.owner = d.domainOwner;
  if (d.domainAttributedBundleId) out.attributedBundleId = d.domainAttributedBundleId;
  return out;
}

/** Set `s.domain` from an update's items; true when it changed. */
export function applyDomain(s: { domain?: StreamDomain }, items: readonly ExtensionItem[] | undefined): boolean {
  const d = domainOf(items);
  if (!d) return false;
  const p = s.domain;
  if (p && p.name === d.name && p.owner === d.owner && p.attributedBundleId === d.attributedBundleId) return false;
  s.domain = d;
  return true;
}

/** The ADD_ALL filter bit that asks for the DOMAIN extension, or 0n where the kernel has none. */
export function domainFilterBit(shift: number | undefined): bigint {
  return shift === undefined ? 0n : 1n << BigInt(shift + EXTENSION_DOMAIN);
}
