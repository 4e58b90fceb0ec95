// The Vigil web console: sign-in, metrics explorer with live updates, spaces as dashboards,
// alerts with their history. Routes live in the URL fragment (#/explorer?metric=…), so a view
// and its query can be shared as a link.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { call, session, saveSession, basic, liveStream } from './api.js';
import { TimeChart } from './chart.js';

// -- page helpers -------------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const view = () => document.getElementById('view');

function showError(msg) {
  const e = document.getElementById('error');
  if (!msg) {
    e.hidden = true;
    e.textContent = '';
    return;
  }
  e.textContent = msg;
  e.hidden = false;
}

const canEdit = () => {
  const s = session();
  return !!s && s.role !== 'viewer';
};

const fmtTime = (t) => new Date(t * 1000).toLocaleString();
const fmtValue = (v) => (v == null ? '' : Math.abs(v) >= 1e6 ? v.toExponential(3) : +v.toFixed(4));
const tagText = (tags) => {
  const e = Object.entries(tags || {});
  return e.length ? e.map(([k, v]) => k + '=' + v).join(', ') : 'all';
};

// Things to stop when the view changes (live streams, timers, charts).
let cleanups = [];
function onLeave(fn) {
  cleanups.push(fn);
}

// What the acceptance test and the latency benchmark read through the page.
window.vigil = { charts: {}, seen: {}, errors: [] };
window.addEventListener('error', (e) => window.vigil.errors.push(String(e.message)));

// -- routing ------------------------------------------------------------------------------------

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/explorer';
  const [path, qs] = raw.split('?');
  return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(qs || '') };
}

async function route() {
  for (const c of cleanups) {
    try { c(); } catch (e) { /* already stopped */ }
  }
  cleanups = [];
  showError('');
  const s = session();
  const { parts, params } = parseHash();
  document.getElementById('nav').hidden = !s;
  document.getElementById('signout').hidden = !s;
  document.getElementById('who').textContent = s ? s.email + ' (' + s.role + ')' : '';
  for (const a of document.querySelectorAll('[data-nav]'))
    if (a.dataset.nav === parts[0]) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  if (!s && parts[0] !== 'signin') {
    location.hash = '#/signin';
    return;
  }
  const v = view();
  v.textContent = '';
  try {
    if (parts[0] === 'signin') signIn(v);
    else if (parts[0] === 'spaces' && parts[1]) await spaceView(v, parts[1]);
    else if (parts[0] === 'spaces') await spacesList(v);
    else if (parts[0] === 'alerts' && parts[1]) await alertHistory(v, parts[1]);
    else if (parts[0] === 'alerts') await alertsList(v);
    else await explorer(v, params);
  } catch (e) {
    showError(e.message);
  }
}

// -- sign-in ------------------------------------------------------------------------------------

function signIn(v) {
  const email = h('input', { id: 'email', type: 'email', autocomplete: 'username', required: true });
  const token = h('input', { id: 'token', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'signin', 'aria-label': 'Sign in' },
    h('h1', { text: 'Sign in to Vigil' }),
    h('label', {}, 'Account email', email),
    h('label', {}, 'API token', token),
    h('button', { class: 'primary', type: 'submit', id: 'signin-submit' }, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError('');
    const auth = basic(email.value.trim(), token.value.trim());
    try {
      const who = await call('GET', '/console/session', undefined, auth);
      saveSession({ email: who.email || email.value.trim(), role: who.role, auth });
      location.hash = '#/explorer';
    } catch (e) {
      showError('Sign-in failed: ' + e.message);
    }
  });
  v.append(form);
  email.focus();
}

// -- explorer -----------------------------------------------------------------------------------

const RESOLUTIONS = [[1, '1 s'], [10, '10 s'], [60, '1 min'], [300, '5 min'], [3600, '1 h'], [86400, '1 day']];
const DURATIONS = [[300, 'last 5 min'], [900, 'last 15 min'], [3600, 'last hour'], [21600, 'last 6 h'], [86400, 'last day'], [604800, 'last week']];
const SUMMARIES = ['mean', 'sum', 'min', 'max', 'count', 'derivative', 'stddev'];

