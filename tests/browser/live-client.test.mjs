// The live client (nginx/www/js/live/client.js) under node, with the
// browser's parts it uses played by fakes: fetch answers the ticket route,
// EventSource is a stand-in the test opens, feeds and breaks. What a real
// stack cannot be made to do on demand is checked here: a gap in seq, a
// duplicate, a subscription that never opens (a refused replay), the
// backoff, and the quiet reconnect when a subscription ends after its time.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

const sources = [];  // every EventSource the client made, in order
const tickets = [];  // every ticket request: {url, body, auth}
let ticketStatus = 201;

class FakeEventSource {
  constructor(url) {
    this.url = url;
    this.closed = false;
    sources.push(this);
  }

  close() { this.closed = true; }

  /** A message as nginx sends it: an SSE id and one JSON object. */
  send(obj, id) {
    this.onmessage({ data: JSON.stringify(obj), lastEventId: id || '' });
  }
}

globalThis.EventSource = FakeEventSource;
globalThis.sessionStorage = { getItem: () => 'token-1', setItem() {}, removeItem() {} };
globalThis.fetch = async (url, opts) => {
  tickets.push({ url, body: JSON.parse(opts.body), auth: opts.headers.Authorization });
  if (ticketStatus !== 201) {
    return new Response(JSON.stringify({ error: { code: 'not_found', message: 'no such execution' } }), { status: ticketStatus });
  }
  const n = tickets.length;
  return new Response(JSON.stringify({ ticket: `t${n}`, path: `/live/executions/E?ticket=t${n}` }), { status: 201 });
};

const { openLive } = await import('../../nginx/www/js/live/client.js');

const tick = () => new Promise((r) => setTimeout(r, 0));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const msg = (seq, id = 'E') => ({ type: 'execution', seq, execution: { id, status: 'running' } });

/** A client on execution E, recording what it hands the page. */
function client() {
  const got = { messages: [], resyncs: [], states: [] };
  got.live = openLive({
    target: { execution_id: 'E' },
    onMessage: (m) => { got.messages.push(m.seq); },
    onResync: async (id) => { got.resyncs.push(id); },
    onState: (s) => got.states.push(s),
  });
  return got;
}

async function until(cond, what) {
  for (let i = 0; i < 400 && !cond(); i++) await sleep(10);
  assert.ok(cond(), what);
}

beforeEach(() => {
  sources.length = 0;
  tickets.length = 0;
  ticketStatus = 201;
});

test('a ticket with the token, then the ticket path; each connect reloads; seq: duplicates dropped, a gap reloads', async () => {
  const c = client();
  await until(() => sources.length === 1, 'subscribed');
  assert.equal(tickets[0].url, '/api/live/tickets');
  assert.deepEqual(tickets[0].body, { execution_id: 'E' });
  assert.equal(tickets[0].auth, 'Bearer token-1');
  assert.equal(sources[0].url, '/live/executions/E?ticket=t1', 'no token in the URL');
  sources[0].onopen();
  await tick();
  assert.deepEqual(c.resyncs, [null], 'what is shown is reloaded after the connect');
  assert.equal(c.states.at(-1), 'live');
  const es = sources[0];
  es.send(msg(1), '1:0');
  es.send(msg(2), '2:0');
  es.send(msg(2), '2:0');
  es.send(msg(1), '1:0');
  assert.deepEqual(c.messages, [1, 2], 'duplicates are dropped');
  es.send(msg(5), '5:0');
  await tick();
  assert.deepEqual(c.resyncs, [null, 'E'], 'a gap reloads that execution');
  assert.deepEqual(c.messages, [1, 2], 'the message after the gap is in the reload');
  es.send(msg(6), '6:0');
  es.send(msg(5), '5:0');
  assert.deepEqual(c.messages, [1, 2, 6]);
  // another execution (a project channel) has its own seq
  es.send(msg(9, 'F'));
  assert.deepEqual(c.messages, [1, 2, 6, 9]);
  c.live.close();
  assert.ok(es.closed);
  assert.equal(c.states.at(-1), 'closed');
});

/** A project channel's frame: the messages as rows under their column names. */
const rows = (...msgs) => ({
  type: 'rows',
  columns: ['seq', 'execution.id', 'execution.status'],
  rows: msgs.map((m) => [m.seq, m.execution.id, m.execution.status]),
});

