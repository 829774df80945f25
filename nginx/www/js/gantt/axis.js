// The time axis over the track: ticks at round steps ("250 ms", "1.5 s",
// "2:30"), a gridline under each across the rows, and the label that names
// the range shown.
import { h, clear, fmtDuration } from '../util.js';

function niceStep(raw) {
  if (!(raw > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  const m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return m * p;
}

function tickLabel(t, step) {
  if (Math.abs(t) < step / 1e6) t = 0;
  if (step < 1) return `${t.toFixed(Math.min(6, Math.ceil(-Math.log10(step)) + 1)).replace(/\.?0+$/, '')} ms`;
  if (step < 1000 && t < 10000) return `${Math.round(t * 10) / 10} ms`;
  if (step < 60000) {
    const d = Math.max(0, Math.ceil(-Math.log10(step / 1000)) + (step % 1000 === 500 ? 1 : 0));
    return `${(t / 1000).toFixed(Math.min(3, d))} s`;
  }
  const m = Math.floor(t / 60000);
  const s = Math.round((t - m * 60000) / 1000);
  return `${m}:${String(s).padStart(2, '0')}`;
}

/** Redraws the ticks in axis, the lines in gridlines and the text of rangeLabel for view. */
export function renderAxis({ axis, gridlines, rangeLabel }, view, total) {
  clear(axis);
  clear(gridlines);
  const { vs, ve, trackW, labelW } = view;
  const step = niceStep((ve - vs) / Math.max(2, trackW / 110));
  const first = Math.ceil(vs / step) * step;
  for (let t = first, n = 0; t <= ve && n < 200; t += step, n++) {
    const x = view.xOf(t);
    if (x < 0 || x > trackW) continue;
    axis.appendChild(h('div', { class: 'tick', style: { left: `${x}px` } }, h('span', { text: tickLabel(t, step) })));
    gridlines.appendChild(h('div', { class: 'gridline', style: { left: `${labelW + x}px` } }));
  }
  rangeLabel.textContent = `${fmtDuration(Math.max(0, vs))} – ${fmtDuration(Math.min(ve, total))} of ${fmtDuration(total)}`;
}
