// dayviews.js — the day views: a page over the map with one local day's
// service level per centre (drawn, resulted on time, late, at risk, on track,
// redraws; sortable by any column; a click on a centre opens its details), the
// day's curves (daycharts.js, uPlot), and the daily report to print
// (report.html) or download as CSV. Live, or in replay mode the run opened in
// the replay bar. Numbers from GET /api/v1/day; coordinators and viewers only.

import { t } from './i18n.js';
import { api, enc } from './api.js';
import { h, setText, fmtTime, clear } from './dom.js';
import { localName } from './phrases.js';
import { drawCharts } from './daycharts.js';

/** The table's columns: (field, heading key). */
const COLUMNS = [
  ['id', 'day.col_centre'],
  ['drawn', 'day.col_drawn'],
  ['on_time', 'day.col_on_time'],
  ['late', 'day.col_late'],
  ['at_risk', 'day.col_at_risk'],
  ['on_track', 'day.col_on_track'],
  ['redraws', 'day.col_redraws'],
  ['on_time_pct', 'day.col_on_time_pct'],
];
/** While the page is open on the live service, it is refreshed this often. */
const REFRESH_MS = 20000;

/** The query naming the day and, in replay, the run. */
export function dayQuery({ date, run }) {
  const q = [];
  if (date) q.push(`date=${enc(date)}`);
  if (run) q.push(`run=${enc(run)}`);
  return q.length ? `?${q.join('&')}` : '';
}

