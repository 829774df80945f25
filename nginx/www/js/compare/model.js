// The compare page's data, as pure functions (no DOM; the browser tests'
// unit part runs them under node): one row list in run order from the
// API's pairs and unaligned nodes, the bars of each lane, and the id in
// what a user pasted.

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** The execution id in a pasted id or link (the last one in the text, so a
 *  compare link names its second run), lowercased; null when none. */
export function idFromInput(text) {
  const all = String(text || '').match(new RegExp(UUID.source, 'gi'));
  return all ? all[all.length - 1].toLowerCase() : null;
}

/**
 * The table's rows in run order: a's node executions in a's order, each
 * node only b ran placed before the first aligned node that follows it in
 * b. Each row: {kind: 'pair'|'a'|'b', name, ordinal, a, b, pair, aIndex,
 * bIndex}; a and b are the node executions (null where absent).
 */
export function mergedRows(cmp) {
  const pairs = new Map(cmp.pairs.map((p) => [p.a_index, p]));
  const onlyA = new Map(cmp.only_in_a.map((o) => [o.index, o]));
  const onlyB = cmp.only_in_b;
  const rows = [];
  let nb = 0;
  const flushB = (upTo) => {
    for (; nb < onlyB.length && onlyB[nb].index < upTo; nb++) {
      const o = onlyB[nb];
      rows.push({ kind: 'b', name: o.node_name, ordinal: o.ordinal, a: null, b: o.node, pair: null, aIndex: null, bIndex: o.index });
    }
  };
  const n = cmp.summary.node_executions.a;
  for (let i = 0; i < n; i++) {
    const p = pairs.get(i);
    if (p) {
      flushB(p.b_index);
      rows.push({ kind: 'pair', name: p.node_name, ordinal: p.ordinal, a: p.a, b: p.b, pair: p, aIndex: i, bIndex: p.b_index });
    } else {
      const o = onlyA.get(i);
      if (o) rows.push({ kind: 'a', name: o.node_name, ordinal: o.ordinal, a: o.node, b: null, pair: null, aIndex: i, bIndex: null });
    }
  }
  flushB(Infinity);
  return rows;
}

/** The row of the first divergence, or -1. */
export function divergenceRow(cmp, rows) {
  const fd = cmp.first_divergence;
  if (!fd) return -1;
  return rows.findIndex((r) => (fd.a_index !== null ? r.aIndex === fd.a_index : r.bIndex === fd.b_index));
}

/**
 * One lane's bars: {row, left, width, status, mark} with left and width
 * in percent of span (the longer run's end, so both lanes share a scale);
 * mark is 'diverged' for the first divergence, 'differs', 'only' or ''.
 */
export function laneBars(rows, side, span, divRow) {
  const bars = [];
  rows.forEach((r, i) => {
    const ne = r[side];
    if (!ne || ne.offset_ms === null || ne.offset_ms === undefined) return;
    const off = Number(ne.offset_ms);
    const dur = Math.max(0, Number(ne.duration_ms) || 0);
    let mark = '';
    if (i === divRow) mark = 'diverged';
    else if (r.kind !== 'pair') mark = 'only';
    else if (r.pair.differs.length) mark = 'differs';
    bars.push({ row: i, left: span > 0 ? (off / span) * 100 : 0, width: span > 0 ? (dur / span) * 100 : 0, status: ne.status, mark, name: r.name });
  });
  return bars;
}

/** The end of the later node execution of either run, in ms from its start. */
export function laneSpan(rows) {
  let span = 0;
  for (const r of rows) {
    for (const ne of [r.a, r.b]) {
      if (!ne || ne.offset_ms === null || ne.offset_ms === undefined) continue;
      span = Math.max(span, Number(ne.offset_ms) + (Number(ne.duration_ms) || 0));
    }
  }
  return span;
}

/** The query of the list API that finds the run of the same workflow
 *  started last before exec (until is exclusive). */
export function previousRunQuery(exec) {
  return { workflow_id: exec.workflow_id, until: exec.started_at, limit: 1 };
}
