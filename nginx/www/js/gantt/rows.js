// The chart's rows, virtual: only those in view (and OVERSCAN more on each
// side) are in the DOM, placed absolutely in a spacer as tall as all of
// them, so 10,000+ rows scroll smoothly. A row is the node's label (status,
// name, type, retries) and its bar, split into prep / exec / post, with the
// duration, action and error written beside it.
import { h, clear, fmtDuration, fmtMs, userText } from '../util.js';
import { PAD } from './view.js';

export const ROW_H = 30;
const OVERSCAN = 6;

/** What a screen reader says for a row. */
function rowLabel(r) {
  const bits = [`${r.name}`, r.status, `starts at ${fmtMs(r.offset)}`, `duration ${fmtMs(r.ms)}`,
    `prep ${fmtMs(r.prep)}, exec ${fmtMs(r.exec)}, post ${fmtMs(r.post)}`];
  if (r.retries) bits.push(`${r.retries} ${r.retries === 1 ? 'retry' : 'retries'}`);
  if (r.ne.action) bits.push(`action ${r.ne.action}`);
  if (r.err) bits.push(`error: ${r.err}`);
  return bits.join(', ');
}

function barEl(r, view) {
  const { trackW } = view;
  const sc = view.scale();
  const x = view.xOf(r.offset);
  const w = Math.max(2, r.span * sc);
  // Keep huge bars (deep zoom) to what the track can show.
  const left = Math.max(-4, x);
  const right = Math.min(trackW + 4, x + w);
  const bar = h('div', {
    class: `gantt-bar${r.failed ? ' is-failed' : ''}${r.status === 'running' ? ' is-running' : ''}${r.open ? ' is-open' : ''}`,
    dataset: { index: String(r.index) },
    style: { left: `${left}px`, width: `${Math.max(2, right - left)}px` },
  });
  // The phases in order; what the phases do not cover (overhead) stays the bar's own track colour.
  const k = r.span > 0 && r.dur !== null && r.prep + r.exec + r.post > r.span ? r.span / (r.prep + r.exec + r.post) : 1;
  let t = 0;
  for (const [name, ms] of [['prep', r.prep], ['exec', r.exec], ['post', r.post]]) {
    const sx = x + t * sc - left;
    const sw = ms * k * sc;
    bar.appendChild(h('div', { class: `seg seg-${name}`, dataset: { phase: name, ms: String(ms) }, style: { left: `${sx}px`, width: `${Math.max(0, sw)}px` } }));
    t += ms * k;
  }
  return { bar, left, right };
}

/**
 * Duration, action and error beside the bar: after it when there is room,
 * else before; when neither side has room (a bar as wide as the chart, such
 * as a node still running) inside its end, when it fits there.
 */
function annotEl(r, trackW, left, right) {
  const annotBits = [h('span', { class: 'annot-dur', text: fmtDuration(r.ms) })];
  if (r.ne.action) annotBits.push(h('span', { class: 'action-chip', title: `Action: ${r.ne.action}` }, '→ ', userText(r.ne.action)));
  if (r.err) annotBits.push(h('span', { class: 'annot-error' }, userText(r.err.length > 90 ? `${r.err.slice(0, 89)}…` : r.err)));
  const estW = 16 + annotBits.reduce((s, b) => s + b.textContent.length * 6.6 + 10, 0);
  const roomAfter = trackW - right - PAD >= Math.min(estW, 220);
  if (!roomAfter && left < estW && right - left >= estW + 12) {
    return h('div', { class: 'gantt-annot annot-before annot-inside', style: { right: `${trackW - right + 8}px` } }, annotBits);
  }
  const after = roomAfter || left < estW;
  return h('div', { class: `gantt-annot ${after ? 'annot-after' : 'annot-before'}`, style: after ? { left: `${right + 6}px` } : { right: `${trackW - left + 6}px` } }, annotBits);
}

function rowEl(r, pos, view, selected, critical) {
  const onPath = critical && critical.has(String(r.ne.id));
  const { bar, left, right } = barEl(r, view);
  const annot = annotEl(r, view.trackW, left, right);
  const label = h('div', { class: 'gantt-label', role: 'gridcell' },
    h('span', { class: `status-icon status-${r.status}`, 'aria-hidden': 'true', text: r.failed ? '✕' : r.status === 'running' ? '◌' : r.status === 'skipped' ? '–' : '✓' }),
    h('span', { class: 'node-name', title: r.name }, userText(r.name)),
    r.ne.node_type ? h('span', { class: 'node-type' }, userText(r.ne.node_type)) : null,
    r.retries ? h('span', { class: 'retry-badge', title: `${r.retries} ${r.retries === 1 ? 'retry' : 'retries'}`, text: `↻ ${r.retries}` }) : null);
  const track = h('div', { class: 'gantt-track', role: 'gridcell' }, bar, annot);
  return h('div', {
    class: `gantt-row${r.failed ? ' is-failed' : ''}${r.index === selected ? ' is-selected' : ''}${onPath ? ' is-critical' : ''}`,
    role: 'row', id: `gantt-row-${r.index}`, 'aria-rowindex': String(r.index + 1),
    'aria-selected': r.index === selected ? 'true' : 'false', 'aria-label': onPath ? `${rowLabel(r)}, on the critical path` : rowLabel(r),
    dataset: { index: String(r.index), status: r.status, node: r.name },
    style: { top: `${pos * ROW_H}px` },
  }, label, track);
}

/**
 * Puts the rows of g.shown that are in body's view into spacer, and marks
 * the selected one active (and those of g.critical, a set of node
 * execution ids, as on the critical path).
 */
export function renderRows(g) {
  const { body, spacer, emptyRows, shown, selected, critical } = g;
  spacer.style.height = `${shown.length * ROW_H}px`;
  emptyRows.hidden = shown.length > 0;
  const top = body.scrollTop;
  const height = body.clientHeight || 400;
  const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
  const last = Math.min(shown.length - 1, Math.ceil((top + height) / ROW_H) + OVERSCAN);
  const frag = document.createDocumentFragment();
  for (let i = first; i <= last; i++) frag.appendChild(rowEl(shown[i], i, g.view, selected, critical));
  clear(spacer).appendChild(frag);
  body.setAttribute('aria-activedescendant', selected >= 0 && g.shownPos(selected) >= 0 ? `gantt-row-${selected}` : '');
  if (!body.getAttribute('aria-activedescendant')) body.removeAttribute('aria-activedescendant');
}
