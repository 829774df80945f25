// A project's alert rules as a table: name, kind, conditions, channels
// (host only, "signed" when a channel has a secret), state and last fired;
// for owners and admins the rule's actions (edit, mute or unmute, snooze
// or end a snooze, send a test, delete); and under each rule its
// deliveries, refreshed while some are pending (when the next try is due).
import { api } from '../api.js';
import { h, clear, setText, userText, loadingState, errorState, emptyState } from '../util.js';
import { section, statusLine, confirmButton } from '../manage/common.js';
import { kindOf, conditions, urlHost, ruleState, lastFired, refusal, fmtMinute } from './describe.js';
import { deliveriesTable, deliveryCounts, refreshDelay } from './deliveries.js';

const SNOOZES = [[60, '1 hour'], [240, '4 hours'], [1440, '1 day'], [10080, '1 week']];
const COLUMNS = ['Name', 'Kind', 'Conditions', 'Channels', 'State', 'Last fired', 'Actions'];
const TWINS = { Mute: 'Unmute', Unmute: 'Mute', Snooze: 'End snooze', 'End snooze': 'Snooze' };

/**
 * Renders the rules section into parent. base: the project's alert-rules
 * route; manager: the caller may write; workflowName(id); onEdit(rule)
 * opens the form. -> {load(), destroy(), status}.
 */
