// The Gantt timeline of one execution: one row per node execution, each bar
// placed by offset_ms and split into prep / exec / post. Rows are virtual:
// only those in view exist in the DOM, so 10,000+ rows scroll smoothly.
// Zoom: Ctrl/⌘ + wheel, the +/- buttons or keys, or a drag on the overview;
// pan: drag the chart, Shift + wheel, or ←/→.
import {
  h, append, clear, fmtDuration, fmtMs, fmtTime, errorText, statusBadge, parseTimeMs, jsonPretty,
  numOrNull as num, nodeTiming, userText,
} from './util.js';

const ROW_H = 30;
const OVERSCAN = 6;
const PAD = 10; // px of air at both ends of the track

/**
 * Rows from the timeline's node executions, with derived offsets and spans
 * (nodeTiming: prep, exec, post, dur, span, and ms, the duration shown).
 */
export function prepareRows(execution, nodeExecutions) {
  const t0 = parseTimeMs(execution && execution.started_at);
  return nodeExecutions.map((ne, index) => {
    let offset = num(ne.offset_ms);
    if (offset === null) {
      const ts = parseTimeMs(ne.started_at);
      offset = Number.isFinite(ts) && Number.isFinite(t0) ? ts - t0 : 0;
    }
    const timing = nodeTiming(ne);
    const err = errorText(ne.error);
    const status = ne.status || (err ? 'error' : 'success');
    return {
      index, ne, offset, ...timing, end: offset + timing.span,
      status, failed: status === 'error' || !!err, err,
      retries: Math.max(0, num(ne.retry_count) ?? 0),
      name: String(ne.node_name ?? '(unnamed)'),
      lname: String(ne.node_name ?? '').toLowerCase(),
    };
  });
}

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

function rowLabel(r) {
  const bits = [`${r.name}`, r.status, `starts at ${fmtMs(r.offset)}`, `duration ${fmtMs(r.ms)}`,
    `prep ${fmtMs(r.prep)}, exec ${fmtMs(r.exec)}, post ${fmtMs(r.post)}`];
  if (r.retries) bits.push(`${r.retries} ${r.retries === 1 ? 'retry' : 'retries'}`);
  if (r.ne.action) bits.push(`action ${r.ne.action}`);
  if (r.err) bits.push(`error: ${r.err}`);
  return bits.join(', ');
}

/**
 * createGantt({execution, nodeExecutions, selectedId, onSelect(ne|null), onShowEvents(nodeName)})
 * -> {el, select(index), destroy()}
 */
