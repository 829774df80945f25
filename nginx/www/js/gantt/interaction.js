// Moving around the chart with the pointer and the keyboard: drag the
// track to pan, click a row to select it (again to unselect), Ctrl/⌘ +
// wheel to zoom at the pointer, Shift + wheel to pan; arrows, Page, Home
// and End select, ←/→ pan, + and - zoom, 0 fits, Escape unselects.
import { PAD } from './view.js';
import { ROW_H } from './rows.js';

/** Binds the pointer and keys on g.body; g.drag holds a drag in progress. */
export function attachInteraction(g, { onPanStart }) {
  const { body, view } = g;

  body.addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0) return;
    const rect = body.getBoundingClientRect();
    const x = ev.clientX - rect.left;
    g.drag = { x0: ev.clientX, y0: ev.clientY, vs0: view.vs, ve0: view.ve, moved: false, inTrack: x >= view.labelW, id: ev.pointerId };
  });
  body.addEventListener('pointermove', (ev) => {
    const drag = g.drag;
    if (!drag || drag.id !== ev.pointerId) return;
    const dx = ev.clientX - drag.x0;
    if (!drag.moved && Math.abs(dx) > 4 && drag.inTrack) {
      drag.moved = true;
      body.setPointerCapture(ev.pointerId);
      body.classList.add('is-panning');
      onPanStart();
    }
    if (drag.moved) {
      const dt = -dx / ((view.trackW - 2 * PAD) / (drag.ve0 - drag.vs0));
      view.set(drag.vs0 + dt, drag.ve0 + dt);
    }
  });
  body.addEventListener('pointerup', (ev) => {
    if (!g.drag || g.drag.id !== ev.pointerId) return;
    const wasMoved = g.drag.moved;
    g.drag = null;
    body.classList.remove('is-panning');
    if (wasMoved) return;
    const row = ev.target.closest && ev.target.closest('.gantt-row');
    if (row) {
      const i = Number(row.dataset.index);
      g.select(i === g.selected ? -1 : i, { scroll: false });
    }
  });
  body.addEventListener('pointercancel', () => { g.drag = null; body.classList.remove('is-panning'); });

  body.addEventListener('wheel', (ev) => {
    const rect = body.getBoundingClientRect();
    const x = ev.clientX - rect.left - view.labelW;
    if (ev.ctrlKey || ev.metaKey) {
      ev.preventDefault();
      const f = Math.exp(ev.deltaY * 0.002);
      view.zoomBy(f, x >= 0 ? view.tOf(x) : (view.vs + view.ve) / 2);
    } else if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
      ev.preventDefault();
      const d = Math.abs(ev.deltaX) > Math.abs(ev.deltaY) ? ev.deltaX : ev.deltaY;
      view.panBy((d / (view.trackW - 2 * PAD)) * (view.ve - view.vs));
    }
  }, { passive: false });

  body.addEventListener('keydown', (ev) => {
    const { shown, selected } = g;
    const pos = selected >= 0 ? g.shownPos(selected) : -1;
    const page = Math.max(1, Math.floor(body.clientHeight / ROW_H) - 1);
    const go = (p) => {
      if (!shown.length) return;
      const q = Math.max(0, Math.min(shown.length - 1, p));
      g.select(shown[q].index);
    };
    let handled = true;
    switch (ev.key) {
      case 'ArrowDown': go(pos < 0 ? 0 : pos + 1); break;
      case 'ArrowUp': go(pos < 0 ? 0 : pos - 1); break;
      case 'PageDown': go(pos + page); break;
      case 'PageUp': go(pos - page); break;
      case 'Home': go(0); break;
      case 'End': go(shown.length - 1); break;
      case 'ArrowRight': view.panBy((view.ve - view.vs) * 0.15); break;
      case 'ArrowLeft': view.panBy(-(view.ve - view.vs) * 0.15); break;
      case '+': case '=': view.zoomBy(1 / 1.6); break;
      case '-': case '_': view.zoomBy(1.6); break;
      case '0': view.fit(); break;
      case 'Escape': if (selected >= 0) g.select(-1); else handled = false; break;
      case 'Enter': if (pos < 0) go(0); else handled = false; break;
      default: handled = false;
    }
    if (handled) ev.preventDefault();
  });
}