function select(id, options, value) {
  const s = h('select', { id });
  for (const [v, label] of options) s.append(h('option', { value: v, selected: String(v) === String(value) }, label));
  return s;
}

function measurementPath(metric, q) {
  const p = new URLSearchParams();
  p.set('duration', q.dur);
  p.set('resolution', q.res);
  if (q.fn) p.set('summary_function', q.fn);
  for (const [k, vals] of Object.entries(q.tags || {})) for (const val of [].concat(vals)) p.append('tags[' + k + ']', val);
  if (q.group) {
    p.set('group_by', q.group);
    p.set('group_by_function', q.gfn || 'sum');
  }
  return '/v1/measurements/' + encodeURIComponent(metric) + '?' + p.toString();
}

// The query in the URL: tags as name=value pairs separated by commas.
function explorerQuery(params) {
  const tags = {};
  for (const pair of (params.get('tags') || '').split(',').filter(Boolean)) {
    const i = pair.indexOf('=');
    if (i > 0) tags[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return {
    metric: params.get('metric') || '',
    res: +(params.get('res') || 60),
    dur: +(params.get('dur') || 3600),
    fn: params.get('fn') || 'mean',
    group: params.get('group') || '',
    gfn: params.get('gfn') || 'sum',
    view: params.get('view') || 'chart',
    live: params.get('live') !== '0',
    tags,
  };
}

function queryHash(q) {
  const p = new URLSearchParams();
  p.set('metric', q.metric);
  p.set('res', q.res);
  p.set('dur', q.dur);
  p.set('fn', q.fn);
  if (q.group) { p.set('group', q.group); p.set('gfn', q.gfn); }
  const tags = Object.entries(q.tags).filter(([, v]) => v).map(([k, v]) => k + '=' + v).join(',');
  if (tags) p.set('tags', tags);
  if (q.view !== 'chart') p.set('view', q.view);
  if (!q.live) p.set('live', '0');
  return '#/explorer?' + p.toString();
}

function globMatch(pattern, value) {
  const re = new RegExp('^' + pattern.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 'i');
  return re.test(value);
}

// Per-bucket aggregates of one series, to fold live samples into the bucket they belong to.
function bucketValue(b, fn) {
  switch (fn) {
    case 'sum': return b.sum;
    case 'min': return b.min;
    case 'max': return b.max;
    case 'count': return b.count;
    default: return b.sum / b.count;
  }
}

async function explorer(v, params) {
  const q = explorerQuery(params);
  const metricInput = h('input', { id: 'metric', list: 'metric-list', value: q.metric, placeholder: 'metric name', autocomplete: 'off' });
  const metricList = h('datalist', { id: 'metric-list' });
  const res = select('resolution', RESOLUTIONS, q.res);
  const dur = select('duration', DURATIONS, q.dur);
  const fn = select('summary', SUMMARIES.map((x) => [x, x]), q.fn);
  const group = h('input', { id: 'group-by', value: q.group, placeholder: 'tag names, or *', size: 12 });
  const gfn = select('group-fn', ['sum', 'mean', 'min', 'max'].map((x) => [x, x]), q.gfn);
  const live = h('input', { id: 'live', type: 'checkbox', checked: q.live });
  const tagBox = h('div', { class: 'row', id: 'tag-filters', 'aria-label': 'Tag filters' });
  const status = h('span', { class: 'live', id: 'live-state', 'aria-live': 'polite' });
  const chartEl = h('div', { class: 'chart', id: 'explorer-chart', 'aria-label': 'Chart' });
  const tableEl = h('div', { id: 'explorer-table' });
  const chartTab = h('button', { type: 'button', id: 'show-chart', 'aria-pressed': String(q.view === 'chart') }, 'Chart');
  const tableTab = h('button', { type: 'button', id: 'show-table', 'aria-pressed': String(q.view === 'table') }, 'Table');
  const form = h('form', { class: 'row', id: 'explorer-form', 'aria-label': 'Query' },
    h('label', {}, 'Metric', metricInput), metricList,
    h('label', {}, 'Range', dur), h('label', {}, 'Resolution', res), h('label', {}, 'Summary', fn),
    h('label', {}, 'Group by', group), h('label', {}, 'Group function', gfn),
    h('label', {}, 'Live', live),
    h('button', { class: 'primary', type: 'submit', id: 'run-query' }, 'Show'));
  v.append(h('h1', { text: 'Metrics explorer' }), form, tagBox,
    h('div', { class: 'row' }, chartTab, tableTab, status), chartEl, tableEl);

  const current = () => {
    const tags = {};
    for (const s of tagBox.querySelectorAll('select')) if (s.value) tags[s.dataset.tag] = s.value;
    return { metric: metricInput.value.trim(), res: +res.value, dur: +dur.value, fn: fn.value,
      group: group.value.trim(), gfn: gfn.value, view: q.view, live: live.checked, tags };
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = queryHash(current());
  });
  chartTab.addEventListener('click', () => { location.hash = queryHash({ ...current(), view: 'chart' }); });
  tableTab.addEventListener('click', () => { location.hash = queryHash({ ...current(), view: 'table' }); });
  let searchTimer = null;
  metricInput.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(async () => {
      try {
        const r = await call('GET', '/v1/metrics?length=50&name=' + encodeURIComponent(metricInput.value.trim()));
        metricList.textContent = '';
        for (const m of r.metrics || []) metricList.append(h('option', { value: m.name }));
      } catch (e) {
        showError(e.message);
      }
    }, 200);
  });

  if (!q.metric) {
    chartEl.append(h('p', { class: 'muted', text: 'Pick a metric to chart it.' }));
    return;
  }

  // Tag filters offered from the tag values the metric's series carry.
  try {
    const disc = await call('GET', measurementPath(q.metric, { dur: 604800, res: 3600, fn: 'count' }));
    const values = {};
    for (const s of disc.series || []) for (const [k, val] of Object.entries(s.tags || {})) (values[k] = values[k] || new Set()).add(val);
    for (const k of Object.keys(values).sort()) {
      const sel = h('select', { 'data-tag': k, id: 'tag-' + k },
        h('option', { value: '' }, 'any'),
        [...values[k]].sort().map((x) => h('option', { value: x, selected: q.tags[k] === x }, x)));
      sel.addEventListener('change', () => { location.hash = queryHash(current()); });
      tagBox.append(h('label', {}, k, sel));
    }
  } catch (e) {
    showError(e.message);
  }

  const r = await call('GET', measurementPath(q.metric, q));
  // series label -> {tags, buckets: Map(time -> agg)}
  const series = new Map();
  for (const s of r.series || []) {
    const label = tagText(s.tags);
    const buckets = new Map();
    for (const m of s.measurements || []) {
      const val = m.value;
      buckets.set(m.time, { sum: val, count: 1, min: val, max: val, fixed: val });
    }
    series.set(label, { tags: s.tags || {}, buckets });
  }
  const toSeries = () => [...series.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([label, s]) => ({
    label,
    points: [...s.buckets.entries()].sort((a, b) => a[0] - b[0])
      .map(([t, b]) => [t, b.fixed !== undefined ? b.fixed : bucketValue(b, q.fn)]),
  }));

  let pendingSeen = [];
  const chart = new TimeChart(chartEl, {
    onDraw: () => {
      const now = Date.now();
      for (const val of pendingSeen) if (!(val in window.vigil.seen)) window.vigil.seen[val] = now;
      pendingSeen = [];
    },
  });
  onLeave(() => chart.destroy());
  window.vigil.explorerChart = chart;
  const render = () => {
    const data = toSeries();
    window.vigil.charts.explorer = { metric: q.metric, series: data };
    if (q.view === 'table') {
      chartEl.hidden = true;
      tableEl.textContent = '';
      const rows = [];
      for (const s of data) for (const [t, val] of s.points) rows.push(h('tr', {}, h('td', {}, fmtTime(t)), h('td', {}, s.label), h('td', {}, String(fmtValue(val)))));
      tableEl.append(h('table', { id: 'data-table' }, h('caption', { class: 'muted', text: q.metric }),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Time'), h('th', { scope: 'col' }, 'Series'), h('th', { scope: 'col' }, 'Value'))),
        h('tbody', {}, rows)));
      return;
    }
    if (!data.length) {
      chartEl.textContent = '';
      chartEl.append(h('p', { class: 'muted', text: 'No data for ' + q.metric + ' in this range.' }));
      chart.plot = null;
      chart.labels = null;
      return;
    }
    chart.set(data);
  };
  render();

  // Live: samples pushed by the server as the engine applies them.
  if (q.live && !q.group) {
    let scheduled = false;
    const stream = liveStream(q.metric, (ev, d) => {
      if (ev === 'gap') {
        route();  // samples were dropped for this stream: query again
        return;
      }
      if (ev !== 'samples') return;
      for (const p of d.points) {
        let ok = true;
        for (const [k, pat] of Object.entries(q.tags)) if (!(k in p.tags) || !globMatch(pat, p.tags[k])) ok = false;
        if (!ok) continue;
        const label = tagText(p.tags);
        if (!series.has(label)) series.set(label, { tags: p.tags, buckets: new Map() });
        const bt = Math.floor(p.time / q.res) * q.res;
        const buckets = series.get(label).buckets;
        const b = buckets.get(bt);
        if (!b) buckets.set(bt, { sum: p.value * p.count, count: p.count, min: p.value, max: p.value });
        else {
          if (b.fixed !== undefined) delete b.fixed;
          b.sum += p.value * p.count;
          b.count += p.count;
          b.min = Math.min(b.min, p.value);
          b.max = Math.max(b.max, p.value);
        }
        pendingSeen.push(p.value);
      }
      if (!scheduled) {
        scheduled = true;
        requestAnimationFrame(() => { scheduled = false; render(); });
      }
    }, (state, why) => {
      status.textContent = state === 'live' ? '● live' : state === 'error' ? 'live updates unavailable: ' + why : 'reconnecting…';
      status.dataset.state = state;
    });
    onLeave(() => stream.stop());
  } else {
    status.textContent = q.group ? 'live updates are off while grouping' : '';
  }
}

