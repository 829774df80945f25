// Agora Cloud timeline viewer: boot, sign-in, top bar and routing.
import { api, ApiError, clearToken, describeToken, getToken, onUnauthorized, setToken } from './api.js';
import { parseHash, executionHash, executionsHash } from './router.js';
import { h, clear } from './util.js';
import { renderList } from './list.js';
import { renderExecution } from './execution.js';
import { renderStats, renderStatsHome } from './stats.js';
import { renderCompare } from './compare.js';
import { renderOrganizations, renderOrganization, renderProjectKeys } from './manage.js';
import { renderAlertsHome, renderProjectAlerts } from './alerts.js';

const app = document.getElementById('app');
let current = null;      // {key, view}
let signInNotice = null; // {kind, text} shown on the sign-in page
let returnTo = null;     // the hash to go back to after signing in

// A sign-in link "#token=...&execution=ID": keep the token, drop it from the
// address bar (and the history) at once, and go where the link points.
function consumeSignInLink() {
  const { params, signIn } = parseHash();
  if (!signIn) return;
  const token = (params.get('token') || '').trim();
  const exec = params.get('execution');
  if (token) setToken(token);
  const target = exec ? executionHash(exec) : executionsHash();
  history.replaceState(null, '', `${location.pathname}${location.search}${target}`);
}

onUnauthorized((err) => {
  signInNotice = {
    kind: 'error',
    text: `Your token was refused (${err.message || 'unauthorized'}). It may have expired: sign in again.`,
  };
  if (!returnTo) returnTo = location.hash;
  route();
});

function destroyCurrent() {
  if (current && current.view && current.view.destroy) current.view.destroy();
  current = null;
}

function logo() {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '22');
  svg.setAttribute('height', '22');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'logo');
  const parts = [
    ['rect', { x: '2', y: '4', width: '9', height: '4', rx: '1.5', class: 'logo-a' }],
    ['rect', { x: '7', y: '10', width: '12', height: '4', rx: '1.5', class: 'logo-b' }],
    ['rect', { x: '13', y: '16', width: '9', height: '4', rx: '1.5', class: 'logo-c' }],
  ];
  for (const [tag, attrs] of parts) {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    svg.appendChild(el);
  }
  return svg;
}

function topBar(active) {
  const who = describeToken(getToken());
  return h('header', { class: 'topbar', role: 'banner' },
    h('a', { class: 'skip-link', href: '#main', onClick: (e) => { e.preventDefault(); document.getElementById('main')?.focus(); }, text: 'Skip to content' }),
    h('a', { class: 'brand', href: executionsHash(), 'aria-label': 'Agora Cloud, executions' }, logo(), h('span', { text: 'Agora Cloud' })),
    h('nav', { class: 'topnav', 'aria-label': 'Main' },
      h('a', { href: executionsHash(), 'aria-current': active === 'executions' ? 'page' : null, text: 'Executions' }),
      h('a', { href: '#/stats', 'aria-current': active === 'stats' ? 'page' : null, text: 'Statistics' }),
      h('a', { href: '#/alerts', 'aria-current': active === 'alerts' ? 'page' : null, text: 'Alerts' }),
      h('a', { href: '#/organizations', 'aria-current': active === 'manage' ? 'page' : null, text: 'Organizations' })),
    h('div', { class: 'topbar-spacer' }),
    who ? h('span', { class: 'identity', title: who.sub ? `user ${who.sub}` : who.label },
      h('span', { class: 'identity-dot', 'aria-hidden': 'true' }),
      h('span', { class: 'identity-label', text: who.label })) : null,
    h('button', { class: 'btn btn-ghost', type: 'button', id: 'sign-out', onClick: signOut, text: 'Sign out' }));
}

function signOut() {
  clearToken();
  destroyCurrent();
  signInNotice = { kind: 'info', text: 'You are signed out. The token was removed from this browser tab.' };
  returnTo = null;
  history.replaceState(null, '', `${location.pathname}${location.search}#/`);
  route();
}

