// SVG charts of the statistics pages, drawn without a library: bars of runs
// by status with the success rate over them, duration percentiles as lines,
// horizontal bars for nodes. Each chart is a focusable figure whose label
// says what it shows, its marks carry <title>s (hover), and the figures it
// draws are in a data table under it (statsTable), so the numbers are
// reachable by keyboard and screen reader too. Colors come from CSS classes
// (css/stats.css): the CSP allows no inline styles.
import { h, fmtDuration } from '../util.js';

const W = 720;
const H = 220;
const PAD = { l: 56, r: 48, t: 12, b: 28 };

function svg(label, width = W, height = H) {
  return h('svg:svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart-svg', role: 'img', 'aria-label': label,
    preserveAspectRatio: 'xMidYMid meet' });
}

function el(tag, attrs, title) {
  const e = h(`svg:${tag}`, attrs);
  if (title) e.appendChild(h('svg:title', { text: title }));
  return e;
}

function text(x, y, s, cls, anchor = 'middle') {
  return h('svg:text', { x, y, class: cls, 'text-anchor': anchor, text: s });
}

/** Round ticks from 0 to at least max. */
function ticks(max, n = 4) {
  if (!(max > 0)) return [0, 1];
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = 0; v <= max + step * 0.001; v += step) out.push(v);
  if (out[out.length - 1] < max) out.push(out[out.length - 1] + step);
  return out;
}

/** Short labels of bucket starts: "14:00" by hour, "Jun 3" by day. */
export function bucketLabel(iso, bucket) {
  const d = new Date(iso);
  if (bucket === 'hour') return `${String(d.getUTCHours()).padStart(2, '0')}:00`;
  return d.toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

function xAxis(g, series, bucket, x) {
  const every = Math.max(1, Math.ceil(series.length / 10));
  series.forEach((b, i) => {
    if (i % every) return;
    g.appendChild(text(x(i), H - 8, bucketLabel(b.start, bucket), 'chart-tick'));
  });
}

function yGrid(g, ts, y, fmt, side = 'l') {
  for (const v of ts) {
    if (side === 'l') g.appendChild(el('line', { x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v), class: 'chart-grid' }));
    g.appendChild(text(side === 'l' ? PAD.l - 6 : W - PAD.r + 6, y(v) + 4, fmt(v), 'chart-tick', side === 'l' ? 'end' : 'start'));
  }
}

/** Runs per bucket, stacked by status, and the success rate as a line (right axis). */
export function runsChart(series, bucket) {
  const n = series.length;
  const max = Math.max(1, ...series.map((b) => b.executions));
  const ts = ticks(max);
  const top = ts[ts.length - 1];
  const slot = (W - PAD.l - PAD.r) / Math.max(1, n);
  const x = (i) => PAD.l + slot * (i + 0.5);
  const y = (v) => H - PAD.b - (v / top) * (H - PAD.t - PAD.b);
  const yr = (r) => H - PAD.b - r * (H - PAD.t - PAD.b);
  const total = series.reduce((a, b) => a + b.executions, 0);
  const s = svg(`Runs per ${bucket}, by status, with the success rate: ${total.toLocaleString('en-US')} runs in the window`);
  yGrid(s, ts, y, (v) => v.toLocaleString('en-US'));
  yGrid(s, [0, 0.5, 1], yr, (r) => `${Math.round(r * 100)}%`, 'r');
  const bw = Math.max(1, Math.min(28, slot * 0.7));
  series.forEach((b, i) => {
    let base = 0;
    for (const k of ['success', 'error', 'cancelled']) {
      if (!b[k]) continue;
      s.appendChild(el('rect', { x: x(i) - bw / 2, width: bw, y: y(base + b[k]), height: Math.max(0.5, y(base) - y(base + b[k])),
        class: `bar bar-${k}` }, `${bucketLabel(b.start, bucket)}: ${b[k].toLocaleString('en-US')} ${k}`));
      base += b[k];
    }
  });
  const pts = series.map((b, i) => (b.success_rate === null ? null : [x(i), yr(b.success_rate)]));
  s.appendChild(pathOf(pts, 'line line-rate'));
  pts.forEach((p, i) => { if (p) s.appendChild(el('circle', { cx: p[0], cy: p[1], r: 2.5, class: 'dot dot-rate' }, `${bucketLabel(series[i].start, bucket)}: ${(series[i].success_rate * 100).toFixed(1)}% success`)); });
  xAxis(s, series, bucket, x);
  return s;
}

