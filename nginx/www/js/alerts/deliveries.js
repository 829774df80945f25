// A rule's deliveries (GET /api/alert-rules/{id}/deliveries), newest
// first: one per alert and channel, with its attempts, every attempt's
// HTTP status (0: no answer), the next try of a pending one, and the ones
// that gave up.
import { h, fmtTime, userText } from '../util.js';
import { urlHost, fmtMinute } from './describe.js';

const STATUS = {
  delivered: { text: 'delivered', cls: 'status-success' },
  pending: { text: 'pending', cls: 'status-running' },
  gave_up: { text: 'gave up', cls: 'status-error' },
};

export function deliveryBadge(status) {
  const s = STATUS[status] || { text: status, cls: '' };
  return h('span', { class: `badge ${s.cls}`, dataset: { status } }, h('span', { class: 'dot', 'aria-hidden': 'true' }), s.text);
}

/** "2 delivered, 1 pending", or "none yet". */
export function deliveryCounts(items) {
  const n = {};
  for (const d of items) n[d.status] = (n[d.status] || 0) + 1;
  const parts = Object.keys(STATUS).filter((s) => n[s]).map((s) => `${n[s]} ${STATUS[s].text}`);
  return parts.length ? parts.join(', ') : 'none yet';
}

function row(d) {
  const codes = d.codes.length ? d.codes.map((c) => (c === 0 ? 'no answer' : String(c))).join(', ') : '–';
  return h('tr', { dataset: { delivery: String(d.id), status: d.status } },
    h('td', { class: 'nowrap', text: fmtTime(d.created_at) }),
    h('td', null, d.test ? h('span', { class: 'badge small alert-test-badge', text: 'test' }) : null, d.test ? ' ' : null,
      userText(d.summary || '')),
    h('td', { class: 'mono' }, urlHost(d.url)),
    h('td', null, deliveryBadge(d.status)),
    h('td', { class: 'num', text: String(d.attempts) }),
    h('td', { class: 'mono delivery-codes', text: codes }),
    h('td', { class: 'nowrap', text: d.status === 'pending' ? fmtMinute(d.next_try_at) : '–' }),
    h('td', { class: 'nowrap', text: d.finished_at ? fmtTime(d.finished_at) : '–' }),
    h('td', null, d.last_error ? userText(d.last_error, { class: 'delivery-error' }) : '–'));
}

/** The table of a rule's deliveries (ruleName for its caption). */
export function deliveriesTable(items, ruleName) {
  return h('table', { class: 'data-table deliveries-table' },
    h('caption', { class: 'visually-hidden', text: `Deliveries of ${ruleName}, newest first` }),
    h('thead', null, h('tr', null, ['Queued', 'Alert', 'Channel', 'Status', 'Attempts', 'HTTP codes', 'Next try',
      'Finished', 'Last error'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', null, items.map(row)));
}

/**
 * When to look again at deliveries still pending: shortly after the
 * earliest next try, between 1 and 30 seconds from now; null when none is.
 */
export function refreshDelay(items, now = Date.now()) {
  const next = items.filter((d) => d.status === 'pending')
    .map((d) => (d.next_try_at ? Date.parse(d.next_try_at) : now));
  if (!next.length) return null;
  return Math.min(30e3, Math.max(1e3, Math.min(...next) - now + 700));
}
