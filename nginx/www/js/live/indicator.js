// The pill that says whether a page follows its data live: Connecting, Live,
// Reconnecting, Finished (the run ended: nothing more will come) or Not
// live (the server refused the subscription). A status region, so a screen
// reader hears the changes; data-state for styles and tests.
import { h } from '../util.js';

const LABEL = {
  connecting: 'Connecting',
  live: 'Live',
  reconnecting: 'Reconnecting',
  finished: 'Finished',
  unavailable: 'Not live',
  closed: 'Not live',
};

const TITLE = {
  connecting: 'Subscribing to live updates…',
  live: 'Updates appear as the server receives them.',
  reconnecting: 'The live connection dropped; reconnecting. What is shown may be behind.',
  finished: 'The run has ended: it will not change any more.',
  unavailable: 'Live updates are not available here; use Reload.',
  closed: 'Live updates are off.',
};

/** createIndicator(testId) -> {el, set(state), state()} */
export function createIndicator(testId) {
  let current = '';
  const text = h('span', { class: 'live-text' });
  const el = h('span', { class: 'live-status', role: 'status', 'aria-live': 'polite', dataset: { testid: testId } },
    h('span', { class: 'live-dot', 'aria-hidden': 'true' }), text);
  function set(state) {
    if (!LABEL[state] || state === current) return;
    current = state;
    el.dataset.state = state;
    el.title = TITLE[state];
    text.textContent = LABEL[state];
  }
  set('connecting');
  return { el, set, state: () => current };
}
