// An organization's projects: each with its alert rules' and API keys' pages, and for owners
// and admins a new name, deletion (with everything the project owns) and
// a new project.
import { api } from '../api.js';
import { buildHash } from '../router.js';
import { h, clear, fmtTime, userText, loadingState, errorState, emptyState } from '../util.js';
import { section, statusLine, confirmButton, inlineForm } from './common.js';

/** Renders the projects section into parent. org: {id, role}. */
export function renderProjects(parent, org) {
  const manager = org.role === 'owner' || org.role === 'admin';
  const status = statusLine();
  const body = h('div', { class: 'manage-body' }, loadingState('Loading projects…'));
  parent.appendChild(section('projects-title', 'Projects', status.el, body));

  async function load() {
    try {
      const d = await api('/projects', { params: { organization_id: org.id } });
      const items = d.items || [];
      clear(body).append(items.length ? table(items) : emptyState('No projects yet', manager ? 'Create one below.' : null),
        manager ? createForm() : null);
    } catch (err) {
      clear(body).appendChild(errorState(err, load));
    }
  }

  function row(p, i) {
    const rename = inlineForm(`New name of ${p.name}`, {
      id: `project-name-${i}`, value: p.name, button: 'Rename',
      onSubmit: async (name) => {
        try {
          await api(`/projects/${encodeURIComponent(p.id)}`, { method: 'PATCH', body: { name } });
          status.ok(`The project is now called ${name}.`);
          await load();
        } catch (err) { status.fail(err); }
      },
    });
    return h('tr', { dataset: { project: p.id } },
      h('td', null, userText(p.name, { class: 'project-name' })),
      h('td', { class: 'nowrap', text: fmtTime(p.created_at) }),
      h('td', null, manager ? rename.form : null),
      h('td', { class: 'row-actions' },
        h('a', { class: 'btn', href: buildHash(['projects', p.id, 'alerts'], {}), text: 'Alerts',
          'aria-label': `Alerts of ${p.name}` }),
        manager ? h('a', { class: 'btn', href: buildHash(['projects', p.id, 'keys'], {}), text: 'API keys',
          'aria-label': `API keys of ${p.name}` }) : null,
        manager ? confirmButton('Delete', p.name, async () => {
          try {
            await api(`/projects/${encodeURIComponent(p.id)}`, { method: 'DELETE' });
            status.ok(`The project ${p.name} was deleted, with all it held.`);
            await load();
          } catch (err) { status.fail(err); }
        }) : null));
  }

  function table(items) {
    return h('table', { class: 'data-table projects-table' },
      h('caption', { class: 'visually-hidden', text: 'Projects of this organization' }),
      h('thead', null, h('tr', null, ['Name', 'Created', 'Rename', 'Actions'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, items.map(row)));
  }

  function createForm() {
    return inlineForm('Name of a new project', {
      id: 'project-create-name', placeholder: 'New project name', button: 'Create project',
      onSubmit: async (name, input) => {
        try {
          await api('/projects', { method: 'POST', body: { organization_id: org.id, name } });
          status.ok(`The project ${name} was created.`);
          input.value = '';
          await load();
        } catch (err) { status.fail(err); }
      },
    }).form;
  }

  load();
}
