// What the chart shows and where: the time window (vs..ve, ms from the
// run's start), kept to the run plus a tenth on each side, and the track's
// geometry (its width, the label column's), which map a time to an x. A
// live run's total grows: setTotal keeps the window where the user put it,
// or keeps showing all of the run when it did.
export const PAD = 10; // px of air at both ends of the track

/** createView(total, onChange) -> the window; onChange runs after every move. */
export function createView(total, onChange) {
  let minSpan = Math.max(total / 1e6, 1e-3);

  function clamp(a, b) {
    let span = Math.min(Math.max(b - a, minSpan), total * 1.2);
    const lo = -total * 0.1;
    const hi = total * 1.1;
    if (a < lo) a = lo;
    if (a + span > hi) a = hi - span;
    if (a < lo) { a = lo; span = hi - lo; }
    return [a, a + span];
  }

  const view = {
    vs: 0,
    ve: total,
    trackW: 600,
    labelW: 280,
    scale: () => (view.trackW - 2 * PAD) / (view.ve - view.vs),
    xOf: (t) => PAD + (t - view.vs) * view.scale(),
    tOf: (x) => view.vs + (x - PAD) / view.scale(),
    set(a, b) {
      [view.vs, view.ve] = clamp(a, b);
      onChange();
    },
    zoomBy(f, anchorT = (view.vs + view.ve) / 2) {
      const span = view.ve - view.vs;
      const ns = Math.min(Math.max(span * f, minSpan), total * 1.2);
      const k = ns / span;
      view.set(anchorT - (anchorT - view.vs) * k, anchorT - (anchorT - view.vs) * k + ns);
    },
    panBy(dt) {
      view.set(view.vs + dt, view.ve + dt);
    },
    fit() {
      view.set(0, total);
    },
    setTotal(next) {
      if (!(next > 0) || next === total) return;
      // The whole run in view (as at first, or after Fit): follow it as it grows.
      const all = view.vs <= 1e-9 && view.ve >= total * (1 - 1e-9);
      total = next;
      minSpan = Math.max(total / 1e6, 1e-3);
      if (all) view.set(0, total);
      else view.set(view.vs, view.ve);
    },
  };
  return view;
}
