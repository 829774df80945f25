// The execution page's tabs (a WAI-ARIA tablist: arrows, Home and End move
// between them) over panels made the first time their tab opens and kept
// afterwards, hidden while another tab is open. A live run updates the
// counts on the tabs, and may drop a hidden panel so it is made anew, with
// the run's latest data, when its tab opens again.
import { h } from '../util.js';

/**
 * createTabs(box, {tabs: [{id, label, count}], counts, makePanel(tabId, el) -> view, onUserSelect(tabId)})
 * -> {select(tabId, fromUser), panel(tabId) -> view, setCounts(counts), renew(tabId, evenShown), destroy()}
 */
export function createTabs(box, { tabs, counts, makePanel, onUserSelect }) {
  const list = h('div', { class: 'tablist', role: 'tablist', 'aria-label': 'Execution details' });
  const panelsBox = h('div', { class: 'tabpanels' });
  const buttons = new Map();
  const panels = new Map(); // tab id -> {el, view}
  const ids = tabs.map((x) => x.id);
  const countEls = new Map(); // tab id -> its count's element
  let current = null;

  for (const t of tabs) {
    const n = t.count ? counts[t.count] : undefined;
    const b = h('button', {
      class: 'tab', type: 'button', role: 'tab', id: `tab-${t.id}`, 'aria-controls': `panel-${t.id}`,
      'aria-selected': 'false', tabindex: '-1', dataset: { tab: t.id },
      onClick: () => select(t.id, true),
      onKeydown: (ev) => {
        let i = ids.indexOf(t.id);
        if (ev.key === 'ArrowRight') i = (i + 1) % ids.length;
        else if (ev.key === 'ArrowLeft') i = (i - 1 + ids.length) % ids.length;
        else if (ev.key === 'Home') i = 0;
        else if (ev.key === 'End') i = ids.length - 1;
        else return;
        ev.preventDefault();
        select(ids[i], true);
        buttons.get(ids[i]).focus();
      },
    }, t.label);
    if (t.count) {
      const c = h('span', { class: 'tab-count', hidden: n === undefined || n === null, text: Number(n ?? 0).toLocaleString('en-US') });
      countEls.set(t.id, { el: c, key: t.count });
      b.appendChild(c);
    }
    buttons.set(t.id, b);
    list.appendChild(b);
  }
  box.append(list, panelsBox);

  function select(tabId, fromUser = false) {
    current = tabId;
    for (const [tid, b] of buttons) {
      const on = tid === tabId;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
      b.classList.toggle('is-active', on);
    }
    for (const [tid, p] of panels) p.el.hidden = tid !== tabId;
    if (!panels.has(tabId)) {
      const el = h('div', { class: `tabpanel panel-${tabId}`, role: 'tabpanel', id: `panel-${tabId}`, 'aria-labelledby': `tab-${tabId}`, tabindex: '-1' });
      panelsBox.appendChild(el);
      panels.set(tabId, { el, view: makePanel(tabId, el) });
    }
    if (fromUser) onUserSelect(tabId);
  }

  return {
    select,
    panel: (tabId) => (panels.has(tabId) ? panels.get(tabId).view : null),
    setCounts(next) {
      for (const { el, key } of countEls.values()) {
        const n = next ? next[key] : undefined;
        if (n === undefined || n === null) continue;
        el.hidden = false;
        el.textContent = Number(n).toLocaleString('en-US');
      }
    },
    /**
     * Makes tabId's panel anew: a hidden one when its tab opens next, the
     * one shown only when evenShown (not under the reader's eyes otherwise).
     */
    renew(tabId, evenShown = false) {
      const p = panels.get(tabId);
      if (!p || (tabId === current && !evenShown)) return;
      if (p.view && p.view.destroy) p.view.destroy();
      p.el.remove();
      panels.delete(tabId);
      if (tabId === current) select(tabId);
    },
    destroy() {
      for (const p of panels.values()) if (p.view && p.view.destroy) p.view.destroy();
      panels.clear();
    },
  };
}
