// The History view: from the agent's database, a range picker (1 h, 24 h, 7 d, 30 d, custom),
// a stacked time series (bytes per bucket) and per-app or per-interface bars.
import { stackedChart } from './charts.js';
import { bytes, clear, colorFor, dateTime, el, getJson, shown } from './format.js';

const state = { range: '24h', by: 'app', since: null, until: null };
let chart;
let seq = 0;
const $ = (id) => document.getElementById(id);

export function initHistory() {
  for (const b of document.querySelectorAll('[data-range]')) {
    b.addEventListener('click', () => {
      state.range = b.dataset.range;
      press('[data-range]', b);
      $('custom-range').hidden = state.range !== 'custom';
      if (state.range !== 'custom') refreshHistory();
      else {
        const now = Date.now();
        if (!$('custom-since').value) $('custom-since').value = local(now - 2 * 86400_000);
        if (!$('custom-until').value) $('custom-until').value = local(now);
      }
    });
  }
  for (const b of document.querySelectorAll('[data-hby]')) {
    b.addEventListener('click', () => {
      state.by = b.dataset.hby;
      press('[data-hby]', b);
      refreshHistory();
    });
  }
  $('custom-range').addEventListener('submit', (e) => {
    e.preventDefault();
    state.since = new Date($('custom-since').value).getTime();
    state.until = new Date($('custom-until').value).getTime();
    refreshHistory();
  });
}

function press(selector, on) {
  for (const b of document.querySelectorAll(selector)) b.setAttribute('aria-pressed', String(b === on));
}

function local(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

function rangeQuery() {
  if (state.range === 'custom' && state.since !== null && state.until !== null) return `since=${state.since}&until=${state.until}`;
  return `since=${state.range === 'custom' ? '24h' : state.range}`;
}

export async function refreshHistory() {
  const my = ++seq;
  const q = rangeQuery();
  const err = $('history-error');
  let usage;
  let series;
  try {
    [usage, series] = await Promise.all([getJson(`/api/usage?${q}&by=${state.by}&top=25`), getJson(`/api/series?${q}&by=${state.by}&top=10`)]);
  } catch (e) {
    if (my !== seq) return;
    err.hidden = false;
    err.textContent = e.status === 404 ? 'No history: the agent runs without a database.' : `Could not load history: ${e.message}`;
    return;
  }
  if (my !== seq) return;
  err.hidden = true;
  const step = series.stepSeconds;
  const stepLabel = step >= 86400 ? 'day' : step >= 3600 ? 'hour' : step >= 60 ? 'minute' : `${step} s`;
  $('history-range').textContent = `${dateTime(usage.since)} – ${dateTime(usage.until)} · bytes per ${stepLabel}`;
  if (!chart) chart = stackedChart($('history-chart'), { legend: $('history-legend'), unit: (v) => bytes(v), stepped: true });
  chart.update(series.times.map((t) => t / 1000), series.series);
  renderBars(usage.rows);
}

function renderBars(rows) {
  $('bars-title').textContent = state.by === 'app' ? 'Top apps' : 'Interfaces';
  const list = $('history-bars');
  const frag = document.createDocumentFragment();
  const max = rows.reduce((m, r) => Math.max(m, r.rxBytes + r.txBytes), 0) || 1;
  for (const r of rows) {
    const name = state.by === 'interface' ? r.interface ?? r.key : r.app ?? r.process ?? r.key;
    const li = el('li');
    li.dataset.key = name;
    const label = el('span', 'name');
    const sw = el('span', 'swatch');
    sw.style.background = colorFor(name);
    label.append(sw, document.createTextNode(shown(name)));
    if (state.by === 'interface' && r.kind) label.append(el('span', 'muted', `  ${shown(r.kind)}`));
    label.title = shown(name);
    const track = el('div', 'track');
    const rx = el('div', 'rx');
    const tx = el('div', 'tx');
    rx.style.width = `${(100 * r.rxBytes) / max}%`;
    tx.style.width = `${(100 * r.txBytes) / max}%`;
    rx.title = `received ${bytes(r.rxBytes)}`;
    tx.title = `sent ${bytes(r.txBytes)}`;
    track.append(rx, tx);
    li.append(label, track, el('span', 'num', `↓ ${bytes(r.rxBytes)}  ↑ ${bytes(r.txBytes)}`));
    frag.append(li);
  }
  clear(list);
  if (rows.length === 0) list.append(el('li', 'empty', 'No traffic recorded in this range yet.'));
  list.append(frag);
}
