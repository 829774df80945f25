// Small helpers shared by the viewer's modules: DOM building (text only,
// never HTML from data), text that cannot hide characters, number, money and
// time formatting, JSON previews, the duration and token usage of a node
// execution.

// ------------------------------------------------------------- text people can trust
//
// Names, messages and payloads come from clients. Characters that change how
// the text around them reads without being seen themselves (Unicode format
// characters, category Cf: the bidi overrides, embeddings and isolates
// U+202A-202E and U+2066-2069, marks U+200E/U+200F/U+061C, zero-width
// U+200B-200D, U+2060, U+FEFF, tag characters; and the control characters
// other than tab and line breaks) would let "\u202Egnp.exe" pass for
// "exe.png". Every text this module puts in the page shows them as their
// escape, "\u202E", in a style of its own (.hidden-char); userText() also
// isolates the text (<bdi>), so even visible right-to-left letters cannot
// reorder what stands around it.

const HIDDEN_CHAR = /[\p{Cf}\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/u;
const HIDDEN_CHARS = new RegExp(HIDDEN_CHAR.source, 'gu');
// A zero-width joiner inside an emoji sequence (👩‍💻) shows as one picture:
// it hides nothing, so it stays.
const EMOJI_BEFORE = /[\p{Extended_Pictographic}\p{Emoji_Modifier}\uFE0F]$/u;
const EMOJI_AFTER = /^\p{Extended_Pictographic}/u;

/** "\u202E" for U+202E, "\u{E0041}" beyond the BMP. */
export function charEscape(ch) {
  const cp = ch.codePointAt(0);
  const hex = cp.toString(16).toUpperCase();
  return cp > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, '0')}`;
}

/** The pieces of s: [text, hidden character, text, ...] (odd indices hidden). */
function splitHidden(s) {
  const parts = [];
  let last = 0;
  for (const m of s.matchAll(HIDDEN_CHARS)) {
    const i = m.index;
    if (m[0] === '\u200D' && EMOJI_BEFORE.test(s.slice(Math.max(0, i - 2), i)) && EMOJI_AFTER.test(s.slice(i + 1, i + 3))) continue;
    parts.push(s.slice(last, i), m[0]);
    last = i + m[0].length;
  }
  parts.push(s.slice(last));
  return parts;
}

/**
 * s as plain text with every hidden character written as its escape: for
 * what cannot hold markup (attributes such as title, <option> labels, the
 * graph's canvas labels, the document title).
 */
export function visibleText(s) {
  s = String(s ?? '');
  if (!HIDDEN_CHAR.test(s)) return s;
  return splitHidden(s).map((p, i) => (i % 2 ? charEscape(p) : p)).join('');
}

/** Nodes for s: its text, each hidden character as a styled escape. */
function textNodes(s) {
  s = String(s);
  if (!HIDDEN_CHAR.test(s)) return document.createTextNode(s);
  const frag = document.createDocumentFragment();
  splitHidden(s).forEach((p, i) => {
    if (!(i % 2)) { if (p) frag.appendChild(document.createTextNode(p)); return; }
    const cp = p.codePointAt(0).toString(16).toUpperCase().padStart(4, '0');
    const mark = document.createElement('span');
    mark.className = 'hidden-char';
    mark.title = `U+${cp}, an invisible character, shown as its code`;
    mark.textContent = charEscape(p);
    frag.appendChild(mark);
  });
  return frag;
}

/**
 * A client's text for the page (node and workflow names, errors, event
 * types, attribute and state values, ...): <bdi class="user-text"> isolated
 * from what surrounds it, hidden characters shown as escapes. props as h()'s.
 */
export function userText(s, props) {
  return h('bdi', { ...props, class: `user-text${props && props.class ? ` ${props.class}` : ''}` }, String(s ?? ''));
}

// Attributes whose value people see (tooltips) or hear (screen readers).
const SHOWN_ATTRS = new Set(['title', 'aria-label', 'placeholder', 'alt']);

/**
 * h(tag, props, ...children): a new element. props keys:
 *   class, text, id, href, title, type, value, ... as attributes;
 *   on<Event>: listener; dataset: {k: v}; style: {prop: value} (CSSOM, CSP-safe);
 *   hidden / disabled / checked / selected as booleans.
 * Children: nodes, strings (text nodes), arrays, null/false (skipped).
 * Text (text, string children) and the shown attributes (title,
 * aria-label, ...) have their hidden characters written as escapes;
 * value and dataset keep the data as it is.
 */
export function h(tag, props, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.setAttribute('class', v);
      else if (k === 'text') setText(el, v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'style') for (const [p, sv] of Object.entries(v)) el.style.setProperty(p, sv);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
      else if (k === 'value' && 'value' in el) el.value = v;
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, SHOWN_ATTRS.has(k) ? visibleText(v) : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(textNodes(c));
  }
  return el;
}

/** Replaces el's content with text s (hidden characters as escapes). */
export function setText(el, s) {
  clear(el).appendChild(textNodes(s ?? ''));
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** A duration for people: "0 ms", "12.3 ms", "1.24 s", "2 min 3 s", "1 h 2 min". */
export function fmtDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return '–';
  ms = Number(ms);
  const neg = ms < 0;
  if (neg) ms = -ms;
  let s;
  if (ms === 0) s = '0 ms';
  else if (ms < 1) s = `${trim(ms.toFixed(3))} ms`;
  else if (ms < 10) s = `${trim(ms.toFixed(2))} ms`;
  else if (ms < 1000) s = `${trim(ms.toFixed(ms < 100 ? 1 : 0))} ms`;
  else if (ms < 60000) s = `${trim((ms / 1000).toFixed(ms < 10000 ? 2 : 1))} s`;
  else if (ms < 3600000) {
    const m = Math.floor(ms / 60000);
    const sec = Math.round((ms - m * 60000) / 1000);
    s = sec ? `${m} min ${sec} s` : `${m} min`;
  } else {
    const hr = Math.floor(ms / 3600000);
    const m = Math.round((ms - hr * 3600000) / 60000);
    s = m ? `${hr} h ${m} min` : `${hr} h`;
  }
  return neg ? `−${s}` : s;
}

/** An exact figure in milliseconds, e.g. "1,234.5 ms" (up to 3 decimals). */
export function fmtMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(Number(ms))) return '–';
  return `${Number(ms).toLocaleString('en-US', { maximumFractionDigits: 3 })} ms`;
}

function trim(s) {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

function pad(n, w = 2) {
  return String(n).padStart(w, '0');
}

/** A token count: "950", "12,345", "1.2M" from ten million up. */
export function fmtTokens(n) {
  n = numOrNull(n);
  if (n === null) return '–';
  if (n >= 1e7) return `${trim((n / 1e6).toFixed(1))}M`;
  return n.toLocaleString('en-US');
}

/** US dollars: "$0", "$0.000315" (3 significant digits under a cent), "$0.0123", "$12.35". */
export function fmtUsd(v) {
  v = numOrNull(v);
  if (v === null) return '–';
  if (v === 0) return '$0';
  if (v < 0.01) return `$${trim(v.toFixed(Math.min(12, Math.ceil(-Math.log10(v)) + 2)))}`;
  if (v < 1) return `$${trim(v.toFixed(4))}`;
  return `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/**
 * An execution's usage ({input_tokens, output_tokens, cost_usd,
 * cost_complete}) for people, or null when it reported no tokens:
 * {tokens: "1,550", cost: "$0.0004" ("≥ $0.0004" when some node execution's
 * model had no price, "no price" when none had one), incomplete, title}.
 */
