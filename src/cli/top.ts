/**
 * `ntstat top`: the live full-screen table. Owns the terminal: alternate screen, hidden cursor,
 * raw keyboard; restores all of it on quit, on SIGINT/SIGTERM (the abort signal) and on errors.
 * Rendering is pure (top-render.ts) and throttled; a frame reads the live streams in place
 * (LiveStreams) and selects only the rows on screen (sort.ts firstInOrder), issue 17.
 *
 * Not a terminal (a pipe), `--count N`/`-L N`/`--once` or `--csv`: snapshots instead, one per
 * sweep (the first after one interval, so rates are measured), each complete plain text (or
 * CSV), then exit after N of them.
 */
import type { Stream } from '../model/stream.js';
import { ProcessTotals } from '../model/process-totals.js';
import { compileFilter, compileInterfaceFilter } from './filters.js';
import type { CliIo } from './io.js';
import { parseKeys, type Key } from './keys.js';
import { LiveStreams } from './live-streams.js';
import type { CliOptions } from './options.js';
import { hostResolver, interfaceIndexOf, openLiveClient, runUntilDone, watchFailure, type LiveSourceFactory } from './run-live.js';
import { SORT_KEYS, type SortKey } from './sort.js';
import { GROUPINGS, renderTop, type TopGrouping, type TopModel } from './top-render.js';
import { snapshotCsv } from './top-csv.js';

const ENTER_SCREEN = '\x1b[?1049h\x1b[?25l';
const LEAVE_SCREEN = '\x1b[?25h\x1b[?1049l';
const HOME_CLEAR = '\x1b[H';
const CLEAR_EOL = '\x1b[K';
const MIN_FRAME_MS = 100;

export interface TopState {
  grouping: TopGrouping;
  sort: SortKey;
  reverse?: boolean;
  paused: boolean;
  filter: string;
  editing?: string;
  /** First table row shown. */
  scroll?: number;
  /** Rows per page (set by the controller from the terminal height). */
  page?: number;
  quit: boolean;
  /** Quit by Ctrl-C (exit 130, as shells expect). */
  interrupted?: boolean;
}

/** Apply one key (a character or a name from parseKeys) to the view state (pure; tested directly). */
export function topKey(state: TopState, key: Key): TopState {
  const s = { ...state };
  const page = Math.max(1, s.page ?? 10);
  if (s.editing !== undefined) {
    if (key === '\r' || key === '\n') {
      s.filter = s.editing;
      s.editing = undefined;
      s.scroll = 0;
    } else if (key === '\x1b') s.editing = undefined;
    else if (key === '\x7f' || key === '\b') s.editing = s.editing.slice(0, -1);
    else if (key === '\x03') {
      s.quit = true;
      s.interrupted = true;
    } else if (key >= ' ' && [...key].length === 1) s.editing += key;
    return s;
  }
  switch (key) {
    case 'q':
    case 'Q':
      s.quit = true;
      break;
    case '\x03': // Ctrl-C arrives as a byte in raw mode
      s.quit = true;
      s.interrupted = true;
      break;
    case 's':
      s.sort = SORT_KEYS[(SORT_KEYS.indexOf(s.sort) + 1) % SORT_KEYS.length];
      break;
    case 'r':
      s.reverse = !s.reverse;
      break;
    case 'g':
      s.grouping = GROUPINGS[(GROUPINGS.indexOf(s.grouping) + 1) % GROUPINGS.length];
      s.scroll = 0;
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
    case 'up':
      s.scroll = Math.max(0, (s.scroll ?? 0) - 1);
      break;
    case 'down':
      s.scroll = (s.scroll ?? 0) + 1;
      break;
    case 'pageup':
      s.scroll = Math.max(0, (s.scroll ?? 0) - page);
      break;
    case 'pagedown':
      s.scroll = (s.scroll ?? 0) + page;
      break;
    case 'home':
      s.scroll = 0;
      break;
    case 'end':
      s.scroll = Number.MAX_SAFE_INTEGER; // the renderer clamps to the last page
      break;
  }
  return s;
}

/** Width for plain output: COLUMNS when set (a pipe has no width of its own), else unlimited. */
function plainWidth(env: Record<string, string | undefined>): number {
  const n = Number(env.COLUMNS);
  return Number.isInteger(n) && n >= 20 ? n : Infinity;
}

