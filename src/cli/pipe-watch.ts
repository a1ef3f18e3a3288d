/**
 * `ntstat | head -3`: once the reader is gone, exit at once, not at the next write. A write end
 * of a pipe learns that its reader closed only by writing (EPIPE) — or by polling: poll(2)
 * reports POLLERR on a pipe without readers. A quiet log writes seldom, so stdout (when it is
 * a FIFO) is polled for writability four times a second through libuv (koffi.node.poll); the
 * callback stops itself while the pipe is healthy, so this costs no CPU in between.
 */
import { fstatSync } from 'node:fs';
import { createRequire } from 'node:module';

const CHECK_MS = 250;

interface PollHandle {
  start(opts: object, cb: (status: number) => void): void;
  stop(): void;
  close(): void;
}

export function watchStdoutPipe(onGone: () => void = () => process.exit(0)): void {
  try {
    if (!fstatSync(1).isFIFO()) return; // only pipes: poll(2) on other files is not meaningful
    const koffi = createRequire(import.meta.url)('koffi') as { node?: { poll?(fd: number, opts: object, cb: (status: number) => void): PollHandle } };
    if (typeof koffi.node?.poll !== 'function') return;
    let handle: PollHandle | undefined;
    const onPoll = (status: number) => {
      if (status < 0) {
        handle?.close();
        onGone(); // libuv reports POLLERR as a negative status: no reader is left
        return;
      }
      handle?.stop();
      later();
    };
    // While stdout's own stream waits to write (a full pipe: a slow reader), libuv watches fd 1
    // itself and a second watch fails (EEXIST), which used to kill `ntstat replay BIG | less`.
    // The stream's pending write then sees EPIPE anyway; look again later.
    const later = () =>
      setTimeout(() => {
        try {
          handle?.start({ writable: true }, onPoll);
        } catch {
          later();
        }
      }, CHECK_MS).unref();
    handle = koffi.node.poll(1, { writable: true }, onPoll);
    process.once('exit', () => handle?.close());
  } catch {
    // No koffi on this platform: the next write's EPIPE still ends the process.
  }
}