export function usageSummary(u) {
  if (!u) return null;
  const input = numOrNull(u.input_tokens) ?? 0;
  const output = numOrNull(u.output_tokens) ?? 0;
  if (input + output === 0) return null;
  const usd = numOrNull(u.cost_usd) ?? 0;
  const incomplete = u.cost_complete === false;
  let cost = fmtUsd(usd);
  if (incomplete) cost = usd > 0 ? `≥ ${cost}` : 'no price';
  const title = `${input.toLocaleString('en-US')} input tokens (cache included), ${output.toLocaleString('en-US')} output tokens; ` +
    (incomplete ? 'some node executions used a model with no price, so the cost shown leaves them out' : 'every node execution was priced');
  return { tokens: fmtTokens(input + output), cost, incomplete, title };
}

/**
 * A node execution's usage, or null when it reported no tokens:
 * {tokens: "1,200 in · 350 out" (· "1,024 cached"), model, cost ("no price"
 * when its model had none when it ran)}. model is the client's text: show it
 * with userText().
 */
export function nodeUsage(ne) {
  const input = numOrNull(ne.input_tokens);
  const output = numOrNull(ne.output_tokens);
  if (input === null && output === null) return null;
  const cached = numOrNull(ne.cache_read_tokens);
  const parts = [`${fmtTokens(input ?? 0)} in`, `${fmtTokens(output ?? 0)} out`];
  if (cached) parts.push(`${fmtTokens(cached)} cached`);
  const model = ne.model ? (ne.provider ? `${ne.model} (${ne.provider})` : String(ne.model)) : null;
  const cost = numOrNull(ne.cost_usd);
  return { tokens: parts.join(' · '), model, cost: cost === null ? 'no price' : fmtUsd(cost), priced: cost !== null };
}

