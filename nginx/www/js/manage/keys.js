// A project's API keys (#/projects/ID/keys, owners and admins): the keys
// without their secrets, a new key, rotation (a new secret for the same
// key) and revocation. A secret the server hands back is shown once, in a
// read-only field to copy, and is gone when the page is left.
import { api } from '../api.js';
import { h, clear, fmtTime, userText, loadingState, errorState, emptyState } from '../util.js';
import { section, statusLine, confirmButton, inlineForm } from './common.js';

/** Renders the keys of project (an id) into parent. */
export function renderKeys(parent, projectId) {
  const status = statusLine();
  const secret = h('div', { class: 'key-secret', hidden: true });
  const body = h('div', { class: 'manage-body' }, loadingState('Loading API keys…'));
  parent.appendChild(section('keys-title', 'API keys', status.el, secret, body));
  const base = `/projects/${encodeURIComponent(projectId)}/api-keys`;

  function showSecret(key, what) {
    const field = h('input', { id: 'key-secret', type: 'text', readonly: true, value: key.key, spellcheck: 'false',
      class: 'mono key-secret-value' });
    clear(secret).append(
      h('label', { for: 'key-secret', class: 'field-label', text: `${what}: copy it now, it is shown this once` }),
      h('div', { class: 'inline-form' }, field,
        h('button', { class: 'btn', type: 'button', text: 'Copy', onClick: async () => {
          field.select();
          try { await navigator.clipboard.writeText(field.value); status.ok('Copied.'); } catch { status.ok('Selected: copy it with your keyboard.'); }
        } })));
    secret.hidden = false;
    field.focus();
    field.select();
  }

  async function load() {
    try {
      const d = await api(base);
      const items = d.items || [];
      clear(body).append(items.length ? table(items) : emptyState('No API keys yet'), createForm());
    } catch (err) {
      clear(body).appendChild(errorState(err, load));
    }
  }

  function row(k) {
    const label = k.name || k.id;
    const live = !k.revoked_at;
    return h('tr', { dataset: { key: k.id } },
      h('td', null, k.name ? userText(k.name) : h('span', { class: 'muted', text: '(unnamed)' })),
      h('td', null, h('code', { text: k.id })),
      h('td', { class: 'nowrap', text: fmtTime(k.created_at) }),
      h('td', { class: 'nowrap', text: k.last_used_at ? fmtTime(k.last_used_at) : 'never' }),
      h('td', { class: 'nowrap', text: k.rotated_at ? fmtTime(k.rotated_at) : 'never' }),
      h('td', { class: 'nowrap key-state', text: live ? 'active' : `revoked ${fmtTime(k.revoked_at)}` }),
      h('td', { class: 'row-actions' }, live ? [
        confirmButton('Rotate', label, async () => {
          try {
            const r = await api(`/api-keys/${encodeURIComponent(k.id)}/rotate`, { method: 'POST' });
            await load();
            status.ok(`The key ${label} has a new secret; the old one is refused from now on.`);
            showSecret(r, `New secret of ${label}`);
          } catch (err) { status.fail(err); }
        }),
        confirmButton('Revoke', label, async () => {
          try {
            await api(`/api-keys/${encodeURIComponent(k.id)}`, { method: 'DELETE' });
            status.ok(`The key ${label} is revoked.`);
            await load();
          } catch (err) { status.fail(err); }
        })] : null));
  }

  function table(items) {
    return h('table', { class: 'data-table keys-table' },
      h('caption', { class: 'visually-hidden', text: 'API keys of this project' }),
      h('thead', null, h('tr', null, ['Name', 'Id', 'Created', 'Last used', 'Rotated', 'State', 'Actions']
        .map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, items.map(row)));
  }

  function createForm() {
    return inlineForm('Name of a new API key', {
      id: 'key-create-name', placeholder: 'New key name (e.g. ci)', button: 'Create key',
      onSubmit: async (name, input) => {
        try {
          const r = await api(base, { method: 'POST', body: { name } });
          input.value = '';
          await load();
          status.ok(`The key ${name} was created.`);
          showSecret(r, `Secret of ${name}`);
        } catch (err) { status.fail(err); }
      },
    }).form;
  }

  load();
}
