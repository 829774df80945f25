// The statistics pages: a workflow's (#/workflows/ID/stats) and a project's
// overview (#/projects/ID/stats), both from GET /api/.../stats, and the list
// of projects to choose from (#/stats). Runs and success rate over time,
// duration percentiles over time, the slowest and most failing nodes, the
// top errors with links to an example run. Parts: stats/window.js (the
// range in the address bar), stats/charts.js (SVG), stats/sections.js.
import { api } from './api.js';
import { buildHash, executionsHash, navigate } from './router.js';
import { h, clear, userText, loadingState, errorState, emptyState } from './util.js';
import { RANGES, rangeOf, apiQuery } from './stats/window.js';
import { runsChart, durationChart, figure } from './stats/charts.js';
import { totalsTiles, nodeCharts, nodesTable, errorsTable, seriesTable } from './stats/sections.js';

export function statsHash(kind, id, params) {
  return buildHash([kind === 'project' ? 'projects' : 'workflows', id, 'stats'], params);
}

function rangePicker(kind, id, range) {
  const select = h('select', { id: 'stats-range', class: 'select', onChange: (e) => navigate([kind === 'project' ? 'projects' : 'workflows', id, 'stats'], { range: e.target.value }) },
    RANGES.map((r) => h('option', { value: r.key, selected: r.key === range.key, text: r.label })));
  return h('div', { class: 'stats-range' }, h('label', { for: 'stats-range', class: 'field-label', text: 'Window' }), select);
}

function section(title, ...children) {
  return h('section', { class: 'stats-section', 'aria-label': title }, h('h2', { class: 'section-title', text: title }), children);
}

function details(summary, body) {
  return h('details', { class: 'stats-details card' }, h('summary', { text: summary }), body);
}

function render(page, kind, id, range, st) {
  const project = kind === 'project';
  const head = h('header', { class: 'stats-head' },
    h('div', null,
      h('p', { class: 'eyebrow', text: project ? 'Project overview' : 'Workflow' }),
      h('h1', { class: 'stats-title' }, userText(st.scope.name)),
      h('p', { class: 'muted stats-links' },
        project ? null : h('a', { href: statsHash('project', st.scope.project_id, { range: range.key }), text: 'Project overview' }),
        project ? null : ' · ',
        h('a', { href: executionsHash(project ? { project_id: id } : { workflow_id: id }), text: 'Runs' }),
        ` · ${range.bucket === 'hour' ? 'by hour' : 'by day'}, UTC; percentiles within ±${(st.percentile_relative_error * 100).toFixed(1)}%`)),
    rangePicker(kind, id, range));
  const series = st.series;
  clear(page);
  page.append(head, totalsTiles(st.totals),
    h('div', { class: 'chart-pair' },
      figure('Runs and success rate', runsChart(series, st.bucket),
        [['sw-success', 'Success'], ['sw-error', 'Failed'], ['sw-cancelled', 'Cancelled'], ['sw-rate', 'Success rate']]),
      figure('Duration percentiles', durationChart(series, st.bucket),
        [['sw-p50', 'p50'], ['sw-p95', 'p95'], ['sw-p99', 'p99']])),
    details(`Runs per ${st.bucket}: the numbers`, seriesTable(series, st.bucket)),
    section('Nodes', nodeCharts(st.nodes, project),
      st.nodes.length ? details(`All nodes (${st.nodes.length})`, nodesTable(st.nodes, project)) : null),
    section('Top errors', h('div', { class: 'card errors-card' }, errorsTable(st.errors, project))));
}

/** kind 'workflow' or 'project'. */
export function renderStats(outlet, kind, id, params) {
  const page = h('main', { class: 'page stats-page', id: 'main', tabindex: '-1' });
  outlet.appendChild(page);
  let ctl = null;
  async function load(p) {
    const range = rangeOf(p);
    if (ctl) ctl.abort();
    ctl = new AbortController();
    clear(page).appendChild(loadingState('Loading statistics…'));
    try {
      const st = await api(`/${kind === 'project' ? 'projects' : 'workflows'}/${encodeURIComponent(id)}/stats`,
        { params: apiQuery(range), signal: ctl.signal });
      document.title = `${st.scope.name} · Statistics · Agora Cloud`;
      render(page, kind, id, range, st);
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      clear(page).appendChild(err && err.status === 404
        ? emptyState(`There is no such ${kind}`, 'It does not exist, or it belongs to an organization you are not in.',
          h('a', { class: 'btn', href: buildHash(['stats'], {}), text: 'All projects' }))
        : errorState(err, () => load(p)));
    }
  }
  load(params);
  return { update: load, destroy: () => ctl && ctl.abort() };
}

/** #/stats: the caller's projects, each a link to its overview. */
export function renderStatsHome(outlet) {
  const page = h('main', { class: 'page stats-page', id: 'main', tabindex: '-1' },
    h('h1', { class: 'stats-title', text: 'Statistics' }));
  const body = h('div', { class: 'card' }, loadingState('Loading projects…'));
  page.appendChild(body);
  outlet.appendChild(page);
  document.title = 'Statistics · Agora Cloud';
  api('/projects').then((d) => {
    const items = Array.isArray(d) ? d : d.items || [];
    clear(body).appendChild(items.length
      ? h('ul', { class: 'project-list' }, items.map((p) => h('li', null,
        h('a', { href: statsHash('project', p.id, {}) }, userText(p.name)))))
      : emptyState('No projects', 'You are not a member of any organization with projects yet.'));
  }, (err) => clear(body).appendChild(errorState(err)));
  return {};
}
