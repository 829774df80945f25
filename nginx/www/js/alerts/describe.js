// Alert rules in words (README "Alerts"): each kind's label and the
// fields it takes, a rule's conditions, a channel's host, a rule's state
// (active, muted, snoozed until ...) and when it last fired.
import { fmtTime, fmtRelative, fmtTokens, fmtUsd } from '../util.js';

export const KINDS = [
  { kind: 'execution_failed', label: 'Run failed', fields: ['node_name', 'error_contains'],
    fires: 'Fires when a run ends in error.' },
  { kind: 'duration_above', label: 'Run slower than', fields: ['threshold'],
    fires: 'Fires when a run ends after the threshold.' },
  { kind: 'node_failure_rate', label: 'Node failure rate', fields: ['node_name', 'threshold', 'window_minutes', 'min_runs'],
    fires: 'Fires when a node fails in more than the threshold\'s share of its runs in a window.' },
  { kind: 'stale_run', label: 'Stale run', fields: ['window_minutes'],
    fires: 'Fires when a run is still running with no telemetry for the window.' },
  { kind: 'usage_above', label: 'Tokens or cost', fields: ['metric', 'threshold', 'window_minutes'],
    fires: 'Fires when the tokens or cost of the runs started in a window pass the threshold.' },
];

export function kindOf(kind) {
  return KINDS.find((k) => k.kind === kind) || { kind, label: kind, fields: [], fires: '' };
}

/** The threshold's label for a kind (and a usage rule's metric). */
export function thresholdLabel(kind, metric) {
  if (kind === 'duration_above') return 'Longer than (ms)';
  if (kind === 'node_failure_rate') return 'Failure rate above (%)';
  return metric === 'cost_usd' ? 'Cost above (USD)' : 'Tokens above';
}

const num = (v) => Number(v).toLocaleString('en-US', { maximumFractionDigits: 6 });

/** What a rule watches, as short phrases: ["over 1,000 ms", "workflow checkout", ...]. */
export function conditions(r, workflowName) {
  const out = [];
  if (r.kind === 'duration_above') out.push(`over ${num(r.threshold)} ms`);
  if (r.kind === 'node_failure_rate') {
    out.push(`over ${num(r.threshold)}% of runs in ${r.window_minutes} min`);
    if (r.min_runs) out.push(`at least ${num(r.min_runs)} runs`);
  }
  if (r.kind === 'stale_run') out.push(`no telemetry for ${r.window_minutes} min`);
  if (r.kind === 'usage_above') {
    out.push(`${r.metric === 'cost_usd' ? fmtUsd(r.threshold) : `${fmtTokens(r.threshold)} tokens`} in ${r.window_minutes} min`);
  }
  if (r.workflow_id) out.push(`workflow ${workflowName(r.workflow_id)}`);
  if (r.node_name) out.push(`node ${r.node_name}`);
  if (r.error_contains) out.push(`error contains "${r.error_contains}"`);
  if (r.kind === 'execution_failed' && !r.workflow_id && !r.node_name && !r.error_contains) out.push('any failed run');
  out.push(r.cooldown_minutes ? `cooldown ${r.cooldown_minutes} min` : 'no cooldown');
  return out;
}

/** A webhook URL's host (its path is often a credential: not shown). */
export function urlHost(url) {
  try { return new URL(url).host || url; } catch { return '(not a URL)'; }
}

/** A date and time to the minute: "2026-12-05 03:12". */
export function fmtMinute(iso) {
  return iso ? fmtTime(iso).slice(0, 16) : '–';
}

/** {key: active|muted|snoozed, text}. */
export function ruleState(r, now = Date.now()) {
  const snoozed = r.snoozed_until && Date.parse(r.snoozed_until) > now;
  const until = snoozed ? `snoozed until ${fmtMinute(r.snoozed_until)}` : '';
  if (r.muted) return { key: 'muted', text: snoozed ? `muted; ${until}` : 'muted', snoozed };
  if (snoozed) return { key: 'snoozed', text: until, snoozed };
  return { key: 'active', text: 'active', snoozed: false };
}

/** When the rule last fired, from its deliveries (newest first): {text, title}. */
export function lastFired(deliveries) {
  if (!deliveries) return { text: '…', title: null };
  const real = deliveries.find((d) => !d.test);
  if (real) return { text: fmtRelative(real.created_at), title: fmtTime(real.created_at) };
  const test = deliveries.find((d) => d.test);
  if (test) return { text: `never (test ${fmtRelative(test.created_at)})`, title: fmtTime(test.created_at) };
  return { text: 'never', title: null };
}

/** What the server says to a refused write, for people. */
export function refusal(err) {
  if (err && err.status === 403) {
    return 'Only owners and admins of this organization change alert rules; your role can only read them. ' +
      `(The server answered 403: ${err.message})`;
  }
  return err && err.message ? err.message : String(err);
}