test('a project channel\'s rows apply in order, each through the same seq checks', async () => {
  const c = client();
  await until(() => sources.length === 1, 'subscribed');
  sources[0].onopen();
  await tick();
  const es = sources[0];
  es.send(rows(msg(1)), '1:0');
  // E's 2 and 3, F's first, a duplicate of E's 2: one frame, one id
  es.send(rows(msg(2), msg(3), msg(4, 'F'), msg(2)), '2:0');
  assert.deepEqual(c.messages, [1, 2, 3, 4], 'each row applied once, in order');
  // a gap inside a frame reloads that execution; what follows it waits for the reload
  es.send(rows(msg(6), msg(5, 'F'), msg(7)), '3:0');
  await until(() => c.resyncs.length === 2, 'the gap reloaded E');
  assert.deepEqual(c.resyncs, [null, 'E']);
  await until(() => c.messages.length === 6, 'the rest applied after the reload');
  assert.deepEqual(c.messages, [1, 2, 3, 4, 5, 7], "F's next applies; E's 6 is in the reload, 7 follows it");
  // an older batch (a replay after an upgrade) still applies
  es.send({ type: 'batch', messages: [msg(8), msg(6, 'F')] }, '4:0');
  assert.deepEqual(c.messages, [1, 2, 3, 4, 5, 7, 8, 6]);
  // the frame's id is where a reconnect resumes
  es.onerror();
  await until(() => sources.length === 2, 'subscribed again');
  assert.equal(sources[1].url, '/live/executions/E?ticket=t2&last_event_id=4%3A0');
  c.live.close();
});

test('messages that come during a reload wait for it, then apply in order', async () => {
  let finish;
  const order = [];
  const live = openLive({
    target: { execution_id: 'E' },
    onMessage: (m) => { order.push(`msg ${m.seq}`); },
    onResync: () => new Promise((r) => { finish = () => { order.push('reloaded'); r(); }; }),
    onState: () => {},
  });
  await until(() => sources.length === 1, 'subscribed');
  sources[0].onopen();
  sources[0].send(msg(1));
  sources[0].send(msg(2));
  await tick();
  assert.deepEqual(order, []);
  finish();
  await until(() => order.length === 3, 'applied after the reload');
  assert.deepEqual(order, ['reloaded', 'msg 1', 'msg 2']);
  live.close();
});

test('a broken subscription: Reconnecting, a new ticket after the backoff, resumed after the last id seen', async () => {
  const c = client();
  await until(() => sources.length === 1, 'subscribed');
  sources[0].onopen();
  sources[0].send(msg(1), '100:0');
  sources[0].onerror();
  assert.ok(sources[0].closed, 'the spent subscription is closed, not retried by EventSource');
  assert.equal(c.states.at(-1), 'reconnecting');
  await sleep(500);
  assert.equal(sources.length, 1, 'the first retry waits 1 s');
  await until(() => sources.length === 2, 'subscribed again');
  assert.equal(tickets.length, 2, 'with a new ticket');
  assert.equal(sources[1].url, '/live/executions/E?ticket=t2&last_event_id=100%3A0');
  // it never opens (a replay nginx refuses, 409): the next one asks for none, 2 s later
  sources[1].onerror();
  await sleep(1500);
  assert.equal(sources.length, 2, 'the second retry waits 2 s');
  await until(() => sources.length === 3, 'subscribed a third time');
  assert.equal(sources[2].url, '/live/executions/E?ticket=t3');
  sources[2].onopen();
  await tick();
  assert.equal(c.states.at(-1), 'live');
  assert.deepEqual(c.resyncs, [null, null], 'reloaded after each connect');
  c.live.close();
});

test('a subscription that ends after its time is renewed at once, still Live', async () => {
  const c = client();
  await until(() => sources.length === 1, 'subscribed');
  sources[0].onopen();
  sources[0].send(msg(1), '7:0');
  const realNow = Date.now;
  Date.now = () => realNow() + 600e3;
  try {
    sources[0].onerror();
  } finally {
    Date.now = realNow;
  }
  await until(() => sources.length === 2, 'renewed without waiting');
  assert.equal(sources[1].url, '/live/executions/E?ticket=t2&last_event_id=7%3A0');
  assert.ok(!c.states.includes('reconnecting'), 'no Reconnecting for a renewal');
  sources[1].onopen();
  await sleep(1700);
  assert.equal(c.states.at(-1), 'live');
  assert.ok(!c.states.includes('reconnecting'));
  c.live.close();
});

test('a target the server refuses (404) is not asked for again', async () => {
  ticketStatus = 404;
  const c = client();
  await until(() => c.states.includes('unavailable'), 'gives up');
  await sleep(1200);
  assert.equal(tickets.length, 1);
  assert.equal(sources.length, 0);
  c.live.close();
});
