// Graph panel: the workflow's nodes and edges (cytoscape + dagre layout),
// coloured by this execution's node statuses, with the path it took
// highlighted. A table beside it says the same in words.
//
// Big workflows: laying out and drawing every node takes seconds (1,000
// nodes) to half a minute (20,000), during which the page does not answer.
// So past GRAPH_DRAW_MAX nodes only the nodes this execution ran are drawn
// (at most GRAPH_DRAW_MAX, in the order they first ran), with the edges
// between them and a line saying how many of how many are shown; past
// DAGRE_MAX drawn nodes the layout is cytoscape's breadth-first one, and
// labels too small to read are not drawn. The table lists every node, a page
// at a time.
import {
  h, clear, fmtDuration, loadingState, errorState, plural, nodeTiming, userText, visibleText, pagedRows,
} from './util.js';

export const GRAPH_DRAW_MAX = 300;
const DAGRE_MAX = 100;
const TABLE_PAGE = 300;

let cyPromise = null;
function loadCytoscape() {
  if (!cyPromise) {
    cyPromise = Promise.all([
      import('../vendor/cytoscape.esm.min.js'),
      import('../vendor/cytoscape-dagre.min.js'),
    ]).then(([cy, dagre]) => {
      const cytoscape = cy.default;
      cytoscape.use(dagre.default);
      return cytoscape;
    }).catch((e) => {
      cyPromise = null;
      throw new Error(`The graph library did not load (${e.message}). Run nginx/vendor.sh to copy it from node_modules.`);
    });
  }
  return cyPromise;
}

const keyOfNe = (ne) => ne.node_id || `name:${ne.node_name}`;

/** Per-node statistics, the transitions taken (in order) and the path, from the timeline. */
export function analyse(nodeExecutions) {
  const ordered = [...nodeExecutions].sort((a, b) => (Number(a.offset_ms) || 0) - (Number(b.offset_ms) || 0));
  const stats = new Map();
  for (const ne of ordered) {
    const k = keyOfNe(ne);
    let s = stats.get(k);
    if (!s) {
      s = { key: k, name: ne.node_name, type: ne.node_type, runs: 0, errors: 0, totalMs: 0, last: null };
      stats.set(k, s);
    }
    s.runs++;
    if (ne.status === 'error' || (ne.error && ne.error !== '')) s.errors++;
    s.totalMs += nodeTiming(ne).ms;
    s.last = ne.status || 'success';
  }
  const transitions = new Map();
  for (let i = 1; i < ordered.length; i++) {
    const a = ordered[i - 1];
    const b = ordered[i];
    const k = `${keyOfNe(a)}|${keyOfNe(b)}|${a.action ?? ''}`;
    const t = transitions.get(k) || { from: keyOfNe(a), to: keyOfNe(b), action: a.action ?? null, count: 0 };
    t.count++;
    transitions.set(k, t);
  }
  return { ordered, stats, transitions: [...transitions.values()] };
}

/**
 * Which nodes to draw, by id: every one when there are at most max; else
 * those the execution ran (ranIds, in the order they first ran), at most
 * max. -> {ids, mode: 'all' | 'ran' | 'first-ran'}
 */
export function nodesToDraw(allIds, ranIds, max = GRAPH_DRAW_MAX) {
  if (allIds.length <= max) return { ids: allIds, mode: 'all' };
  if (ranIds.length <= max) return { ids: ranIds, mode: 'ran' };
  return { ids: ranIds.slice(0, max), mode: 'first-ran' };
}

function nodeStatus(s) {
  if (!s) return 'none';
  if (s.last === 'error') return 'error';
  if (s.last === 'running') return 'running';
  if (s.last === 'skipped') return 'skipped';
  return s.errors ? 'recovered' : 'success';
}

const STATUS_TEXT = {
  success: 'succeeded', error: 'failed', recovered: 'failed, then succeeded', running: 'running',
  skipped: 'skipped', none: 'not run',
};

