// The compare page's two lanes: a mini Gantt of each run on one time scale
// (the longer run's), one bar per node execution, so where the runs took
// longer or another way shows at a glance. Bars of aligned pairs that
// differ are outlined, nodes only one run has are hatched, and the first
// divergence is marked in both lanes. Clicking a bar shows its row.
import { h, fmtDuration, userText } from '../util.js';
import { laneBars, laneSpan } from './model.js';

// Past this many bars a lane draws only the marked ones and a sample of
// the rest: thousands of 1-pixel bars say no more than a few hundred.
const MAX_BARS = 2000;

function thin(bars) {
  if (bars.length <= MAX_BARS) return bars;
  const step = Math.ceil(bars.length / MAX_BARS);
  return bars.filter((b, i) => b.mark || i % step === 0);
}

function lane(label, exec, bars, onPick) {
  const track = h('div', { class: 'cmp-track' });
  for (const b of thin(bars)) {
    const bar = h('button', {
      type: 'button',
      class: `cmp-bar status-bg-${String(b.status || 'unknown').replace(/[^a-z]/g, '')}${b.mark ? ` is-${b.mark}` : ''}`,
      title: `${b.name}${b.mark === 'diverged' ? ' (first divergence)' : ''}`,
      'aria-label': `${b.name}: show its row`,
      dataset: { row: String(b.row) },
      style: { left: `${b.left}%`, width: `max(2px, ${b.width}%)` },
      onClick: () => onPick(b.row),
    });
    track.appendChild(bar);
  }
  return h('div', { class: 'cmp-lane' },
    h('div', { class: 'cmp-lane-label' },
      h('span', { class: 'cmp-side', text: label }),
      h('span', { class: 'muted', text: fmtDuration(exec.duration_ms) })),
    track);
}

/** The lanes of a comparison: rows from mergedRows, divRow the divergence's row. */
export function renderLanes(cmp, rows, divRow, onPick) {
  const span = laneSpan(rows);
  return h('section', { class: 'card cmp-lanes', 'aria-label': 'The two runs on one time scale' },
    lane('A', cmp.a, laneBars(rows, 'a', span, divRow), onPick),
    lane('B', cmp.b, laneBars(rows, 'b', span, divRow), onPick),
    h('div', { class: 'cmp-scale muted' },
      h('span', { text: '0' }),
      h('span', {}, userText(fmtDuration(span)))),
    h('div', { class: 'cmp-legend muted' },
      h('span', { class: 'cmp-key is-diverged', text: 'first divergence' }),
      h('span', { class: 'cmp-key is-differs', text: 'differs' }),
      h('span', { class: 'cmp-key is-only', text: 'only in one run' })));
}
