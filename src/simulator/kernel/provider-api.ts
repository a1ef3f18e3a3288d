/**
 * What a simulated provider is (BEHAVIOUR.md §5): the Provider interface the kernel model calls,
 * its environment, filters and result types, and the errno values providers answer with.
 */
import type { Counts, ProviderName, StructLayout } from '../../protocol/index.js';
import type { KernelProfile } from '../profile.js';
import type { WorldObject } from '../world/entities.js';
import type { World } from '../world/world.js';
import type { Bits } from './bits.js';
import type { Source } from './sources.js';

export const EPERM = 1;
export const ENOENT = 2;
export const EIO = 5;
export const ENOMEM = 12;
export const EINVAL = 22;
export const EAGAIN = 35;
export const EALREADY = 37;
export const EMSGSIZE = 40;
export const ENOTSUP = 45;
export const EAFNOSUPPORT = 47;
export const ENOBUFS = 55;
export const EOPNOTSUPP = 102;

export interface ProviderFilter {
  flags: bigint;
  events: bigint;
  pid: number;
  /** target_uuid, lowercase text; all zeros when unset. */
  uuid: string;
  /** Extension ids requested and granted: bit k = extension k (`npf_extensions`). */
  extensions: bigint;
}

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export function emptyFilter(): ProviderFilter {
  return { flags: 0n, events: 0n, pid: 0, uuid: ZERO_UUID, extensions: 0n };
}

export interface ProviderEnv {
  readonly profile: KernelProfile;
  readonly bits: Bits;
  readonly world: World;
}

export type CountsResult = { errno: 0; counts: Counts; gone: boolean } | { errno: number; gone: boolean };
export type LookupResult = { errno: number } | { errno: 0; obj: WorldObject };
/** An extension's size as first reported, and the bytes copied (undefined: copy failed → filler). */
export interface ExtensionData {
  size: number;
  data?: Uint8Array;
}

export type Descriptor = Record<string, unknown>;

export interface Provider {
  readonly name: ProviderName;
  readonly id: number;
  readonly layout?: StructLayout;
  /** `nstat_descriptor_length` (0: no descriptor). */
  readonly descLength: number;
  readonly hasCounts: boolean;
  /** ifnet has no watcher: ADD_ALL → ENOTSUP. */
  readonly hasWatcher: boolean;
  /** What the ADD_ALL walk does when a SRC_ADDED cannot be queued (§2.3). */
  walkFailure(profile: KernelProfile): 'stop-success' | 'stop-error' | 'continue';
  lookup(env: ProviderEnv, param: Uint8Array): LookupResult;
  /** Objects an ADD_ALL walk visits, in the kernel's order. */
  walk(env: ProviderEnv): WorldObject[];
  gone(obj: WorldObject): boolean;
  counts(env: ProviderEnv, obj: WorldObject): CountsResult;
  /** Descriptor values, or an errno when it cannot be built (dead pcb, detached interface). */
  descriptor(env: ProviderEnv, obj: WorldObject, src: Source): Descriptor | number;
  reportingAllowed(env: ProviderEnv, obj: WorldObject, filter: ProviderFilter, suppression: bigint): boolean;
  extension(env: ProviderEnv, obj: WorldObject, id: number): ExtensionData | undefined;
  cookieEqual(a: WorldObject, b: WorldObject): boolean;
  /** Generic providers: open-time properties (INITIAL_PROPERTIES, §2.4). */
  initialProperties?(env: ProviderEnv, obj: WorldObject): number;
}