export function renderGraph(container, { workflowPromise, nodeExecutions, onNodeClick }) {
  let destroyed = false;
  let cy = null;
  const canvasBox = h('div', { class: 'graph-canvas', role: 'img', 'aria-label': 'Workflow graph' });
  const side = h('div', { class: 'graph-side' });
  const summary = h('p', { class: 'graph-summary muted', role: 'note', hidden: true });
  const fitBtn = h('button', { class: 'btn', type: 'button', text: 'Fit', disabled: true, onClick: () => cy && cy.fit(undefined, 30) });
  const legend = h('ul', { class: 'legend' },
    h('li', {}, h('span', { class: 'swatch node-success', 'aria-hidden': 'true' }), 'succeeded'),
    h('li', {}, h('span', { class: 'swatch node-recovered', 'aria-hidden': 'true' }), 'failed, then succeeded'),
    h('li', {}, h('span', { class: 'swatch node-error', 'aria-hidden': 'true' }), 'failed'),
    h('li', {}, h('span', { class: 'swatch node-none', 'aria-hidden': 'true' }), 'not run'),
    h('li', {}, h('span', { class: 'swatch edge-taken', 'aria-hidden': 'true' }), 'path taken'));
  container.append(h('div', { class: 'panel-toolbar' }, legend, h('div', { class: 'toolbar-spacer' }), fitBtn),
    summary, h('div', { class: 'graph-layout' }, canvasBox, side));
  canvasBox.appendChild(loadingState('Drawing the graph…'));

  const { ordered, stats, transitions } = analyse(nodeExecutions);

  async function draw() {
    let wf = null;
    let wfError = null;
    try { wf = await workflowPromise; } catch (e) { wfError = e; }
    if (destroyed) return;

    // Nodes: the workflow's, plus any the execution ran that the workflow lacks.
    const nodes = new Map();
    const byName = new Map();
    for (const n of (wf && wf.nodes) || []) {
      nodes.set(n.id, { id: n.id, name: n.name, type: n.type });
      byName.set(n.name, n.id);
    }
    const resolve = (k) => {
      if (nodes.has(k)) return k;
      if (k.startsWith('name:') && byName.has(k.slice(5))) return byName.get(k.slice(5));
      return k;
    };
    const statById = new Map(); // node id -> this execution's statistics of it
    for (const s of stats.values()) {
      const id = resolve(s.key);
      if (!nodes.has(id)) nodes.set(id, { id, name: s.name, type: s.type });
      if (!statById.has(id)) statById.set(id, s);
    }
    const statOf = (id) => statById.get(id) || null;

    // Edges: the workflow's, marked when taken; transitions the workflow lacks are added.
    const edges = [];
    const edgesBetween = new Map(); // "from\nto" -> edges
    const addEdge = (e) => {
      edges.push(e);
      const k = `${e.from}\n${e.to}`;
      if (!edgesBetween.has(k)) edgesBetween.set(k, []);
      edgesBetween.get(k).push(e);
      return e;
    };
    for (const e of (wf && wf.edges) || []) {
      addEdge({ id: e.id, from: e.from_node_id || byName.get(e.from), to: e.to_node_id || byName.get(e.to), action: e.action ?? null, count: 0, declared: true });
    }
    for (const t of transitions) {
      const from = resolve(t.from);
      const to = resolve(t.to);
      const same = edgesBetween.get(`${from}\n${to}`) || [];
      let e = same.find((x) => (x.action ?? 'default') === (t.action ?? 'default'));
      if (!e && same.length === 1) [e] = same;
      if (!e) e = addEdge({ id: `observed-${edges.length}`, from, to, action: t.action, count: 0, declared: false });
      e.count += t.count;
    }

    const ranIds = [...new Set(ordered.map((ne) => resolve(keyOfNe(ne))))];
    const first = ranIds.length ? ranIds[0] : null;
    const last = ordered.length ? resolve(keyOfNe(ordered[ordered.length - 1])) : null;
    container.dataset.nodeCount = String(nodes.size);
    container.dataset.edgeCount = String(edges.length);

    drawSide(nodes, statOf, edges, wf, wfError);

    if (!nodes.size) {
      clear(canvasBox).appendChild(h('div', { class: 'state state-empty' },
        h('p', { class: 'state-title', text: 'No graph to draw' }),
        h('p', { class: 'state-detail', text: wfError ? `The workflow could not be loaded: ${wfError.message}` : 'The workflow has no nodes and the execution ran none.' })));
      return;
    }

    const pick = nodesToDraw([...nodes.keys()], ranIds);
    const drawn = new Set(pick.ids);
    container.dataset.drawnNodes = String(drawn.size);
    if (pick.mode !== 'all') {
      const total = plural(nodes.size, 'node');
      summary.textContent = pick.mode === 'ran'
        ? `Showing ${drawn.size.toLocaleString('en-US')} of ${total}: those this execution ran, and the edges between them. The table lists every node.`
        : `Showing ${drawn.size.toLocaleString('en-US')} of ${total}: the first ${drawn.size.toLocaleString('en-US')} this execution ran (it ran ${ranIds.length.toLocaleString('en-US')}). The table lists every node.`;
      summary.hidden = false;
    }
    if (!drawn.size) {
      clear(canvasBox).appendChild(h('div', { class: 'state state-empty' },
        h('p', { class: 'state-title', text: 'Too many nodes to draw' }),
        h('p', { class: 'state-detail', text: `The workflow has ${plural(nodes.size, 'node')} and this execution ran none of them: the table lists them.` })));
      summary.hidden = true;
      return;
    }

    let cytoscape;
    try {
      cytoscape = await loadCytoscape();
    } catch (e) {
      if (!destroyed) clear(canvasBox).appendChild(errorState(e));
      return;
    }
    if (destroyed) return;
    clear(canvasBox);
    const css = getComputedStyle(container);
    const v = (name, d) => css.getPropertyValue(name).trim() || d;
    const elements = [];
    for (const id of drawn) {
      const n = nodes.get(id);
      const s = statOf(n.id);
      const st = nodeStatus(s);
      const runs = s ? s.runs : 0;
      const name = visibleText(n.name);
      const label = runs > 1 ? `${name}\n×${runs}` : name;
      const lines = label.split('\n');
      elements.push({
        group: 'nodes',
        data: {
          id: n.id, label, name: n.name, status: st,
          w: Math.max(90, Math.max(...lines.map((l) => l.length)) * 8 + 30), hgt: lines.length * 17 + 22,
        },
        classes: `st-${st}${n.id === first ? ' start' : ''}${n.id === last ? ' end' : ''}`,
      });
    }
    for (const e of edges) {
      if (!drawn.has(e.from) || !drawn.has(e.to)) continue;
      const label = `${visibleText(e.action ?? 'default')}${e.count > 1 ? ` ×${e.count}` : ''}`;
      elements.push({
        group: 'edges',
        data: { id: `e-${e.id}`, source: e.from, target: e.to, label },
        classes: `${e.count ? 'taken' : 'idle'}${e.declared ? '' : ' observed'}`,
      });
    }
    const big = drawn.size > DAGRE_MAX;
    const layout = big
      ? { name: 'breadthfirst', directed: true, roots: first && drawn.has(first) ? [first] : undefined, spacingFactor: 1.1, padding: 24 }
      // left to right where there is room, top to bottom in a narrow window
      : { name: 'dagre', rankDir: canvasBox.clientWidth < 560 ? 'TB' : 'LR', nodeSep: 40, rankSep: 70, edgeSep: 20, padding: 24 };
    const started = performance.now();
    cy = cytoscape({
      container: canvasBox,
      elements,
      boxSelectionEnabled: false,
      autoungrabify: false,
      minZoom: drawn.size > 20 ? 0.05 : 0.2, // Fit shows a long path whole
      maxZoom: 3,
      // many nodes: a bitmap while panning and zooming, edges back after
      textureOnViewport: big,
      hideEdgesOnViewport: big,
      style: [
        { selector: 'node', style: {
          shape: 'round-rectangle', width: 'data(w)', height: 'data(hgt)',
          label: 'data(label)', 'text-wrap': 'wrap', 'text-valign': 'center', 'text-halign': 'center',
          'font-family': 'system-ui, sans-serif', 'font-size': 13, 'font-weight': 600,
          color: v('--fg', '#1d2330'), 'background-color': '#ffffff', 'border-width': 2, 'border-color': '#9aa3b2',
          'min-zoomed-font-size': 6,
        } },
        { selector: 'node.st-success', style: { 'background-color': v('--ok-bg', '#e7f6ec'), 'border-color': v('--ok', '#1e7a3c') } },
        { selector: 'node.st-recovered', style: { 'background-color': v('--ok-bg', '#e7f6ec'), 'border-color': v('--warn', '#b45309'), 'border-style': 'double', 'border-width': 4 } },
        { selector: 'node.st-error', style: { 'background-color': v('--err-bg', '#fdecec'), 'border-color': v('--err', '#c62828'), color: v('--err-fg', '#8c1d1d') } },
        { selector: 'node.st-running', style: { 'background-color': v('--run-bg', '#e6efff'), 'border-color': v('--run', '#2856c7') } },
        { selector: 'node.st-none, node.st-skipped', style: { 'background-color': '#f4f5f7', 'border-color': '#b8bfca', 'border-style': 'dashed', color: '#5b6475' } },
        { selector: 'node.start', style: { 'border-width': 3 } },
        { selector: 'node:selected', style: { 'overlay-color': v('--accent', '#3559d8'), 'overlay-opacity': 0.12, 'overlay-padding': 6 } },
        { selector: 'edge', style: {
          width: 1.5, 'curve-style': big ? 'straight' : 'bezier', 'target-arrow-shape': 'triangle', 'arrow-scale': 1.1,
          'line-color': '#c3c9d4', 'target-arrow-color': '#c3c9d4', 'line-style': 'dashed',
          label: 'data(label)', 'font-size': 11, 'font-family': 'system-ui, sans-serif', color: '#5b6475',
          'text-background-color': '#ffffff', 'text-background-opacity': 1, 'text-background-padding': '2px',
          'text-rotation': 'none', 'min-zoomed-font-size': 6,
        } },
        { selector: 'edge.taken', style: {
          width: 3, 'line-style': 'solid', 'line-color': v('--accent', '#3559d8'), 'target-arrow-color': v('--accent', '#3559d8'),
          color: v('--accent-fg', '#2a47b0'), 'font-weight': 600,
        } },
        { selector: 'edge.observed', style: { 'line-style': 'dotted' } },
        { selector: 'edge:loop', style: {
          'control-point-step-size': 64, 'loop-direction': '0deg', 'loop-sweep': '-70deg',
          'text-margin-y': -14,
        } },
      ],
      layout,
    });
    cy.on('tap', 'node', (ev) => {
      if (onNodeClick) onNodeClick(ev.target.data('name'));
    });
    cy.ready(() => {
      cy.fit(undefined, 30);
      canvasBox.dataset.renderedNodes = String(cy.nodes().length);
      canvasBox.dataset.takenEdges = String(cy.edges('.taken').length);
      canvasBox.dataset.layout = layout.name;
      canvasBox.dataset.layoutMs = String(Math.round(performance.now() - started));
      fitBtn.disabled = false;
    });
  }

  function drawSide(nodes, statOf, edges, wf, wfError) {
    clear(side);
    if (wfError) {
      side.appendChild(h('p', { class: 'callout callout-warn', role: 'note',
        text: `The workflow definition could not be loaded (${wfError.message}); the graph shows only what this execution ran.` }));
    }
    const firstRun = new Map(); // node name -> index of its first run
    ordered.forEach((ne, i) => { if (!firstRun.has(ne.node_name)) firstRun.set(ne.node_name, i); });
    const sorted = [...nodes.values()].sort((a, b) => (firstRun.get(a.name) ?? 1e12) - (firstRun.get(b.name) ?? 1e12) ||
      String(a.name).localeCompare(String(b.name)));
    const nodeRow = (n) => {
      const s = statOf(n.id);
      const st = nodeStatus(s);
      return h('tr', { class: `graph-node-row`, dataset: { node: n.name, status: st } },
        h('td', {}, h('span', { class: `node-dot node-${st}`, 'aria-hidden': 'true' }),
          onNodeClick && s
            ? h('button', { class: 'linkish', type: 'button', title: `Select ${n.name} in the timeline`, onClick: () => onNodeClick(n.name) }, userText(n.name))
            : userText(n.name)),
        h('td', { text: STATUS_TEXT[st] }),
        h('td', { class: 'col-num', text: s ? String(s.runs) : '0' }),
        h('td', { class: 'col-num mono', text: s ? fmtDuration(s.totalMs) : '–' }));
    };
    // A page of rows at a time: a 20,000-node workflow's table is big too.
    const tbody = h('tbody');
    const moreWrap = pagedRows(tbody, sorted, nodeRow, { page: TABLE_PAGE, noun: 'more nodes' }).el;
    const counts = `${plural(nodes.size, 'node')}, ${plural(edges.length, 'edge')}`;
    side.appendChild(h('div', { class: 'graph-table-scroll', role: 'region', tabindex: '0', 'aria-label': 'Nodes of the workflow' },
      h('table', { class: 'data-table graph-nodes' },
        h('caption', {}, wf ? [userText(wf.name || 'Workflow'), `: ${counts}`] : plural(nodes.size, 'node')),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col', text: 'Node' }), h('th', { scope: 'col', text: 'Status' }),
          h('th', { scope: 'col', class: 'col-num', text: 'Runs' }), h('th', { scope: 'col', class: 'col-num', text: 'Time' }))),
        tbody),
      moreWrap));
    const MAXSTEPS = 40;
    const steps = ordered.slice(0, MAXSTEPS);
    side.appendChild(h('div', { class: 'path-taken' },
      h('h3', { class: 'small-title', text: `Path taken (${plural(ordered.length, 'step')})` }),
      ordered.length ? h('ol', { class: 'path-list', 'aria-label': 'Path taken' },
        steps.map((ne, i) => h('li', { class: ne.status === 'error' ? 'is-failed' : '', dataset: { node: ne.node_name } },
          h('span', { class: 'path-node' }, userText(ne.node_name)),
          i < ordered.length - 1 && ne.action ? h('span', { class: 'path-action' }, userText(ne.action)) : null)),
        ordered.length > MAXSTEPS ? h('li', { class: 'muted', text: `… ${ordered.length - MAXSTEPS} more` }) : null)
        : h('p', { class: 'muted', text: 'No node ran.' })));
  }

  draw();
  return {
    destroy() {
      destroyed = true;
      if (cy) cy.destroy();
    },
  };
}
