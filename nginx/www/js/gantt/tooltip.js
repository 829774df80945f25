// The tooltip over a bar: the node's exact figures (start, duration, each
// phase, retries, action, model, tokens and cost, error), following the
// pointer and kept inside the window. Hidden while the chart is dragged.
import { h, append, clear, fmtMs, statusBadge, userText, nodeUsage } from '../util.js';

function fill(tooltip, r) {
  clear(tooltip);
  const u = nodeUsage(r.ne);
  append(tooltip, [
    h('div', { class: 'tt-head' }, h('strong', {}, userText(r.name)), statusBadge(r.status)),
    h('div', { class: 'tt-grid' },
      h('span', { text: 'starts' }), h('span', { class: 'mono', text: `+${fmtMs(r.offset)}` }),
      h('span', { text: 'duration' }), h('span', { class: 'mono', text: fmtMs(r.ms) }),
      h('span', { class: 'phase-prep', text: 'prep' }), h('span', { class: 'mono', text: fmtMs(r.prep) }),
      h('span', { class: 'phase-exec', text: 'exec' }), h('span', { class: 'mono', text: fmtMs(r.exec) }),
      h('span', { class: 'phase-post', text: 'post' }), h('span', { class: 'mono', text: fmtMs(r.post) }),
      r.retries ? [h('span', { text: 'retries' }), h('span', { class: 'mono', text: String(r.retries) })] : null,
      r.ne.action ? [h('span', { text: 'action' }), h('span', { class: 'mono' }, userText(r.ne.action))] : null,
      u && u.model ? [h('span', { text: 'model' }), h('span', { class: 'mono' }, userText(u.model))] : null,
      u ? [h('span', { text: 'tokens' }), h('span', { class: 'mono', text: u.tokens })] : null,
      u ? [h('span', { text: 'cost' }), h('span', { class: `mono${u.priced ? '' : ' muted'}`, text: u.cost })] : null),
    r.err ? h('div', { class: 'tt-error' }, userText(r.err.length > 300 ? `${r.err.slice(0, 299)}…` : r.err)) : null]);
}

function move(tooltip, ev) {
  const pad = 14;
  const tw = tooltip.offsetWidth;
  const th = tooltip.offsetHeight;
  let x = ev.clientX + pad;
  let y = ev.clientY + pad;
  if (x + tw > window.innerWidth - 8) x = ev.clientX - tw - pad;
  if (y + th > window.innerHeight - 8) y = ev.clientY - th - pad;
  tooltip.style.left = `${Math.max(4, x)}px`;
  tooltip.style.top = `${Math.max(4, y)}px`;
}

/** createTooltip(g) -> {el, hide()}: shows g.rows' figures for the bar under the pointer in g.body. */
export function createTooltip(g) {
  const el = h('div', { class: 'gantt-tooltip', role: 'tooltip', hidden: true });
  let tipIndex = -1;
  const hide = () => { el.hidden = true; tipIndex = -1; };
  g.body.addEventListener('pointermove', (ev) => {
    if (g.drag) return;
    const bar = ev.target.closest && ev.target.closest('.gantt-bar');
    if (!bar) { if (tipIndex >= 0) hide(); return; }
    const i = Number(bar.dataset.index);
    if (i !== tipIndex) {
      tipIndex = i;
      fill(el, g.rows[i]);
      el.hidden = false;
      move(el, ev);
    } else move(el, ev);
  });
  g.body.addEventListener('pointerleave', hide);
  return { el, hide: () => { el.hidden = true; } };
}
