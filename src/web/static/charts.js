// Stacked rx/tx charts on uPlot: receive stacked above the axis, transmit stacked below it.
// uPlot does not stack by itself, so each band is drawn as the cumulative sum filled to zero,
// the largest first, so every band shows its own slice.
import { bytes, clear, colorFor, el, shown } from './format.js';

const CSS = getComputedStyle(document.documentElement);
const cssVar = (name) => CSS.getPropertyValue(name).trim();

/**
 * @param {HTMLElement} box container
 * @param {{ height?: number, unit?: (v: number) => string, legend?: HTMLElement, stepped?: boolean }} opts
 *   stepped: buckets (history) drawn as steps rather than interpolated
 */
export function stackedChart(box, opts = {}) {
  let plot = null;
  let keys = '';
  let current = { times: [], series: [] };
  const tip = el('div', 'tip');
  tip.hidden = true;
  box.classList.add('has-tip');
  box.append(tip);
  const height = opts.height ?? 300;
  const unit = opts.unit ?? ((v) => `${bytes(v)}/s`);

  const size = () => ({ width: Math.max(200, box.clientWidth), height });
  const ro = new ResizeObserver(() => plot && plot.setSize(size()));
  ro.observe(box);

  function build(series) {
    if (plot) plot.destroy();
    const axisColor = cssVar('--muted') || '#888';
    const grid = { stroke: cssVar('--line') || '#ddd', width: 1 };
    const uSeries = [{}];
    // Draw order: the top of the receive stack first ... then the bottom of the transmit stack.
    for (const dir of ['rx', 'tx']) {
      for (let i = series.length - 1; i >= 0; i--) {
        const s = series[i];
        const c = colorFor(s.key, s.other);
        const line = { label: `${dir} ${i}`, stroke: c, fill: c, width: 1, points: { show: false } };
        if (opts.stepped) line.paths = uPlot.paths.stepped({ align: 1 });
        uSeries.push(line);
      }
    }
    plot = new uPlot(
      {
        ...size(),
        legend: { show: false },
        cursor: { points: { show: false }, drag: { x: false, y: false } },
        hooks: { setCursor: [(u) => showTip(u)] },
        scales: { x: { time: true } },
        axes: [
          { stroke: axisColor, grid, ticks: grid },
          { stroke: axisColor, grid, ticks: grid, size: 78, values: (_u, splits) => splits.map((v) => unit(Math.abs(v))) },
        ],
        series: uSeries,
      },
      [[]],
      box,
    );
  }

  /** The values under the cursor: time, then each series' receive/transmit (largest first). */
  function showTip(u) {
    const i = u.cursor.idx;
    if (i === null || i === undefined || u.cursor.left < 0 || current.times.length === 0) {
      tip.hidden = true;
      return;
    }
    clear(tip);
    tip.append(el('div', 'tip-time', new Date(current.times[i] * 1000).toLocaleTimeString()));
    const rows = current.series.map((s) => ({ s, rx: s.rx[i] ?? 0, tx: s.tx[i] ?? 0 })).filter((r) => r.rx + r.tx > 0);
    rows.sort((a, b) => b.rx + b.tx - (a.rx + a.tx));
    for (const r of rows.slice(0, 8)) {
      const line = el('div', 'tip-row');
      const sw = el('span', 'sw');
      sw.style.background = colorFor(r.s.key, r.s.other);
      line.append(sw, el('span', 'tip-name', r.s.other ? 'other apps' : shown(r.s.key)), el('span', 'rx', `↓ ${unit(r.rx)}`), el('span', 'tx', `↑ ${unit(r.tx)}`));
      tip.append(line);
    }
    if (rows.length === 0) tip.append(el('div', 'muted', 'no traffic'));
    tip.hidden = false;
    const left = u.cursor.left + u.over.offsetLeft;
    const flip = left > box.clientWidth / 2;
    tip.style.left = flip ? '' : `${left + 14}px`;
    tip.style.right = flip ? `${box.clientWidth - left + 14}px` : '';
    tip.style.top = `${u.over.offsetTop + 8}px`;
  }

  /** @param {number[]} times seconds; @param {{key, rx: number[], tx: number[], other?: boolean}[]} series */
  function update(times, series) {
    const k = series.map((s) => (s.other ? '\u0000other' : s.key)).join('\u0001');
    if (!plot || k !== keys) {
      keys = k;
      build(series);
    }
    current = { times, series };
    const n = times.length;
    const cumRx = [];
    const cumTx = [];
    const accRx = new Float64Array(n);
    const accTx = new Float64Array(n);
    for (const s of series) {
      for (let t = 0; t < n; t++) {
        accRx[t] += s.rx[t] ?? 0;
        accTx[t] += s.tx[t] ?? 0;
      }
      cumRx.push(Array.from(accRx));
      cumTx.push(Array.from(accTx, (v) => -v));
    }
    plot.setData([times, ...cumRx.reverse(), ...cumTx.reverse()]);
    if (opts.legend) legend(opts.legend, series);
  }

  return {
    update,
    destroy() {
      ro.disconnect();
      if (plot) plot.destroy();
      plot = null;
      keys = '';
      clear(box);
    },
  };
}

function legend(ul, series) {
  clear(ul);
  for (const s of series) {
    const li = el('li');
    const sw = el('span', 'sw');
    sw.style.background = colorFor(s.key, s.other);
    li.append(sw, el('span', s.other ? 'name muted' : 'name', s.other ? 'other apps' : shown(s.key)));
    li.title = s.other ? 'other apps' : shown(s.key);
    ul.append(li);
  }
}