// -- spaces -------------------------------------------------------------------------------------

async function spacesList(v) {
  const r = await call('GET', '/v1/spaces');
  v.append(h('h1', { text: 'Spaces' }));
  if (canEdit()) {
    const name = h('input', { id: 'new-space-name', required: true, placeholder: 'space name' });
    const form = h('form', { class: 'row', id: 'new-space', 'aria-label': 'New space' },
      h('label', {}, 'Name', name), h('button', { class: 'primary', type: 'submit', id: 'create-space' }, 'Create space'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const s = await call('POST', '/v1/spaces', { name: name.value.trim() });
        location.hash = '#/spaces/' + s.id;
      } catch (e) {
        showError(e.message);
      }
    });
    v.append(form);
  }
  const list = h('ul', { class: 'plain', id: 'space-list' });
  for (const s of r.spaces || []) {
    const li = h('li', {}, h('a', { href: '#/spaces/' + s.id, 'data-space': s.id }, s.name));
    if (canEdit()) li.append(h('button', { type: 'button', class: 'danger edit-control', onclick: async () => {
      if (!confirm('Delete the space "' + s.name + '" and its charts?')) return;
      try {
        await call('DELETE', '/v1/spaces/' + s.id);
        route();
      } catch (e) {
        showError(e.message);
      }
    } }, 'Delete'));
    list.append(li);
  }
  if (!(r.spaces || []).length) list.append(h('li', { class: 'muted' }, 'No spaces yet.'));
  v.append(list);
}

