// The list's pager: keyset pages (the API's next_cursor), "Older" to the
// next, "Newer" back to the page before, and the page size. The cursors of
// the pages this tab has seen are kept per filter set, so "Newer" can step
// back without the API paging backwards.
import { h } from '../util.js';
import { filterKey, stripPaging } from './params.js';

const PAGE_SIZES = ['25', '50', '100', '200'];

// Cursors of the pages seen, per filter set, so "Newer" can step back.
const cursorTrail = new Map();

/** Notes that page p (its cursor and number) was seen; returns its number. */
export function rememberPage(p) {
  const pageNo = Number(p.page || 1);
  const key = filterKey(p);
  const trail = cursorTrail.get(key) || [];
  trail[pageNo - 1] = p.cursor || '';
  cursorTrail.set(key, trail);
  return pageNo;
}

/** "Page 2 · 50 shown" */
function infoText(pageNo, count) {
  return `Page ${pageNo} · ${count.toLocaleString('en-US')} shown`;
}

/** Says again how many rows the page under el shows (a live list added some). */
export function recountPager(el, count) {
  const info = el.querySelector('.pager-info');
  if (info) info.textContent = infoText(Number(info.dataset.page) || 1, count);
}

/** The pager under page p of count items; nextCursor is the API's (or null); go(next) navigates. */
export function pagerEl(p, count, nextCursor, go) {
  const pageNo = Number(p.page || 1);
  const trail = cursorTrail.get(filterKey(p)) || [];
  const prevCursor = pageNo > 1 ? trail[pageNo - 2] : undefined;
  const newer = h('button', {
    class: 'btn', type: 'button', disabled: pageNo <= 1, 'aria-label': 'Newer executions',
    onClick: () => {
      // The page before, when this tab saw it; else the first page.
      if (pageNo - 1 <= 1 || !prevCursor) go(stripPaging(p));
      else go({ ...stripPaging(p), cursor: prevCursor, page: pageNo - 1 });
    },
  }, '← Newer');
  const older = h('button', {
    class: 'btn', type: 'button', disabled: !nextCursor, 'aria-label': 'Older executions', id: 'older-page',
    onClick: () => go({ ...stripPaging(p), cursor: nextCursor, page: pageNo + 1 }),
  }, 'Older →');
  const sizeSelect = h('select', { id: 'page-size', 'aria-label': 'Rows per page' },
    PAGE_SIZES.map((s) => h('option', { value: s, text: `${s} per page` })));
  sizeSelect.value = PAGE_SIZES.includes(String(p.limit)) ? String(p.limit) : '50';
  sizeSelect.addEventListener('change', () => go({ ...stripPaging(p), limit: sizeSelect.value === '50' ? '' : sizeSelect.value }));
  return h('div', { class: 'pager' },
    h('span', { class: 'muted pager-info', dataset: { page: String(pageNo) }, text: infoText(pageNo, count) }),
    sizeSelect,
    h('div', { class: 'pager-buttons' }, newer, older));
}