/** Adds the button that opens the page, and the (hidden) page; `ctx.select` opens a centre's details. */
export function mountDayViews(ctx) {
  for (const href of ['/assets/vendor/uPlot.min.css', '/assets/dayviews.css']) {
    if (!document.querySelector(`link[href="${href}"]`)) document.head.append(h('link', { rel: 'stylesheet', href }));
  }
  // In the fleet row under the KPI tiles: the header has no room left at 1440 px.
  const openBtn = h('button', { type: 'button', class: 'btn day-open-btn', testid: 'open-day-views', data: { i18n: 'day.open' }, text: t('day.open') });
  document.querySelector('.side .fleet').append(openBtn);

  const dateSel = h('select', { testid: 'day-date' });
  const csv = h('a', { class: 'btn', testid: 'day-csv', download: '', data: { i18n: 'day.csv' }, text: t('day.csv') });
  const print = h('a', { class: 'btn', testid: 'day-report', target: '_blank', rel: 'noopener', data: { i18n: 'day.print' }, text: t('day.print') });
  const closeBtn = h('button', { type: 'button', class: 'btn', testid: 'day-close', data: { i18n: 'day.close' }, text: t('day.close') });
  const status = h('p', { class: 'day-status', testid: 'day-status' });
  const meta = h('p', { class: 'day-meta', testid: 'day-meta' });
  const totals = h('div', { class: 'day-totals', testid: 'day-totals' });
  const charts = h('div', { class: 'day-charts', testid: 'day-charts' });
  const thead = h('tr');
  const tbody = h('tbody');
  const tfoot = h('tfoot');
  const table = h('table', { class: 'day-table', testid: 'day-table' }, h('thead', {}, thead), tbody, tfoot);
  const page = h('section', { class: 'dayviews', testid: 'day-page', hidden: true },
    h('div', { class: 'day-head' },
      h('h2', { data: { i18n: 'day.title' }, text: t('day.title') }),
      h('label', {}, h('span', { class: 'lbl', data: { i18n: 'day.date' }, text: t('day.date') }), ' ', dateSel),
      csv, print, h('span', { class: 'spacer' }), closeBtn),
    meta, status, totals, charts,
    h('p', { class: 'day-hint', data: { i18n: 'day.sort_hint' }, text: t('day.sort_hint') }),
    h('div', { class: 'day-table-wrap' }, table));
  document.querySelector('#app').append(page);

  let data = null;
  let sort = { key: 'on_time_pct', dir: 1 };
  let timer = null;
  let loading = 0;

  const source = () => {
    if (document.body.dataset.mode !== 'replay') return { mode: 'live', run: null };
    return { mode: 'replay', run: document.querySelector('.replay-bar')?.dataset.session || null };
  };

  async function load(date) {
    const { mode, run } = source();
    if (mode === 'replay' && !run) {
      data = null;
      render();
      setText(status, t('day.pick_run'));
      return;
    }
    const mine = ++loading;
    setText(status, t('day.loading'));
    const res = await api(`/api/v1/day${dayQuery({ date, run })}`, { timeoutMs: 120000 });
    if (mine !== loading || page.hidden) return;
    if (!res.ok || !res.data) {
      setText(status, res.error);
      return;
    }
    setText(status, '');
    data = res.data;
    render();
  }

  function cellText(row, key) {
    if (key === 'id') return row.id === 'TOTAL' ? t('day.total') : `${localName(row.id, row)} (${row.id})`;
    if (key === 'on_time_pct') return row.on_time_pct == null ? '—' : `${row.on_time_pct.toFixed(1)}%`;
    return String(row[key] ?? 0);
  }

  function sorted(rows) {
    const { key, dir } = sort;
    const val = (r) => (key === 'id' ? r.id : r[key]);
    return [...rows].sort((a, b) => {
      const x = val(a);
      const y = val(b);
      if (x == null && y == null) return a.id.localeCompare(b.id);
      if (x == null) return 1; // nothing drawn: last, whichever way
      if (y == null) return -1;
      const c = typeof x === 'string' ? x.localeCompare(y) : x - y;
      return c * dir || a.id.localeCompare(b.id);
    });
  }

  function renderTable() {
    clear(thead);
    for (const [key, label] of COLUMNS) {
      const on = sort.key === key;
      thead.append(h('th', { scope: 'col', 'aria-sort': on ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none' },
        h('button', {
          type: 'button', class: 'day-sort', testid: `day-sort-${key}`, data: { sort: key },
          text: `${t(label)}${on ? (sort.dir > 0 ? ' ▲' : ' ▼') : ''}`,
          on: { click: () => { sort = { key, dir: on ? -sort.dir : (key === 'id' ? 1 : -1) }; renderTable(); } },
        })));
    }
    clear(tbody);
    clear(tfoot);
    if (!data) return;
    for (const row of sorted(data.report.centres)) {
      tbody.append(h('tr', {
        testid: 'day-row', data: { id: row.id }, tabindex: '0', class: row.late || row.redraws ? 'bad' : (row.at_risk ? 'warn' : ''),
        on: {
          click: () => openCentre(row.id),
          keydown: (e) => { if (e.key === 'Enter') openCentre(row.id); },
        },
      }, COLUMNS.map(([key]) => h(key === 'id' ? 'th' : 'td', { text: cellText(row, key) }))));
    }
    tfoot.append(h('tr', { testid: 'day-total' }, COLUMNS.map(([key]) => h(key === 'id' ? 'th' : 'td', { text: cellText(data.report.totals, key) }))));
  }

  function render() {
    const r = data?.report;
    const keep = dateSel.value;
    clear(dateSel);
    for (const d of r?.dates?.length ? r.dates : (r ? [r.date] : [])) dateSel.append(h('option', { value: d, text: d }));
    if (r) dateSel.value = r.date || keep;
    const q = r ? dayQuery({ date: r.date, run: data.run }) : '';
    csv.href = r ? `/api/v1/day/report.csv${q}` : '#';
    print.href = r ? `/assets/report.html${q}` : '#';
    for (const a of [csv, print]) a.toggleAttribute('aria-disabled', !r);
    setText(meta, r ? [
      data.mode === 'replay' ? t('day.source_replay', { run: data.run }) : t('day.source_live'),
      t('day.as_of', { time: fmtTime(r.as_of, 'full') }),
      t('day.cutoff', { time: fmtTime(r.cutoff) }),
      t(r.complete ? 'day.complete' : 'day.provisional'),
      t('day.zone', { zone: r.zone }),
    ].join(' · ') : '');
    clear(totals);
    if (r) {
      for (const [key, label] of COLUMNS.slice(1)) {
        totals.append(h('div', { class: 'day-tile', data: { key } },
          h('span', { class: 'kpi-label', text: t(label) }), h('b', { text: cellText(r.totals, key) })));
      }
    }
    const width = Math.max(320, Math.min(640, Math.floor((charts.clientWidth || 960) / 2) - 24));
    if (data) drawCharts(charts, data.series, { width });
    else clear(charts);
    renderTable();
  }

  function openCentre(id) {
    close();
    ctx.select({ kind: 'station', id });
  }

  function open() {
    const top = document.querySelector('header.top')?.getBoundingClientRect().bottom ?? 52;
    page.style.setProperty('--day-top', `${Math.round(top)}px`);
    page.hidden = false;
    document.body.classList.add('day-open');
    load(null);
    clearInterval(timer);
    timer = setInterval(() => { if (source().mode === 'live') load(dateSel.value || null); }, REFRESH_MS);
  }

  function close() {
    page.hidden = true;
    document.body.classList.remove('day-open');
    clearInterval(timer);
    timer = null;
  }

  openBtn.addEventListener('click', () => (page.hidden ? open() : close()));
  closeBtn.addEventListener('click', close);
  dateSel.addEventListener('change', () => load(dateSel.value));
  // Another mode, or signed out: the page shows what it was opened on, so it closes.
  new MutationObserver(() => { if (!page.hidden) close(); })
    .observe(document.body, { attributes: true, attributeFilter: ['data-mode', 'data-role'] });

  return {
    relabel() { if (!page.hidden) render(); },
    close,
  };
}
