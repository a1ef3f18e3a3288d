/**
 * The world's interfaces beyond what flows move over them (issue 13 §2, ifnet provider):
 *  - traffic no flow carries (what the interface counted before the simulation started, ARP, ND,
 *    mDNS…), so an interface's counters = the sum of its flows' traffic + this non-flow part,
 *    both kept as ground truth;
 *  - the driver's link status report (`if_link_status`, copied into the ifnet descriptor by
 *    `nstat_ifnet_copy_link_status`: Wi-Fi and cellular only, BEHAVIOUR.md §5.7).
 * Counters are exact JS numbers: 64-bit in the kernel (`if_ibytes`), well above 2^32 here.
 */
import type { IfnetLinkStatus } from '../../protocol/index.js';
import type { InterfaceCounters, NetInterface } from './entities.js';
import type { World } from './world.js';

/** Bytes per packet for non-flow traffic (small control frames). */
const CONTROL_FRAME = 90;

/**
 * Count traffic that no flow carries on `ifp` (as the driver's `if_data` does), then let the
 * kernel check the interface's threshold (`ifnet_notify_data_threshold`, §3.3).
 */
export function nonFlowTraffic(world: World, ifp: NetInterface, rx: number, tx: number, packets?: { rx: number; tx: number }): void {
  rx = Math.floor(rx);
  tx = Math.floor(tx);
  if (rx <= 0 && tx <= 0) return;
  const rxp = packets?.rx ?? (rx > 0 ? Math.ceil(rx / CONTROL_FRAME) : 0);
  const txp = packets?.tx ?? (tx > 0 ? Math.ceil(tx / CONTROL_FRAME) : 0);
  const nf = (ifp.nonFlow ??= { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 });
  nf.rxBytes += rx;
  nf.txBytes += tx;
  nf.rxPackets += rxp;
  nf.txPackets += txp;
  ifp.rxBytes += rx;
  ifp.txBytes += tx;
  ifp.rxPackets += rxp;
  ifp.txPackets += txp;
  if (ifp.threshold > 0) world.hooks.ifnetTraffic(ifp);
}

/** Background chatter every `periodMs` of simulated time (ARP/ND/mDNS on a LAN). */
export function backgroundTraffic(world: World, ifp: NetInterface, perTick: { rx: number; tx: number }, periodMs = 1000): void {
  const tick = () => {
    if (!ifp.attached) return;
    nonFlowTraffic(world, ifp, perTick.rx, perTick.tx);
    world.sched.after(periodMs, tick);
  };
  world.sched.after(periodMs, tick);
}

/** Typical driver reports (values are plausible, not measured): a good 5 GHz Wi-Fi link, an LTE link. */
export const WIFI_LINK: IfnetLinkStatus = {
  type: 'wifi',
  fields: { linkQualityMetric: 100, ulMaxBandwidth: 866_000, dlMaxBandwidth: 866_000, dlEffectiveLatency: 4, configFrequency: 2 },
};
export const CELLULAR_LINK: IfnetLinkStatus = {
  type: 'cellular',
  fields: { linkQualityMetric: 50, ulMaxBandwidth: 50_000, dlMaxBandwidth: 150_000, ulEffectiveLatency: 38 },
};

export interface InterfaceTruth extends InterfaceCounters {
  ifindex: number;
  name: string;
  kind: NetInterface['kind'];
  attached: boolean;
  /** The part of the counters no flow carried. */
  nonFlow: InterfaceCounters;
  link?: IfnetLinkStatus;
}

/** Every interface's true counters now (tests compare the client's interface events with these). */
export function interfaceTruth(world: World): InterfaceTruth[] {
  return [...world.interfaces.values()].map((i) => {
    const t: InterfaceTruth = {
      ifindex: i.ifindex,
      name: i.name,
      kind: i.kind,
      attached: i.attached,
      rxBytes: i.rxBytes,
      txBytes: i.txBytes,
      rxPackets: i.rxPackets,
      txPackets: i.txPackets,
      nonFlow: { ...(i.nonFlow ?? { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 }) },
    };
    if (i.link) t.link = i.link;
    return t;
  });
}
