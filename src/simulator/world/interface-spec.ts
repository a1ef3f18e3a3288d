/**
 * Network interfaces: what a scenario declares (InterfaceSpec), the record the world keeps, and
 * the medium a flow's bytes are counted under (cell/wifi/wired/bt, §5.1). Traffic no flow carries
 * and link reports are in interfaces.ts.
 */
import type { InterfaceKind, Medium, NetInterface } from './entities.js';
import type { InterfaceAddresses } from './addresses.js';

export interface InterfaceSpec {
  ifindex: number;
  name: string;
  kind: InterfaceKind;
  description?: string;
  expensive?: boolean;
  constrained?: boolean;
  /** Local addresses on this interface. */
  v4?: string;
  v6?: string;
  /** Link-local IPv6 (scope id = ifindex). */
  linkLocal?: string;
  gatewayV4?: string;
  gatewayV6?: string;
}

const IFT: Record<InterfaceKind, number> = {
  loopback: 24,
  wifi: 6,
  wired: 6,
  cellular: 0xff,
  awdl: 6,
  llw: 6,
  utun: 1,
  companionBt: 1,
  other: 1,
};

export function mediumOf(ifp: NetInterface | undefined): Medium {
  if (!ifp) return 'other';
  switch (ifp.kind) {
    case 'cellular':
      return 'cell';
    case 'wifi':
    case 'awdl':
    case 'llw':
      return 'wifi';
    case 'wired':
      return 'wired';
    case 'loopback':
      return 'loopback';
    case 'companionBt':
      return 'bt';
    default:
      return 'other';
  }
}

/** A newly attached interface with zero counters. */
export function newInterface(spec: InterfaceSpec): NetInterface {
  return {
    ifindex: spec.ifindex,
    name: spec.name,
    kind: spec.kind,
    ifType: IFT[spec.kind],
    description: spec.description ?? spec.name,
    expensive: spec.expensive ?? spec.kind === 'cellular',
    constrained: spec.constrained ?? false,
    attached: true,
    rxBytes: 0,
    txBytes: 0,
    rxPackets: 0,
    txPackets: 0,
    threshold: 0,
    thresholdBase: 0,
    lastThresholdNotice: -Infinity,
  };
}

/** The addresses a spec declares for its interface. */
export function interfaceAddresses(spec: InterfaceSpec): InterfaceAddresses {
  return {
    v4: spec.v4,
    v6: spec.v6,
    linkLocal: spec.linkLocal,
    gatewayV4: spec.gatewayV4,
    gatewayV6: spec.gatewayV6,
  };
}
