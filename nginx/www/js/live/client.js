// One live subscription (docs/LIVE.md): a ticket from POST /api/live/tickets
// with the viewer's token (through api.js, so the token never goes into a
// URL), then an EventSource on the ticket's path. The stream is nginx's; a
// ticket opens one subscription only, so every reconnect asks for a new one.
//
// Rows: a project channel sends the updates of a short window as one
// {"type": "rows", "columns": [...], "rows": [[...], ...]} (docs/LIVE.md
// section 3); rules.js decodes each row into the message it stands for,
// which goes through the same path as a message alone, in its order.
//
// Order and gaps: every message of an execution carries seq. The client
// keeps the last seq applied per execution: a duplicate is dropped, a gap
// makes it ask the page to reload that execution through the API. After
// every (re)connect the page reloads what it shows (onResync(null)): a
// fresh subscription cannot know what it missed, a replay may be refused
// (409 resync_required, which an EventSource cannot read), and a reconnect
// may reach another host whose message ids differ. Messages that arrive
// while a reload runs wait for it, then go through the seq check, so a
// reload's older copy never overwrites a newer message.
import { api, ApiError } from '../api.js';
import { seqVerdict, backoffMs, unbatch } from './rules.js';

// A subscription that stayed open this long ended normally (nginx closes
// each after AGORA_LIVE_SUBSCRIPTION_SECONDS): reconnect at once, quietly.
const HEALTHY_MS = 5000;
// How long a quiet reconnect may take before the page shows Reconnecting.
const GRACE_MS = 1500;

/**
 * openLive({target, onMessage(msg), onResync(executionId|null) -> Promise, onState(state)})
 * target: {execution_id} or {project_id}, the ticket's body.
 * onMessage gets each message to apply, in seq order per execution; when
 * it returns a promise (it reloads something), later messages wait for it.
 * onResync(id) reloads one execution (a gap), onResync(null) all it shows
 * (after a connect).
 * onState(state): 'connecting', 'live', 'reconnecting', 'unavailable'
 * (the server has no live route or refused this target), 'closed'.
 * -> {close(), state()}
 */
export function openLive({ target, onMessage, onResync, onState }) {
  const lastSeq = new Map();  // execution id -> last seq applied
  let es = null;
  let state = '';
  let closed = false;
  let failures = 0;           // connects in a row that did not open (or broke at once)
  let lastEventId = '';       // the last SSE id seen: where a replay resumes
  let resumeWithId = false;   // whether the next subscribe asks for a replay
  let timer = 0;
  let graceTimer = 0;
  let openedAt = 0;
  let resyncing = 0;
  let held = [];              // messages that arrived during a reload

  function setState(s) {
    clearTimeout(graceTimer);
    graceTimer = 0;
    if (s === state) return;
    state = s;
    if (onState) onState(s);
  }

  async function connect() {
    timer = 0;
    if (closed) return;
    let ticket;
    try {
      ticket = await api('/live/tickets', { method: 'POST', body: target });
    } catch (e) {
      if (closed) return;
      // 404: the target is not readable (or the server has no live
      // route); 401: the token is gone (api.js signs out); 4xx else: the
      // request is wrong. None of them gets better by asking again.
      if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429) {
        setState('unavailable');
        return;
      }
      retry();
      return;
    }
    if (closed) return;
    let url = String(ticket.path || '');
    if (!url.startsWith('/live/')) { setState('unavailable'); return; }
    if (resumeWithId && lastEventId) url += `${url.includes('?') ? '&' : '?'}last_event_id=${encodeURIComponent(lastEventId)}`;
    const source = new EventSource(url);
    es = source;
    source.onopen = () => {
      if (es !== source) return;
      openedAt = Date.now();
      setState('live');
      resync(null);
    };
    source.onmessage = (ev) => {
      if (es !== source) return;
      if (ev.lastEventId) lastEventId = ev.lastEventId;
      failures = 0; // the stream works: a break after this starts the backoff anew
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      for (const m of unbatch(msg)) receive(m);
    };
    source.onerror = () => {
      if (es !== source) return;
      // EventSource would retry by itself with the same URL, whose ticket
      // is spent: close it and subscribe again with a new ticket.
      source.close();
      es = null;
      const opened = openedAt > 0;
      const lasted = opened ? Date.now() - openedAt : 0;
      openedAt = 0;
      // Resume after the last id seen when this subscription opened; one
      // that never opened may have been a refused replay (409
      // resync_required: too old), which fails the same way every time: the
      // next subscribe goes without an id, and the reload after it brings
      // the page up to date.
      resumeWithId = opened;
      if (lasted >= HEALTHY_MS) {
        failures = 0;
        graceTimer = setTimeout(() => setState('reconnecting'), GRACE_MS);
        connect();
        return;
      }
      retry();
    };
  }

  function retry() {
    if (closed) return;
    setState('reconnecting');
    const wait = backoffMs(failures);
    failures += 1;
    clearTimeout(timer);
    timer = setTimeout(connect, wait);
  }

  function receive(msg) {
    if (resyncing) { held.push(msg); return; }
    const id = msg.execution && msg.execution.id;
    const seq = Number(msg.seq);
    if (!id || !Number.isInteger(seq)) return;
    const verdict = seqVerdict(lastSeq.get(id), seq);
    if (verdict === 'duplicate') return;
    if (verdict === 'gap') {
      resync(id, seq);
      return;
    }
    lastSeq.set(id, seq);
    const done = onMessage(msg);
    if (done && typeof done.then === 'function') hold(done);
  }

  /** Reloads through the API (one execution, or all: id null); holds messages meanwhile. */
  function resync(id, seq) {
    hold(Promise.resolve().then(() => onResync(id)).then(() => {
      // The reload ran after the message with seq was committed: it holds it.
      if (id && seq !== undefined) lastSeq.set(id, seq);
    }));
  }

  /** Messages wait until work (a reload) is done, then go on in order. */
  async function hold(work) {
    resyncing += 1;
    try {
      await work;
    } catch {
      // Not reloaded: a gap shows again at the next message of it.
    } finally {
      resyncing -= 1;
      if (!resyncing && !closed) {
        const queue = held;
        held = [];
        for (const m of queue) receive(m);
      }
    }
  }

  setState('connecting');
  connect();

  return {
    state: () => state,
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      if (es) es.close();
      es = null;
      held = [];
      setState('closed');
    },
  };
}
