/**
 * Requests to the kernel: encode and send, and for requests that end with SUCCESS or ERROR, wait
 * for the reply matched by context (pending.ts) with a timeout.
 */
import { NtstatError } from '../errors.js';
import { DarwinErrno } from '../protocol/constants.js';
import { encodeRequest } from '../protocol/encode.js';
import type { Request } from '../protocol/messages.js';
import { isFatalTransportError } from './fatal.js';
import type { LossLedger } from './loss-ledger.js';
import type { Completion } from './pending.js';
import type { ClientSession } from './session.js';

export class RequestChannel {
  constructor(
    /** @internal */ private readonly s: ClientSession,
    /** @internal */ private readonly loss: LossLedger,
  ) {}

  send(req: Request): void {
    const s = this.s;
    const bytes = encodeRequest(s.dialect!, req);
    try {
      s.transport!.send(bytes);
    } catch (e) {
      if (e instanceof NtstatError && e.errno === DarwinErrno.ENOBUFS) this.loss.countDrop('send-enobufs');
      else if (isFatalTransportError(e) && s.state !== 'stopping' && s.state !== 'closed') {
        // The kernel side is gone (issue 13: a vanished --socket peer gave ECONNREFUSED forever).
        s.emit('error', e);
        s.shutdown();
      }
      throw e;
    }
  }

  /** Send a request that ends with SUCCESS or ERROR and wait for it. */
  request(build: (context: bigint) => Request): Promise<Completion> {
    const context = this.s.pending.allocate();
    return this.requestWith(context, build(context));
  }

  requestWith(context: bigint, req: Request): Promise<Completion> {
    const s = this.s;
    return new Promise<Completion>((resolve, reject) => {
      const timer = setTimeout(() => {
        s.pending.forget(context);
        this.loss.countDrop('timeout');
        reject(new NtstatError('ERR_NTSTAT_TIMEOUT', `no answer to ${req.kind} (context ${context}) within ${s.opts.requestTimeout} ms`));
      }, s.opts.requestTimeout);
      s.pending.expect(context, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      try {
        this.send(req);
      } catch (e) {
        clearTimeout(timer);
        s.pending.forget(context);
        reject(e);
      }
    });
  }
}
