// Hash routes, so every view is a link that nginx serves as index.html:
//   #/executions?status=error&workflow_id=...&cursor=...   the list
//   #/executions/ID?tab=state&node=42                       one execution
//   #/workflows/ID/stats?range=7d, #/projects/ID/stats       statistics (#/stats: projects)
//   #/executions/A/compare/B, #/executions/ID/compare       two runs compared
//   #/organizations, #/organizations/ID, #/projects/ID/keys  management (manage.js)
//   #/alerts, #/projects/ID/alerts                          alert rules (alerts.js)
//   #token=...&execution=ID                                 sign-in link (consumed at once)

export function parseHash(hash = location.hash) {
  let h = hash.replace(/^#/, '');
  if (!h.startsWith('/')) {
    // "#token=...&execution=..." or empty
    return { path: [], params: new URLSearchParams(h), signIn: /(^|&)token=/.test(h) };
  }
  const q = h.indexOf('?');
  const pathPart = q >= 0 ? h.slice(0, q) : h;
  const params = new URLSearchParams(q >= 0 ? h.slice(q + 1) : '');
  const path = pathPart.split('/').filter(Boolean).map(decodeURIComponent);
  return { path, params, signIn: false };
}

export function buildHash(path, params) {
  const p = `#/${path.map(encodeURIComponent).join('/')}`;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${p}?${s}` : p;
}

/** Goes to a route. replace: no new history entry. silent: no re-render. */
export function navigate(path, params, { replace = false, silent = false } = {}) {
  const hash = buildHash(path, params);
  if (hash === location.hash) return;
  const url = `${location.pathname}${location.search}${hash}`;
  if (replace || silent) {
    history[replace ? 'replaceState' : 'pushState'](null, '', url);
    if (!silent) window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = hash;
  }
}

export function executionsHash(params) {
  return buildHash(['executions'], params);
}

export function executionHash(id, params) {
  return buildHash(['executions', id], params);
}

/** A compared with B; without B, ID against the previous run of its workflow. */
export function compareHash(a, b) {
  return buildHash(b ? ['executions', a, 'compare', b] : ['executions', a, 'compare'], {});
}
