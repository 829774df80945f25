// The execution page's summary card: status, workflow name (filled in when
// the workflow arrives), ids with a link to the session's executions,
// times, duration, counts, tokens and cost (when the run reported tokens),
// the error and the metadata; Compare (with the previous run), Download
// report, Export JSON, Copy link and Reload; for a live run, its live indicator and the time it has run so far
// (tickElapsed moves it on). And the card shown instead when the execution
// is not found.
import { buildHash, compareHash, executionsHash } from '../router.js';
import {
  h, append, clear, fmtDuration, fmtTime, fmtRelative, errorText, statusBadge, staleBadge, jsonPretty, copyText, userText,
  usageSummary, errorDetail, trimmedNote,
} from '../util.js';
import { isOpenRun } from '../live/rules.js';
import { download } from '../api.js';

/**
 * A button that downloads GET /api/executions/{id}/{route} as filename
 * (the report, the export); its label says when that fails.
 */
function downloadButton(label, title, route, filename, id) {
  const btn = h('button', { class: `btn btn-${route}`, type: 'button', title },
    h('span', { class: 'btn-text', text: label }));
  const text = btn.querySelector('.btn-text');
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    text.textContent = 'Preparing…';
    try {
      await download(`/executions/${encodeURIComponent(id)}/${route}`, filename);
      text.textContent = label;
    } catch (e) {
      text.textContent = `${label} failed`;
      btn.title = e.message;
      setTimeout(() => { text.textContent = label; btn.title = title; }, 4000);
    } finally {
      btn.disabled = false;
    }
  });
  return btn;
}

function copyLinkButton() {
  const copyBtn = h('button', { class: 'btn', type: 'button', title: 'Copy a link to this view' },
    h('span', { class: 'icon icon-link', 'aria-hidden': 'true' }), h('span', { class: 'btn-text', text: 'Copy link' }));
  copyBtn.addEventListener('click', async () => {
    const ok = await copyText(location.href);
    const label = copyBtn.querySelector('.btn-text');
    label.textContent = ok ? 'Copied' : 'Copy failed';
    setTimeout(() => { label.textContent = 'Copy link'; }, 1600);
  });
  return copyBtn;
}

// "06:07:52.609" big, the date under it
function when(iso) {
  const t = fmtTime(iso);
  return [h('span', { class: 'fact-time mono', text: t.slice(11) }), h('span', { class: 'fact-date', text: t.slice(0, 10) })];
}

function fact(label, value, opts = {}) {
  return h('div', { class: 'fact' },
    h('dt', { text: label }), h('dd', { class: opts.cls || '', title: opts.title || null }, value));
}

/** The time a run has been going, for the Duration of one not finished. */
function elapsedText(startedAt, now = Date.now()) {
  const ms = now - Date.parse(startedAt);
  return Number.isFinite(ms) && ms >= 0 ? `${fmtDuration(ms)} so far` : '–';
}

/** Moves the "so far" duration of a live run's header on to now. */
export function tickElapsed(box) {
  const el = box.querySelector('.fact-elapsed');
  if (el) el.textContent = elapsedText(el.dataset.started);
}

/**
 * Fills box with the summary of exec (id is the page's, for when exec has
 * none); workflowName once known, liveEl (the live indicator) when the page
 * follows the run.
 */
