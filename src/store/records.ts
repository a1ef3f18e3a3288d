/**
 * What the recorder hands to a usage store at each flush, and what the store gives back at start.
 * Plain data, no behaviour: the agent (producer) and the store (consumer) agree on these shapes.
 */

/** The dimensions usage is kept per (issue 14): process name, pid, responsible app, interface. */
export interface UsageDims {
  process: string;
  /** Absent when the kernel did not report one. */
  pid?: number;
  /** Responsible app (effective process name) when it differs from `process`. */
  app?: string;
  /** BSD name when known, else "if<index>", "?" without an interface. */
  ifname: string;
  /** wifi|wired|cellular|loopback|awdl|other|unknown */
  ifkind: string;
}

export interface Totals {
  rxBytes: number;
  txBytes: number;
  rxPackets: number;
  txPackets: number;
}

/** Growth in one minute bucket for one set of dimensions. */
export interface UsageDelta extends UsageDims, Totals {
  /** Start of the minute, ms since the epoch (wall time when the growth was seen). */
  minute: number;
  /** Flows first seen in this bucket. */
  flows: number;
}

/** A closed flow for the flow log. */
export interface ClosedFlow extends UsageDims, Totals {
  /** tcp|udp|quic, and whether the flow was a userland (Skywalk/NECP) one. */
  provider: string;
  local?: string;
  remote?: string;
  /** ms epoch: when the flow started (descriptor start time where the kernel gives it, else first seen). */
  start: number;
  end: number;
}

/**
 * An open flow's identity and its counters as of a flush. srcrefs are per session, so a restarted
 * agent recognises flows by what the kernel says about them (provider, process, endpoints, start).
 */
export interface OpenFlowState extends Totals {
  identity: string;
}

export interface FlushBatch {
  /** ms epoch of the flush. */
  time: number;
  deltas: UsageDelta[];
  closed: ClosedFlow[];
  /** Every open flow now: replaces what the store held (flows that ended are dropped). */
  open: OpenFlowState[];
}

/** The store side of recording (UsageStore implements it; anything else may). */
export interface UsageSink {
  /** Open flows as of the last flush (empty for a new database). */
  openFlows(): OpenFlowState[];
  /** Write one flush atomically: all of it or none of it. */
  flush(batch: FlushBatch): void;
  readonly path: string;
  sizeBytes(): number;
}