/** Local date and time with milliseconds: "2024-11-26 13:00:00.123". */
export function fmtTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** "just now", "5 min ago", "3 h ago", "2 d ago", or the date. */
export function fmtRelative(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '–';
  const s = Math.round((now - t) / 1000);
  if (s < 0) return fmtTime(iso);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.max(1, Math.round(s / 60))} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 86400 * 30) return `${Math.round(s / 86400)} d ago`;
  return fmtTime(iso).slice(0, 10);
}

export function shortId(id) {
  return id ? String(id).slice(0, 8) : '–';
}

/**
 * For a field the retention job trimmed (its marker {"_trimmed": true,
 * "bytes": N}, README "Retention"): "trimmed by retention (N bytes)";
 * otherwise ''.
 */
export function trimmedNote(v) {
  if (!v || typeof v !== 'object' || Array.isArray(v) || v._trimmed !== true) return '';
  const n = Number(v.bytes);
  return Number.isFinite(n) && n >= 0 ? `trimmed by retention (${n.toLocaleString('en-US')} bytes)` : 'trimmed by retention';
}

/** An error as a detail pane prints it: a string as sent, a trimmed one as its message and the note, else JSON. */
export function errorDetail(err) {
  if (typeof err === 'string') return err;
  const note = trimmedNote(err);
  if (note) return typeof err.message === 'string' ? `${err.message}\n(${note})` : `(${note})`;
  return jsonPretty(err);
}

/** The readable text of an error that may be a string, an object or null. */
export function errorText(err) {
  if (err === null || err === undefined || err === '') return '';
  if (typeof err === 'string') return err;
  if (typeof err === 'object') {
    const msg = err.message ?? err.error ?? err.msg;
    const type = err.type ?? err.name ?? err.code;
    if (trimmedNote(err)) return typeof msg === 'string' ? `${msg} (trimmed)` : '(trimmed)';
    if (typeof msg === 'string') return type && typeof type === 'string' ? `${type}: ${msg}` : msg;
    try { return JSON.stringify(err); } catch { return String(err); }
  }
  return String(err);
}

