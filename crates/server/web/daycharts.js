// daycharts.js — the day's curves drawn by uPlot (from npm, served from
// /assets/vendor): on-track share, drones in flight and each lab's queue, one
// point a minute of Shenzhen time, from GET /api/v1/day's `series`. Shared by
// the day views page (dayviews.js) and the printable report (dayreport.js).

import uPlot from './vendor/uPlot.esm.js';
import { t } from './i18n.js';
import { h, clear } from './dom.js';
import { localName } from './phrases.js';

const COLOURS = ['#2e86de', '#e67e22', '#27ae60', '#8e44ad', '#c0392b', '#16a085'];

/** 570 → "09:30": minutes since local midnight as Shenzhen clock time. */
export function hhmm(minute) {
  const m = Math.round(minute);
  return `${String(Math.floor(m / 60) % 24).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

function chart(host, { testid, title, unit, width, height, minutes, series, yRange }) {
  const box = h('figure', { class: 'day-chart', testid, data: { points: String(minutes.length) } },
    h('figcaption', { text: title }));
  host.append(box);
  const opts = {
    width,
    height,
    legend: { show: series.length > 1 },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false }, y: yRange ? { range: yRange } : { range: (u, lo, hi) => [0, Math.max(1, hi * 1.1)] } },
    axes: [
      // Ticks on whole quarter hours, hours or more (minutes since midnight).
      { label: t('day.axis_time'), incrs: [15, 30, 60, 120, 180, 240, 360], values: (u, splits) => splits.map(hhmm) },
      { label: unit, size: 56 },
    ],
    series: [
      { label: t('day.axis_time'), value: (u, v) => (v == null ? '—' : hhmm(v)) },
      ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2, points: { show: false } })),
    ],
  };
  const plot = new uPlot(opts, [minutes, ...series.map((s) => s.values)], box);
  return plot;
}

/**
 * Draws the three charts of `series` into `host` (emptied first), each `width`
 * pixels wide; an empty series says so instead. Returns the uPlot instances.
 */
export function drawCharts(host, series, { width = 560, height = 200 } = {}) {
  clear(host);
  const minutes = series?.minutes || [];
  if (!minutes.length) {
    host.append(h('p', { class: 'day-empty', testid: 'day-no-series', text: t('day.no_series') }));
    return [];
  }
  return [
    chart(host, {
      testid: 'chart-on-track', title: t('day.chart_on_track'), unit: '%', width, height, minutes,
      yRange: [0, 100],
      series: [{ label: t('day.chart_on_track'), values: series.on_track_pct }],
    }),
    chart(host, {
      testid: 'chart-in-flight', title: t('day.chart_in_flight'), unit: t('day.unit_drones'), width, height, minutes,
      series: [{ label: t('day.chart_in_flight'), values: series.in_flight }],
    }),
    chart(host, {
      testid: 'chart-lab-queues', title: t('day.chart_lab_queues'), unit: t('day.unit_tests'), width, height, minutes,
      series: (series.labs || []).map((l) => ({ label: localName(l.id, l), values: l.queue })),
    }),
  ];
}