export function createGantt({ execution, nodeExecutions, selectedId, onSelect, onShowEvents }) {
  const rows = prepareRows(execution, nodeExecutions);
  const total = Math.max(1e-3, num(execution.duration_ms) ?? 0, ...rows.map((r) => r.end));
  const failedCount = rows.filter((r) => r.failed).length;
  const retriedCount = rows.filter((r) => r.retries > 0).length;
  let shown = rows;             // rows matching the filter
  let vs = 0;                   // view start (ms from the execution's start)
  let ve = total;               // view end
  let trackW = 600;
  let labelW = 280;
  let selected = -1;            // index into rows
  let raf = 0;
  let destroyed = false;
  const minSpan = Math.max(total / 1e6, 1e-3);

  // ------------------------------------------------------------- DOM
  const legend = h('ul', { class: 'legend', 'aria-label': 'Legend' },
    h('li', {}, h('span', { class: 'swatch seg-prep', 'aria-hidden': 'true' }), 'prep'),
    h('li', {}, h('span', { class: 'swatch seg-exec', 'aria-hidden': 'true' }), 'exec'),
    h('li', {}, h('span', { class: 'swatch seg-post', 'aria-hidden': 'true' }), 'post'),
    h('li', {}, h('span', { class: 'swatch swatch-failed', 'aria-hidden': 'true' }), 'failed'),
    h('li', {}, h('span', { class: 'retry-badge', 'aria-hidden': 'true', text: '↻' }), 'retried'));
  const rangeLabel = h('span', { class: 'range-label mono', 'aria-live': 'polite' });
  const zoomOut = h('button', { class: 'btn btn-icon', type: 'button', 'aria-label': 'Zoom out', title: 'Zoom out (-)', text: '−', onClick: () => zoomBy(1.6) });
  const zoomIn = h('button', { class: 'btn btn-icon', type: 'button', 'aria-label': 'Zoom in', title: 'Zoom in (+)', text: '+', onClick: () => zoomBy(1 / 1.6) });
  const fitBtn = h('button', { class: 'btn', type: 'button', title: 'Show the whole execution (0)', text: 'Fit', onClick: () => setView(0, total) });
  const search = h('input', { type: 'search', class: 'gantt-search', placeholder: 'Find node…', 'aria-label': 'Show only nodes whose name contains', autocomplete: 'off', spellcheck: 'false' });
  const onlyFailed = h('input', { type: 'checkbox', id: `gantt-only-failed-${Math.random().toString(36).slice(2, 8)}` });
  const onlyFailedLabel = h('label', { class: 'check', for: onlyFailed.id }, onlyFailed, `Only failed (${failedCount})`);
  onlyFailed.disabled = failedCount === 0;

  const overviewCanvas = h('canvas', { class: 'gantt-overview-canvas', 'aria-hidden': 'true' });
  const overviewWin = h('div', { class: 'gantt-overview-window', 'aria-hidden': 'true' });
  const overviewBrush = h('div', { class: 'gantt-overview-brush', hidden: true, 'aria-hidden': 'true' });
  const overview = h('div', { class: 'gantt-overview', title: 'Overview: drag the window to pan, drag elsewhere to zoom to a range' },
    overviewCanvas, overviewWin, overviewBrush);

  const axis = h('div', { class: 'gantt-axis', 'aria-hidden': 'true' });
  const head = h('div', { class: 'gantt-head' },
    h('div', { class: 'gantt-head-label' }, h('span', { text: 'Node' }), h('span', { class: 'muted', text: `${rows.length.toLocaleString('en-US')}` })),
    axis);
  const gridlines = h('div', { class: 'gantt-gridlines', 'aria-hidden': 'true' });
  const spacer = h('div', { class: 'gantt-spacer' });
  const body = h('div', {
    class: 'gantt-body', role: 'grid', tabindex: '0', 'aria-rowcount': String(rows.length), 'aria-colcount': '2',
    'aria-label': 'Node executions. Arrow keys: select; + and -: zoom; Shift+arrows or ← →: pan; 0: fit.',
  }, spacer);
  const emptyRows = h('div', { class: 'gantt-norows', hidden: true, text: 'No node matches.' });
  const bodyWrap = h('div', { class: 'gantt-bodywrap' }, gridlines, body, emptyRows);
  const detail = h('aside', { class: 'gantt-detail', hidden: true, 'aria-label': 'Node execution details' });
  const tooltip = h('div', { class: 'gantt-tooltip', role: 'tooltip', hidden: true });
  const mainCol = h('div', { class: 'gantt-main' }, head, bodyWrap);
  const frame = h('div', { class: 'gantt-frame' }, mainCol, detail);

  const summary = [`${rows.length.toLocaleString('en-US')} node execution${rows.length === 1 ? '' : 's'}`, fmtDuration(total)];
  if (failedCount) summary.push(`${failedCount} failed`);
  if (retriedCount) summary.push(`${retriedCount} retried`);

  const el = h('section', { class: 'card gantt', 'aria-labelledby': 'gantt-title' },
    h('div', { class: 'gantt-toolbar' },
      h('div', { class: 'gantt-title' },
        h('h2', { id: 'gantt-title', text: 'Timeline' }),
        h('span', { class: 'muted', text: summary.join(' · ') })),
      legend,
      h('div', { class: 'gantt-tools' }, search, onlyFailedLabel,
        h('div', { class: 'zoom', role: 'group', 'aria-label': 'Zoom' }, zoomOut, zoomIn, fitBtn),
        rangeLabel)),
    overview,
    frame,
    tooltip);

  if (rows.length === 0) {
    clear(frame).appendChild(h('div', { class: 'state state-empty' },
      h('p', { class: 'state-title', text: 'No node executions' }),
      h('p', { class: 'state-detail', text: 'This execution recorded no node runs, so there is nothing to draw.' })));
    overview.hidden = true;
    for (const b of [zoomIn, zoomOut, fitBtn, search, onlyFailed]) b.disabled = true;
    return { el, select() {}, destroy() {} };
  }

  // ------------------------------------------------------------- geometry
  const scale = () => (trackW - 2 * PAD) / (ve - vs);
  const xOf = (t) => PAD + (t - vs) * scale();
  const tOf = (x) => vs + (x - PAD) / scale();

  function clampView(a, b) {
    let span = Math.min(Math.max(b - a, minSpan), total * 1.2);
    const lo = -total * 0.1;
    const hi = total * 1.1;
    if (a < lo) a = lo;
    if (a + span > hi) a = hi - span;
    if (a < lo) { a = lo; span = hi - lo; }
    return [a, a + span];
  }

  function setView(a, b) {
    [vs, ve] = clampView(a, b);
    schedule();
  }

  function zoomBy(f, anchorT = (vs + ve) / 2) {
    const span = ve - vs;
    const ns = Math.min(Math.max(span * f, minSpan), total * 1.2);
    const k = ns / span;
    setView(anchorT - (anchorT - vs) * k, anchorT - (anchorT - vs) * k + ns);
  }

  function panBy(dt) {
    setView(vs + dt, ve + dt);
  }

  // ------------------------------------------------------------- rendering
  function schedule() {
    if (raf || destroyed) return;
    raf = requestAnimationFrame(() => {
      raf = 0;
      render();
    });
  }

  function measure() {
    // As tall as the rows need, at most about half the window.
    const maxH = Math.max(240, Math.min(560, Math.round(window.innerHeight * 0.56)));
    const want = `${Math.max(3 * ROW_H, Math.min(maxH, Math.max(shown.length, 1) * ROW_H + 2))}px`;
    if (body.style.height !== want) body.style.height = want;
    const lw = parseFloat(getComputedStyle(el).getPropertyValue('--gantt-label-w'));
    if (lw > 0) labelW = lw;
    trackW = Math.max(80, body.clientWidth - labelW);
  }

  function renderAxis() {
    clear(axis);
    clear(gridlines);
    const step = niceStep((ve - vs) / Math.max(2, trackW / 110));
    const first = Math.ceil(vs / step) * step;
    for (let t = first, n = 0; t <= ve && n < 200; t += step, n++) {
      const x = xOf(t);
      if (x < 0 || x > trackW) continue;
      axis.appendChild(h('div', { class: 'tick', style: { left: `${x}px` } }, h('span', { text: tickLabel(t, step) })));
      gridlines.appendChild(h('div', { class: 'gridline', style: { left: `${labelW + x}px` } }));
    }
    rangeLabel.textContent = `${fmtDuration(Math.max(0, vs))} – ${fmtDuration(Math.min(ve, total))} of ${fmtDuration(total)}`;
    const W = overview.clientWidth || 1;
    overviewWin.style.left = `${Math.max(0, (vs / total) * W)}px`;
    overviewWin.style.width = `${Math.max(4, Math.min(W, ((Math.min(ve, total) - Math.max(vs, 0)) / total) * W))}px`;
  }

  function renderRows() {
    spacer.style.height = `${shown.length * ROW_H}px`;
    emptyRows.hidden = shown.length > 0;
    const top = body.scrollTop;
    const height = body.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const last = Math.min(shown.length - 1, Math.ceil((top + height) / ROW_H) + OVERSCAN);
    const frag = document.createDocumentFragment();
    for (let i = first; i <= last; i++) frag.appendChild(rowEl(shown[i], i));
    clear(spacer).appendChild(frag);
    body.setAttribute('aria-activedescendant', selected >= 0 && shownPos(selected) >= 0 ? `gantt-row-${selected}` : '');
    if (!body.getAttribute('aria-activedescendant')) body.removeAttribute('aria-activedescendant');
  }

  function render() {
    if (destroyed) return;
    measure();
    renderAxis();
    renderRows();
    // the details panel is as tall as the chart, and scrolls
    const want = `${head.offsetHeight + body.offsetHeight}px`;
    if (detail.style.maxHeight !== want) detail.style.maxHeight = want;
  }

  function rowEl(r, pos) {
    const sc = scale();
    const x = xOf(r.offset);
    const w = Math.max(2, r.span * sc);
    // Keep huge bars (deep zoom) to what the track can show.
    const left = Math.max(-4, x);
    const right = Math.min(trackW + 4, x + w);
    const bar = h('div', {
      class: `gantt-bar${r.failed ? ' is-failed' : ''}${r.status === 'running' ? ' is-running' : ''}`,
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
    const annotBits = [h('span', { class: 'annot-dur', text: fmtDuration(r.ms) })];
    if (r.ne.action) annotBits.push(h('span', { class: 'action-chip', title: `Action: ${r.ne.action}` }, '→ ', userText(r.ne.action)));
    if (r.err) annotBits.push(h('span', { class: 'annot-error' }, userText(r.err.length > 90 ? `${r.err.slice(0, 89)}…` : r.err)));
    const estW = 16 + annotBits.reduce((s, b) => s + b.textContent.length * 6.6 + 10, 0);
    const after = trackW - right - PAD >= Math.min(estW, 220) || left < estW;
    const annot = h('div', { class: `gantt-annot ${after ? 'annot-after' : 'annot-before'}`, style: after ? { left: `${right + 6}px` } : { right: `${trackW - left + 6}px` } }, annotBits);

    const label = h('div', { class: 'gantt-label', role: 'gridcell' },
      h('span', { class: `status-icon status-${r.status}`, 'aria-hidden': 'true', text: r.failed ? '✕' : r.status === 'running' ? '◌' : r.status === 'skipped' ? '–' : '✓' }),
      h('span', { class: 'node-name', title: r.name }, userText(r.name)),
      r.ne.node_type ? h('span', { class: 'node-type' }, userText(r.ne.node_type)) : null,
      r.retries ? h('span', { class: 'retry-badge', title: `${r.retries} ${r.retries === 1 ? 'retry' : 'retries'}`, text: `↻ ${r.retries}` }) : null);
    const track = h('div', { class: 'gantt-track', role: 'gridcell' }, bar, annot);
    return h('div', {
      class: `gantt-row${r.failed ? ' is-failed' : ''}${r.index === selected ? ' is-selected' : ''}`,
      role: 'row', id: `gantt-row-${r.index}`, 'aria-rowindex': String(r.index + 1),
      'aria-selected': r.index === selected ? 'true' : 'false', 'aria-label': rowLabel(r),
      dataset: { index: String(r.index), status: r.status, node: r.name },
      style: { top: `${pos * ROW_H}px` },
    }, label, track);
  }

  // ------------------------------------------------------------- overview
  function drawOverview() {
    const W = overview.clientWidth;
    const H = overview.clientHeight;
    if (!W || !H) return;
    const dpr = window.devicePixelRatio || 1;
    overviewCanvas.width = Math.round(W * dpr);
    overviewCanvas.height = Math.round(H * dpr);
    const ctx = overviewCanvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const style = getComputedStyle(el);
    const cOk = style.getPropertyValue('--c-exec').trim() || '#3b6fd8';
    const cErr = style.getPropertyValue('--c-failed').trim() || '#c62828';
    const n = rows.length;
    const rh = Math.max(1, (H - 4) / n);
    ctx.fillStyle = cOk;
    ctx.globalAlpha = 0.75;
    for (const r of rows) {
      if (r.failed) continue;
      const x = (r.offset / total) * W;
      const w = Math.max(1, (r.span / total) * W);
      ctx.fillRect(x, 2 + (r.index / n) * (H - 4), w, Math.min(rh, 6));
    }
    // failures stand out: their bar, and a full-height mark where they start
    ctx.fillStyle = cErr;
    for (const r of rows) {
      if (!r.failed) continue;
      const x = (r.offset / total) * W;
      const w = Math.max(1, (r.span / total) * W);
      ctx.globalAlpha = 0.55;
      ctx.fillRect(x, 0, 2, H);
      ctx.globalAlpha = 1;
      ctx.fillRect(x, 2 + (r.index / n) * (H - 4), w, Math.max(2, Math.min(rh, 6)));
    }
    ctx.globalAlpha = 1;
  }

  // ------------------------------------------------------------- selection and details
  function shownPos(index) {
    if (shown === rows) return index;
    return shown.findIndex((r) => r.index === index);
  }

  function ensureVisible(pos) {
    const top = pos * ROW_H;
    if (top < body.scrollTop) body.scrollTop = top;
    else if (top + ROW_H > body.scrollTop + body.clientHeight) body.scrollTop = top + ROW_H - body.clientHeight;
    // and horizontally: bring the bar into the view when it is outside
    const r = rows[shown[pos].index];
    if (r.end < vs || r.offset > ve) {
      const span = ve - vs;
      setView(r.offset - span * 0.1, r.offset + span * 0.9);
    }
  }

  function select(index, { notify = true, scroll = true } = {}) {
    selected = index;
    if (index < 0 || !rows[index]) {
      selected = -1;
      detail.hidden = true;
      frame.classList.remove('has-detail');
      if (notify && onSelect) onSelect(null);
      schedule();
      return;
    }
    const pos = shownPos(index);
    if (scroll && pos >= 0) ensureVisible(pos);
    showDetail(rows[index]);
    if (notify && onSelect) onSelect(rows[index].ne);
    schedule();
  }

  function fact(label, value, cls) {
    return [h('dt', { text: label }), h('dd', { class: cls || '' }, value)];
  }

  function showDetail(r) {
    const ne = r.ne;
    clear(detail);
    const sum = r.prep + r.exec + r.post || 1;
    const phaseBar = h('div', { class: 'phase-bar', 'aria-hidden': 'true' },
      h('span', { class: 'seg-prep', style: { width: `${(r.prep / sum) * 100}%` } }),
      h('span', { class: 'seg-exec', style: { width: `${(r.exec / sum) * 100}%` } }),
      h('span', { class: 'seg-post', style: { width: `${(r.post / sum) * 100}%` } }));
    append(detail, [
      h('div', { class: 'detail-head' },
        h('h3', { class: 'detail-title', title: r.name }, userText(r.name)),
        h('button', { class: 'btn btn-icon btn-ghost', type: 'button', 'aria-label': 'Close details', text: '×', onClick: () => { select(-1); body.focus(); } })),
      h('div', { class: 'detail-status' }, statusBadge(r.status),
        r.retries ? h('span', { class: 'retry-badge', text: `↻ ${r.retries} ${r.retries === 1 ? 'retry' : 'retries'}` }) : null,
        ne.action ? h('span', { class: 'action-chip' }, '→ ', userText(ne.action)) : null),
      r.err ? h('div', { class: 'callout callout-error', role: 'note' },
        h('strong', { text: 'Error' }), h('pre', { class: 'error-pre' }, userText(typeof ne.error === 'string' ? ne.error : jsonPretty(ne.error)))) : null,
      phaseBar,
      h('dl', { class: 'facts facts-compact' },
        fact('Duration', fmtMs(r.ms), 'mono'),
        fact('prep', fmtMs(r.prep), 'mono phase-prep'),
        fact('exec', fmtMs(r.exec), 'mono phase-exec'),
        fact('post', fmtMs(r.post), 'mono phase-post'),
        fact('Starts at', `+${fmtMs(r.offset)}`, 'mono'),
        fact('Started', fmtTime(ne.started_at), 'mono'),
        fact('Completed', fmtTime(ne.completed_at), 'mono'),
        fact('Type', ne.node_type ? userText(ne.node_type) : '–'),
        fact('Retries', String(r.retries)),
        fact('Action', ne.action ? userText(ne.action) : '–'),
        fact('Node id', ne.node_id || '–', 'mono small')),
      onShowEvents ? h('button', { class: 'btn', type: 'button', onClick: () => onShowEvents(r.name) }, 'Events of ', userText(r.name)) : null]);
    detail.hidden = false;
    frame.classList.add('has-detail');
  }

  // ------------------------------------------------------------- tooltip
  function showTooltip(r, ev) {
    clear(tooltip);
    append(tooltip, [
      h('div', { class: 'tt-head' }, h('strong', {}, userText(r.name)), statusBadge(r.status)),
      h('div', { class: 'tt-grid' },
        h('span', { text: 'starts' }), h('span', { class: 'mono', text: `+${fmtMs(r.offset)}` }),
        h('span', { text: 'duration' }), h('span', { class: 'mono', text: fmtMs(r.ms) }),
        h('span', { class: 'phase-prep', text: 'prep' }), h('span', { class: 'mono', text: fmtMs(r.prep) }),
        h('span', { class: 'phase-exec', text: 'exec' }), h('span', { class: 'mono', text: fmtMs(r.exec) }),
        h('span', { class: 'phase-post', text: 'post' }), h('span', { class: 'mono', text: fmtMs(r.post) }),
        r.retries ? [h('span', { text: 'retries' }), h('span', { class: 'mono', text: String(r.retries) })] : null,
        r.ne.action ? [h('span', { text: 'action' }), h('span', { class: 'mono' }, userText(r.ne.action))] : null),
      r.err ? h('div', { class: 'tt-error' }, userText(r.err.length > 300 ? `${r.err.slice(0, 299)}…` : r.err)) : null]);
    tooltip.hidden = false;
    moveTooltip(ev);
  }

  function moveTooltip(ev) {
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

  let tipIndex = -1;
  body.addEventListener('pointermove', (ev) => {
    if (drag) return;
    const bar = ev.target.closest && ev.target.closest('.gantt-bar');
    if (!bar) { if (tipIndex >= 0) { tooltip.hidden = true; tipIndex = -1; } return; }
    const i = Number(bar.dataset.index);
    if (i !== tipIndex) { tipIndex = i; showTooltip(rows[i], ev); } else moveTooltip(ev);
  });
  body.addEventListener('pointerleave', () => { tooltip.hidden = true; tipIndex = -1; });

  // ------------------------------------------------------------- interaction
  let drag = null;
  body.addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0) return;
    const rect = body.getBoundingClientRect();
    const x = ev.clientX - rect.left;
    drag = { x0: ev.clientX, y0: ev.clientY, vs0: vs, ve0: ve, moved: false, inTrack: x >= labelW, id: ev.pointerId };
  });
  body.addEventListener('pointermove', (ev) => {
    if (!drag || drag.id !== ev.pointerId) return;
    const dx = ev.clientX - drag.x0;
    if (!drag.moved && Math.abs(dx) > 4 && drag.inTrack) {
      drag.moved = true;
      body.setPointerCapture(ev.pointerId);
      body.classList.add('is-panning');
      tooltip.hidden = true;
    }
    if (drag.moved) {
      const dt = -dx / ((trackW - 2 * PAD) / (drag.ve0 - drag.vs0));
      setView(drag.vs0 + dt, drag.ve0 + dt);
    }
  });
  const endDrag = (ev) => {
    if (!drag || drag.id !== ev.pointerId) return;
    const wasMoved = drag.moved;
    drag = null;
    body.classList.remove('is-panning');
    if (wasMoved) return;
    const rowEl_ = ev.target.closest && ev.target.closest('.gantt-row');
    if (rowEl_) {
      const i = Number(rowEl_.dataset.index);
      select(i === selected ? -1 : i, { scroll: false });
    }
  };
  body.addEventListener('pointerup', endDrag);
  body.addEventListener('pointercancel', () => { drag = null; body.classList.remove('is-panning'); });

  body.addEventListener('wheel', (ev) => {
    const rect = body.getBoundingClientRect();
    const x = ev.clientX - rect.left - labelW;
    if (ev.ctrlKey || ev.metaKey) {
      ev.preventDefault();
      const f = Math.exp(ev.deltaY * 0.002);
      zoomBy(f, x >= 0 ? tOf(x) : (vs + ve) / 2);
    } else if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
      ev.preventDefault();
      const d = Math.abs(ev.deltaX) > Math.abs(ev.deltaY) ? ev.deltaX : ev.deltaY;
      panBy((d / (trackW - 2 * PAD)) * (ve - vs));
    }
  }, { passive: false });

  body.addEventListener('keydown', (ev) => {
    const pos = selected >= 0 ? shownPos(selected) : -1;
    const page = Math.max(1, Math.floor(body.clientHeight / ROW_H) - 1);
    const go = (p) => {
      if (!shown.length) return;
      const q = Math.max(0, Math.min(shown.length - 1, p));
      select(shown[q].index);
    };
    let handled = true;
    switch (ev.key) {
      case 'ArrowDown': go(pos < 0 ? 0 : pos + 1); break;
      case 'ArrowUp': go(pos < 0 ? 0 : pos - 1); break;
      case 'PageDown': go(pos + page); break;
      case 'PageUp': go(pos - page); break;
      case 'Home': go(0); break;
      case 'End': go(shown.length - 1); break;
      case 'ArrowRight': panBy((ve - vs) * 0.15); break;
      case 'ArrowLeft': panBy(-(ve - vs) * 0.15); break;
      case '+': case '=': zoomBy(1 / 1.6); break;
      case '-': case '_': zoomBy(1.6); break;
      case '0': setView(0, total); break;
      case 'Escape': if (selected >= 0) select(-1); else handled = false; break;
      case 'Enter': if (pos < 0) go(0); else handled = false; break;
      default: handled = false;
    }
    if (handled) ev.preventDefault();
  });

  body.addEventListener('scroll', schedule, { passive: true });

  // overview: drag the window to pan; drag elsewhere to zoom to a range; click to centre
  let odrag = null;
  overview.addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0) return;
    const rect = overview.getBoundingClientRect();
    const x = ev.clientX - rect.left;
    overview.setPointerCapture(ev.pointerId);
    const onWin = ev.target === overviewWin;
    odrag = { x0: x, onWin, vs0: vs, ve0: ve, W: rect.width, moved: false };
    ev.preventDefault();
  });
  overview.addEventListener('pointermove', (ev) => {
    if (!odrag) return;
    const rect = overview.getBoundingClientRect();
    const x = Math.max(0, Math.min(odrag.W, ev.clientX - rect.left));
    if (Math.abs(x - odrag.x0) > 3) odrag.moved = true;
    if (!odrag.moved) return;
    if (odrag.onWin) {
      const dt = ((x - odrag.x0) / odrag.W) * total;
      setView(odrag.vs0 + dt, odrag.ve0 + dt);
    } else {
      overviewBrush.hidden = false;
      overviewBrush.style.left = `${Math.min(x, odrag.x0)}px`;
      overviewBrush.style.width = `${Math.abs(x - odrag.x0)}px`;
      odrag.x1 = x;
    }
  });
  overview.addEventListener('pointerup', (ev) => {
    if (!odrag) return;
    const d = odrag;
    odrag = null;
    overviewBrush.hidden = true;
    if (!d.moved) {
      const t = (d.x0 / d.W) * total;
      const span = ve - vs;
      setView(t - span / 2, t + span / 2);
    } else if (!d.onWin && d.x1 !== undefined) {
      const a = (Math.min(d.x0, d.x1) / d.W) * total;
      const b = (Math.max(d.x0, d.x1) / d.W) * total;
      setView(a, b);
    }
    ev.preventDefault();
  });

  // filters
  function applyFilter() {
    const q = search.value.trim().toLowerCase();
    const f = onlyFailed.checked;
    shown = !q && !f ? rows : rows.filter((r) => (!q || r.lname.includes(q)) && (!f || r.failed));
    body.setAttribute('aria-rowcount', String(shown.length));
    body.scrollTop = 0;
    schedule();
  }
  search.addEventListener('input', applyFilter);
  onlyFailed.addEventListener('change', applyFilter);

  const ro = new ResizeObserver(() => {
    drawOverview();
    schedule();
  });
  ro.observe(body);
  ro.observe(overview);

  if (selectedId !== undefined && selectedId !== null) {
    const r = rows.find((x) => String(x.ne.id) === String(selectedId));
    if (r) requestAnimationFrame(() => select(r.index, { notify: false }));
  }
  schedule();

  return {
    el,
    select: (index) => select(index),
    destroy() {
      destroyed = true;
      ro.disconnect();
      if (raf) cancelAnimationFrame(raf);
    },
  };
}
