// The form of an alert rule, new or edited (owners and admins). It shows
// the fields the chosen kind takes and sends only those (a field a kind
// does not take is a 422), numbers as typed (the server says what is
// wrong with them), and channels with their secret only when one is typed:
// a channel sent back without it, at the same place and with the same URL,
// keeps its secret. A 422 is shown next to the field it names.
import { api } from '../api.js';
import { h, clear, setText, userText } from '../util.js';
import { KINDS, kindOf, thresholdLabel, refusal } from './describe.js';

const CHANNELS_MAX = 10;
const NUMBERS = new Set(['threshold', 'window_minutes', 'min_runs', 'cooldown_minutes']);
let channelSeq = 0; // unique ids for the channels' fields

/** A labelled field: {wrap, input, error, label, help}. input: an input or a select. */
function field(id, label, input, help) {
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const helpEl = help ? h('p', { class: 'field-help', id: `${id}-help`, text: help }) : null;
  input.id = id;
  input.setAttribute('aria-describedby', [help ? `${id}-help` : null, `${id}-error`].filter(Boolean).join(' '));
  const labelEl = h('label', { for: id, class: 'field-label', text: label });
  return { wrap: h('div', { class: 'alert-field' }, labelEl, input, helpEl, error), input, error, label: labelEl, help: helpEl };
}

function textInput(props = {}) {
  return h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', maxlength: '200', ...props });
}

function numberInput(props = {}) {
  return h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', class: 'alert-number', ...props });
}

/**
 * The form: rule (null for a new one), workflows [{id, name}] of the
 * project, base (the project's alert-rules route), onSaved(rule),
 * onCancel(). -> {el, focus()}.
 */
