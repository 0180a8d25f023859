// dayreport.js — the printable daily report (report.html): one local day's
// service level per centre with totals and the day's curves, from
// GET /api/v1/day (the date and run from the page's query), in the dashboard's
// language. The zone is stated once; every time shown is Shenzhen time.

import { t, getLang, setLang, applyStatic } from './i18n.js';
import { api } from './api.js';
import { h, setText, fmtTime, clear } from './dom.js';
import { localName } from './phrases.js';
import { drawCharts } from './daycharts.js';
import { dayQuery } from './dayviews.js';

const $ = (sel) => document.querySelector(sel);
const tid = (id) => $(`[data-testid="${id}"]`);
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
/** The charts' width on paper (A4 portrait within its margins). */
const PRINT_WIDTH = 680;

let data = null;

function cell(row, key) {
  if (key === 'id') return row.id === 'TOTAL' ? t('day.total') : `${localName(row.id, row)} (${row.id})`;
  if (key === 'on_time_pct') return row.on_time_pct == null ? '—' : `${row.on_time_pct.toFixed(1)}%`;
  return String(row[key] ?? 0);
}

function render() {
  applyStatic(document);
  if (!data) return;
  const r = data.report;
  document.title = `labflight · ${t('day.report_title')} · ${r.date}`;
  setText(tid('report-meta'), [
    `${t('day.date')} ${r.date}`,
    data.mode === 'replay' ? t('day.source_replay', { run: data.run }) : t('day.source_live'),
    t('day.cutoff', { time: fmtTime(r.cutoff) }),
    t('day.as_of', { time: fmtTime(r.as_of, 'full') }),
    t(r.complete ? 'day.complete' : 'day.provisional'),
  ].join(' · '));
  setText(tid('report-zone'), t('day.zone', { zone: r.zone }));
  const totals = tid('report-totals');
  clear(totals);
  for (const [key, label] of COLUMNS.slice(1)) {
    totals.append(h('div', { class: 'day-tile' }, h('span', { class: 'kpi-label', text: t(label) }), h('b', { text: cell(r.totals, key) })));
  }
  drawCharts(tid('report-charts'), data.series, { width: PRINT_WIDTH, height: 180 });
  const table = tid('report-table');
  const head = table.querySelector('thead tr');
  clear(head);
  for (const [, label] of COLUMNS) head.append(h('th', { scope: 'col', text: t(label) }));
  const body = table.querySelector('tbody');
  clear(body);
  for (const row of r.centres) {
    body.append(h('tr', { testid: 'report-row', data: { id: row.id } }, COLUMNS.map(([key]) => h(key === 'id' ? 'th' : 'td', { text: cell(row, key) }))));
  }
  const foot = table.querySelector('tfoot');
  clear(foot);
  foot.append(h('tr', { testid: 'report-total' }, COLUMNS.map(([key]) => h(key === 'id' ? 'th' : 'td', { text: cell(r.totals, key) }))));
}

async function load() {
  const q = new URLSearchParams(location.search);
  const res = await api(`/api/v1/day${dayQuery({ date: q.get('date'), run: q.get('run') })}`, { timeoutMs: 120000, quiet401: true });
  const status = tid('report-status');
  delete status.dataset.i18n;
  if (!res.ok || !res.data) {
    if (res.status === 401) status.dataset.i18n = 'day.report_signin';
    setText(status, res.status === 401 ? t('day.report_signin') : res.error);
    return;
  }
  data = res.data;
  status.hidden = true;
  tid('report-body').hidden = false;
  render();
  document.body.dataset.ready = '1';
}

tid('report-print').addEventListener('click', () => window.print());
tid('report-lang').addEventListener('click', () => { setLang(getLang() === 'zh' ? 'en' : 'zh'); render(); });
applyStatic(document);
load();
