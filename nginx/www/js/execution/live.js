// The execution page following its run live (docs/LIVE.md, the execution
// channel): each message's execution and node executions are merged into
// what the page shows (node executions by id: an update replaces its bar),
// and its summary of new events, spans and snapshots tells which panels to
// refresh. A truncated message, a gap in seq and every (re)connect reload
// the run through the API instead. When the run ends the subscription
// closes and the indicator says Finished.
import { api } from '../api.js';
import { openLive } from '../live/client.js';
import { createIndicator } from '../live/indicator.js';
import { isTerminal, mergeNodes, mergeExecution } from '../live/rules.js';

const TICK_MS = 1000;

/**
 * followExecution({id, current() -> {exec, nodeExecutions}, apply(update), tick()})
 * update: {exec, nodeExecutions, added, reloaded}: the run's new state;
 * added is a message's summary (counts of new items by kind), reloaded
 * says it came from the API (compare counts to know what changed).
 * tick() runs once a second while the run goes on (the time so far).
 * -> {el: the live indicator, close()}
 */
export function followExecution({ id, current, apply, tick }) {
  const indicator = createIndicator('live-status');
  let finished = false;
  let client = null;
  const ticker = setInterval(() => { if (!finished) tick(); }, TICK_MS);

  function finish() {
    if (finished) return;
    finished = true;
    clearInterval(ticker);
    if (client) client.close();
    indicator.set('finished');
  }

  /** The run as the API has it now: the execution and its timeline. */
  async function reload() {
    const path = `/executions/${encodeURIComponent(id)}`;
    const [exec, timeline] = await Promise.all([api(path), api(`${path}/timeline`)]);
    if (finished) return;
    const tlExec = (timeline && timeline.execution) || {};
    const nodes = Array.isArray(timeline && timeline.node_executions) ? timeline.node_executions : [];
    const next = { ...tlExec, ...exec };
    apply({ exec: next, nodeExecutions: nodes, reloaded: true });
    if (isTerminal(next.status)) finish();
  }

  function onMessage(msg) {
    if (finished || !msg || msg.type !== 'execution' || !msg.execution) return undefined;
    // Cut to fit: the node executions are not in it.
    if (msg.truncated) return reload();
    const now = current();
    const exec = mergeExecution(now.exec, msg.execution);
    const nodeExecutions = mergeNodes(now.nodeExecutions, msg.node_executions);
    apply({ exec, nodeExecutions, added: msg.added || {} });
    if (isTerminal(exec.status)) finish();
    return undefined;
  }

  client = openLive({
    target: { execution_id: id },
    onMessage,
    onResync: () => reload(),
    onState: (state) => { if (!finished) indicator.set(state); },
  });

  return {
    el: indicator.el,
    close() {
      finished = true;
      clearInterval(ticker);
      client.close();
    },
  };
}
