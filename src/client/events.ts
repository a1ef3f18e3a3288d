/**
 * The client's events, by name, with their listener signatures: `client.on('addded', …)` does not
 * type-check, and listeners get typed payloads.
 */
import type { SysinfoEvent } from '../model/sysinfo.js';
import type { InterfaceEvent } from '../model/interface.js';
import type { StreamEvent } from '../model/events.js';
import type { Stream } from '../model/stream.js';
import type { ErrorMessage } from '../protocol/messages.js';
import type { SelfTestResult } from './calibration.js';

/** Why messages were lost (see ClientDropInfo in client.ts). */
export interface ClientEventMap<Drop> {
  /** A stream appeared (after its first descriptor: process and addresses are known). */
  added: (stream: Stream, event: StreamEvent) => void;
  /** A stream's counters or descriptor changed. */
  update: (stream: Stream, event: StreamEvent) => void;
  /** A stream ended; the stream carries its final counters. */
  removed: (stream: Stream, event: StreamEvent) => void;
  /** The kernel dropped messages (or a loss was detected); the client resynchronises. */
  drop: (drop: Drop) => void;
  /** A sweep completed; the argument counts completed sweeps. */
  sweep: (sweepsCompleted: number) => void;
  /** Something worth telling a person (an unverified kernel, a small receive buffer). */
  warning: (message: string) => void;
  /** An NtstatError (or a transport error) the client could not handle. */
  error: (error: Error) => void;
  /** The kernel answered ERROR to a request nobody waits for. */
  kernelError: (message: ErrorMessage) => void;
  /** The layout self-test on an unverified kernel finished (see calibration.ts). */
  selfTest: (result: SelfTestResult) => void;
  /** An interface from the ifnet provider: added, counters updated, removed (model/interface.ts). */
  interface: (event: InterfaceEvent) => void;
  /** A SYSINFO_COUNTS report (privileged clients subscribed to sysinfo, model/sysinfo.ts). */
  sysinfo: (event: SysinfoEvent) => void;
  /** The client stopped and released the transport. */
  close: () => void;
}