export function renderRules(parent, { base, manager, workflowName, onEdit }) {
  const status = statusLine();
  const body = h('div', { class: 'manage-body' }, loadingState('Loading alert rules…'));
  parent.appendChild(section('rules-title', 'Rules', status.el, body));
  const timers = new Map(); // rule id -> refresh timer of its deliveries
  const open = new Set();   // rule ids whose deliveries are shown
  let gone = false;

  function stopTimers() {
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
  }

  async function load() {
    stopTimers();
    try {
      const d = await api(base);
      if (gone) return;
      const items = d.items || [];
      clear(body).appendChild(items.length ? table(items)
        : emptyState('No alert rules yet', manager ? 'Create one with "New rule".' : 'Owners and admins of the organization create them.'));
    } catch (err) {
      clear(body).appendChild(errorState(err, load));
    }
  }

  /** The rule and the button that has the focus, to find them again once the rules are drawn anew. */
  function focused() {
    const a = document.activeElement;
    const row = a && a.closest ? a.closest('tr[data-rule]') : null;
    return row ? { rule: row.dataset.rule, label: a.textContent } : null;
  }

  /** The same button of the same rule (or its twin: Mute after Unmute, ...), else the rule's first, else "New rule". */
  function refocus(f) {
    if (!f) return;
    const row = body.querySelector(`tr.alert-rule-row[data-rule="${f.rule}"]`);
    const buttons = row ? [...row.querySelectorAll('button')] : [];
    const want = [f.label, TWINS[f.label]];
    const el = buttons.find((b) => want.includes(b.textContent)) || buttons[0] || document.getElementById('alert-new');
    if (el) el.focus();
  }

  /** Runs act() (a write to the rule), says what it did (done(answer)), and draws the rules anew. */
  async function write(act, done) {
    const f = focused();
    try {
      const r = await act();
      status.ok(done(r));
      await load();
      refocus(f);
    } catch (err) { status.fail(refusal(err)); }
  }

  function ruleActions(r, state) {
    const name = r.name;
    const rid = encodeURIComponent(r.id);
    const post = (what, b) => () => api(`/alert-rules/${rid}/${what}`, { method: 'POST', body: b });
    const snoozeSelect = h('select', { 'aria-label': `Snooze ${name} for`, class: 'alert-snooze-for' },
      SNOOZES.map(([m, t]) => h('option', { value: String(m), text: t })));
    return [
      h('button', { class: 'btn', type: 'button', text: 'Edit', 'aria-label': `Edit ${name}`, onClick: () => onEdit(r) }),
      h('button', { class: 'btn', type: 'button', text: r.muted ? 'Unmute' : 'Mute', 'aria-label': `${r.muted ? 'Unmute' : 'Mute'} ${name}`,
        onClick: () => write(post('mute', { muted: !r.muted }), (x) => (x.muted ? `The rule ${name} is muted: it fires nothing until unmuted.` : `The rule ${name} is no longer muted.`)) }),
      state.snoozed
        ? h('button', { class: 'btn', type: 'button', text: 'End snooze', 'aria-label': `End snooze of ${name}`,
          onClick: () => write(post('snooze', { minutes: 0 }), () => `The rule ${name} is no longer snoozed.`) })
        : h('span', { class: 'alert-snooze' }, snoozeSelect,
          h('button', { class: 'btn', type: 'button', text: 'Snooze', 'aria-label': `Snooze ${name}`,
            onClick: () => write(post('snooze', { minutes: Number(snoozeSelect.value) }),
              (x) => `The rule ${name} is snoozed until ${fmtMinute(x.snoozed_until)}.`) })),
      h('button', { class: 'btn', type: 'button', text: 'Send test', 'aria-label': `Send test of ${name}`,
        onClick: () => write(() => { open.add(r.id); return api(`/alert-rules/${rid}/test`, { method: 'POST' }); },
          (t) => `A test alert of ${name} was queued for ${t.deliveries} ${t.deliveries === 1 ? 'channel' : 'channels'}.`) }),
      confirmButton('Delete', name, () => write(() => api(`/alert-rules/${rid}`, { method: 'DELETE' }),
        () => `The rule ${name} was deleted, with its deliveries.`)),
    ];
  }

  function channelsCell(r) {
    return h('ul', { class: 'alert-channel-list' }, r.channels.map((c) => h('li', null,
      h('span', { class: 'mono', text: urlHost(c.url) }),
      c.has_secret ? h('span', { class: 'badge small alert-signed', text: 'signed' }) : null)));
  }

  function rows(r) {
    const state = ruleState(r);
    const fired = h('td', { class: 'nowrap alert-last-fired', text: '…' });
    const summary = h('summary', null, 'Deliveries: ', h('span', { class: 'alert-delivery-count', text: 'loading…' }));
    const holder = h('div', { class: 'alert-deliveries-body' });
    const details = h('details', { class: 'alert-deliveries', open: open.has(r.id) }, summary, holder);
    details.addEventListener('toggle', () => { if (details.open) open.add(r.id); else open.delete(r.id); });

    async function deliveries() {
      timers.delete(r.id);
      try {
        const d = await api(`/alert-rules/${encodeURIComponent(r.id)}/deliveries`, { params: { limit: 50 } });
        if (gone || !details.isConnected) return;
        const items = d.items || [];
        const lf = lastFired(items);
        setText(fired, lf.text);
        if (lf.title) fired.title = lf.title;
        setText(summary.querySelector('.alert-delivery-count'), deliveryCounts(items));
        clear(holder).append(items.length ? deliveriesTable(items, r.name) : h('p', { class: 'muted', text: 'Nothing sent yet.' }),
          h('button', { class: 'btn', type: 'button', text: 'Refresh', 'aria-label': `Refresh the deliveries of ${r.name}`, onClick: deliveries }));
        const wait = refreshDelay(items);
        if (wait !== null) timers.set(r.id, setTimeout(deliveries, wait));
      } catch (err) {
        if (!gone) clear(holder).appendChild(errorState(err, deliveries));
      }
    }
    deliveries();

    return [
      h('tr', { class: 'alert-rule-row', dataset: { rule: r.id, state: state.key } },
        h('th', { scope: 'row' }, userText(r.name, { class: 'alert-name' })),
        h('td', { class: 'nowrap', text: kindOf(r.kind).label }),
        h('td', { class: 'alert-conditions' }, conditions(r, workflowName).map((c, i) => [i ? ' · ' : null, userText(c)])),
        h('td', null, channelsCell(r)),
        h('td', { class: 'nowrap' }, h('span', { class: `badge alert-state alert-state-${state.key}`, text: state.text })),
        fired,
        h('td', null, manager ? h('div', { class: 'row-actions' }, ruleActions(r, state)) : h('span', { class: 'muted', text: 'read only' }))),
      h('tr', { class: 'alert-deliveries-row', dataset: { rule: r.id } }, h('td', { colspan: String(COLUMNS.length) }, details)),
    ];
  }

  function table(items) {
    return h('table', { class: 'data-table alert-rules-table' },
      h('caption', { class: 'visually-hidden', text: 'Alert rules of this project, oldest first, each followed by its deliveries' }),
      h('thead', null, h('tr', null, COLUMNS.map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, items.map(rows)));
  }

  load();
  return { load, status, destroy() { gone = true; stopTimers(); } };
}