// The measurements of one chart stream (its metric, source or tags, group function).
async function streamSeries(stream, dur, res) {
  if (!stream.metric) return [];
  const tags = {};
  if (stream.source && stream.source !== '*' && stream.source !== '%') tags.source = stream.source;
  for (const t of stream.tags || []) if (t.name && t.values && t.values.length) tags[t.name] = t.values;
  const gf = stream.group_function;
  const q = { dur, res, fn: { average: 'mean', sum: 'sum', min: 'min', max: 'max', count: 'count', derivative: 'derivative' }[stream.summary_function] || 'mean', tags };
  if (gf && gf !== 'breakout') {
    q.group = '*';
    q.gfn = { average: 'mean', sum: 'sum', min: 'min', max: 'max' }[gf] || 'mean';
  }
  const r = await call('GET', measurementPath(stream.metric, q));
  return (r.series || []).map((s) => ({
    label: (stream.name || stream.metric) + (Object.keys(s.tags || {}).length ? ' ' + tagText(s.tags) : ''),
    points: (s.measurements || []).map((m) => [m.time, m.value]),
  }));
}

async function annotationMarks(start) {
  const marks = [];
  try {
    const list = await call('GET', '/v1/annotations');
    for (const a of (list.annotations || []).slice(0, 10)) {
      const s = await call('GET', '/v1/annotations/' + encodeURIComponent(a.name) + '?start_time=' + start);
      for (const evs of Object.values(s.events || {})) for (const e of evs) marks.push({ time: e.start_time, title: e.title });
    }
  } catch (e) {
    showError('Annotations: ' + e.message);
  }
  return marks;
}

