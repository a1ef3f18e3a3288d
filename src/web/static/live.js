// The Live view: summary cards, the stacked per-app chart of the last 5 minutes, the sortable
// app/process table with its rate/total toggle, and the drill-down into one app's flows.
import { stackedChart } from './charts.js';
import { bytes, clear, colorFor, count, el, endpoint, getJson, rate, shown } from './format.js';

const WINDOW_S = 300;
const TOP = 10;
const MAX_ROWS = 300;

const state = {
  group: 'app',
  metric: 'rate',
  sort: { key: 'rx', dir: -1 },
  filter: '',
  selected: null,
  /** [{ t: seconds, rates: Map<app, [rx, tx]> }] */
  samples: [],
  last: null,
};

let chart;
let drillChart;
const $ = (id) => document.getElementById(id);

export function initLive() {
  chart = stackedChart($('live-chart'), { legend: $('live-legend') });
  drillChart = null;
  for (const b of document.querySelectorAll('[data-group]')) {
    b.addEventListener('click', () => {
      state.group = b.dataset.group;
      press('[data-group]', b);
      renderTable();
    });
  }
  for (const b of document.querySelectorAll('[data-metric]')) {
    b.addEventListener('click', () => {
      state.metric = b.dataset.metric;
      press('[data-metric]', b);
      renderTable();
    });
  }
  for (const th of document.querySelectorAll('#apps-table th[data-sort]')) {
    th.addEventListener('click', () => {
      const key = th.dataset.sort;
      state.sort = state.sort.key === key ? { key, dir: -state.sort.dir } : { key, dir: key === 'name' ? 1 : -1 };
      renderTable();
    });
  }
  $('filter').addEventListener('input', (e) => {
    state.filter = e.target.value.toLowerCase();
    renderTable();
  });
  $('drill-close').addEventListener('click', () => select(null));
}

function press(selector, on) {
  for (const b of document.querySelectorAll(selector)) b.setAttribute('aria-pressed', String(b === on));
}

/** Backfill the chart from the agent's in-memory five minutes (the page may open late). */
export async function backfillLive() {
  const s = await getJson('/api/series?window=live&top=100');
  const samples = s.times.map((t) => ({ t: t / 1000, rates: new Map() }));
  for (const se of s.series) {
    if (se.other) continue;
    se.rx.forEach((v, i) => {
      if (v || se.tx[i]) samples[i].rates.set(se.key, [v, se.tx[i]]);
    });
  }
  state.samples = samples.concat(state.samples.filter((x) => samples.length === 0 || x.t > samples[samples.length - 1].t));
  drawChart();
}

export function onSnapshot(snap) {
  state.last = snap;
  const t = snap.time / 1000;
  const rates = new Map();
  for (const a of snap.apps) if (a.rxBytesPerSec > 0 || a.txBytesPerSec > 0) rates.set(a.app, [a.rxBytesPerSec, a.txBytesPerSec]);
  const lastT = state.samples.length ? state.samples[state.samples.length - 1].t : -Infinity;
  if (t > lastT) state.samples.push({ t, rates });
  while (state.samples.length && state.samples[0].t < t - WINDOW_S) state.samples.shift();
  let rx = 0;
  let tx = 0;
  let flows = 0;
  for (const a of snap.apps) {
    rx += a.rxBytesPerSec;
    tx += a.txBytesPerSec;
    flows += a.liveFlows;
  }
  $('sum-rx').textContent = rate(rx);
  $('sum-tx').textContent = rate(tx);
  $('sum-flows').textContent = count(flows);
  $('sum-apps').textContent = count(snap.apps.length);
  if (!document.getElementById('view-live').hidden) {
    drawChart();
    renderTable();
    if (state.selected !== null) refreshDrill();
  }
  // The poll this page has drawn (tests wait on it; handy when debugging).
  document.body.dataset.polled = String(snap.time);
}

export function onShowLive() {
  drawChart();
  renderTable();
}

/** Top apps by bytes over the window + "other", from the client-side samples. */
function seriesFrom(samples, only) {
  const sum = new Map();
  for (const s of samples) for (const [k, [r, t]] of s.rates) if (only === undefined || k === only) sum.set(k, (sum.get(k) ?? 0) + r + t);
  const keys = only !== undefined ? [only] : [...sum.entries()].sort((a, b) => b[1] - a[1]).map((e) => e[0]);
  const shown = keys.slice(0, TOP);
  const series = shown.map((key) => ({ key, rx: samples.map((s) => s.rates.get(key)?.[0] ?? 0), tx: samples.map((s) => s.rates.get(key)?.[1] ?? 0) }));
  if (keys.length > TOP) {
    const set = new Set(shown);
    const other = { key: 'other', other: true, rx: [], tx: [] };
    for (const s of samples) {
      let r = 0;
      let t = 0;
      for (const [k, v] of s.rates) if (!set.has(k)) { r += v[0]; t += v[1]; }
      other.rx.push(r);
      other.tx.push(t);
    }
    series.push(other);
  }
  return { times: samples.map((s) => s.t), series };
}

function drawChart() {
  const { times, series } = seriesFrom(state.samples);
  chart.update(times, series);
}

