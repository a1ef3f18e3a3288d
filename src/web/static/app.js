// Entry point: tabs, the server-sent event stream (one `poll` event per agent poll) and the
// periodic refresh of whichever view is visible.
import { getJson } from './format.js';
import { refreshHealth } from './health.js';
import { initHistory, refreshHistory } from './history.js';
import { backfillLive, initLive, onShowLive, onSnapshot } from './live.js';

const $ = (id) => document.getElementById(id);
let view = 'live';

function show(name) {
  view = name;
  for (const b of document.querySelectorAll('[data-view]')) b.setAttribute('aria-selected', String(b.dataset.view === name));
  for (const v of ['live', 'history', 'health']) $(`view-${v}`).hidden = v !== name;
  if (name === 'live') onShowLive();
  if (name === 'history') refreshHistory();
  if (name === 'health') refreshHealth().catch(() => undefined);
  history.replaceState(null, '', `#${name}`);
}

function connect() {
  const dot = $('conn-state');
  const es = new EventSource('/api/events');
  es.addEventListener('open', () => {
    dot.className = 'dot ok';
    dot.title = 'connected';
  });
  es.addEventListener('error', () => {
    dot.className = 'dot bad';
    dot.title = 'disconnected (retrying)';
  });
  es.addEventListener('poll', (e) => onSnapshot(JSON.parse(e.data)));
  es.addEventListener('flush', () => {
    if (view === 'history') refreshHistory();
  });
}

async function header() {
  const st = await getJson('/api/status');
  const k = st.kernel;
  $('kernel-label').textContent = `${k.xnu ? `xnu-${k.xnu}` : 'kernel'}${k.macos ? ` · macOS ${k.macos}` : ''}`;
  $('sim-badge').hidden = !k.simulated;
}

function start() {
  for (const b of document.querySelectorAll('[data-view]')) b.addEventListener('click', () => show(b.dataset.view));
  initLive();
  initHistory();
  header().catch(() => undefined);
  backfillLive()
    .catch(() => undefined)
    .finally(connect);
  setInterval(() => {
    if (view === 'health') refreshHealth().catch(() => undefined);
  }, 5000);
  const want = location.hash.slice(1);
  show(['live', 'history', 'health'].includes(want) ? want : 'live');
}

start();
