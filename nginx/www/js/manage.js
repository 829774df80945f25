// Organization settings: #/organizations (the caller's organizations),
// #/organizations/ID (its members and projects, and for owners and admins
// its audit log) and #/projects/ID/keys (a project's API keys). The parts
// are in manage/. Users only: an API key manages nothing.
import { api, describeToken, getToken } from './api.js';
import { buildHash, navigate } from './router.js';
import { h, clear, userText, loadingState, errorState, emptyState } from './util.js';
import { frame } from './manage/common.js';
import { renderMembers } from './manage/members.js';
import { renderProjects } from './manage/projects.js';
import { renderAudit } from './manage/audit.js';
import { renderKeys } from './manage/keys.js';

export function renderOrganizations(outlet) {
  const f = frame(outlet, 'Organizations', null, 'Organizations');
  if (!f) return {};
  const { main } = f;
  const body = h('div', { class: 'card' }, loadingState('Loading organizations…'));
  main.appendChild(body);
  api('/organizations').then((d) => {
    const items = d.items || [];
    clear(body).appendChild(items.length
      ? h('ul', { class: 'project-list org-list' }, items.map((o) => h('li', null,
        h('a', { href: buildHash(['organizations', o.id], {}) }, userText(o.name)),
        h('span', { class: 'muted', text: ` · ${o.role}` }))))
      : emptyState('No organizations', 'You are not a member of any organization yet.'));
  }, (err) => clear(body).appendChild(errorState(err)));
  return {};
}

export function renderOrganization(outlet, id) {
  const f = frame(outlet, 'Organization', 'Organization', 'Organization');
  if (!f) return {};
  const { main, title } = f;
  const me = describeToken(getToken())?.sub || '';
  api('/organizations').then((d) => {
    const org = (d.items || []).find((o) => o.id === id);
    if (!org) {
      main.appendChild(h('div', { class: 'card' }, emptyState('No such organization',
        'It does not exist, or you are not a member of it.',
        h('a', { class: 'btn', href: '#/organizations', text: 'Your organizations' }))));
      return;
    }
    clear(title).appendChild(userText(org.name));
    document.title = `${org.name} · Agora Cloud`;
    renderMembers(main, org, me, () => navigate(['organizations'], {}));
    renderProjects(main, org);
    if (org.role === 'owner' || org.role === 'admin') renderAudit(main, org);
  }, (err) => main.appendChild(h('div', { class: 'card' }, errorState(err))));
  return {};
}

export function renderProjectKeys(outlet, projectId) {
  const f = frame(outlet, 'Project', 'API keys of project', 'API keys');
  if (!f) return {};
  const { main, title } = f;
  api('/projects').then((d) => {
    const p = (d.items || []).find((x) => x.id === projectId);
    if (p) {
      clear(title).appendChild(userText(p.name));
      document.title = `API keys of ${p.name} · Agora Cloud`;
      main.querySelector('.page-head').appendChild(h('div', { class: 'page-actions' },
        h('a', { class: 'btn', href: buildHash(['organizations', p.organization_id], {}), text: 'Back to the organization' })));
    }
  }, () => { /* the keys' own load says what is wrong */ });
  renderKeys(main, projectId);
  return {};
}