function rowsFor(snap) {
  const total = state.metric === 'total';
  if (state.group === 'app') {
    return snap.apps.map((a) => ({
      name: a.app,
      app: a.app,
      pid: a.processes,
      flows: a.liveFlows,
      rx: total ? a.rxBytes : a.rxBytesPerSec,
      tx: total ? a.txBytes : a.txBytesPerSec,
    }));
  }
  return snap.processes.map((p) => ({
    name: p.process,
    sub: p.app && p.app !== p.process ? p.app : '',
    app: p.app ?? p.process,
    pid: p.pid ?? -1,
    flows: p.liveFlows,
    rx: total ? p.rxBytes : p.rxBytesPerSec,
    tx: total ? p.txBytes : p.txBytesPerSec,
  }));
}

function renderTable() {
  const snap = state.last;
  if (!snap) return;
  const total = state.metric === 'total';
  const byApp = state.group === 'app';
  $('table-title').textContent = byApp ? 'Apps' : 'Processes';
  document.querySelector('#apps-table th[data-sort="pid"]').textContent = byApp ? 'Procs' : 'PID';
  for (const th of document.querySelectorAll('#apps-table th[data-sort]')) {
    if (th.dataset.sort === state.sort.key) th.setAttribute('aria-sort', state.sort.dir < 0 ? 'descending' : 'ascending');
    else th.removeAttribute('aria-sort');
  }
  let rows = rowsFor(snap);
  if (state.filter) rows = rows.filter((r) => r.name.toLowerCase().includes(state.filter) || (r.sub ?? '').toLowerCase().includes(state.filter));
  const { key, dir } = state.sort;
  rows.sort((a, b) => {
    const x = a[key];
    const y = b[key];
    const c = typeof x === 'string' ? x.localeCompare(y) : x - y;
    return c !== 0 ? c * dir : a.name.localeCompare(b.name);
  });
  const max = rows.reduce((m, r) => Math.max(m, r.rx + r.tx), 0) || 1;
  const tbody = document.querySelector('#apps-table tbody');
  const frag = document.createDocumentFragment();
  for (const r of rows.slice(0, MAX_ROWS)) {
    const tr = el('tr', 'click');
    tr.dataset.app = r.app;
    if (r.app === state.selected) tr.classList.add('sel');
    const name = el('td', 'l name');
    const sw = el('span', 'swatch');
    sw.style.background = colorFor(r.app);
    name.append(sw, document.createTextNode(shown(r.name)));
    if (r.sub) name.append(el('span', 'muted', `  ${shown(r.sub)}`));
    name.title = shown(r.name);
    const share = el('td', 'l share');
    const bar = el('div', 'share-bar');
    const brx = el('div', 'rx');
    const btx = el('div', 'tx');
    brx.style.width = `${(100 * r.rx) / max}%`;
    btx.style.width = `${(100 * r.tx) / max}%`;
    bar.append(brx, btx);
    share.append(bar);
    tr.append(
      name,
      el('td', '', byApp ? count(r.pid) : r.pid >= 0 ? String(r.pid) : ''),
      el('td', '', count(r.flows)),
      el('td', 'rx', total ? bytes(r.rx) : rate(r.rx)),
      el('td', 'tx', total ? bytes(r.tx) : rate(r.tx)),
      share,
    );
    tr.addEventListener('click', () => select(r.app));
    frag.append(tr);
  }
  clear(tbody);
  tbody.append(frag);
  $('apps-empty').hidden = rows.length > 0;
}

function select(app) {
  state.selected = app;
  $('drill').hidden = app === null;
  if (drillChart) drillChart.destroy();
  drillChart = null;
  renderTable();
  if (app === null) return;
  $('drill-name').textContent = shown(app);
  drillChart = stackedChart($('drill-chart'), { height: 180 });
  refreshDrill();
  $('drill').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
}

let drillSeq = 0;
async function refreshDrill() {
  const app = state.selected;
  if (app === null) return;
  const { times, series } = seriesFrom(state.samples, app);
  drillChart?.update(times, series);
  const seq = ++drillSeq;
  let res;
  try {
    res = await getJson(`/api/flows?app=${encodeURIComponent(app)}`);
  } catch (e) {
    $('flows-note').textContent = `could not load flows: ${e.message}`;
    return;
  }
  if (seq !== drillSeq || state.selected !== app) return;
  const tbody = document.querySelector('#flows-table tbody');
  const frag = document.createDocumentFragment();
  for (const f of res.flows) {
    const c = f.counts ?? {};
    const tr = el('tr');
    tr.append(
      el('td', 'l', `${f.provider}${f.userland ? ' (user)' : ''}`),
      el('td', 'l mono', endpoint(f.local)),
      el('td', 'l mono', endpoint(f.remote)),
      el('td', 'l', shown(f.ifname ?? f.interface ?? '')),
      el('td', 'l', shown(f.state ?? '')),
      el('td', '', c.avgRttMs ? `${c.avgRttMs.toFixed(1)} ms` : ''),
      el('td', 'rx', bytes(c.rxBytes ?? 0)),
      el('td', 'tx', bytes(c.txBytes ?? 0)),
      el('td', 'rx', rate(f.rxBytesPerSec ?? 0)),
      el('td', 'tx', rate(f.txBytesPerSec ?? 0)),
    );
    frag.append(tr);
  }
  clear(tbody);
  tbody.append(frag);
  $('flows-note').textContent = `${count(res.flows.length)} live flow${res.flows.length === 1 ? '' : 's'}${res.truncated ? ' (first 500 shown)' : ''}`;
}
