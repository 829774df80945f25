// The list's filter form: workflow, status, session, time range (a custom
// one in local time). A select applies at once, the rest on Apply or Enter;
// applying navigates, and the address bar's parameters fill the form back.
import { h, shortId } from '../util.js';
import { STATUSES, RANGES, FILTER_KEYS, toLocalInput, fromLocalInput } from './params.js';

/**
 * createFilters({params() -> the current parameters, go(next)})
 * -> {el, sync(p), addWorkflows(list)}
 */
export function createFilters({ params, go }) {
  const wfSelect = h('select', { id: 'f-workflow', name: 'workflow_id' }, h('option', { value: '', text: 'All workflows' }));
  const stSelect = h('select', { id: 'f-status', name: 'status' },
    h('option', { value: '', text: 'Any status' }),
    STATUSES.map((s) => h('option', { value: s, text: s[0].toUpperCase() + s.slice(1) })));
  const sessInput = h('input', { id: 'f-session', name: 'session_id', type: 'search', placeholder: 'Session id', autocomplete: 'off', spellcheck: 'false' });
  const rangeSelect = h('select', { id: 'f-range', name: 'range' }, RANGES.map(([v, l]) => h('option', { value: v, text: l })));
  const sinceInput = h('input', { id: 'f-since', type: 'datetime-local', 'aria-label': 'From (local time)' });
  const untilInput = h('input', { id: 'f-until', type: 'datetime-local', 'aria-label': 'Until (local time)' });
  const customBox = h('div', { class: 'filter-custom', hidden: true },
    h('label', { class: 'filter' }, h('span', { class: 'filter-label', text: 'From' }), sinceInput),
    h('label', { class: 'filter' }, h('span', { class: 'filter-label', text: 'Until' }), untilInput));
  const clearBtn = h('button', { class: 'btn btn-ghost', type: 'button', text: 'Clear filters', onClick: () => go({}) });
  const el = h('form', {
    class: 'filters card', role: 'search', 'aria-label': 'Filter executions',
    onSubmit: (e) => { e.preventDefault(); apply(); },
  },
  h('label', { class: 'filter', for: 'f-workflow' }, h('span', { class: 'filter-label', text: 'Workflow' }), wfSelect),
  h('label', { class: 'filter', for: 'f-status' }, h('span', { class: 'filter-label', text: 'Status' }), stSelect),
  h('label', { class: 'filter', for: 'f-session' }, h('span', { class: 'filter-label', text: 'Session' }), sessInput),
  h('label', { class: 'filter', for: 'f-range' }, h('span', { class: 'filter-label', text: 'Time range' }), rangeSelect),
  customBox,
  h('div', { class: 'filter-buttons' },
    h('button', { class: 'btn btn-primary', type: 'submit', text: 'Apply' }),
    clearBtn));
  for (const s of [wfSelect, stSelect]) s.addEventListener('change', apply);
  rangeSelect.addEventListener('change', () => {
    customBox.hidden = rangeSelect.value !== 'custom';
    if (rangeSelect.value !== 'custom') apply();
    else sinceInput.focus();
  });

  function apply() {
    const next = {
      workflow_id: wfSelect.value, status: stSelect.value, session_id: sessInput.value.trim(),
      range: rangeSelect.value, limit: params().limit,
    };
    if (next.range === 'custom') {
      next.since = fromLocalInput(sinceInput.value);
      next.until = fromLocalInput(untilInput.value);
    }
    go(next);
  }

  function sync(p) {
    wfSelect.value = p.workflow_id || '';
    if (p.workflow_id && wfSelect.value !== p.workflow_id) {
      wfSelect.appendChild(h('option', { value: p.workflow_id, text: `Workflow ${shortId(p.workflow_id)}` }));
      wfSelect.value = p.workflow_id;
    }
    stSelect.value = p.status || '';
    sessInput.value = p.session_id || '';
    rangeSelect.value = p.range || '';
    customBox.hidden = p.range !== 'custom';
    sinceInput.value = p.since ? toLocalInput(p.since) : '';
    untilInput.value = p.until ? toLocalInput(p.until) : '';
    clearBtn.hidden = !FILTER_KEYS.some((k) => p[k]);
  }

  /** The workflows as options, by name. */
  function addWorkflows(list) {
    const sorted = [...list].sort((a, b) => String(a.name).localeCompare(String(b.name)));
    for (const w of sorted) wfSelect.appendChild(h('option', { value: w.id, text: w.name || shortId(w.id) }));
  }

  return { el, sync, addWorkflows };
}