/** One-line JSON, cut to max characters. */
export function jsonPreview(v, max = 120) {
  let s;
  try { s = JSON.stringify(v); } catch { s = String(v); }
  if (s === undefined) s = 'undefined';
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export function jsonPretty(v) {
  try { return JSON.stringify(v, null, 2); } catch { return String(v); }
}

export function plural(n, one, many = `${one}s`) {
  return `${Number(n).toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

export const STATUS_LABEL = {
  success: 'Success', error: 'Error', running: 'Running', cancelled: 'Cancelled',
  skipped: 'Skipped', ok: 'OK', unset: 'Unset',
};

/** A status pill. */
export function statusBadge(status, extra = '') {
  const s = String(status || 'unknown');
  return h('span', { class: `badge status-${s.replace(/[^a-z]/g, '')} ${extra}`.trim(), dataset: { status: s } },
    h('span', { class: 'dot', 'aria-hidden': 'true' }), STATUS_LABEL[s] || s);
}

/** The mark of a run still said to be running that nothing has come from for long (stale: true). */
export function staleBadge() {
  return h('span', {
    class: 'badge badge-stale', dataset: { stale: 'true' }, text: 'stale',
    title: 'Still marked running, but nothing has arrived from this run for a long time: it may have stopped without saying so.',
  });
}

/** Milliseconds between two RFC 3339 timestamps, or null. */
export function msBetween(a, b) {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (Number.isNaN(ta) || Number.isNaN(tb)) return null;
  return tb - ta;
}

/** v as a finite number, or null (null, undefined, '' and what does not parse). */
export function numOrNull(v) {
  if (v === null || v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * How long one node execution took: the one rule of every view (the Gantt's
 * bars, labels, tooltip and details; the graph's Time column).
 *   prep, exec, post: the phases (missing or negative: 0);
 *   dur:  the recorded duration: duration_ms (the timeline's completed_at
 *         minus started_at), else from the timestamps, else null;
 *   span: the bar's length: the longer of dur and the phases' sum;
 *   ms:   the duration shown: dur when recorded, else the phases' sum (a
 *         node execution sent without completed_at).
 */
export function nodeTiming(ne) {
  const prep = Math.max(0, numOrNull(ne.prep_duration_ms) ?? 0);
  const exec = Math.max(0, numOrNull(ne.exec_duration_ms) ?? 0);
  const post = Math.max(0, numOrNull(ne.post_duration_ms) ?? 0);
  let dur = numOrNull(ne.duration_ms);
  if (dur === null) {
    const a = parseTimeMs(ne.started_at);
    const b = parseTimeMs(ne.completed_at);
    dur = Number.isFinite(a) && Number.isFinite(b) ? b - a : null;
  }
  const span = Math.max(dur ?? 0, prep + exec + post);
  return { prep, exec, post, dur, span, ms: dur ?? span };
}

/** Microsecond-aware parse: RFC 3339 with up to 6 fraction digits -> ms (float). */
export function parseTimeMs(iso) {
  if (!iso) return NaN;
  const base = Date.parse(iso);
  if (Number.isNaN(base)) return NaN;
  const m = /\.(\d+)/.exec(String(iso));
  if (!m || m[1].length <= 3) return base;
  const frac = Number(`0.${m[1]}`) * 1000;
  return Math.floor(base) - (base % 1000 + 1000) % 1000 + frac;
}

/** A stable hue for a string (event types, span kinds). */
export function hueOf(s) {
  let x = 0;
  for (let i = 0; i < s.length; i++) x = (x * 31 + s.charCodeAt(i)) >>> 0;
  return x % 360;
}

export function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

/** Copies text to the clipboard; true when it worked. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Long lists a page at a time: appends rowsOf(item) (a node or an array of
 * nodes) to parent for the first `page` items, and for the next page each
 * time the button is clicked. Returns {el, add(more)}: el is the button's
 * wrapper (.show-more, hidden once every item is shown), to place after the
 * list; add(more) puts items at the end (a live run's new ones): shown at
 * once when every item before them is, else counted on the button. noun
 * names what the button adds: "Show 300 more nodes (700 left)".
 */
export function pagedRows(parent, items, rowsOf, { page, noun = 'more' }) {
  let shown = 0;
  const firsts = []; // each shown item's first row, to insert before it
  const more = h('button', { class: 'btn', type: 'button' });
  const wrap = h('div', { class: 'show-more' }, more);
  const rowsFor = (frag, item) => {
    const before = frag.childNodes.length;
    append(frag, [rowsOf(item)]);
    return frag.childNodes[before];
  };
  const label = () => {
    wrap.hidden = shown >= items.length;
    const left = items.length - shown;
    more.textContent = `Show ${Math.min(page, left).toLocaleString('en-US')} ${noun} (${left.toLocaleString('en-US')} left)`;
  };
  const showUpTo = (end) => {
    const frag = document.createDocumentFragment();
    for (let i = shown; i < end; i++) firsts[i] = rowsFor(frag, items[i]);
    parent.appendChild(frag);
    shown = end;
    label();
  };
  more.addEventListener('click', () => showUpTo(Math.min(items.length, shown + page)));
  showUpTo(Math.min(items.length, page));
  return {
    el: wrap,
    add(moreItems) {
      const all = shown >= items.length;
      items.push(...moreItems);
      showUpTo(all ? items.length : shown);
    },
    /** item at index i of the list: its rows go in place among the shown ones (the rest stay as they are). */
    insert(i, item) {
      const all = shown >= items.length;
      if (i >= shown) {
        items.splice(i, 0, item);
        if (all) showUpTo(items.length); else label();
        return;
      }
      const frag = document.createDocumentFragment();
      const first = rowsFor(frag, item);
      parent.insertBefore(frag, firsts[i]);
      items.splice(i, 0, item);
      firsts.splice(i, 0, first);
      shown++;
      label();
    },
  };
}

/** Loading, empty and error placeholders. */
export function loadingState(label = 'Loading…') {
  return h('div', { class: 'state state-loading', role: 'status', 'aria-live': 'polite' },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', { text: label }));
}

export function emptyState(title, detail, ...actions) {
  return h('div', { class: 'state state-empty', role: 'status' },
    h('p', { class: 'state-title', text: title }),
    detail ? h('p', { class: 'state-detail', text: detail }) : null,
    actions.length ? h('div', { class: 'state-actions' }, actions) : null);
}

export function errorState(err, retry) {
  const msg = err && err.message ? err.message : String(err);
  const bits = [];
  if (err && err.status) bits.push(`HTTP ${err.status}`);
  if (err && err.code) bits.push(err.code);
  if (err && err.requestId) bits.push(`request ${err.requestId}`);
  return h('div', { class: 'state state-error', role: 'alert' },
    h('p', { class: 'state-title', text: 'Could not load this' }),
    h('p', { class: 'state-detail', text: msg }),
    bits.length ? h('p', { class: 'state-meta', text: bits.join(' · ') }) : null,
    retry ? h('div', { class: 'state-actions' },
      h('button', { class: 'btn', type: 'button', onClick: retry, text: 'Try again' })) : null);
}

/**
 * Work that must not overlap (a panel's load and its live refreshes): run(fn)
 * queues fn after what is queued; again(fn) too, but while one such call
 * still waits, another is the same one (ten messages in a burst make one
 * refresh, not ten). Failures are the callers' to show: the queue goes on.
 */
export function taskQueue() {
  let chain = Promise.resolve();
  let waiting = null;
  const run = (fn) => {
    chain = chain.then(fn).catch(() => {});
    return chain;
  };
  return {
    run,
    again(fn) {
      if (!waiting) waiting = run(() => { waiting = null; return fn(); });
      return waiting;
    },
  };
}
