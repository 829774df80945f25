// The details panel beside the chart for the selected node execution: its
// status, error, phases (as a bar and in figures), times, type, retries,
// action, model, tokens and cost (when it reported tokens) and id, and a
// button to its events.
import { h, append, clear, fmtMs, fmtTime, statusBadge, userText, nodeUsage, errorDetail } from '../util.js';

function fact(label, value, cls) {
  return [h('dt', { text: label }), h('dd', { class: cls || '' }, value)];
}

/** createDetail({onClose, onShowEvents(name)}) -> {el, show(row)}. */
export function createDetail({ onClose, onShowEvents }) {
  const el = h('aside', { class: 'gantt-detail', hidden: true, 'aria-label': 'Node execution details' });

  function show(r) {
    const ne = r.ne;
    const u = nodeUsage(ne);
    clear(el);
    const sum = r.prep + r.exec + r.post || 1;
    const phaseBar = h('div', { class: 'phase-bar', 'aria-hidden': 'true' },
      h('span', { class: 'seg-prep', style: { width: `${(r.prep / sum) * 100}%` } }),
      h('span', { class: 'seg-exec', style: { width: `${(r.exec / sum) * 100}%` } }),
      h('span', { class: 'seg-post', style: { width: `${(r.post / sum) * 100}%` } }));
    append(el, [
      h('div', { class: 'detail-head' },
        h('h3', { class: 'detail-title', title: r.name }, userText(r.name)),
        h('button', { class: 'btn btn-icon btn-ghost', type: 'button', 'aria-label': 'Close details', text: '×', onClick: onClose })),
      h('div', { class: 'detail-status' }, statusBadge(r.status),
        r.retries ? h('span', { class: 'retry-badge', text: `↻ ${r.retries} ${r.retries === 1 ? 'retry' : 'retries'}` }) : null,
        ne.action ? h('span', { class: 'action-chip' }, '→ ', userText(ne.action)) : null),
      r.err ? h('div', { class: 'callout callout-error', role: 'note' },
        h('strong', { text: 'Error' }), h('pre', { class: 'error-pre' }, userText(errorDetail(ne.error)))) : null,
      phaseBar,
      h('dl', { class: 'facts facts-compact' },
        fact('Duration', fmtMs(r.ms), 'mono'),
        fact('prep', fmtMs(r.prep), 'mono phase-prep'),
        fact('exec', fmtMs(r.exec), 'mono phase-exec'),
        fact('post', fmtMs(r.post), 'mono phase-post'),
        fact('Starts at', `+${fmtMs(r.offset)}`, 'mono'),
        fact('Started', fmtTime(ne.started_at), 'mono'),
        fact('Completed', fmtTime(ne.completed_at), 'mono'),
        fact('Type', ne.node_type ? userText(ne.node_type) : '–'),
        fact('Retries', String(r.retries)),
        fact('Action', ne.action ? userText(ne.action) : '–'),
        u ? fact('Model', u.model ? userText(u.model) : '–') : null,
        u ? fact('Tokens', u.tokens, 'mono') : null,
        u ? fact('Cost', u.cost, `mono${u.priced ? '' : ' muted'}`) : null,
        fact('Node id', ne.node_id || '–', 'mono small')),
      onShowEvents ? h('button', { class: 'btn', type: 'button', onClick: () => onShowEvents(r.name) }, 'Events of ', userText(r.name)) : null]);
    el.hidden = false;
  }

  return { el, show };
}
