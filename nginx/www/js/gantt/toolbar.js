// The bar over the chart: its title and a summary of the run, the legend,
// the filters (name search, only failed), the critical path toggle (when
// the chart can show one), the zoom buttons and the label of the range
// shown. update() rewrites the summary and the failed count when
// a live run's rows change.
import { h, fmtDuration } from '../util.js';

/** "12 node executions · 1.2 s · 3 failed" */
function summaryText(rows, total, failedCount) {
  const retriedCount = rows.filter((r) => r.retries > 0).length;
  const summary = [`${rows.length.toLocaleString('en-US')} node execution${rows.length === 1 ? '' : 's'}`, fmtDuration(total)];
  if (failedCount) summary.push(`${failedCount} failed`);
  if (retriedCount) summary.push(`${retriedCount} retried`);
  return summary.join(' · ');
}

/**
 * createToolbar({rows, total, view, onFilter({q, failed}), onCritical(on) -> Promise<boolean>})
 * -> {el, rangeLabel, disable(), enable(), update(rows, total)}: onFilter runs when a filter changes;
 * onCritical (optional) when the critical path toggle is pressed, and says whether it could show it.
 */
export function createToolbar({ rows, total, view, onFilter, onCritical }) {
  let failedCount = rows.filter((r) => r.failed).length;
  const legend = h('ul', { class: 'legend', 'aria-label': 'Legend' },
    h('li', {}, h('span', { class: 'swatch seg-prep', 'aria-hidden': 'true' }), 'prep'),
    h('li', {}, h('span', { class: 'swatch seg-exec', 'aria-hidden': 'true' }), 'exec'),
    h('li', {}, h('span', { class: 'swatch seg-post', 'aria-hidden': 'true' }), 'post'),
    h('li', {}, h('span', { class: 'swatch swatch-failed', 'aria-hidden': 'true' }), 'failed'),
    h('li', {}, h('span', { class: 'retry-badge', 'aria-hidden': 'true', text: '↻' }), 'retried'));
  const rangeLabel = h('span', { class: 'range-label mono', 'aria-live': 'polite' });
  const zoomOut = h('button', { class: 'btn btn-icon', type: 'button', 'aria-label': 'Zoom out', title: 'Zoom out (-)', text: '−', onClick: () => view.zoomBy(1.6) });
  const zoomIn = h('button', { class: 'btn btn-icon', type: 'button', 'aria-label': 'Zoom in', title: 'Zoom in (+)', text: '+', onClick: () => view.zoomBy(1 / 1.6) });
  const fitBtn = h('button', { class: 'btn', type: 'button', title: 'Show the whole execution (0)', text: 'Fit', onClick: () => view.fit() });
  const search = h('input', { type: 'search', class: 'gantt-search', placeholder: 'Find node…', 'aria-label': 'Show only nodes whose name contains', autocomplete: 'off', spellcheck: 'false' });
  const onlyFailed = h('input', { type: 'checkbox', id: `gantt-only-failed-${Math.random().toString(36).slice(2, 8)}` });
  const onlyFailedText = h('span', { text: `Only failed (${failedCount})` });
  const onlyFailedLabel = h('label', { class: 'check', for: onlyFailed.id }, onlyFailed, onlyFailedText);
  onlyFailed.disabled = failedCount === 0;
  const filter = () => onFilter({ q: search.value.trim().toLowerCase(), failed: onlyFailed.checked });
  search.addEventListener('input', filter);
  onlyFailed.addEventListener('change', filter);

  const criticalBtn = onCritical ? h('button', {
    class: 'btn btn-toggle', type: 'button', 'aria-pressed': 'false', title: 'Mark the node executions that decided when the run finished',
    text: 'Critical path',
  }) : null;
  if (criticalBtn) {
    criticalBtn.addEventListener('click', async () => {
      const on = criticalBtn.getAttribute('aria-pressed') !== 'true';
      criticalBtn.disabled = true;
      try {
        const shown = await onCritical(on);
        criticalBtn.setAttribute('aria-pressed', String(on && shown));
      } finally {
        criticalBtn.disabled = false;
      }
    });
  }

  const summaryEl = h('span', { class: 'muted', text: summaryText(rows, total, failedCount) });
  const el = h('div', { class: 'gantt-toolbar' },
    h('div', { class: 'gantt-title' },
      h('h2', { id: 'gantt-title', text: 'Timeline' }),
      summaryEl),
    legend,
    h('div', { class: 'gantt-tools' }, search, onlyFailedLabel, criticalBtn,
      h('div', { class: 'zoom', role: 'group', 'aria-label': 'Zoom' }, zoomOut, zoomIn, fitBtn),
      rangeLabel));

  const controls = [zoomIn, zoomOut, fitBtn, search, onlyFailed, criticalBtn].filter(Boolean);
  return {
    el,
    rangeLabel,
    disable() {
      for (const b of controls) b.disabled = true;
    },
    enable() {
      for (const b of controls) b.disabled = false;
      onlyFailed.disabled = failedCount === 0 && !onlyFailed.checked;
    },
    update(nextRows, nextTotal) {
      failedCount = nextRows.filter((r) => r.failed).length;
      summaryEl.textContent = summaryText(nextRows, nextTotal, failedCount);
      onlyFailedText.textContent = `Only failed (${failedCount})`;
      if (!zoomIn.disabled) onlyFailed.disabled = failedCount === 0 && !onlyFailed.checked;
    },
  };
}
