// Time-series charts over uPlot: a legend with hover values, axes in local time (uPlot's
// default), zoom by dragging a range (double-click resets), optional stacking and annotation
// markers.
import uPlot from 'uplot';

export const PALETTE = ['#0b5cad', '#c0392b', '#1e8449', '#8e44ad', '#b9770e', '#117a8b', '#5d6d7e', '#a93226'];

// series: [{label, points: [[t, v], ...]}]; returns a uPlot data array (x: union of times).
export function toColumns(series, stacked) {
  const times = new Set();
  for (const s of series) for (const p of s.points) times.add(p[0]);
  const xs = [...times].sort((a, b) => a - b);
  const index = new Map(xs.map((t, i) => [t, i]));
  const cols = [xs];
  for (const s of series) {
    const col = new Array(xs.length).fill(null);
    for (const [t, v] of s.points) col[index.get(t)] = v;
    cols.push(col);
  }
  if (stacked) {
    for (let k = 2; k < cols.length; k++)
      for (let i = 0; i < xs.length; i++)
        if (cols[k][i] != null || cols[k - 1][i] != null) cols[k][i] = (cols[k][i] || 0) + (cols[k - 1][i] || 0);
  }
  return cols;
}

export class TimeChart {
  constructor(el, opts = {}) {
    this.el = el;
    this.stacked = !!opts.stacked;
    this.annotations = [];
    this.series = [];
    this.plot = null;
    this.onDraw = opts.onDraw || null;
    this.height = opts.height || 320;
    // Resized in the next frame, not inside the observer's callback (which would resize what it
    // observes and loop).
    this.ro = new ResizeObserver(() => requestAnimationFrame(() => this.resize()));
    this.ro.observe(el);
  }

  width() {
    return Math.max(240, Math.floor(this.el.clientWidth || 600));
  }

  resize() {
    if (this.plot && this.plot.width !== this.width()) this.plot.setSize({ width: this.width(), height: this.height });
  }

  setAnnotations(list) {
    this.annotations = list || [];
    if (this.plot) this.plot.redraw(false);
  }

  // Replaces the data; rebuilds the plot when the set of series changed.
  set(series) {
    const labels = series.map((s) => s.label).join('\u0000');
    const data = toColumns(series, this.stacked);
    this.series = series;
    if (this.plot && this.labels === labels) {
      this.plot.setData(data);
      return;
    }
    this.labels = labels;
    if (this.plot) this.plot.destroy();
    const self = this;
    const opts = {
      width: this.width(),
      height: this.height,
      cursor: { drag: { x: true, y: false } },
      legend: { show: true, live: true },
      scales: { x: { time: true } },
      axes: [{ stroke: '#1b1f24', grid: { stroke: '#e3e6ea' } }, { stroke: '#1b1f24', grid: { stroke: '#e3e6ea' } }],
      series: [{ label: 'time' }].concat(series.map((s, i) => ({
        label: s.label,
        stroke: PALETTE[i % PALETTE.length],
        width: 2,
        fill: this.stacked ? PALETTE[i % PALETTE.length] + '55' : undefined,
        points: { show: data[0].length < 60, size: 5 },
        spanGaps: true,
      }))),
      hooks: {
        draw: [(u) => {
          self.drawAnnotations(u);
          if (self.onDraw) self.onDraw(u);
        }],
      },
    };
    this.el.textContent = '';
    this.plot = new uPlot(opts, data, this.el);
  }

  drawAnnotations(u) {
    if (!this.annotations.length) return;
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = '#b9770e';
    ctx.fillStyle = '#b9770e';
    ctx.lineWidth = 2;
    ctx.setLineDash([4, 3]);
    for (const a of this.annotations) {
      const x = Math.round(u.valToPos(a.time, 'x', true));
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
      ctx.fillText(a.title || '', x + 4, u.bbox.top + 12);
    }
    ctx.restore();
  }

  destroy() {
    this.ro.disconnect();
    if (this.plot) this.plot.destroy();
    this.plot = null;
  }
}