function renderSignIn() {
  destroyCurrent();
  clear(app);
  document.title = 'Sign in · Agora Cloud';
  const input = h('textarea', {
    id: 'token-input', class: 'token-input', rows: '4', autocomplete: 'off', spellcheck: 'false',
    autocapitalize: 'off', required: true, 'aria-describedby': 'token-help',
    placeholder: 'eyJhbGciOi…  or  agk_…',
  });
  const notice = h('div', { class: 'signin-notice', role: 'alert', 'aria-live': 'assertive' });
  const showNotice = (n) => {
    clear(notice);
    notice.className = `signin-notice ${n ? `notice-${n.kind}` : ''}`;
    if (n) notice.appendChild(h('p', { text: n.text }));
  };
  showNotice(signInNotice);
  const button = h('button', { class: 'btn btn-primary', type: 'submit', text: 'Sign in' });
  const form = h('form', {
    class: 'signin-form', 'aria-label': 'Sign in',
    onSubmit: async (e) => {
      e.preventDefault();
      const token = input.value.trim().replace(/^Bearer\s+/i, '');
      if (!token) { showNotice({ kind: 'error', text: 'Paste a token first.' }); input.focus(); return; }
      button.disabled = true;
      button.textContent = 'Checking…';
      try {
        await api('/executions', { params: { limit: 1 }, token, quiet401: true });
        setToken(token);
        signInNotice = null;
        const target = returnTo && returnTo.startsWith('#/') ? returnTo : executionsHash();
        returnTo = null;
        history.replaceState(null, '', `${location.pathname}${location.search}${target}`);
        route();
      } catch (err) {
        const text = err instanceof ApiError && err.status === 401
          ? `This token was refused: ${err.message}`
          : `Could not check the token: ${err.message}`;
        showNotice({ kind: 'error', text });
        button.disabled = false;
        button.textContent = 'Sign in';
        input.focus();
      }
    },
  },
  h('label', { for: 'token-input', class: 'field-label', text: 'Access token' }),
  input,
  h('p', { id: 'token-help', class: 'field-help' },
    'A JWT from your identity provider, or a project API key (', h('code', { text: 'agk_…' }), '). ',
    'It is kept in this browser tab only (sessionStorage) and sent as a Bearer token to ', h('code', { text: '/api/' }), '.'),
  button);
  app.appendChild(h('main', { class: 'signin', id: 'main', tabindex: '-1' },
    h('div', { class: 'signin-card' },
      h('div', { class: 'signin-brand' }, logo(), h('span', { text: 'Agora Cloud' })),
      h('h1', { text: 'Sign in' }),
      h('p', { class: 'muted', text: 'Telemetry for Agora workflow executions: timelines, events, spans, state and graphs.' }),
      notice,
      form,
      h('p', { class: 'field-help signin-tip' }, 'Running it yourself? ', h('code', { text: './run.sh' }),
        ' prints a sign-in link for the demo user.'))));
  input.focus();
}

function notFound() {
  return h('main', { class: 'page', id: 'main', tabindex: '-1' },
    h('div', { class: 'card state state-empty' },
      h('p', { class: 'state-title', text: 'There is no page here' }),
      h('p', { class: 'state-detail', text: 'The address does not name a view of this viewer.' }),
      h('div', { class: 'state-actions' }, h('a', { class: 'btn', href: executionsHash(), text: 'Go to executions' }))));
}

function route() {
  consumeSignInLink();
  if (!getToken()) {
    // The page asked for last is where signing in leads: a user who follows
    // a link while signed out means that page, not the one the 401 came from.
    if (location.hash.startsWith('#/') && location.hash !== '#/') returnTo = location.hash;
    renderSignIn();
    return;
  }
  signInNotice = null;
  const { path, params } = parseHash();
  let key;
  if (path.length === 0 || (path.length === 1 && path[0] === 'executions')) key = 'list';
  else if (path.length === 2 && path[0] === 'executions') key = `exec:${path[1]}`;
  else if (path.length === 1 && path[0] === 'stats') key = 'stats';
  else if (path.length === 3 && path[2] === 'stats' && (path[0] === 'workflows' || path[0] === 'projects')) key = `stats:${path[0]}:${path[1]}`;
  else if ((path.length === 3 || path.length === 4) && path[0] === 'executions' && path[2] === 'compare') key = `cmp:${path[1]}:${path[3] || ''}`;
  else if (path.length === 1 && path[0] === 'organizations') key = 'orgs';
  else if (path.length === 2 && path[0] === 'organizations') key = `org:${path[1]}`;
  else if (path.length === 3 && path[0] === 'projects' && path[2] === 'keys') key = `keys:${path[1]}`;
  else if (path.length === 1 && path[0] === 'alerts') key = 'alerts';
  else if (path.length === 3 && path[0] === 'projects' && path[2] === 'alerts') key = `alerts:${path[1]}`;
  else key = 'notfound';

  if (current && current.key === key && current.view.update) {
    current.view.update(params);
    return;
  }
  destroyCurrent();
  clear(app);
  const manage = key === 'orgs' || key.startsWith('org:') || key.startsWith('keys:');
  app.appendChild(topBar(key === 'notfound' ? '' : key.startsWith('stats') ? 'stats' : manage ? 'manage'
    : key.startsWith('alerts') ? 'alerts' : 'executions'));
  const outlet = h('div', { class: 'outlet' });
  app.appendChild(outlet);
  let view;
  if (key === 'list') view = renderList(outlet, params);
  else if (key.startsWith('exec:')) view = renderExecution(outlet, path[1], params);
  else if (key === 'stats') view = renderStatsHome(outlet);
  else if (key.startsWith('stats:')) view = renderStats(outlet, path[0] === 'projects' ? 'project' : 'workflow', path[1], params);
  else if (key.startsWith('cmp:')) view = renderCompare(outlet, path[1], path[3] || null);
  else if (key === 'orgs') view = renderOrganizations(outlet);
  else if (key.startsWith('org:')) view = renderOrganization(outlet, path[1]);
  else if (key.startsWith('keys:')) view = renderProjectKeys(outlet, path[1]);
  else if (key === 'alerts') view = renderAlertsHome(outlet);
  else if (key.startsWith('alerts:')) view = renderProjectAlerts(outlet, path[1]);
  else { outlet.appendChild(notFound()); view = {}; document.title = 'Not found · Agora Cloud'; }
  current = { key, view };
}

window.addEventListener('hashchange', route);
route();