function pathOf(pts, cls) {
  let d = '';
  let pen = false;
  for (const p of pts) {
    if (!p) { pen = false; continue; }
    d += `${pen ? 'L' : 'M'}${p[0].toFixed(1)},${p[1].toFixed(1)}`;
    pen = true;
  }
  return el('path', { d: d || 'M0,0', class: cls });
}

/** p50, p95 and p99 of the run duration per bucket, as three lines. */
export function durationChart(series, bucket) {
  const keys = ['p50', 'p95', 'p99'];
  const max = Math.max(0, ...series.flatMap((b) => keys.map((k) => b.duration_ms[k] || 0)));
  const ts = ticks(max);
  const top = ts[ts.length - 1] || 1;
  const slot = (W - PAD.l - PAD.r) / Math.max(1, series.length);
  const x = (i) => PAD.l + slot * (i + 0.5);
  const y = (v) => H - PAD.b - (v / top) * (H - PAD.t - PAD.b);
  const s = svg(`Run duration percentiles per ${bucket} (p50, p95, p99); the slowest p99 is ${fmtDuration(max)}`);
  yGrid(s, ts, y, (v) => fmtDuration(v));
  for (const k of keys) {
    const pts = series.map((b, i) => (b.duration_ms[k] === null ? null : [x(i), y(b.duration_ms[k])]));
    s.appendChild(pathOf(pts, `line line-${k}`));
    pts.forEach((p, i) => { if (p) s.appendChild(el('circle', { cx: p[0], cy: p[1], r: 2.5, class: `dot dot-${k}` }, `${bucketLabel(series[i].start, bucket)}: ${k} ${fmtDuration(series[i].duration_ms[k])}`)); });
  }
  xAxis(s, series, bucket, x);
  return s;
}

/**
 * Horizontal bars, one per row: rows [{label, value, text, sub}], max the
 * scale's end. Long labels are cut (the full one is in the bar's title).
 */
export function barsChart(label, rows, max, cls) {
  const rowH = 26;
  const height = Math.max(rowH, rows.length * rowH) + 8;
  const left = 220;
  const right = 120;
  const s = svg(label, W, height);
  rows.forEach((r, i) => {
    const y = 4 + i * rowH;
    const w = max > 0 ? ((W - left - right) * r.value) / max : 0;
    const name = r.label.length > 32 ? `${r.label.slice(0, 31)}…` : r.label;
    s.appendChild(text(left - 8, y + 16, name, 'chart-label', 'end'));
    s.appendChild(el('rect', { x: left, y: y + 4, width: Math.max(1, w), height: rowH - 10, class: `bar ${cls}` }, `${r.label}: ${r.text}${r.sub ? ` (${r.sub})` : ''}`));
    s.appendChild(text(left + Math.max(1, w) + 6, y + 16, r.text, 'chart-value', 'start'));
  });
  return s;
}

/** A chart in a focusable figure with its caption and a legend. */
export function figure(title, chart, legend = []) {
  return h('figure', { class: 'chart card', tabindex: '0', 'aria-label': chart.getAttribute('aria-label') },
    h('figcaption', { class: 'chart-title', text: title }),
    legend.length ? h('ul', { class: 'chart-legend', 'aria-hidden': 'true' },
      legend.map(([cls, name]) => h('li', null, h('span', { class: `swatch ${cls}` }), name))) : null,
    chart);
}
