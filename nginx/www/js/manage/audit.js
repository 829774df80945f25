// The organization's audit log (owners and admins): who changed what and
// when, newest first, a page at a time ("Show older").
import { api } from '../api.js';
import { h, clear, fmtTime, jsonPreview, userText, loadingState, errorState, emptyState } from '../util.js';
import { section } from './common.js';

/** Renders the audit log section into parent. org: {id}. */
export function renderAudit(parent, org) {
  const body = h('div', { class: 'manage-body' }, loadingState('Loading the audit log…'));
  parent.appendChild(section('audit-title', 'Audit log', body));
  const rows = h('tbody');
  const more = h('button', { class: 'btn', type: 'button', text: 'Show older', hidden: true });
  let cursor = null;

  async function page(first) {
    more.disabled = true;
    try {
      const d = await api(`/organizations/${encodeURIComponent(org.id)}/audit-log`, { params: { limit: 25, cursor } });
      if (first) {
        clear(body).append((d.items || []).length ? table() : emptyState('No changes recorded yet'), more);
      }
      for (const e of d.items || []) rows.appendChild(row(e));
      cursor = d.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      clear(body).appendChild(errorState(err, () => page(true)));
    } finally { more.disabled = false; }
  }
  more.addEventListener('click', () => page(false));

  function row(e) {
    return h('tr', { dataset: { action: e.action } },
      h('td', { class: 'nowrap', text: fmtTime(e.at) }),
      h('td', null, h('span', { class: 'muted', text: e.actor_type === 'api_key' ? 'API key ' : 'user ' }),
        h('code', { text: e.actor_id })),
      h('td', null, h('code', { text: e.action })),
      h('td', null, h('span', { class: 'muted', text: `${e.target_type} ` }), userText(e.target_id)),
      h('td', null, userText(jsonPreview(e.detail, 160), { class: 'mono' })));
  }

  function table() {
    return h('table', { class: 'data-table audit-table' },
      h('caption', { class: 'visually-hidden', text: 'Changes made in this organization, newest first' }),
      h('thead', null, h('tr', null, ['When', 'Who', 'Action', 'Target', 'Change'].map((t) => h('th', { scope: 'col', text: t })))),
      rows);
  }

  page(true);
}
