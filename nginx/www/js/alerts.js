// Alert rules (README "Alerts"): #/alerts (the caller's projects, each a
// link to its rules) and #/projects/ID/alerts (a project's rules and their
// deliveries; owners and admins create, edit, mute, snooze, test and
// delete them, other members read). The parts are in alerts/. Users only:
// an API key does not administer alerts.
import { api, fetchAll } from './api.js';
import { buildHash } from './router.js';
import { h, clear, userText, loadingState, errorState, emptyState } from './util.js';
import { frame } from './manage/common.js';
import { renderRules } from './alerts/rules.js';
import { ruleForm } from './alerts/form.js';

const BY_USERS = 'Alert rules are read and written by users: sign in with your own token.';

/** #/alerts: the caller's projects, each with its organization. */
export function renderAlertsHome(outlet) {
  const f = frame(outlet, 'Alerts', null, 'Alerts', BY_USERS);
  if (!f) return {};
  const body = h('div', { class: 'card' }, loadingState('Loading projects…'));
  f.main.appendChild(body);
  Promise.all([api('/projects'), api('/organizations')]).then(([p, o]) => {
    const orgs = new Map((o.items || []).map((x) => [x.id, x]));
    const items = p.items || [];
    clear(body).appendChild(items.length
      ? h('ul', { class: 'project-list alert-project-list' }, items.map((x) => h('li', null,
        h('a', { href: buildHash(['projects', x.id, 'alerts'], {}) }, userText(x.name)),
        orgs.has(x.organization_id) ? h('span', { class: 'muted' }, ' · ', userText(orgs.get(x.organization_id).name)) : null)))
      : emptyState('No projects', 'You are not a member of any organization with projects yet.'));
  }, (err) => clear(body).appendChild(errorState(err)));
  return {};
}

/** #/projects/ID/alerts. */
export function renderProjectAlerts(outlet, projectId) {
  const f = frame(outlet, 'Project', 'Alert rules of project', 'Alert rules', BY_USERS);
  if (!f) return {};
  const { main, title } = f;
  const head = main.querySelector('.page-head');
  const note = h('div', { class: 'manage-body' }, loadingState('Loading the project…'));
  main.appendChild(note);
  const base = `/projects/${encodeURIComponent(projectId)}/alert-rules`;
  let rules = null;
  let gone = false;

  Promise.all([api('/projects'), api('/organizations'),
    fetchAll('/workflows', { project_id: projectId }, { max: 5000, pageSize: 200 }).catch(() => [])]).then(([p, o, wfs]) => {
    if (gone) return;
    const project = (p.items || []).find((x) => x.id === projectId);
    if (!project) {
      clear(note).appendChild(h('div', { class: 'card' }, emptyState('No such project',
        'It does not exist, or it belongs to an organization you are not in.',
        h('a', { class: 'btn', href: '#/alerts', text: 'Your projects' }))));
      return;
    }
    const org = (o.items || []).find((x) => x.id === project.organization_id);
    const manager = org?.role === 'owner' || org?.role === 'admin';
    clear(title).appendChild(userText(project.name));
    document.title = `Alert rules of ${project.name} · Agora Cloud`;
    const workflows = wfs.filter((w) => !w.project_id || w.project_id === projectId)
      .map((w) => ({ id: w.id, name: w.name }));
    const names = new Map(workflows.map((w) => [w.id, w.name]));
    const formSlot = h('div', { class: 'alert-form-slot' });

    function closeForm() {
      clear(formSlot);
      document.getElementById('alert-new')?.focus();
    }
    function openForm(rule) {
      const form = ruleForm({ rule, workflows, base,
        onCancel: closeForm,
        onSaved: async (saved) => {
          clear(formSlot);
          rules.status.ok(rule ? `The rule ${saved.name} was saved.` : `The rule ${saved.name} was created.`);
          await rules.load();
          document.querySelector(`.alert-rules-table tr[data-rule="${saved.id}"] th`)?.scrollIntoView({ block: 'nearest' });
          document.getElementById('alert-new')?.focus({ preventScroll: true });
        } });
      clear(formSlot).appendChild(form.el);
      form.el.scrollIntoView({ block: 'nearest' });
      form.focus();
    }

    head.appendChild(h('div', { class: 'page-actions' },
      h('a', { class: 'btn', href: buildHash(['organizations', project.organization_id], {}), text: 'Back to the organization' }),
      manager ? h('button', { class: 'btn btn-primary', type: 'button', id: 'alert-new', text: 'New rule', onClick: () => openForm(null) }) : null));
    clear(note).appendChild(h('p', { class: 'muted alert-intro' },
      manager
        ? 'Each rule posts to its webhooks when runs of this project fail, slow down, stall or cost too much.'
        : `You are ${org ? `a ${org.role}` : 'a reader'} of this organization: you see its rules and their deliveries; owners and admins change them.`));
    note.classList.add(manager ? 'alert-manager' : 'alert-readonly');
    rules = renderRules(main, { base, manager, workflowName: (id) => names.get(id) || id, onEdit: openForm });
    main.appendChild(formSlot);
  }, (err) => { if (!gone) clear(note).appendChild(h('div', { class: 'card' }, errorState(err))); });

  return { destroy() { gone = true; if (rules) rules.destroy(); } };
}
