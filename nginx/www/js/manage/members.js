// An organization's members: the list with each one's role, and for owners
// and admins a role to change, a member to remove, a user to add. Anyone
// may leave. The server has the last word (the last owner stays: its 409
// message is shown as it is).
import { api } from '../api.js';
import { h, clear, fmtTime, loadingState, errorState } from '../util.js';
import { section, statusLine, confirmButton } from './common.js';

const ROLES = ['owner', 'admin', 'member', 'viewer'];

function roleSelect(id, value, label) {
  return h('select', { id, 'aria-label': label },
    ROLES.map((r) => h('option', { value: r, selected: r === value, text: r })));
}

/**
 * Renders the members section into parent. org: {id, role}; me: the
 * caller's user id; onLeft(): called when the caller left.
 */
export function renderMembers(parent, org, me, onLeft) {
  const manager = org.role === 'owner' || org.role === 'admin';
  const status = statusLine();
  const body = h('div', { class: 'manage-body' }, loadingState('Loading members…'));
  parent.appendChild(section('members-title', 'Members', status.el, body));
  const base = `/organizations/${encodeURIComponent(org.id)}/members`;

  async function load() {
    try {
      const d = await api(base);
      clear(body).append(table(d.items || []), manager ? addForm() : null);
    } catch (err) {
      clear(body).appendChild(errorState(err, load));
    }
  }

  function row(m, i) {
    const self = m.user_id === me;
    const select = roleSelect(`member-role-${i}`, m.role, `Role of ${self ? 'you' : m.user_id}`);
    select.disabled = !manager;
    const save = h('button', { class: 'btn', type: 'button', text: 'Save role', disabled: !manager,
      'aria-label': `Save role of ${self ? 'you' : m.user_id}`,
      onClick: async () => {
        try {
          const r = await api(`${base}/${encodeURIComponent(m.user_id)}`, { method: 'PATCH', body: { role: select.value } });
          status.ok(`${self ? 'Your' : 'The member\'s'} role is now ${r.role}.`);
          await load();
        } catch (err) { status.fail(err); select.value = m.role; }
      } });
    const remove = (manager || self) ? confirmButton(self ? 'Leave' : 'Remove', self ? 'this organization' : m.user_id, async () => {
      try {
        await api(`${base}/${encodeURIComponent(m.user_id)}`, { method: 'DELETE' });
        if (self) { onLeft(); return; }
        status.ok('The member was removed.');
        await load();
      } catch (err) { status.fail(err); }
    }) : null;
    return h('tr', { dataset: { user: m.user_id } },
      h('td', null, h('code', { text: m.user_id }), self ? h('span', { class: 'muted', text: ' (you)' }) : null),
      h('td', null, select), h('td', { class: 'nowrap', text: fmtTime(m.created_at) }),
      h('td', { class: 'row-actions' }, manager ? save : null, remove));
  }

  function table(items) {
    return h('table', { class: 'data-table members-table' },
      h('caption', { class: 'visually-hidden', text: 'Members of this organization' }),
      h('thead', null, h('tr', null, ['User', 'Role', 'Member since', 'Actions'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, items.map(row)));
  }

  function addForm() {
    const user = h('input', { id: 'member-add-user', type: 'text', required: true, autocomplete: 'off', spellcheck: 'false',
      placeholder: '00000000-0000-4000-8000-000000000000' });
    const role = roleSelect('member-add-role', 'viewer', 'Role of the new member');
    const button = h('button', { class: 'btn btn-primary', type: 'submit', text: 'Add member' });
    return h('form', { class: 'inline-form', 'aria-label': 'Add a member', onSubmit: async (e) => {
      e.preventDefault();
      button.disabled = true;
      try {
        await api(base, { method: 'POST', body: { user_id: user.value.trim(), role: role.value } });
        status.ok('The member was added.');
        await load();
        document.getElementById('member-add-user')?.focus();
      } catch (err) { status.fail(err); } finally { button.disabled = false; }
    } },
    h('label', { for: 'member-add-user', class: 'field-label', text: 'User id' }), user,
    h('label', { for: 'member-add-role', class: 'field-label', text: 'Role' }), role, button);
  }

  load();
}
