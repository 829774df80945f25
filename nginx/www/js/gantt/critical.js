// The Gantt's critical path marks (GET /api/executions/{id}/critical-path)
// while the toggle is on. A live run changes the path with every message,
// and a busy run sends several a second: asking again on each would cost a
// worker a request (three statements and a pass over every node execution)
// per message per page. So changes are throttled: at most one request every
// INTERVAL_MS, never two at once, and always one after the last change
// (trailing), so the marks end on the path of the run's final state.
// No DOM: the clock is a parameter, so the logic tests run it under node.

export const INTERVAL_MS = 1000;

const realClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t),
};

/**
 * createCriticalPath({load() -> Promise<Set of node execution ids>,
 *                     onChange(Set | null), intervalMs, clock})
 * -> {show(on) -> Promise<boolean>, changed(), destroy()}
 *
 * show(on): the toggle. On asks at once and says whether the marks could
 * be shown (a failed request leaves the toggle off); off drops the marks.
 * changed(): the run changed (a live message): while on, asks again within
 * the throttle. onChange gets each newer answer (an answer to a request
 * started before another already shown is dropped), or null when off.
 */
export function createCriticalPath({ load, onChange, intervalMs = INTERVAL_MS, clock = realClock }) {
  let wanted = false;
  let destroyed = false;
  let lastStart = -Infinity; // when the last request started
  let inFlight = 0;
  let pending = false;       // a change came after the last request started
  let timer = null;
  let asked = 0;             // requests started
  let applied = 0;           // the request whose answer is shown
  let shown = false;         // marks are shown

  async function ask() {
    const mine = ++asked;
    lastStart = clock.now();
    pending = false;
    inFlight++;
    let ids = null;
    try {
      ids = await load();
    } catch {
      ids = null;
    } finally {
      inFlight--;
    }
    if (ids && wanted && !destroyed && mine > applied) {
      applied = mine;
      shown = true;
      onChange(ids);
    }
    if (pending) arm();
  }

  function arm() {
    if (timer !== null || inFlight || destroyed || !wanted) return;
    timer = clock.setTimeout(() => {
      timer = null;
      ask();
    }, Math.max(0, lastStart + intervalMs - clock.now()));
  }

  function cancel() {
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
    pending = false;
  }

  return {
    async show(on) {
      wanted = on;
      cancel();
      if (!on) {
        applied = asked; // an answer still on its way is not shown
        shown = false;
        onChange(null);
        return false;
      }
      await ask();
      // Nothing could be shown: the toggle stays off, and changes ask nothing.
      if (!shown) wanted = false;
      return wanted && !destroyed;
    },
    changed() {
      if (!wanted || destroyed) return;
      pending = true;
      arm();
    },
    destroy() {
      destroyed = true;
      cancel();
    },
  };
}
