// The compare page: two runs side by side (GET /api/executions/{a}/compare/{b}).
//   #/executions/A/compare/B   A against B (deltas are B - A); a shareable link
//   #/executions/B/compare     B against the previous run of its workflow: the
//                              latest one started before it (replaced by the
//                              link above once found)
// It shows both runs' summaries and what explains the change in duration,
// the first divergence (highlighted and scrolled into view), the two lanes
// (compare/lanes.js) and the node executions side by side with their
// state diffs (compare/table.js). compare/model.js has the pure parts.
import { api, ApiError } from './api.js';
import { compareHash, executionHash, executionsHash, navigate } from './router.js';
import {
  h, clear, copyText, emptyState, errorState, fmtDuration, fmtTime, loadingState, shortId, statusBadge, userText,
} from './util.js';
import { divergenceRow, idFromInput, mergedRows, previousRunQuery } from './compare/model.js';
import { renderLanes } from './compare/lanes.js';
import { renderTable } from './compare/table.js';

function fmtDelta(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms === 0) return '±0';
  return `${ms > 0 ? '+' : '−'}${fmtDuration(Math.abs(ms))}`;
}

function runCard(label, exec) {
  return h('div', { class: 'cmp-run' },
    h('div', { class: 'cmp-run-head' },
      h('span', { class: 'cmp-side', text: label }),
      statusBadge(exec.status),
      h('a', { class: 'mono', href: executionHash(exec.id), title: exec.id, text: shortId(exec.id) })),
    h('div', { class: 'muted' }, `Started ${fmtTime(exec.started_at)}`),
    h('div', { class: 'cmp-run-dur', text: fmtDuration(exec.duration_ms) }));
}

function pickForm(a, label) {
  const input = h('input', {
    class: 'input mono', type: 'text', name: 'other', placeholder: 'Execution id or link',
    'aria-label': 'The other execution: its id or a link to it', autocomplete: 'off', spellcheck: 'false',
  });
  const problem = h('span', { class: 'cmp-pick-problem', role: 'status' });
  const form = h('form', { class: 'cmp-pick' },
    h('label', { class: 'muted', text: label }), input,
    h('button', { class: 'btn', type: 'submit', text: 'Compare' }), problem);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const id = idFromInput(input.value);
    if (!id) { problem.textContent = 'That holds no execution id.'; return; }
    navigate(['executions', a, 'compare', id], {});
  });
  return form;
}

function copyLink() {
  const btn = h('button', { class: 'btn', type: 'button', title: 'Copy a link to this comparison' },
    h('span', { class: 'icon icon-link', 'aria-hidden': 'true' }), h('span', { class: 'btn-text', text: 'Copy link' }));
  btn.addEventListener('click', async () => {
    const ok = await copyText(location.href);
    btn.querySelector('.btn-text').textContent = ok ? 'Copied' : 'Copy failed';
  });
  return btn;
}

function summaryCard(cmp, a, b) {
  const s = cmp.summary;
  const top = s.top_nodes.map((t) => h('li', {},
    h('span', { class: 'mono' }, userText(t.node_name)), ' ',
    h('strong', { text: fmtDelta(t.delta_ms) }),
    t.share !== null ? h('span', { class: 'muted', text: ` (${Math.round(t.share * 100)}% of the change)` }) : null,
    t.a_runs !== t.b_runs ? h('span', { class: 'muted', text: ` · ran ${t.a_runs}× in A, ${t.b_runs}× in B` }) : null));
  return h('section', { class: 'card cmp-header', 'aria-label': 'Comparison summary' },
    h('div', { class: 'exec-title-row' },
      h('h1', { class: 'exec-title', text: 'Compare runs' }),
      h('div', { class: 'page-actions' },
        h('a', { class: 'btn', href: compareHash(b, a), title: 'Swap A and B', text: 'Swap' }),
        h('a', { class: 'btn', href: compareHash(b), title: 'B against the run of its workflow before it', text: 'B vs. previous' }),
        copyLink())),
    cmp.same_workflow ? null : h('div', { class: 'callout callout-warn', role: 'note' },
      h('strong', { text: 'Different workflows' }), userText(cmp.note)),
    h('div', { class: 'cmp-runs' }, runCard('A', cmp.a), runCard('B', cmp.b),
      h('div', { class: 'cmp-run cmp-delta' },
        h('div', { class: 'muted', text: 'Duration change (B − A)' }),
        h('div', { class: 'cmp-run-dur', text: fmtDelta(s.duration_ms.delta) }),
        h('div', { class: 'muted', text: `${s.aligned} aligned · ${s.differing} differ · ${s.only_in_a} only in A · ${s.only_in_b} only in B` }))),
    top.length ? h('div', { class: 'cmp-top' }, h('span', { class: 'muted', text: 'Most of the change: ' }), h('ol', {}, top)) : null,
    pickForm(a, 'Compare A with'));
}