async function spaceView(v, id) {
  const space = await call('GET', '/v1/spaces/' + encodeURIComponent(id));
  const charts = await call('GET', '/v1/spaces/' + encodeURIComponent(id) + '/charts');
  const dur = 3600;
  const res = 60;
  const title = h('h1', { id: 'space-title', text: space.name });
  v.append(h('p', {}, h('a', { href: '#/spaces' }, '← Spaces')), title);
  if (canEdit()) {
    const rename = h('input', { id: 'space-rename', value: space.name });
    const form = h('form', { class: 'row edit-control', 'aria-label': 'Rename space' }, h('label', {}, 'Space name', rename),
      h('button', { type: 'submit' }, 'Rename'),
      h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!confirm('Delete this space and its charts?')) return;
        try {
          await call('DELETE', '/v1/spaces/' + space.id);
          location.hash = '#/spaces';
        } catch (e) {
          showError(e.message);
        }
      } }, 'Delete space'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await call('PUT', '/v1/spaces/' + space.id, { name: rename.value.trim() });
        route();
      } catch (e) {
        showError(e.message);
      }
    });
    v.append(form, chartForm(space.id, null));
  }
  const grid = h('div', { class: 'charts', id: 'space-charts' });
  v.append(grid);
  if (!charts.length) grid.append(h('p', { class: 'muted', text: 'This space has no charts yet.' }));
  const marks = await annotationMarks(Math.floor(Date.now() / 1000) - dur);
  window.vigil.annotations = marks;
  window.vigil.charts.space = {};
  for (const c of charts) {
    const box = h('section', { class: 'chart', 'data-chart': c.id, 'aria-label': c.name });
    box.append(h('h3', {}, c.name, h('span', { class: 'muted' }, ' · ' + (c.type || 'line'))));
    if (canEdit()) {
      box.append(h('div', { class: 'row edit-control' },
        h('button', { type: 'button', onclick: () => { box.replaceWith(chartForm(space.id, c)); } }, 'Edit'),
        h('button', { type: 'button', class: 'danger', onclick: async () => {
          if (!confirm('Delete the chart "' + c.name + '"?')) return;
          try {
            await call('DELETE', '/v1/spaces/' + space.id + '/charts/' + c.id);
            route();
          } catch (e) {
            showError(e.message);
          }
        } }, 'Delete')));
    }
    const body = h('div', { class: 'chart-body' });
    box.append(body);
    grid.append(box);
    try {
      let data = [];
      for (const s of c.streams || []) data = data.concat(await streamSeries(s, dur, res));
      window.vigil.charts.space[c.id] = { name: c.name, type: c.type || 'line', series: data };
      if (c.type === 'bignumber') {
        const last = data.length && data[0].points.length ? data[0].points[data[0].points.length - 1][1] : null;
        body.append(h('div', { class: 'bignumber', text: last == null ? 'no data' : String(fmtValue(last)) }));
      } else if (!data.length) {
        body.append(h('p', { class: 'muted', text: 'No data in the last hour.' }));
      } else {
        const tc = new TimeChart(body, { stacked: c.type === 'stacked', height: 240 });
        tc.setAnnotations(marks);
        tc.set(data);
        onLeave(() => tc.destroy());
      }
    } catch (e) {
      body.append(h('p', { class: 'muted', role: 'status', text: 'Cannot show this chart: ' + e.message }));
    }
  }
}

