// What changed between two shared-state snapshots. Pure functions (no DOM),
// also run by the browser tests' unit part under node.

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep equality of JSON values (key order does not matter). */
export function jsonEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (typeof a === 'object') {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) if (!Object.prototype.hasOwnProperty.call(b, k) || !jsonEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

const SIMPLE_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** A path for people: config.retries, items[“a b”]. */
export function joinPath(parent, key) {
  const k = SIMPLE_KEY.test(key) ? key : JSON.stringify(key);
  if (!parent) return SIMPLE_KEY.test(key) ? key : `[${k}]`;
  return SIMPLE_KEY.test(key) ? `${parent}.${key}` : `${parent}[${k}]`;
}

/**
 * diffState(before, after) -> {added:[{path,value}], removed:[{path,value}], changed:[{path,before,after}]}
 * Objects are compared key by key, recursively (paths like "a.b"); arrays and
 * scalars as whole values. A non-object state counts as one value at path "(state)".
 */
export function diffState(before, after, maxDepth = 8) {
  const out = { added: [], removed: [], changed: [] };
  walk(before, after, '', 0);
  return out;

  function walk(a, b, path, depth) {
    if (isPlainObject(a) && isPlainObject(b) && depth < maxDepth) {
      for (const k of Object.keys(a)) {
        const p = joinPath(path, k);
        if (!Object.prototype.hasOwnProperty.call(b, k)) out.removed.push({ path: p, value: a[k] });
        else walk(a[k], b[k], p, depth + 1);
      }
      for (const k of Object.keys(b)) {
        if (!Object.prototype.hasOwnProperty.call(a, k)) out.added.push({ path: joinPath(path, k), value: b[k] });
      }
      return;
    }
    if (!jsonEqual(a, b)) out.changed.push({ path: path || '(state)', before: a, after: b });
  }
}

const stateOf = (s) => (s && s.state !== undefined ? s.state : {});

/**
 * The diffs of a list of snapshots (ordered), each against the one before;
 * the first against {}. From index `from` on only (a live run's new ones).
 */
export function snapshotDiffs(snapshots, from = 0) {
  const out = [];
  for (let i = from; i < snapshots.length; i++) {
    out.push(diffState(i === 0 ? {} : stateOf(snapshots[i - 1]), stateOf(snapshots[i])));
  }
  return out;
}