export function ruleForm({ rule, workflows, base, onSaved, onCancel }) {
  const editing = !!rule;
  const status = h('p', { class: 'manage-status', role: 'status', 'aria-live': 'polite' });
  const fields = {};
  fields.name = field('alert-f-name', 'Name', textInput({ value: rule?.name || '', placeholder: 'e.g. checkout failures' }));
  fields.kind = field('alert-f-kind', 'Kind', h('select', null,
    KINDS.map((k) => h('option', { value: k.kind, selected: (rule?.kind || 'execution_failed') === k.kind, text: k.label }))), ' ');
  fields.workflow_id = field('alert-f-workflow', 'Workflow', h('select', null,
    h('option', { value: '', text: 'Any workflow of the project' }),
    workflows.map((w) => h('option', { value: w.id, selected: rule?.workflow_id === w.id, text: w.name }))));
  fields.node_name = field('alert-f-node', 'Node name', textInput({ value: rule?.node_name || '' }),
    'Optional: only this node (by name).');
  fields.error_contains = field('alert-f-error', 'Error contains', textInput({ value: rule?.error_contains || '' }),
    'Optional: text in the run\'s error message (any case).');
  fields.metric = field('alert-f-metric', 'Metric', h('select', null,
    [['tokens', 'Tokens'], ['cost_usd', 'Cost (USD)']].map(([v, t]) => h('option', { value: v, selected: rule?.metric === v, text: t }))));
  fields.threshold = field('alert-f-threshold', 'Threshold', numberInput({ value: rule?.threshold ?? '' }));
  fields.window_minutes = field('alert-f-window', 'Window (minutes)', numberInput({ value: rule?.window_minutes ?? '', inputmode: 'numeric' }));
  fields.min_runs = field('alert-f-min-runs', 'At least this many runs', numberInput({ value: rule?.min_runs ?? '', inputmode: 'numeric' }),
    'Optional (1): fewer runs in a window fire nothing.');
  fields.cooldown_minutes = field('alert-f-cooldown', 'Cooldown (minutes)',
    numberInput({ value: rule ? rule.cooldown_minutes : '60', inputmode: 'numeric' }),
    'No repeat for the same subject within it (0: every time).');

  // Channels: a URL and an optional secret each.
  const channelRows = h('div', { class: 'alert-channels' });
  const channelsError = h('p', { class: 'field-error', id: 'alert-f-channels-error', hidden: true });
  const channels = [];
  const addButton = h('button', { class: 'btn', type: 'button', text: 'Add a channel', onClick: () => { addChannel(null); channels.at(-1).url.input.focus(); } });

  function renumber() {
    channels.forEach((c, i) => {
      setText(c.legend, `Channel ${i + 1}`);
      c.remove.setAttribute('aria-label', `Remove channel ${i + 1}`);
      c.remove.hidden = channels.length === 1;
    });
    addButton.disabled = channels.length >= CHANNELS_MAX;
  }

  function addChannel(ch) {
    const key = ++channelSeq;
    const url = field(`alert-f-url-${key}`, 'Webhook URL', textInput({ type: 'url', value: ch?.url || '', maxlength: '2048',
      placeholder: 'https://hooks.example.com/…', class: 'alert-url' }));
    const secret = field(`alert-f-secret-${key}`, 'Secret (optional)', h('input', { type: 'password', autocomplete: 'new-password',
      maxlength: '512', placeholder: ch?.has_secret ? 'Kept: type a new one to replace it' : 'Signs each delivery (HMAC-SHA256)' }),
    ch?.has_secret ? 'This channel is signed; its secret is never shown. Left empty, it is kept while the URL stays the same.' : null);
    const legend = h('legend', { class: 'field-label' });
    const remove = h('button', { class: 'btn btn-danger', type: 'button', text: 'Remove' });
    const c = { url, secret, legend, remove, original: ch };
    c.el = h('fieldset', { class: 'alert-channel' }, legend, url.wrap, secret.wrap, h('div', { class: 'alert-channel-actions' }, remove));
    remove.addEventListener('click', () => {
      const i = channels.indexOf(c);
      channels.splice(i, 1);
      c.el.remove();
      renumber();
      (channels[i] || channels[i - 1]).url.input.focus();
    });
    channels.push(c);
    channelRows.appendChild(c.el);
    renumber();
  }
  for (const ch of rule?.channels?.length ? rule.channels : [null]) addChannel(ch);

  function showKind() {
    const k = kindOf(fields.kind.input.value);
    for (const name of ['node_name', 'error_contains', 'metric', 'threshold', 'window_minutes', 'min_runs']) {
      fields[name].wrap.hidden = !k.fields.includes(name);
    }
    setText(fields.threshold.label, thresholdLabel(k.kind, fields.metric.input.value));
    setText(fields.kind.help, k.fires);
  }
  fields.kind.input.addEventListener('change', showKind);
  fields.metric.input.addEventListener('change', showKind);
  showKind();

  function clearErrors() {
    for (const f of [...Object.values(fields), ...channels.flatMap((c) => [c.url, c.secret])]) {
      f.error.hidden = true;
      clear(f.error);
      f.input.removeAttribute('aria-invalid');
    }
    channelsError.hidden = true;
    clear(channelsError);
    status.className = 'manage-status';
    clear(status);
  }

  /** The field an error's path names, or null: "threshold", "channels[1].url", "channels[0]". */
  function fieldOf(path) {
    if (!path) return null;
    if (fields[path] && !fields[path].wrap.hidden) return fields[path];
    const m = /^channels\[(\d+)\](?:\.(url|secret))?$/.exec(path);
    if (m && channels[Number(m[1])]) return channels[Number(m[1])][m[2] || 'url'];
    return null;
  }

  function showError(err) {
    const f = err && err.status === 422 ? fieldOf(err.path) : null;
    status.className = 'manage-status status-fail';
    if (f) {
      setText(f.error, err.message);
      f.error.hidden = false;
      f.input.setAttribute('aria-invalid', 'true');
      setText(status, `Not saved: ${f.label.textContent}: ${err.message}`);
      f.input.focus();
    } else if (err && err.status === 422 && err.path === 'channels') {
      setText(channelsError, err.message);
      channelsError.hidden = false;
      setText(status, `Not saved: ${err.message}`);
      addButton.focus();
    } else {
      setText(status, `Not saved: ${refusal(err)}`);
    }
  }

  /** Exactly what the API takes for the kind chosen. */
  function body() {
    const kind = fields.kind.input.value;
    const b = { name: fields.name.input.value.trim(), kind };
    if (fields.workflow_id.input.value) b.workflow_id = fields.workflow_id.input.value;
    for (const name of [...kindOf(kind).fields, 'cooldown_minutes']) {
      const v = fields[name].input.value.trim();
      if (v === '') continue;
      const n = Number(v);
      b[name] = NUMBERS.has(name) && Number.isFinite(n) ? n : v;
    }
    b.channels = channels.map((c) => {
      const ch = { url: c.url.input.value.trim() };
      if (c.secret.input.value) ch.secret = c.secret.input.value;
      return ch;
    });
    return b;
  }

  const submit = h('button', { class: 'btn btn-primary', type: 'submit', text: editing ? 'Save rule' : 'Create rule' });
  const cancel = h('button', { class: 'btn', type: 'button', text: 'Cancel', onClick: onCancel });
  const form = h('form', { class: 'alert-form', novalidate: true, 'aria-labelledby': 'alert-form-title',
    onSubmit: async (e) => {
      e.preventDefault();
      clearErrors();
      submit.disabled = true;
      try {
        const saved = await api(editing ? `/alert-rules/${encodeURIComponent(rule.id)}` : base,
          { method: editing ? 'PUT' : 'POST', body: body() });
        onSaved(saved);
      } catch (err) {
        showError(err);
      } finally { submit.disabled = false; }
    } },
  h('div', { class: 'alert-grid' }, fields.name.wrap, fields.kind.wrap, fields.workflow_id.wrap),
  h('div', { class: 'alert-grid' }, fields.metric.wrap, fields.threshold.wrap, fields.window_minutes.wrap,
    fields.min_runs.wrap, fields.node_name.wrap, fields.error_contains.wrap, fields.cooldown_minutes.wrap),
  h('div', { class: 'alert-channels-wrap', role: 'group', 'aria-labelledby': 'alert-f-channels-title' },
    h('h3', { class: 'field-label', id: 'alert-f-channels-title', text: 'Webhook channels' }),
    h('p', { class: 'field-help', text: 'Each alert is POSTed as JSON to every channel (Slack-compatible incoming webhooks work as they are).' }),
    channelRows, channelsError, h('div', null, addButton)),
  status,
  h('div', { class: 'row-actions' }, submit, cancel));

  const el = h('section', { class: 'card manage-section alert-form-card', 'aria-labelledby': 'alert-form-title' },
    h('h2', { class: 'section-title', id: 'alert-form-title' },
      editing ? ['Edit the rule ', userText(rule.name)] : 'New alert rule'),
    form);
  return { el, focus: () => fields.name.input.focus() };
}