function chartForm(spaceId, chart) {
  const first = (chart && chart.streams && chart.streams[0]) || {};
  const name = h('input', { name: 'chart-name', required: true, value: chart ? chart.name : '' });
  const type = select('chart-type-' + (chart ? chart.id : 'new'), [['line', 'line'], ['stacked', 'stacked'], ['bignumber', 'big number']], chart ? chart.type || 'line' : 'line');
  const metric = h('input', { name: 'chart-metric', required: true, value: first.metric || '' });
  const source = h('input', { name: 'chart-source', value: first.source || '*', size: 10 });
  const form = h('form', { class: 'row panel edit-control', 'aria-label': chart ? 'Edit chart' : 'New chart' },
    h('label', {}, 'Chart name', name), h('label', {}, 'Type', type), h('label', {}, 'Metric', metric),
    h('label', {}, 'Source', source),
    h('button', { class: 'primary', type: 'submit' }, chart ? 'Save chart' : 'Add chart'));
  if (chart) form.append(h('button', { type: 'button', onclick: () => route() }, 'Cancel'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const streams = [{ metric: metric.value.trim(), source: source.value.trim() || '*' }];
    if (chart && first.id) streams[0].id = first.id;
    if (chart && chart.streams) streams.push(...chart.streams.slice(1));
    const body = { name: name.value.trim(), type: type.value, streams };
    try {
      if (chart) await call('PUT', '/v1/spaces/' + spaceId + '/charts/' + chart.id, body);
      else await call('POST', '/v1/spaces/' + spaceId + '/charts', body);
      route();
    } catch (e) {
      showError(e.message);
    }
  });
  return form;
}

// -- alerts -------------------------------------------------------------------------------------