export function renderHeader(box, { id, exec, nodeExecutions, onReload, workflowName, liveEl }) {
  clear(box);
  const counts = exec.counts || {};
  const failed = nodeExecutions.filter((n) => n.status === 'error').length;
  const retries = nodeExecutions.reduce((s, n) => s + (Number(n.retry_count) || 0), 0);
  const err = errorText(exec.error);
  const refreshBtn = h('button', { class: 'btn', type: 'button', 'aria-label': 'Reload this execution', onClick: onReload },
    h('span', { class: 'icon icon-refresh', 'aria-hidden': 'true' }), 'Reload');
  const nodeText = [`${(counts.node_executions ?? nodeExecutions.length).toLocaleString('en-US')}`];
  const meta = exec.metadata && typeof exec.metadata === 'object' && Object.keys(exec.metadata).length ? exec.metadata : null;
  const metaTrimmed = trimmedNote(meta);
  const usage = usageSummary(exec.usage);
  append(box, [
    h('div', { class: 'exec-title-row' },
      statusBadge(exec.status, 'badge-lg'),
      exec.stale ? staleBadge() : null,
      h('h1', { class: 'exec-title' }, h('span', { class: 'exec-wf-name' }, workflowName ? userText(workflowName) : 'Execution')),
      h('div', { class: 'page-actions' }, liveEl || null,
        h('a', { class: 'btn btn-compare', href: compareHash(exec.id || id), title: 'Compare with the previous run of this workflow, or any run' }, 'Compare'),
        downloadButton('Download report', 'One HTML file with the timeline, errors, events and state changes: opens offline',
          'report', `agora-run-${exec.id || id}.html`, exec.id || id),
        downloadButton('Export JSON', 'The run as an ingest payload, to send to another project',
          'export', `agora-run-${exec.id || id}.json`, exec.id || id),
        copyLinkButton(), refreshBtn)),
    h('div', { class: 'exec-ids' },
      h('span', {}, h('span', { class: 'muted', text: 'Execution ' }), h('code', { class: 'mono', text: exec.id || id })),
      exec.session_id ? h('span', {}, h('span', { class: 'muted', text: 'Session ' }),
        h('a', { class: 'mono', href: executionsHash({ session_id: exec.session_id }), title: 'All executions of this session' }, userText(exec.session_id))) : null,
      exec.workflow_id ? h('a', { href: buildHash(['workflows', exec.workflow_id, 'stats'], {}), class: 'exec-stats-link', text: 'Workflow statistics' }) : null),
    h('dl', { class: 'exec-facts' },
      fact('Started', when(exec.started_at), { title: `${exec.started_at} (${fmtRelative(exec.started_at)})` }),
      fact('Completed', exec.completed_at ? when(exec.completed_at) : (exec.status === 'running' ? 'still running' : '–'), { title: exec.completed_at || null }),
      fact('Duration', isOpenRun(exec)
        ? h('span', { class: 'fact-elapsed', dataset: { started: exec.started_at }, text: elapsedText(exec.started_at) })
        : fmtDuration(exec.duration_ms), { cls: 'fact-big' }),
      fact('Node runs', [nodeText[0],
        failed ? h('span', { class: 'fact-note err', text: ` · ${failed} failed` }) : null,
        retries ? h('span', { class: 'fact-note', text: ` · ${retries} ${retries === 1 ? 'retry' : 'retries'}` }) : null], { cls: 'fact-big' }),
      fact('Events', String((counts.telemetry_events ?? '–').toLocaleString('en-US')), { cls: 'fact-big' }),
      fact('Spans', String((counts.telemetry_spans ?? '–').toLocaleString('en-US')), { cls: 'fact-big' }),
      fact('Snapshots', String((counts.shared_state_snapshots ?? '–').toLocaleString('en-US')), { cls: 'fact-big' }),
      usage ? fact('Tokens', usage.tokens, { cls: 'fact-big fact-tokens', title: usage.title }) : null,
      usage ? fact('Cost', usage.cost, { cls: `fact-big fact-cost${usage.incomplete ? ' is-incomplete' : ''}`, title: usage.title }) : null),
    err ? h('div', { class: 'callout callout-error exec-error', role: 'note' },
      h('strong', { text: 'Execution error' }),
      h('pre', { class: 'error-pre' }, userText(errorDetail(exec.error)))) : null,
    meta ? h('details', { class: 'meta' },
      h('summary', { text: metaTrimmed ? 'Metadata (trimmed)' : `Metadata (${Object.keys(meta).length})` }),
      h('pre', { class: 'json' }, userText(metaTrimmed || jsonPretty(meta)))) : null]);
}

/** What the header shows for an execution the API answered 404 for. */
export function notFoundState(id) {
  return h('div', { class: 'state state-empty', role: 'alert' },
    h('p', { class: 'state-title', text: 'Execution not found' }),
    h('p', { class: 'state-detail', text: `There is no execution ${id} that you can see: it does not exist, or it belongs to an organization you are not a member of.` }),
    h('div', { class: 'state-actions' }, h('a', { class: 'btn', href: executionsHash(), text: 'Back to executions' })));
}
