/**
 * Request/response matching by `context` (BEHAVIOUR.md §7: non-zero, unique per request;
 * unsolicited and aggregated messages carry 0). Only requests that end with SUCCESS or ERROR
 * are tracked: ADD_ALL_SRCS and ALL polls. Silent successes are never waited for (§2.1).
 */
import { NtstatError } from '../errors.js';
import type { ErrorMessage, SuccessMessage } from '../protocol/messages.js';

export type Completion = SuccessMessage | ErrorMessage;

interface Pending {
  onDone(m: Completion): void;
}

export class PendingRequests {
  /** @internal */
  private next = 1n;
  /** @internal */
  private readonly map = new Map<bigint, Pending>();

  /** A fresh non-zero context. */
  allocate(): bigint {
    const c = this.next;
    this.next = this.next === 0xffff_ffff_ffff_ffffn ? 1n : this.next + 1n;
    return c;
  }

  expect(context: bigint, onDone: (m: Completion) => void): void {
    this.map.set(context, { onDone });
  }

  forget(context: bigint): void {
    this.map.delete(context);
  }

  /** Deliver a SUCCESS/ERROR; returns false when nobody waits for that context. */
  complete(m: Completion): boolean {
    const p = this.map.get(m.context);
    if (!p) return false;
    this.map.delete(m.context);
    p.onDone(m);
    return true;
  }

  /** Fail every waiter (transport closed). */
  failAll(error: NtstatError): void {
    const all = [...this.map.values()];
    this.map.clear();
    for (const p of all) p.onDone({ kind: 'error', context: 0n, flags: 0, errno: error.errno ?? 0 });
  }

  get size(): number {
    return this.map.size;
  }
}