async function alertsList(v) {
  v.append(h('h1', { text: 'Alerts' }));
  const table = h('table', { id: 'alerts-table' });
  v.append(table);
  const metrics = new Set();
  const load = async () => {
    const [list, summary] = await Promise.all([call('GET', '/v1/alerts'), call('GET', '/v1/alerts/status')]);
    const firing = new Map((summary.firing || []).map((f) => [f.id, f]));
    const cleared = new Map((summary.cleared || []).map((f) => [f.id, f]));
    const rows = [];
    for (const a of list.alerts || []) {
      for (const c of a.conditions || []) metrics.add(c.metric_name);
      const state = !a.active ? 'inactive' : firing.has(a.id) ? 'firing' : cleared.has(a.id) ? 'cleared' : 'ok';
      let streams = [];
      try {
        streams = (await call('GET', '/v1/alerts/' + a.id + '/status')).streams || [];
      } catch (e) {
        showError(e.message);
      }
      const since = firing.has(a.id) ? 'since ' + fmtTime(firing.get(a.id).triggered_at) : cleared.has(a.id) ? 'cleared ' + fmtTime(cleared.get(a.id).cleared_at) : '';
      rows.push(h('tr', { 'data-alert': a.id, 'data-state': state },
        h('td', {}, h('a', { href: '#/alerts/' + a.id }, a.name)),
        h('td', {}, h('span', { class: 'state-' + state, 'data-role': 'state' }, state), ' ', h('span', { class: 'muted' }, since)),
        h('td', {}, (a.conditions || []).map((c) => c.metric_name + ' ' + c.type + (c.threshold != null ? ' ' + c.threshold : '')).join('; ')),
        h('td', {}, streams.length ? h('ul', { class: 'plain' }, streams.map((s) => h('li', {},
          h('span', { class: 'state-' + (s.state === 'triggered' ? 'firing' : 'ok') }, s.state === 'triggered' ? 'firing' : 'ok'),
          tagText(s.tags), h('span', { class: 'muted' }, 'values ' + (s.values || []).map(fmtValue).join(', '))))) : h('span', { class: 'muted' }, 'no streams yet'))));
    }
    table.textContent = '';
    table.append(h('thead', {}, h('tr', {}, ['Alert', 'State', 'Conditions', 'Streams'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No alerts.'))));
    window.vigil.alertsLoadedAt = Date.now();
  };
  await load();
  // Alerts are evaluated as samples are applied: the samples of their metrics, pushed live,
  // say when to look again (shortly after, when evaluation has run); a slow timer covers the rest.
  let timer = null;
  const again = () => {
    if (timer) return;
    timer = setTimeout(async () => {
      timer = null;
      try { await load(); } catch (e) { showError(e.message); }
    }, 100);
  };
  window.vigil.alertStreamsLive = 0;
  const streams = [...metrics].slice(0, 8).map((m) => liveStream(m, (ev) => {
    if (ev === 'samples') { again(); setTimeout(again, 600); }
  }, (state) => {
    if (state === 'live') window.vigil.alertStreamsLive += 1;
  }));
  const slow = setInterval(again, 15000);
  onLeave(() => { streams.forEach((s) => s.stop()); clearInterval(slow); clearTimeout(timer); });
}

async function alertHistory(v, id) {
  const [alert, hist, st] = await Promise.all([
    call('GET', '/v1/alerts/' + encodeURIComponent(id)),
    call('GET', '/v1/alerts/' + encodeURIComponent(id) + '/history'),
    call('GET', '/v1/alerts/' + encodeURIComponent(id) + '/status')]);
  v.append(h('p', {}, h('a', { href: '#/alerts' }, '← Alerts')), h('h1', { text: 'History of ' + alert.name }));
  v.append(h('p', {}, 'Now: ', h('span', { class: 'state-' + (st.status === 'triggered' ? 'firing' : 'ok'), id: 'alert-now' }, st.status === 'triggered' ? 'firing' : 'ok'),
    ' · conditions: ' + (alert.conditions || []).map((c) => c.metric_name + ' ' + c.type + (c.threshold != null ? ' ' + c.threshold : '')).join('; ')));
  const rows = (hist.events || []).slice().reverse().map((e) => {
    let what = '';
    if (e.event === 'trigger' || e.event === 'clear') what = (e.reason || '') + (e.notify === false ? ' (not notified)' : '');
    else if (e.event === 'notify') what = e.kind + ' via ' + e.service_type + ' #' + e.service_id + ': ' + e.attempts + ' attempt(s), HTTP ' + e.http_status + ', ' + e.latency_ms + ' ms';
    else if (e.event === 'delivery_failed') what = 'given up after ' + e.attempts + ' attempt(s): ' + (e.error || '');
    return h('tr', { 'data-event': e.event },
      h('td', {}, fmtTime(e.time)), h('td', {}, e.event),
      h('td', {}, e.stream ? tagText(e.stream.tags) : ''),
      h('td', { class: 'values' }, (e.values || []).map(fmtValue).join(', ')),
      h('td', {}, what));
  });
  v.append(h('table', { id: 'history-table' },
    h('thead', {}, h('tr', {}, ['Time', 'Event', 'Stream', 'Values', 'Details'].map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'Nothing happened yet.')))));
}

// -- start --------------------------------------------------------------------------------------

document.getElementById('signout').addEventListener('click', () => {
  saveSession(null);
  location.hash = '#/signin';
});
window.addEventListener('hashchange', route);
route();