function divergenceCallout(cmp, onShow) {
  const fd = cmp.first_divergence;
  if (!fd) {
    return h('div', { class: 'callout callout-ok cmp-verdict', role: 'note' },
      h('strong', { text: cmp.identical ? 'No differences' : 'No divergence' }),
      cmp.identical ? 'Both runs took the same path with the same statuses, actions and states; only times differ.'
        : 'The runs took the same path; the differences are in retries or errors only.');
  }
  return h('div', { class: 'callout callout-error cmp-verdict cmp-divergence', role: 'note' },
    h('strong', { text: 'First divergence' }),
    h('span', { class: 'mono' }, userText(fd.node_name)), fd.ordinal > 1 ? ` (run ${fd.ordinal})` : '',
    ` · ${fd.reasons.join(', ')}: `, userText(fd.message), ' ',
    h('button', { class: 'btn cmp-show', type: 'button', onClick: onShow, text: 'Show' }));
}

export function renderCompare(outlet, a, b) {
  const abort = new AbortController();
  const main = h('main', { class: 'page page-compare', id: 'main', tabindex: '-1' });
  outlet.appendChild(main);
  document.title = `Compare ${shortId(a)}${b ? ` · ${shortId(b)}` : ''} · Agora Cloud`;
  main.appendChild(h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
    h('ol', {},
      h('li', {}, h('a', { href: executionsHash(), text: 'Executions' })),
      h('li', {}, h('a', { class: 'mono', href: executionHash(a), text: shortId(a) })),
      h('li', { 'aria-current': 'page' }, 'Compare'))));
  const body = h('div', { class: 'cmp-body' });
  main.appendChild(body);

  const fail = (e, retry) => {
    if (e.name === 'AbortError') return;
    clear(body).appendChild(h('div', { class: 'card' }, e instanceof ApiError && e.status === 404
      ? emptyState('Execution not found', 'One of these executions does not exist, or belongs to an organization you are not a member of.',
        h('a', { class: 'btn', href: executionsHash(), text: 'Back to executions' }))
      : errorState(e, retry)));
  };

  async function findPrevious() {
    const exec = await api(`/executions/${encodeURIComponent(a)}`, { signal: abort.signal });
    const list = await api('/executions', { params: previousRunQuery(exec), signal: abort.signal });
    const prev = list.items && list.items[0];
    if (prev) { navigate(['executions', prev.id, 'compare', a], {}, { replace: true }); return; }
    clear(body).appendChild(h('div', { class: 'card' },
      emptyState('No earlier run of this workflow', 'This is the first run of its workflow that you can see. Compare it with any other execution by its id or link.'),
      pickForm(a, 'Compare with')));
  }

  async function load() {
    const cmp = await api(`/executions/${encodeURIComponent(a)}/compare/${encodeURIComponent(b)}`, { signal: abort.signal });
    const rows = mergedRows(cmp);
    const divRow = divergenceRow(cmp, rows);
    // Shows row i; picked (a bar or Show was clicked) also marks it.
    const show = (i, picked = true) => {
      const row = main.querySelector(`#cmp-row-${i}`);
      if (!row) return;
      for (const el of main.querySelectorAll('.cmp-row.is-picked')) el.classList.remove('is-picked');
      if (picked) row.classList.add('is-picked');
      row.scrollIntoView({ block: 'center' });
    };
    clear(body).append(
      summaryCard(cmp, a, b),
      divergenceCallout(cmp, () => show(divRow)),
      renderLanes(cmp, rows, divRow, show),
      renderTable(rows, divRow));
    if (divRow >= 0) requestAnimationFrame(() => show(divRow, false));
  }

  const start = () => {
    clear(body).appendChild(loadingState(b ? 'Comparing…' : 'Finding the previous run…'));
    (b ? load() : findPrevious()).catch((e) => fail(e, start));
  };
  start();
  return { destroy() { abort.abort(); } };
}
