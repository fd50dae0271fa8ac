// Charts of the overview with uPlot (loaded by the page as the global `uPlot`): cost per day and
// tokens per day (stacked by type), as bars on a UTC day axis.
import { num, usd } from './common.js';

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const DAY = 86_400;

function size(el) {
  const w = Math.max(280, el.clientWidth || 600);
  return { width: w, height: w < 500 ? 220 : 260 };
}

function axes(fmt) {
  const stroke = css('--muted');
  const grid = { stroke: css('--line'), width: 1 };
  return [
    {
      stroke,
      grid,
      ticks: grid,
      values: (_u, ts) => ts.map((t) => new Date(t * 1000).toISOString().slice(5, 10)),
    },
    { stroke, grid, ticks: grid, size: 70, values: (_u, vs) => vs.map(fmt) },
  ];
}

/**
 * Days on a UTC axis. `series` = [{ label, color, values, line? }]: bars (stacked: each bar is the
 * running sum of this series and the ones after it, drawn largest first) or, with `line`, a line.
 */
function dayChart(el, days, series, fmt, stacked) {
  const xs = days.map((d) => Date.parse(d) / 1000);
  let data = series.map((s) => s.values.map((v) => v ?? 0));
  if (stacked)
    data = data.map((_v, i) => xs.map((_x, j) => data.slice(i).reduce((a, s) => a + (s[j] ?? 0), 0)));
  const bars = window.uPlot.paths.bars({ size: [0.7, 40] });
  const opts = {
    ...size(el),
    scales: { x: { time: true, range: (_u, lo, hi) => [lo - DAY * 0.6, hi + DAY * 0.6] } },
    axes: axes(fmt),
    cursor: { points: { show: false } },
    series: [
      {
        value: (_u, v) =>
          v === null || v === undefined ? '' : new Date(v * 1000).toISOString().slice(0, 10),
      },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: s.color,
        fill: s.line ? undefined : `${s.color}cc`,
        width: s.line ? 2 : 0,
        // the legend shows the value of the series itself, not a running sum
        value: (_u, _v, _si, idx) =>
          idx === null || idx === undefined ? '' : fmt(series[i].values[idx] ?? 0),
        paths: s.line ? undefined : bars,
        points: { show: s.line === true && xs.length <= 62, size: 5 },
      })),
    ],
  };
  el.replaceChildren();
  const u = new window.uPlot(opts, [xs, ...data], el);
  new ResizeObserver(() => u.setSize(size(el))).observe(el);
  return u;
}

export function costChart(el, usage) {
  return dayChart(
    el,
    usage.map((r) => r.bucket),
    [
      { label: 'recorded', color: css('--c1'), values: usage.map((r) => r.cost_usd) },
      { label: 'computed', color: css('--c2'), values: usage.map((r) => r.computed_cost_usd), line: true },
    ],
    usd,
    false,
  );
}

export function tokenChart(el, usage) {
  const col = (k) => usage.map((r) => r[k]);
  return dayChart(
    el,
    usage.map((r) => r.bucket),
    [
      { label: 'input', color: css('--c1'), values: col('input_tokens') },
      { label: 'output', color: css('--c2'), values: col('output_tokens') },
      { label: 'reasoning', color: css('--c3'), values: col('reasoning_tokens') },
      { label: 'cache read', color: css('--c4'), values: col('cache_read_tokens') },
      { label: 'cache write', color: css('--c5'), values: col('cache_write_tokens') },
    ],
    (v) => (v >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(0)}k` : num(v)),
    true,
  );
}
