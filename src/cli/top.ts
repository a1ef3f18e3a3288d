/**
 * `ntstat top`: the live full-screen table. Owns the terminal: alternate screen, hidden cursor,
 * raw keyboard; restores all of it on quit, on SIGINT/SIGTERM (the abort signal) and on errors.
 * Rendering is pure (top-render.ts) and throttled; the cost per frame is one sort of the table.
 */
import type { Stream } from '../model/stream.js';
import { ProcessTotals } from '../model/process-totals.js';
import { compileFilter } from './filters.js';
import type { CliIo } from './io.js';
import type { CliOptions } from './options.js';
import { openLiveClient, runUntilDone, watchFailure, type LiveSourceFactory } from './run-live.js';
import { GROUPINGS, SORTS, renderTop, type TopGrouping, type TopModel, type TopSort } from './top-render.js';

const ENTER_SCREEN = '\x1b[?1049h\x1b[?25l';
const LEAVE_SCREEN = '\x1b[?25h\x1b[?1049l';
const HOME_CLEAR = '\x1b[H';
const CLEAR_EOL = '\x1b[K';
const MIN_FRAME_MS = 100;

export interface TopState {
  grouping: TopGrouping;
  sort: TopSort;
  paused: boolean;
  filter: string;
  editing?: string;
  quit: boolean;
}

/** Apply one key press to the view state (pure; tested directly). */
export function topKey(state: TopState, key: string): TopState {
  const s = { ...state };
  if (s.editing !== undefined) {
    if (key === '\r' || key === '\n') {
      s.filter = s.editing;
      s.editing = undefined;
    } else if (key === '\x1b') s.editing = undefined;
    else if (key === '\x7f' || key === '\b') s.editing = s.editing.slice(0, -1);
    else if (key === '\x03') s.quit = true;
    else if (key >= ' ' && key.length === 1) s.editing += key;
    return s;
  }
  switch (key) {
    case 'q':
    case 'Q':
    case '\x03': // Ctrl-C arrives as a byte in raw mode
      s.quit = true;
      break;
    case 's':
      s.sort = SORTS[(SORTS.indexOf(s.sort) + 1) % SORTS.length];
      break;
    case 'g':
      s.grouping = GROUPINGS[(GROUPINGS.indexOf(s.grouping) + 1) % GROUPINGS.length];
      break;
    case 'p':
    case ' ':
      s.paused = !s.paused;
      break;
    case '/':
      s.editing = '';
      break;
    case '\x1b':
      s.filter = '';
      break;
  }
  return s;
}

export async function runTop(o: CliOptions, io: CliIo, factory: LiveSourceFactory): Promise<number> {
  const { client, source } = await openLiveClient(o, io, factory);
  const tty = io.stdout.isTTY === true;
  const pre = compileFilter(o);
  const byProcess = new ProcessTotals('pid');
  const byApp = new ProcessTotals('epid');
  for (const kind of ['added', 'update', 'removed'] as const) {
    client.on(kind, (s: Stream) => {
      if (!pre(s)) return;
      byProcess.apply(kind, s);
      byApp.apply(kind, s);
    });
  }
  let state: TopState = {
    grouping: o.by === 'process' ? 'process' : o.by === 'app' ? 'app' : 'stream',
    sort: 'rate',
    paused: false,
    filter: '',
    quit: false,
  };
  let lastFrame = 0;
  let pendingFrame: NodeJS.Timeout | undefined;
  let frozen: string[] | undefined;

  const model = (): TopModel => {
    const streams = client.snapshot().filter(pre);
    const totals = state.grouping === 'app' ? byApp : byProcess;
    totals.updateRates(streams);
    let list = totals.totals();
    if (state.grouping === 'app') {
      // Name the responsible process after its own stream when we see one.
      const names = new Map<number, string>();
      for (const s of streams) if (s.pid !== undefined && s.process !== undefined) names.set(s.pid, s.process);
      list = list.map((t) => (t.pid !== undefined && names.has(t.pid) ? { ...t, process: names.get(t.pid) } : t));
    }
    const d = client.dialect;
    return {
      streams,
      totals: list,
      grouping: state.grouping,
      sort: state.sort,
      paused: state.paused,
      filter: state.filter,
      ...(state.editing !== undefined ? { editing: state.editing } : {}),
      header: `ntstat top ${source.simulated ? 'SIMULATED ' : ''}xnu-${source.xnuLabel ?? d?.xnu ?? '?'}  ${streams.length} streams`,
      drops: client.getNumDrops(),
      raw: o.raw,
      color: o.color && tty,
      columns: io.stdout.columns ?? 120,
      rows: tty ? io.stdout.rows ?? 30 : Math.min(40, streams.length + 4),
    };
  };

  const draw = () => {
    pendingFrame = undefined;
    lastFrame = Date.now();
    const fresh = renderTop(model());
    // Paused: the table body stays as it was; the status and help lines stay live.
    const frame = state.paused && frozen ? [fresh[0], ...frozen.slice(1, -1), fresh[fresh.length - 1]] : fresh;
    if (!state.paused) frozen = fresh;
    if (tty) io.stdout.write(HOME_CLEAR + frame.map((l) => l + CLEAR_EOL).join('\r\n'));
    else io.stdout.write(frame.filter((l) => l !== '').join('\n') + '\n\n');
  };
  const schedule = () => {
    if (pendingFrame || client.state === 'closed') return;
    const wait = Math.max(0, lastFrame + MIN_FRAME_MS - Date.now());
    pendingFrame = setTimeout(draw, wait);
  };

  const restore: (() => void)[] = [];
  const cleanup = () => {
    if (pendingFrame) clearTimeout(pendingFrame);
    pendingFrame = undefined;
    for (const r of restore.splice(0).reverse()) {
      try {
        r();
      } catch {
        // restoring the terminal is best effort, every step is attempted
      }
    }
  };
  const failure = watchFailure(client);
  try {
    await client.connect();
    if (tty) {
      io.stdout.write(ENTER_SCREEN);
      restore.push(() => io.stdout.write(LEAVE_SCREEN));
    }
    const stdin = io.stdin;
    if (stdin && stdin.isTTY && stdin.setRawMode) {
      stdin.setRawMode(true);
      restore.push(() => stdin.setRawMode?.(false));
      const onData = (buf: Buffer | string) => {
        for (const key of String(buf)) {
          state = topKey(state, key);
          if (state.quit) {
            client.stop();
            return;
          }
        }
        schedule();
      };
      stdin.on('data', onData);
      stdin.resume();
      restore.push(() => {
        stdin.off('data', onData);
        stdin.pause();
      });
    }
    if (io.onResize) restore.push(io.onResize(() => schedule()));
    client.on('sweep', () => schedule());
    schedule();
    const stopSource = source.start?.();
    await runUntilDone(client, o, stopSource);
  } finally {
    cleanup();
  }
  if (!tty) draw();
  const f = failure();
  if (f) throw f;
  return 0;
}
