// One kind of a run's items as a panel holds them (events, spans or state
// snapshots), kept in the API's order, and how a live run's new ones are
// fetched: since_id = the largest id held, so a message costs what it
// added, not the whole run again (docs/LIVE.md, section 3).
//
// Why this is exact: ingest writes one execution's items one transaction
// at a time and ids are handed out in order, so whatever is not visible
// yet has a larger id than everything visible. A single request is one
// snapshot, so the new items are asked for in one (no limit). The first
// load is paged, and a commit between two of its pages could leave items
// behind the largest id; the run's count from each message catches that:
// holding fewer items than the count says means a full reload.
import { api, fetchAll } from './api.js';

/** The largest numeric id of items (0 when none). */
export function maxId(items) {
  let m = 0;
  for (const x of items) if (Number(x.id) > m) m = Number(x.id);
  return m;
}

/**
 * The order of a route that sorts by a timestamp field, then id. The API
 * writes timestamps in one fixed form (microseconds, Z), so their text
 * sorts as their time does, to the microsecond.
 */
export function timeOrder(field) {
  return (a, b) => (a[field] < b[field] ? -1 : a[field] > b[field] ? 1 : Number(a.id) - Number(b.id));
}

/** Index where x goes in sorted items under compare (after equal ones). */
export function sortedIndex(items, x, compare) {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compare(items[mid], x) <= 0) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/**
 * itemFeed(path, {max, compare}): path is the item route, max how many a
 * panel holds at most (the first load stops there, and then live items are
 * no longer added), compare the route's order.
 *   load(signal, onPage) -> items: everything, paged (the first load, or a reload)
 *   expect(count): the run's count of this kind from a message
 *   next(signal) -> {added: [[index, item]...] in insertion order, or null
 *                    when the feed reloaded instead (redraw from items)}
 *   items: what is held, in order
 */
export function itemFeed(path, { max, compare }) {
  let items = [];
  let last = 0;
  let full = false;
  let expected = 0;

  async function load(signal, onPage) {
    items = await fetchAll(path, {}, { signal, max, onPage });
    last = maxId(items);
    full = items.length >= max;
    return items;
  }

  async function next(signal) {
    const want = expected; // what this request's snapshot is sure to hold
    if (full) return { added: [] };
    const page = await api(path, { params: last ? { since_id: last } : {}, signal });
    const fresh = Array.isArray(page.items) ? page.items.filter((x) => Number(x.id) > last) : [];
    const added = [];
    for (const x of fresh) {
      const i = sortedIndex(items, x, compare);
      items.splice(i, 0, x);
      added.push([i, x]);
    }
    last = Math.max(last, maxId(fresh));
    if (items.length < want) {
      await load(signal);
      return { added: null };
    }
    return { added };
  }

  return {
    load,
    next,
    expect(count) { if (Number(count) > expected) expected = Number(count); },
    get items() { return items; },
  };
}