export async function runTop(o: CliOptions, io: CliIo, factory: LiveSourceFactory): Promise<number> {
  const { client, source } = await openLiveClient(o, io, factory);
  const snapshots = io.stdout.isTTY !== true || o.count !== undefined || o.csv;
  const tty = !snapshots;
  const pre = compileFilter(o, interfaceIndexOf(source));
  const preInterface = compileInterfaceFilter(o);
  const byProcess = new ProcessTotals('pid');
  const byApp = new ProcessTotals('epid');
  const live = new LiveStreams(client);
  for (const kind of ['added', 'update', 'removed'] as const) {
    client.on(kind, (s: Stream) => {
      if (!pre(s)) return;
      byProcess.apply(kind, s);
      byApp.apply(kind, s);
    });
  }
  const resolver = await hostResolver(o, source);
  let state: TopState = {
    grouping: o.by === 'process' ? 'process' : o.by === 'app' ? 'app' : o.by === 'interface' ? 'interface' : 'stream',
    sort: o.sort ?? 'rate',
    reverse: o.reverse,
    paused: false,
    filter: '',
    quit: false,
  };
  let lastFrame = 0;
  let pendingFrame: NodeJS.Timeout | undefined;
  let frozen: string[] | undefined;

  const model = (): TopModel => {
    // The live set itself when every stream passes the filters (the usual case), else a copy
    // of those that do; indexed loops (see LiveStreams).
    const all = live.streams();
    let streams = all;
    for (let i = 0; i < all.length; i++) {
      if (pre(all[i])) {
        if (streams !== all) (streams as Stream[]).push(all[i]);
      } else if (streams === all) streams = all.slice(0, i);
    }
    const totals = state.grouping === 'app' ? byApp : byProcess;
    // Group rates only matter when groups are shown.
    if (state.grouping !== 'stream') totals.updateRates(streams);
    let list = state.grouping === 'stream' ? [] : totals.totals();
    if (state.grouping === 'app') {
      // Name the responsible process after its own stream when we see one.
      const names = new Map<number, string>();
      for (const s of streams) if (s.pid !== undefined && s.process !== undefined) names.set(s.pid, s.process);
      list = list.map((t) => (t.pid !== undefined && names.has(t.pid) ? { ...t, process: names.get(t.pid) } : t));
    }
    if (resolver) for (const s of streams) if (s.remote) resolver.lookup(s.remote.address);
    const d = client.dialect;
    // Interfaces are shown (and counted in the header) only when grouped by interface; finding
    // them walks the whole source table, so the other groupings do not (issue 17).
    const byInterface = state.grouping === 'interface';
    const interfaces = byInterface ? client.interfaces().filter(preInterface) : [];
    const ifnet = byInterface ? client.providers().find((p) => p.provider === 'ifnet') : undefined;
    const note = !byInterface || ifnet?.available ? undefined : ifnet ? `interfaces unavailable: ${ifnet.reason ?? '?'}` : 'interfaces not subscribed (start with --by interface or --all)';
    const rows = tty ? io.stdout.rows ?? 30 : 0;
    state.page = Math.max(1, rows - 4);
    return {
      streams,
      totals: list,
      interfaces,
      ...(note !== undefined ? { note } : {}),
      grouping: state.grouping,
      sort: state.sort,
      reverse: state.reverse ?? false,
      paused: state.paused,
      filter: state.filter,
      scroll: state.scroll ?? 0,
      ...(state.editing !== undefined ? { editing: state.editing } : {}),
      ...(resolver ? { hostOf: (a: string) => resolver.host(a) } : {}),
      header: `ntstat top ${source.simulated ? 'SIMULATED ' : ''}xnu-${source.xnuLabel ?? d?.xnu ?? '?'}  ${state.grouping === 'interface' ? `${interfaces.length} interfaces` : `${streams.length} streams`}`,
      drops: client.getNumDrops(),
      raw: o.raw,
      color: o.color && tty,
      columns: tty ? io.stdout.columns ?? 120 : plainWidth(io.env),
      rows,
      plain: !tty,
    };
  };

  const draw = () => {
    pendingFrame = undefined;
    lastFrame = Date.now();
    const fresh = renderTop(model());
    // Paused: the table body stays as it was; the status and help lines stay live.
    const frame = state.paused && frozen ? [fresh[0], ...frozen.slice(1, -1), fresh[fresh.length - 1]] : fresh;
    if (!state.paused) frozen = fresh;
    io.stdout.write(HOME_CLEAR + frame.map((l) => l + CLEAR_EOL).join('\r\n'));
  };
  const schedule = () => {
    if (!tty || pendingFrame || client.state === 'closed') return;
    const wait = Math.max(0, lastFrame + MIN_FRAME_MS - Date.now());
    pendingFrame = setTimeout(draw, wait);
  };
  let sweeps = 0;
  let frames = 0;
  const snapshot = () => {
    // The first sweep only establishes the table; rates need a second sample.
    if (++sweeps < 2 || (o.count !== undefined && frames >= o.count)) return;
    const m = model();
    if (o.csv) io.stdout.write(snapshotCsv(m, o, (source.clock ?? Date.now)(), frames === 0));
    else io.stdout.write((frames > 0 ? '\n' : '') + renderTop(m).join('\n') + '\n');
    frames++;
    if (o.count !== undefined && frames >= o.count) client.stop();
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
      if (resolver) resolver.onAnswer = schedule;
    }
    const stdin = io.stdin;
    if (tty && stdin && stdin.isTTY && stdin.setRawMode) {
      stdin.setRawMode(true);
      restore.push(() => stdin.setRawMode?.(false));
      const onData = (buf: Buffer | string) => {
        for (const key of parseKeys(String(buf))) {
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
    if (tty && io.onResize) restore.push(io.onResize(() => schedule()));
    client.on('sweep', () => (tty ? schedule() : snapshot()));
    schedule();
    const stopSource = source.start?.();
    await runUntilDone(client, o, stopSource);
  } finally {
    cleanup();
  }
  const f = failure();
  if (f) throw f;
  return state.interrupted ? 130 : 0;
}
