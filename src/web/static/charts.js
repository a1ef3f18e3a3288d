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

  /** @param {number[]} times seconds; @param {{key, rx: number[], tx: number[], other?: boolean}[]} series */
  function update(times, series) {
    const k = series.map((s) => (s.other ? '\u0000other' : s.key)).join('\u0001');
    if (!plot || k !== keys) {
      keys = k;
      build(series);
    }
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
