// The overview above the chart: every row of the run drawn small on a
// canvas (failures in red, with a mark where each starts), and a window
// over the part the chart shows. Drag the window to pan, drag elsewhere to
// zoom to that range, click to centre the view there.
import { h } from '../util.js';

/** createMinimap(g) -> {el, draw(), place()}; g gives rows, total, view and el (for the colours). */
export function createMinimap(g) {
  const canvas = h('canvas', { class: 'gantt-overview-canvas', 'aria-hidden': 'true' });
  const win = h('div', { class: 'gantt-overview-window', 'aria-hidden': 'true' });
  const brush = h('div', { class: 'gantt-overview-brush', hidden: true, 'aria-hidden': 'true' });
  const el = h('div', { class: 'gantt-overview', title: 'Overview: drag the window to pan, drag elsewhere to zoom to a range' },
    canvas, win, brush);
  const { view } = g;

  function draw() {
    // g.rows and g.total change as a live run grows: read them at each draw.
    const { rows, total } = g;
    const W = el.clientWidth;
    const H = el.clientHeight;
    if (!W || !H) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(W * dpr);
    canvas.height = Math.round(H * dpr);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const style = getComputedStyle(g.el);
    const cOk = style.getPropertyValue('--c-exec').trim() || '#3b6fd8';
    const cErr = style.getPropertyValue('--c-failed').trim() || '#c62828';
    const n = Math.max(1, rows.length);
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

  /** Moves the window over what the chart shows. */
  function place() {
    const { vs, ve } = view;
    const { total } = g;
    const W = el.clientWidth || 1;
    win.style.left = `${Math.max(0, (vs / total) * W)}px`;
    win.style.width = `${Math.max(4, Math.min(W, ((Math.min(ve, total) - Math.max(vs, 0)) / total) * W))}px`;
  }

  let drag = null;
  el.addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0) return;
    const rect = el.getBoundingClientRect();
    const x = ev.clientX - rect.left;
    el.setPointerCapture(ev.pointerId);
    const onWin = ev.target === win;
    drag = { x0: x, onWin, vs0: view.vs, ve0: view.ve, W: rect.width, moved: false };
    ev.preventDefault();
  });
  el.addEventListener('pointermove', (ev) => {
    if (!drag) return;
    const rect = el.getBoundingClientRect();
    const x = Math.max(0, Math.min(drag.W, ev.clientX - rect.left));
    if (Math.abs(x - drag.x0) > 3) drag.moved = true;
    if (!drag.moved) return;
    if (drag.onWin) {
      const dt = ((x - drag.x0) / drag.W) * g.total;
      view.set(drag.vs0 + dt, drag.ve0 + dt);
    } else {
      brush.hidden = false;
      brush.style.left = `${Math.min(x, drag.x0)}px`;
      brush.style.width = `${Math.abs(x - drag.x0)}px`;
      drag.x1 = x;
    }
  });
  el.addEventListener('pointerup', (ev) => {
    if (!drag) return;
    const d = drag;
    drag = null;
    brush.hidden = true;
    if (!d.moved) {
      const t = (d.x0 / d.W) * g.total;
      const span = view.ve - view.vs;
      view.set(t - span / 2, t + span / 2);
    } else if (!d.onWin && d.x1 !== undefined) {
      const a = (Math.min(d.x0, d.x1) / d.W) * g.total;
      const b = (Math.max(d.x0, d.x1) / d.W) * g.total;
      view.set(a, b);
    }
    ev.preventDefault();
  });

  return { el, draw, place };
}
